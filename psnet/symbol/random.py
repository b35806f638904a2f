"""``mx.sym.random``: MXNet's sampling functions composing Symbols (``F.random.normal`` in
a ``hybrid_forward`` traced by ``hybridize()``), built from the same definitions as
``mx.nd.random``.  A graph's random nodes draw from the executing context's generator
each time the graph runs."""
from ..ndarray.random import sampling_functions
from .op_functions import make_function
from .symbol import Symbol

__all__ = ["uniform", "normal", "randn", "exponential", "gamma", "poisson", "negative_binomial",
           "generalized_negative_binomial", "multinomial", "shuffle", "randint", "uniform_like",
           "normal_like", "exponential_like", "gamma_like", "poisson_like", "negative_binomial_like",
           "generalized_negative_binomial_like"]


def _compose(op_name, inputs, attrs, out, ctx):
    """The Symbol of one call (``name=`` and ``attr=`` name and annotate the node; a
    Symbol has no context or output array, so ``ctx`` and ``out`` are ignored)."""
    from ..ops import registry
    name, attr = attrs.pop("name", None), attrs.pop("attr", None)
    return make_function(registry.get(op_name), op_name)(*inputs, name=name, attr=attr, **attrs)


globals().update(sampling_functions(_compose, Symbol, "mx.sym.random"))
