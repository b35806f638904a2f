"""``mx.random``: seeding and the top-level sampling functions (as in MXNet 1.9.1).

    mx.random.seed(42)                      # every context
    mx.random.seed(42, ctx=mx.cpu(1))       # one context
    x = mx.random.uniform(-1, 1, shape=(2, 3))

Each context has its own generator (``ctx.backend.rng(ctx)``); after ``seed(s)`` the
draws of every context are a deterministic function of ``s`` and of the calls made.
"""
from .base import MXNetError, integer_types
from .backend import seed_all
from .context import Context
from .ndarray.random import (uniform, normal, randn, exponential, gamma, poisson,  # noqa: F401
                             negative_binomial, generalized_negative_binomial, multinomial,
                             shuffle, randint)

__all__ = ["seed", "uniform", "normal", "randn", "exponential", "gamma", "poisson",
           "negative_binomial", "generalized_negative_binomial", "multinomial", "shuffle", "randint"]


def seed(seed_state, ctx="all"):
    """Seed the generators of every context (``ctx='all'``) or of one context."""
    if not isinstance(seed_state, integer_types) or isinstance(seed_state, bool):
        raise MXNetError("random.seed: seed_state must be an integer, got %r" % (seed_state,))
    if isinstance(ctx, str) and ctx == "all":
        seed_all(seed_state)
    elif isinstance(ctx, Context):
        ctx.backend.seed(seed_state, ctx)
    else:
        raise MXNetError("random.seed: ctx must be 'all' or a Context, got %r" % (ctx,))
