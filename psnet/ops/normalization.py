"""Normalisation layers: BatchNorm, LayerNorm, InstanceNorm, GroupNorm (MXNet 1.9.1 semantics).

All four normalise a view of the data over some axes and then apply a per-channel
``gamma``/``beta`` along one axis of that view:

============  ======================  =================  ==========
op            view of the data        normalised axes    gamma axis
============  ======================  =================  ==========
BatchNorm     data                    all but ``axis``   ``axis``
LayerNorm     data                    ``axis``           ``axis``
InstanceNorm  (N, C, -1)              2                  1
GroupNorm     (N, num_groups, -1)     2                  1
============  ======================  =================  ==========

so one forward helper and one (differentiable) backward helper serve them all.
BatchNorm updates its auxiliary moving statistics in place during a training forward
(MXNet does it during backward; the values are the same once backward has run).
"""
import math

from ..base import ShapeError
from .registry import register
from . import _grad_util as G


def _bshape(ndim, axis, size):
    """Shape that broadcasts a (size,) vector along ``axis`` of an ndim-array."""
    return tuple(size if k == axis else 1 for k in range(ndim))


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _moments(xp, x, axes):
    """Mean and biased variance over ``axes`` (kept as size-1 dimensions)."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    return mean, var


def _sum_but(x, axis):
    """Sum over every axis but ``axis``, kept as size-1 dimensions: rows of the (before,
    rest) matrix first, then the short runs after ``axis`` (several times faster than
    NumPy's reduction over scattered axes when those runs are short, as in NCHW).  Half
    precision is summed, and returned, in float32."""
    c = x.shape[axis]
    acc = "float32" if x.dtype.kind == "f" and x.dtype.itemsize < 4 else None
    rows = x.reshape(math.prod(x.shape[:axis]), -1).sum(axis=0, dtype=acc)
    return rows.reshape(c, -1).sum(axis=1).reshape(_bshape(x.ndim, axis, c))


def _affine(xp, xhat, gamma, beta, gaxis):
    shape = _bshape(xhat.ndim, gaxis, gamma.shape[0])
    return xhat * gamma.reshape(shape) + beta.reshape(shape)


def _check_param(op, name, arr, size):
    if arr.shape != (size,):
        raise ShapeError("%s: %s must have shape (%d,), got %s" % (op, name, size, arr.shape))


def _norm_grad(x, og, gamma, axes, gaxis, eps, stats=None):
    """Gradients (dx, dgamma, dbeta) of y = gamma * (x - mean) / sqrt(var + eps) + beta.

    Written with ``mx.nd`` operators, so it is differentiable again.  ``stats`` =
    (mean, var) fixes the statistics (prediction / use_global_stats); otherwise they are
    the batch moments of ``x`` over ``axes`` and their dependence on ``x`` is included.
    ``gamma`` None means a gamma fixed at 1 (no gamma gradient).
    """
    nd = G.nd()
    shape = _bshape(x.ndim, gaxis, x.shape[gaxis])
    if stats is None:
        n = float(_count(x.shape, axes))
        mean = nd.sum(x, axis=axes, keepdims=True) / n
        xc = x - mean
        var = nd.sum(xc * xc, axis=axes, keepdims=True) / n
    else:
        mean, var = (s.reshape(shape) for s in stats)
        xc = x - mean
    inv = (var + eps) ** -0.5
    xhat = xc * inv
    dxhat = og if gamma is None else og * gamma.reshape(shape)
    if stats is None:
        dx = inv * (dxhat - nd.sum(dxhat, axis=axes, keepdims=True) / n
                    - xhat * (nd.sum(dxhat * xhat, axis=axes, keepdims=True) / n))
    else:
        dx = dxhat * inv
    dgamma = nd.sum(og * xhat, axis=gaxis, exclude=True)
    dbeta = nd.sum(og, axis=gaxis, exclude=True)
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------- BatchNorm
def _bn_visible(attrs):
    return 3 if attrs.get("output_mean_var", False) else 1


@register("BatchNorm", inputs=("data", "gamma", "beta"), aux=("moving_mean", "moving_var"),
          num_outputs=3, num_visible_outputs=_bn_visible,
          output_names=lambda a: ["output", "mean", "var"][:_bn_visible(a)])
def batch_norm(xp, data, gamma, beta, moving_mean, moving_var, eps=1e-3, momentum=0.9, fix_gamma=True,
               use_global_stats=False, output_mean_var=False, axis=1, cudnn_off=False,
               min_calib_range=None, max_calib_range=None, is_train=False):
    """Batch normalisation over every axis but ``axis``.  In training the batch statistics
    are used and moving_mean/moving_var are updated in place (x momentum + batch x (1 -
    momentum)); in prediction, or with use_global_stats, the moving statistics are used.
    ``fix_gamma`` fixes gamma at 1 (writing 1 into it, as MXNet does).  The hidden outputs are the mean and 1/sqrt(var+eps)."""
    axis = int(axis) % data.ndim
    c = data.shape[axis]
    for name, arr in (("gamma", gamma), ("beta", beta), ("moving_mean", moving_mean), ("moving_var", moving_var)):
        _check_param("BatchNorm", name, arr, c)
    shape = _bshape(data.ndim, axis, c)
    if is_train and not use_global_stats:
        n = data.size // c
        mean = (_sum_but(data, axis) / n).astype(data.dtype, copy=False)
        xc = data - mean
        var = (_sum_but(xc * xc, axis) / n).astype(data.dtype, copy=False).reshape(c)
        mean = mean.reshape(c)
        m = moving_mean.dtype.type(momentum)
        moving_mean *= m
        moving_mean += (1 - m) * mean.astype(moving_mean.dtype, copy=False)
        moving_var *= m
        moving_var += (1 - m) * var.astype(moving_var.dtype, copy=False)
    else:
        mean, var = moving_mean.copy(), moving_var
    inv = (1.0 / xp.sqrt(var + data.dtype.type(eps))).astype(data.dtype, copy=False)
    if fix_gamma:
        gamma[...] = 1  # MXNet writes the fixed value into gamma
    scale = (gamma * inv).reshape(shape)
    out = (data - mean.reshape(shape)) * scale + beta.reshape(shape)
    return out.astype(data.dtype, copy=False), mean, inv


@batch_norm.def_grad
def _batch_norm_grad(i, o, g, attrs):
    data, gamma = i[0], i[1]
    axis = int(attrs["axis"]) % data.ndim
    axes = tuple(k for k in range(data.ndim) if k != axis)
    batch_stats = attrs.get("is_train", False) and not attrs["use_global_stats"]
    fixed = attrs["fix_gamma"]
    if batch_stats:
        keys = {"eps": attrs["eps"], "axis": axis, "fix_gamma": fixed}
        return list(G.nd().invoke(_backward_BatchNorm, [g[0], data, gamma], keys)) + [None, None]
    stats = (i[3], i[4])
    dx, dgamma, dbeta = _norm_grad(data, g[0], None if fixed else gamma, axes, axis, attrs["eps"], stats)
    if fixed:
        dgamma = G.nd().zeros_like(gamma)
    return [dx, dgamma, dbeta, None, None]


def _bn_backward(xp, ograd, data, gamma, eps=1e-3, axis=1, fix_gamma=True):
    """Gradients (dx, dgamma, dbeta) of training-mode BatchNorm (batch statistics) on raw
    arrays, in a few fused passes; dgamma is zero when ``fix_gamma``."""
    axis = int(axis) % data.ndim
    shape = _bshape(data.ndim, axis, data.shape[axis])
    n = data.size // data.shape[axis]
    xhat = data - (_sum_but(data, axis) / n).astype(data.dtype, copy=False)
    inv = (1 / xp.sqrt(_sum_but(xhat * xhat, axis) / n + eps)).astype(data.dtype, copy=False)
    xhat *= inv
    dbeta = _sum_but(ograd, axis)
    dgamma = _sum_but(ograd * xhat, axis)
    scale = inv if fix_gamma else inv * gamma.reshape(shape)
    xhat *= -scale * dgamma / n
    dx = ograd * scale
    dx += xhat
    dx -= scale * dbeta / n
    dgamma = xp.zeros_like(gamma) if fix_gamma else dgamma.reshape(-1).astype(gamma.dtype, copy=False)
    return dx, dgamma, dbeta.reshape(-1).astype(gamma.dtype, copy=False)


_backward_BatchNorm = register("_backward_BatchNorm", num_outputs=3)(_bn_backward)


@_backward_BatchNorm.def_grad
def _bn_backward_grad(i, o, g, attrs):
    """Second-order gradient: the vector-Jacobian product of (dx, dgamma, dbeta) with heads
    ``g`` w.r.t. (output gradient, data, gamma), in ``mx.nd`` operators."""
    nd = G.nd()
    og, x, gamma = i
    a, b, c = (h if h is not None else nd.zeros_like(t) for h, t in zip(g, (x, gamma, gamma)))
    axis, fixed = int(attrs["axis"]) % x.ndim, attrs["fix_gamma"]
    axes = tuple(k for k in range(x.ndim) if k != axis)
    shape = _bshape(x.ndim, axis, x.shape[axis])
    n = float(_count(x.shape, axes))

    def mean(t):
        return nd.sum(t, axis=axes, keepdims=True) / n
    xc = x - mean(x)
    inv = (mean(xc * xc) + attrs["eps"]) ** -0.5
    xhat = xc * inv
    gam = 1.0 if fixed else gamma.reshape(shape)
    b = b.reshape(shape) * (0.0 if fixed else 1.0)
    scale = inv * gam
    a_xhat, g_xhat = mean(a * xhat), mean(og * xhat)
    d_og = scale * (a - mean(a) - xhat * a_xhat) + xhat * b + c.reshape(shape)
    dxn = og - mean(og) - xhat * g_xhat                    # dx / scale
    v = b * og - scale * (g_xhat * a + a_xhat * og)          # d(loss) / d(xhat) at fixed inv
    d_x = inv * (v - mean(v) - xhat * mean(v * xhat)) - gam * inv * inv * xhat * mean(a * dxn)
    d_gamma = None if fixed else nd.sum(a * inv * dxn, axis=axis, exclude=True)
    return [d_og, d_x, d_gamma]


# ---------------------------------------------------------------------------- LayerNorm
def _ln_visible(attrs):
    return 3 if attrs.get("output_mean_var", False) else 1


@register("LayerNorm", num_outputs=3, num_visible_outputs=_ln_visible,
          output_names=lambda a: ["output", "mean", "std"][:_ln_visible(a)])
def layer_norm(xp, data, gamma, beta, axis=-1, eps=1e-5, output_mean_var=False):
    """Normalise over ``axis`` of each sample, then scale by gamma and shift by beta (both of
    shape (data.shape[axis],)).  The hidden outputs are the mean and std (axis kept)."""
    axis = int(axis) % data.ndim
    _check_param("LayerNorm", "gamma", gamma, data.shape[axis])
    _check_param("LayerNorm", "beta", beta, data.shape[axis])
    mean, var = _moments(xp, data, (axis,))
    std = xp.sqrt(var + data.dtype.type(eps))
    return _affine(xp, (data - mean) / std, gamma, beta, axis), mean, std


@layer_norm.def_grad
def _layer_norm_grad(i, o, g, attrs):
    axis = int(attrs["axis"]) % i[0].ndim
    return list(_norm_grad(i[0], g[0], i[1], (axis,), axis, attrs["eps"]))


# ---------------------------------------------------------------------------- Instance/GroupNorm
def _grouped(x, groups):
    """The (N, groups, -1) view of ``x`` (xp or NDArray)."""
    return x.reshape((x.shape[0], groups, -1))


@register("InstanceNorm")
def instance_norm(xp, data, gamma, beta, eps=1e-3):
    """Normalise each (sample, channel) over the remaining axes; gamma/beta have shape (C,)."""
    c = data.shape[1]
    _check_param("InstanceNorm", "gamma", gamma, c)
    _check_param("InstanceNorm", "beta", beta, c)
    x = _grouped(data, c)
    mean, var = _moments(xp, x, (2,))
    return _affine(xp, (x - mean) / xp.sqrt(var + data.dtype.type(eps)), gamma, beta, 1).reshape(data.shape)


@instance_norm.def_grad
def _instance_norm_grad(i, o, g, attrs):
    x = i[0]
    c = x.shape[1]
    dx, dgamma, dbeta = _norm_grad(_grouped(x, c), _grouped(g[0], c), i[1], (2,), 1, attrs["eps"])
    return [dx.reshape(x.shape), dgamma, dbeta]


def _gn_visible(attrs):
    return 3 if attrs.get("output_mean_var", False) else 1


def _gn_infer_shape(attrs, in_shapes):
    """gamma and beta have shape (num_groups,); mean and std (N, num_groups)."""
    data = in_shapes[0]
    if data is None:
        return None
    g = int(attrs.get("num_groups", 1))
    stats = [(data[0], g)] * 2 if attrs.get("output_mean_var", False) else []
    return [tuple(data), (g,), (g,)], [tuple(data)] + stats


@register("GroupNorm", num_outputs=3, num_visible_outputs=_gn_visible, infer_shape=_gn_infer_shape,
          output_names=lambda a: ["output", "mean", "std"][:_gn_visible(a)])
def group_norm(xp, data, gamma, beta, num_groups=1, eps=1e-5, output_mean_var=False):
    """Split the channels (axis 1) into ``num_groups`` groups and normalise each sample's
    group; gamma/beta have shape (num_groups,) as in MXNet 1.9.1.  The hidden outputs are
    the mean and std of shape (N, num_groups)."""
    groups = int(num_groups)
    if data.shape[1] % groups:
        raise ShapeError("GroupNorm: %d channels (data %s) do not split into num_groups=%d"
                         % (data.shape[1], data.shape, groups))
    _check_param("GroupNorm", "gamma", gamma, groups)
    _check_param("GroupNorm", "beta", beta, groups)
    x = _grouped(data, groups)
    mean, var = _moments(xp, x, (2,))
    std = xp.sqrt(var + data.dtype.type(eps))
    out = _affine(xp, (x - mean) / std, gamma, beta, 1).reshape(data.shape)
    return out, mean.reshape(mean.shape[:2]), std.reshape(std.shape[:2])


@group_norm.def_grad
def _group_norm_grad(i, o, g, attrs):
    x = i[0]
    groups = int(attrs["num_groups"])
    dx, dgamma, dbeta = _norm_grad(_grouped(x, groups), _grouped(g[0], groups), i[1], (2,), 1, attrs["eps"])
    return [dx.reshape(x.shape), dgamma, dbeta]
