"""Reductions over axes, with MXNet's ``axis``, ``keepdims`` and ``exclude``.

A reduction over every axis returns shape ``(1,)`` (MXNet 1.x has no 0-d arrays); the
result keeps the input's dtype (the mean of int32 values is truncated to int32).
"""
from ..base import MXNetError
from .registry import register
from . import _grad_util as G


def norm_axes(ndim, axis, exclude=False):
    """The tuple of axes an MXNet reduction covers (all when ``axis`` is None or ())."""
    if axis is None or axis == ():
        axes = tuple(range(ndim))
    else:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        for ax in axes:
            if not -ndim <= ax < ndim:
                raise MXNetError("axis %d is out of range for an array of %d dimension(s)" % (ax, ndim))
        axes = tuple(sorted(a % ndim for a in axes))
    if exclude:
        axes = tuple(a for a in range(ndim) if a not in axes)
    return axes


def kept_shape(shape, axes):
    """``shape`` with reduced ``axes`` set to 1 (for broadcasting a gradient back)."""
    return tuple(1 if k in axes else d for k, d in enumerate(shape))


def _keep(r, like):
    return r if r.dtype == like.dtype else r.astype(like.dtype)


def _spread(x, g, a):
    """``g`` (an output gradient, or the output itself) broadcast back over the reduced axes of ``x``."""
    axes = norm_axes(x.ndim, a["axis"], a["exclude"])
    return G.nd().broadcast_to(g.reshape(kept_shape(x.shape, axes)), shape=x.shape)


def _reduction(name, method, grad, aliases=(), doc=None):
    """Register the reduction ``name`` computed by the array method ``method`` (or, for the
    NaN-aware ones, the ``xp`` function of that name)."""
    nan_aware = method.startswith("nan")

    def forward(xp, data, axis=None, keepdims=False, exclude=False):
        if (axis is None or axis == ()) and not exclude:
            axes = None  # NumPy reduces fastest without an explicit axis tuple
        elif type(axis) is int and not exclude and -data.ndim <= axis < data.ndim:
            axes = axis  # the common single axis, as NumPy takes it
        else:
            axes = norm_axes(data.ndim, axis, exclude)
            if not nan_aware and all(data.shape[a] == 1 for a in axes):
                # over axes of length 1 (a Gluon loss's mean over (batch, 1)) the values stay
                shape = kept_shape(data.shape, axes) if keepdims else \
                    tuple(d for k, d in enumerate(data.shape) if k not in axes)
                return data.reshape(shape or (1,)).copy()
        if nan_aware:
            r = getattr(xp, method)(data, axis=axes, keepdims=keepdims)
        else:
            r = getattr(data, method)(axis=axes, keepdims=keepdims)
        return r if r.dtype is data.dtype else r.astype(data.dtype)
    forward.__doc__ = doc
    op = register(name, aliases=aliases)(forward)
    op.def_grad(lambda i, o, g, a: [grad(i[0], o[0], g[0], a)])
    return op


def _mean_grad(x, o, g, a):
    axes = norm_axes(x.ndim, a["axis"], a["exclude"])
    n = 1
    for ax in axes:
        n *= x.shape[ax]
    return _spread(x, g, a) / n


def _extreme_grad(x, o, g, a):
    return _spread(x, g, a) * (x == _spread(x, o, a))


def _prod_grad(x, o, g, a):
    return _spread(x, g, a) * _spread(x, o, a) / x


def _nansum_grad(x, o, g, a):
    return _spread(x, g, a) * (x == x)


def _nanprod_grad(x, o, g, a):
    nd = G.nd()
    ok = x == x
    safe = nd.where(ok, x, nd.ones_like(x))
    return _spread(x, g, a) * _spread(x, o, a) / safe * ok


_reduction("sum", "sum", lambda x, o, g, a: _spread(x, g, a), ("sum_axis",),
           "Sum over ``axis`` (all axes by default).")
_reduction("mean", "mean", _mean_grad, (), "Mean over ``axis`` (all axes by default).")
_reduction("prod", "prod", _prod_grad, (), "Product over ``axis``.")
_reduction("nansum", "nansum", _nansum_grad, (), "Sum over ``axis`` treating NaN as 0.")
_reduction("nanprod", "nanprod", _nanprod_grad, (), "Product over ``axis`` treating NaN as 1.")
_reduction("max", "max", _extreme_grad, ("max_axis",),
           "Maximum over ``axis``; the gradient goes to every maximal element.")
_reduction("min", "min", _extreme_grad, ("min_axis",),
           "Minimum over ``axis``; the gradient goes to every minimal element.")


@register("moments", num_outputs=2, output_names=("mean", "var"))
def moments(xp, data, axes=None, keepdims=False):
    """Mean and (biased) variance over ``axes`` (all by default), in the input dtype."""
    ax = None if axes is None or axes == () else norm_axes(data.ndim, axes)
    mean = data.mean(axis=ax, keepdims=True)
    var = ((data - mean) ** 2).mean(axis=ax, keepdims=keepdims)
    if not keepdims:
        mean = mean.reshape(var.shape)
    return _keep(mean, data), _keep(var, data)


@moments.def_grad
def _moments_grad(i, o, g, a):
    x = i[0]
    spec = {"axis": a["axes"], "exclude": False}
    axes = norm_axes(x.ndim, a["axes"])
    n = 1
    for ax in axes:
        n *= x.shape[ax]
    mean = _spread(x, o[0], spec)
    return [_spread(x, g[0], spec) / n + _spread(x, g[1], spec) * (x - mean) * (2.0 / n)]


@register("norm")
def norm(xp, data, ord=2, axis=None, out_dtype=None, keepdims=False):
    """The L2 (``ord=2``) or L1 (``ord=1``) norm over ``axis`` (all elements by default)."""
    axes = norm_axes(data.ndim, axis)
    if ord == 2:
        r = xp.sqrt(xp.sum(data * data, axis=axes, keepdims=keepdims))
    elif ord == 1:
        r = xp.sum(xp.abs(data), axis=axes, keepdims=keepdims)
    else:
        raise MXNetError("norm: ord must be 1 or 2, got %r" % (ord,))
    return r.astype(out_dtype) if out_dtype is not None else _keep(r, data)


@norm.def_grad
def _norm_grad(i, o, g, a):
    x = i[0]
    a = dict(a, exclude=False)
    gs = _spread(x, g[0], a)
    if a["ord"] == 1:
        return [gs * G.nd().sign(x)]
    n = _spread(x, o[0], a)
    return [gs * x / (n + (n == 0))]


def _arg_reduce(name, fn, doc):
    def forward(xp, data, axis=None, keepdims=False):
        if axis is None:
            r = fn(data.reshape(-1), axis=0)
            return _keep(r.reshape((1,) * data.ndim if keepdims else (1,)), data)
        r = fn(data, axis=axis)
        if keepdims:
            r = xp.expand_dims(r, axis)
        return _keep(r, data)
    forward.__doc__ = doc
    return register(name)(forward)


_arg_reduce("argmax", lambda x, axis: x.argmax(axis=axis),
            "Index of the maximum along ``axis`` (of the flattened array when None), in the input dtype.")
_arg_reduce("argmin", lambda x, axis: x.argmin(axis=axis),
            "Index of the minimum along ``axis`` (of the flattened array when None), in the input dtype.")


@register("argmax_channel")
def argmax_channel(xp, data):
    """Index of the maximum along the last axis, in the input dtype."""
    return _keep(data.argmax(axis=-1), data)


@register("cumsum")
def cumsum(xp, a, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (of the flattened array when None)."""
    r = xp.cumsum(a.reshape(-1) if axis is None else a, axis=0 if axis is None else axis)
    return r.astype(dtype) if dtype is not None else _keep(r, a)


@cumsum.def_grad
def _cumsum_grad(i, o, g, a):
    nd = G.nd()
    axis = a["axis"]
    if axis is None:
        return [nd.flip(nd.cumsum(nd.flip(g[0], axis=0), axis=0), axis=0).reshape(i[0].shape)]
    return [nd.flip(nd.cumsum(nd.flip(g[0], axis=axis), axis=axis), axis=axis)]
