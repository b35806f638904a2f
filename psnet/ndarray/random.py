"""``mx.nd.random`` (and, through :func:`sampling_functions`, ``mx.sym.random``): sampling
functions with MXNet 1.9.1's signatures.

Each distribution takes its parameters either as numbers (one distribution, output of
``shape``; the ``_random_<name>`` op) or as arrays (one distribution per element, output
``param.shape + shape``; the ``_sample_<name>`` op), exactly as MXNet does.  Draws come
from the context's generator, so ``mx.random.seed`` makes them reproducible.
"""
from ..base import MXNetError
from ..ops import registry
from .ndarray import NDArray, invoke

__all__ = ["uniform", "normal", "randn", "exponential", "gamma", "poisson", "negative_binomial",
           "generalized_negative_binomial", "multinomial", "shuffle", "randint", "uniform_like",
           "normal_like", "exponential_like", "gamma_like", "poisson_like", "negative_binomial_like",
           "generalized_negative_binomial_like", "sampling_functions"]

_PARAMS = {
    "uniform": ("low", "high"), "normal": ("loc", "scale"), "gamma": ("alpha", "beta"),
    "exponential": ("lam",), "poisson": ("lam",), "negative_binomial": ("k", "p"),
    "generalized_negative_binomial": ("mu", "alpha"),
}


def sampling_functions(call, tensor_type, where):
    """``{name: function}`` of MXNet's random namespace over one array type.

    ``call(op_name, inputs, attrs, out, ctx)`` runs (or, for Symbols, composes) one
    registry op; ``tensor_type`` is the type whose instances are per-element parameters
    (NDArray or Symbol); ``where`` names the namespace in error messages.
    """
    def draw(name, params, shape, dtype, ctx, out, kwargs):
        """``_random_<name>`` for number parameters, ``_sample_<name>`` for arrays."""
        attrs = dict(kwargs)
        if shape is not None:
            attrs["shape"] = shape
        if dtype is not None:
            attrs["dtype"] = dtype
        arrays = [isinstance(p, tensor_type) for p in params]
        if all(arrays):
            return call("_sample_" + name, list(params), attrs, out, None)
        if any(arrays):
            raise MXNetError("%s.%s: parameters must be all numbers or all %ss, got %s"
                             % (where, name, tensor_type.__name__, ", ".join(type(p).__name__ for p in params)))
        attrs.update(zip(_PARAMS[name], params))
        return call("_random_" + name, [], attrs, out, ctx)

    def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
        """Samples from U[low, high); ``low``/``high`` may be arrays (one range per element)."""
        return draw("uniform", [low, high], shape, dtype, ctx, out, kwargs)

    def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
        """Samples from N(loc, scale^2); ``loc``/``scale`` may be arrays."""
        return draw("normal", [loc, scale], shape, dtype, ctx, out, kwargs)

    def randn(*shape, loc=0, scale=1, dtype=None, ctx=None, out=None, **kwargs):
        """Normal samples of shape ``shape`` given as positional integers (``randn(2, 3)``)."""
        return normal(loc, scale, shape=shape or None, dtype=dtype, ctx=ctx, out=out, **kwargs)

    def exponential(scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
        """Samples from the exponential distribution of mean ``scale`` (rate 1/scale)."""
        return draw("exponential", [1.0 / scale], shape, dtype, ctx, out, kwargs)

    def gamma(alpha=1, beta=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
        """Samples from Gamma(shape alpha, scale beta)."""
        return draw("gamma", [alpha, beta], shape, dtype, ctx, out, kwargs)

    def poisson(lam=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
        """Samples from Poisson(lam) (as floats, dtype float32 by default)."""
        return draw("poisson", [lam], shape, dtype, ctx, out, kwargs)

    def negative_binomial(k=1, p=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
        """Failures before the k-th success with success probability p."""
        return draw("negative_binomial", [k, p], shape, dtype, ctx, out, kwargs)

    def generalized_negative_binomial(mu=1, alpha=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
        """Gamma-Poisson mixture of mean ``mu`` and dispersion ``alpha``."""
        return draw("generalized_negative_binomial", [mu, alpha], shape, dtype, ctx, out, kwargs)

    def randint(low, high, shape=None, dtype=None, ctx=None, out=None, **kwargs):
        """Integers drawn uniformly from [low, high) (int32 by default)."""
        attrs = dict(kwargs, low=low, high=high)
        if shape is not None:
            attrs["shape"] = shape
        if dtype is not None:
            attrs["dtype"] = dtype
        return call("_random_randint", [], attrs, out, ctx)

    def multinomial(data, shape=None, get_prob=False, out=None, dtype="int32", **kwargs):
        """Indices drawn from the categorical distributions on the last axis of ``data``;
        with ``get_prob`` also their log-probabilities."""
        attrs = dict(kwargs, get_prob=get_prob, dtype=dtype)
        if shape is not None:
            attrs["shape"] = shape
        return call("_sample_multinomial", [data], attrs, out, None)

    def shuffle(data, out=None, **kwargs):
        """A copy of ``data`` with its first axis randomly permuted."""
        return call("_shuffle", [data], kwargs, out, None)

    def like(name):
        pnames = _PARAMS[name]

        def fn(data, *params, out=None, **kwargs):
            attrs = dict(zip(pnames, params), **kwargs)
            return call("_random_%s_like" % name, [data], attrs, out, None)
        fn.__name__ = name + "_like"
        fn.__doc__ = ("Samples of the %s distribution (parameters %s) with the shape, dtype and "
                      "context of ``data``." % (name, ", ".join(pnames)))
        return fn

    funcs = {f.__name__: f for f in (uniform, normal, randn, exponential, gamma, poisson,
                                     negative_binomial, generalized_negative_binomial, randint,
                                     multinomial, shuffle)}
    funcs.update((n + "_like", like(n)) for n in _PARAMS)
    return funcs


def _invoke(op_name, inputs, attrs, out, ctx):
    return invoke(registry.get(op_name), inputs, attrs, out=out, ctx=ctx)


globals().update(sampling_functions(_invoke, NDArray, "mx.nd.random"))
