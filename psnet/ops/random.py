"""Random sampling operators (MXNet's ``_random_*``, ``_sample_*``, ``_shuffle``).

Every sampler draws from the context's generator (``rng``, filled in by the dispatcher
from ``ctx.backend.rng(ctx)``), so ``mx.random.seed`` makes results reproducible per
context.  Each distribution is described once in :data:`DISTRIBUTIONS` and registered
twice: ``_random_<name>`` takes its parameters as scalar attributes, ``_sample_<name>``
as arrays (one distribution per element; the output has shape ``param.shape + shape``).
Sampling is not differentiable.
"""
import inspect

import numpy as np

from ..base import MXNetError, normalize_dtype
from .registry import register

__all__ = ["DISTRIBUTIONS"]


# Samplers use only the generator methods NumPy's and CuPy's Generators share (random,
# standard_normal, standard_gamma, standard_exponential, poisson); the rest is arithmetic.
def _neg_binomial(rng, size, k, p):
    """Failures before the k-th success: Poisson(Gamma(k, (1 - p) / p))."""
    return rng.poisson(rng.standard_gamma(k, size) * ((1.0 - p) / p), size)


def _gen_neg_binomial(rng, size, mu, alpha):
    """Gamma-Poisson mixture: lam ~ Gamma(1/alpha, mu*alpha), x ~ Poisson(lam) (alpha -> 0: Poisson(mu))."""
    alpha = alpha.clip(1e-12, None) if hasattr(alpha, "clip") else max(float(alpha), 1e-12)
    return rng.poisson(rng.standard_gamma(1.0 / alpha, size) * (mu * alpha), size)


# name -> (parameter names with defaults, sampler(rng, size, *params) -> array)
DISTRIBUTIONS = {
    "uniform": ((("low", 0.0), ("high", 1.0)),
                lambda rng, size, low, high: low + (high - low) * rng.random(size)),
    "normal": ((("loc", 0.0), ("scale", 1.0)),
               lambda rng, size, loc, scale: loc + _nonneg(scale, "scale") * rng.standard_normal(size)),
    "gamma": ((("alpha", 1.0), ("beta", 1.0)),
              lambda rng, size, alpha, beta: rng.standard_gamma(alpha, size) * beta),
    "exponential": ((("lam", 1.0),), lambda rng, size, lam: rng.standard_exponential(size) / lam),
    "poisson": ((("lam", 1.0),), lambda rng, size, lam: rng.poisson(lam, size)),
    "negative_binomial": ((("k", 1), ("p", 1.0)), _neg_binomial),
    "generalized_negative_binomial": ((("mu", 1.0), ("alpha", 1.0)), _gen_neg_binomial),
}


def _nonneg(value, name):
    if bool((value < 0).any()) if hasattr(value, "any") else value < 0:
        raise ValueError("%s must be non-negative, got %s" % (name, value))
    return value


def _out_dtype(dtype, default="float32"):
    return normalize_dtype(default if dtype in (None, "None") else dtype)


def _shape(shape):
    if shape is None or shape == ():
        return ()
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _draw(xp, sampler, rng, size, params, dtype, name):
    try:
        res = sampler(rng, size, *params)
    except ValueError as e:
        raise MXNetError("%s: invalid parameters %s (%s)" % (name, params, e)) from None
    res = xp.asarray(res, dtype=dtype)
    return res.reshape(1) if res.ndim == 0 else res


def _signature(arrays, attrs):
    P = inspect.Parameter
    params = [P("xp", P.POSITIONAL_ONLY)]
    params += [P(a, P.POSITIONAL_OR_KEYWORD) for a in arrays]
    params += [P(k, P.KEYWORD_ONLY, default=v) for k, v in attrs]
    params.append(P("rng", P.KEYWORD_ONLY, default=None))
    return inspect.Signature(params)


def _register_random(name, pnames, sampler):
    op_name = "_random_" + name

    def forward(xp, rng=None, shape=(), dtype=None, **params):
        args = [params.get(p, d) for p, d in pnames]
        return _draw(xp, sampler, rng, _shape(shape) or (1,), args, _out_dtype(dtype), op_name)
    forward.__signature__ = _signature((), tuple(pnames) + (("shape", ()), ("dtype", "float32")))
    forward.__doc__ = ("Samples of the %s distribution (parameters %s as numbers) of the given shape."
                       % (name, ", ".join(p for p, _ in pnames)))
    register(op_name, aliases=("random_" + name, name) if name in ("uniform", "normal") else ("random_" + name,))(forward)


def _register_sample(name, pnames, sampler):
    op_name = "_sample_" + name

    def forward(xp, *params, rng=None, shape=(), dtype=None):
        base = params[0].shape
        for p in params[1:]:
            if p.shape != base:
                raise MXNetError("%s: parameter arrays must share one shape, got %s"
                                 % (op_name, [q.shape for q in params]))
        extra = _shape(shape)
        expanded = [p.reshape(base + (1,) * len(extra)).astype(np.float64) for p in params]
        return _draw(xp, sampler, rng, base + extra, expanded, _out_dtype(dtype), op_name)
    forward.__signature__ = _signature([p for p, _ in pnames], (("shape", ()), ("dtype", "float32")))
    forward.__doc__ = ("Samples of the %s distribution with one parameter set per element of the "
                       "array inputs %s; output shape param.shape + shape."
                       % (name, ", ".join(p for p, _ in pnames)))
    register(op_name, aliases=("sample_" + name,))(forward)


for _name, (_pnames, _sampler) in DISTRIBUTIONS.items():
    _register_random(_name, _pnames, _sampler)
    _register_sample(_name, _pnames, _sampler)


@register("_random_randint", aliases=("random_randint",))
def random_randint(xp, low=0, high=1, shape=(), dtype="int32", rng=None):
    """Integers uniformly drawn from [low, high)."""
    if high <= low:
        raise MXNetError("_random_randint: high (%r) must be greater than low (%r)" % (high, low))
    dt = _out_dtype(dtype, "int32")
    return xp.asarray(rng.integers(int(low), int(high), size=_shape(shape) or (1,)), dtype=dt)


@register("_sample_multinomial", aliases=("sample_multinomial",),
          num_outputs=lambda a: 2 if a.get("get_prob", False) else 1)
def sample_multinomial(xp, data, shape=(), get_prob=False, dtype="int32", rng=None):
    """Category indices drawn from the probabilities on the last axis of ``data``; output shape
    data.shape[:-1] + shape.  ``get_prob`` also returns the log-probability of each draw."""
    extra = _shape(shape)
    k = data.shape[-1]
    probs = data.reshape(-1, k).astype(np.float64)
    n = 1
    for d in extra:
        n *= d
    cdf = xp.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random((probs.shape[0], n))
    idx = (u[:, :, None] > cdf[:, None, :]).sum(axis=2)
    idx = xp.minimum(idx, k - 1)
    out_shape = data.shape[:-1] + extra
    samples = idx.reshape(out_shape or (1,)).astype(_out_dtype(dtype, "int32"))
    if not get_prob:
        return samples
    logp = xp.log(xp.take_along_axis(probs, idx, axis=1)).reshape(out_shape or (1,)).astype(data.dtype)
    return samples, logp


@register("_shuffle", aliases=("shuffle",))
def shuffle(xp, data, rng=None):
    """A copy of ``data`` with its first axis randomly permuted."""
    return data[xp.argsort(rng.random(data.shape[0]))]


def _like(name, sampler_name):
    pnames, sampler = DISTRIBUTIONS[sampler_name]

    def forward(xp, data, rng=None, **params):
        args = [params.get(p, d) for p, d in pnames]
        return _draw(xp, sampler, rng, data.shape, args, data.dtype, name)
    forward.__signature__ = _signature(("data",), tuple(pnames))
    forward.__doc__ = "Samples of the %s distribution with the shape and dtype of ``data``." % sampler_name
    register(name)(forward)


for _name in DISTRIBUTIONS:
    _like("_random_%s_like" % _name, _name)
