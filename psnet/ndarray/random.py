"""``mx.nd.random``: sampling functions with MXNet 1.9.1's signatures.

Each distribution takes its parameters either as numbers (one distribution, output of
``shape``; the ``_random_<name>`` op) or as NDArrays (one distribution per element,
output ``param.shape + shape``; the ``_sample_<name>`` op), exactly as MXNet does.
Draws come from the context's generator, so ``mx.random.seed`` makes them reproducible.
"""
from ..base import MXNetError
from ..ops import registry
from .ndarray import NDArray, invoke

__all__ = ["uniform", "normal", "randn", "exponential", "gamma", "poisson", "negative_binomial",
           "generalized_negative_binomial", "multinomial", "shuffle", "randint", "uniform_like",
           "normal_like", "exponential_like", "gamma_like", "poisson_like", "negative_binomial_like",
           "generalized_negative_binomial_like"]


def _helper(name, params, shape, dtype, ctx, out, kwargs):
    """Dispatch to ``_random_<name>`` (number parameters) or ``_sample_<name>`` (NDArrays)."""
    pnames = _PARAMS[name]
    attrs = dict(kwargs)
    if shape is not None:
        attrs["shape"] = shape
    if dtype is not None:
        attrs["dtype"] = dtype
    arrays = [isinstance(p, NDArray) for p in params]
    if all(arrays):
        return invoke(registry.get("_sample_" + name), list(params), attrs, out=out)
    if any(arrays):
        raise MXNetError("random.%s: parameters must be all numbers or all NDArrays, got %s"
                         % (name, ", ".join(type(p).__name__ for p in params)))
    attrs.update(zip(pnames, params))
    return invoke(registry.get("_random_" + name), [], attrs, out=out, ctx=ctx)


_PARAMS = {
    "uniform": ("low", "high"), "normal": ("loc", "scale"), "gamma": ("alpha", "beta"),
    "exponential": ("lam",), "poisson": ("lam",), "negative_binomial": ("k", "p"),
    "generalized_negative_binomial": ("mu", "alpha"),
}


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from U[low, high); ``low``/``high`` may be NDArrays (one range per element)."""
    return _helper("uniform", [low, high], shape, dtype, ctx, out, kwargs)


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from N(loc, scale^2); ``loc``/``scale`` may be NDArrays."""
    return _helper("normal", [loc, scale], shape, dtype, ctx, out, kwargs)


def randn(*shape, loc=0, scale=1, dtype=None, ctx=None, out=None, **kwargs):
    """Normal samples of shape ``shape`` given as positional integers (``randn(2, 3)``)."""
    return normal(loc, scale, shape=shape or None, dtype=dtype, ctx=ctx, out=out, **kwargs)


def exponential(scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the exponential distribution of mean ``scale`` (rate 1/scale)."""
    return _helper("exponential", [1.0 / scale], shape, dtype, ctx, out, kwargs)


def gamma(alpha=1, beta=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from Gamma(shape alpha, scale beta)."""
    return _helper("gamma", [alpha, beta], shape, dtype, ctx, out, kwargs)


def poisson(lam=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from Poisson(lam) (as floats, dtype float32 by default)."""
    return _helper("poisson", [lam], shape, dtype, ctx, out, kwargs)


def negative_binomial(k=1, p=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Failures before the k-th success with success probability p."""
    return _helper("negative_binomial", [k, p], shape, dtype, ctx, out, kwargs)


def generalized_negative_binomial(mu=1, alpha=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Gamma-Poisson mixture of mean ``mu`` and dispersion ``alpha``."""
    return _helper("generalized_negative_binomial", [mu, alpha], shape, dtype, ctx, out, kwargs)


def randint(low, high, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Integers drawn uniformly from [low, high) (int32 by default)."""
    attrs = dict(kwargs, low=low, high=high)
    if shape is not None:
        attrs["shape"] = shape
    if dtype is not None:
        attrs["dtype"] = dtype
    return invoke(registry.get("_random_randint"), [], attrs, out=out, ctx=ctx)


def multinomial(data, shape=None, get_prob=False, out=None, dtype="int32", **kwargs):
    """Indices drawn from the categorical distributions on the last axis of ``data``;
    with ``get_prob`` also their log-probabilities."""
    attrs = dict(kwargs, get_prob=get_prob, dtype=dtype)
    if shape is not None:
        attrs["shape"] = shape
    return invoke(registry.get("_sample_multinomial"), [data], attrs, out=out)


def shuffle(data, out=None, **kwargs):
    """A copy of ``data`` with its first axis randomly permuted."""
    return invoke(registry.get("_shuffle"), [data], kwargs, out=out)


def _like_function(name):
    pnames = _PARAMS[name]

    def fn(data, *params, out=None, **kwargs):
        attrs = dict(zip(pnames, params), **kwargs)
        return invoke(registry.get("_random_%s_like" % name), [data], attrs, out=out)
    fn.__name__ = name + "_like"
    fn.__doc__ = ("Samples of the %s distribution (parameters %s) with the shape, dtype and context "
                  "of ``data``." % (name, ", ".join(pnames)))
    return fn


uniform_like = _like_function("uniform")
normal_like = _like_function("normal")
exponential_like = _like_function("exponential")
gamma_like = _like_function("gamma")
poisson_like = _like_function("poisson")
negative_binomial_like = _like_function("negative_binomial")
generalized_negative_binomial_like = _like_function("generalized_negative_binomial")
