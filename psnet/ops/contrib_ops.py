"""MXNet 1.9.1 contrib operators, registered as ``_contrib_<name>`` (``mx.nd.contrib.<name>``,
``mx.sym.contrib.<name>``).

``BilinearResize2D`` and ``AdaptiveAvgPooling2D`` are separable linear maps of the last two
axes: each builds an interpolation (or averaging) matrix per axis, ``Mh`` (OH, H) and ``Mw``
(OW, W), from the shapes and attributes alone, and computes ``Mh @ x @ Mw^T`` with two
batched GEMMs (no loop over pixels).  Their gradient ``Mh^T @ g @ Mw`` is written with
``mx.nd.dot`` on the same matrices, so it is itself differentiable and backend-agnostic.
"""
import numpy as np

from ..base import MXNetError, ShapeError
from .registry import register
from . import _grad_util as G


def _truthy(v):
    """A boolean attribute given as a bool, a number or MXNet's strings ('1', 'True')."""
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true")
    return bool(v)


def _opt_float(v):
    """An optional float attribute (None or 'None' means unset)."""
    if v is None or (isinstance(v, str) and v.strip() in ("", "None")):
        return None
    return float(v)


def _int_tuple(op, name, value):
    """A shape attribute (int, tuple, list or MXNet's string '(2, 3)') as a tuple of ints."""
    v = value
    if isinstance(v, str):
        v = [t for t in v.strip("()[] ").split(",") if t.strip()]
    if isinstance(v, (int, np.integer)):
        v = (v,)
    try:
        return tuple(int(t) for t in v)
    except (TypeError, ValueError):
        raise MXNetError("%s: attribute %s=%r is not a tuple of integers" % (op, name, value)) from None


def _check_4d(op, name, shape):
    if len(shape) != 4:
        raise ShapeError("%s: %s must be a 4-D (N, C, H, W) array, got shape %s" % (op, name, tuple(shape)))


def _apply_separable(xp, x, mh, mw):
    """``Mh @ x @ Mw^T`` over the last two axes of ``x`` (N, C, H, W), in ``x``'s dtype."""
    mh = xp.asarray(mh, dtype=x.dtype)
    mw = xp.asarray(mw, dtype=x.dtype)
    return xp.ascontiguousarray(xp.matmul(xp.matmul(mh, x), mw.T))


def _separable_grad(g, in_shape, mh, mw):
    """Gradient of ``Mh @ x @ Mw^T`` for head gradient ``g`` (N, C, OH, OW): ``Mh^T @ g @ Mw``,
    in ``mx.nd`` ops (differentiable)."""
    nd = G.nd()
    n, c, h, w = in_shape
    oh, ow = mh.shape[0], mw.shape[0]
    mh = nd.array(mh, ctx=g.context, dtype=g.dtype)
    mw = nd.array(mw, ctx=g.context, dtype=g.dtype)
    t = nd.dot(g.reshape((-1, ow)), mw)                              # (N*C*OH, W)
    t = nd.swapaxes(t.reshape((n * c, oh, w)), 1, 2).reshape((-1, oh))
    t = nd.dot(t, mh)                                                # (N*C*W, H)
    return nd.swapaxes(t.reshape((n * c, w, h)), 1, 2).reshape((n, c, h, w))


# ---------------------------------------------------------------- BilinearResize2D
_BR = "_contrib_BilinearResize2D"
_BR_MODES = ("size", "odd_scale", "like", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up")


def _bilinear_inputs(attrs):
    return ["data", "like"] if attrs.get("mode", "size") == "like" else ["data"]


def _bilinear_out_size(in_hw, like_shape, height, width, scale_height, scale_width, mode):
    """MXNet's output (height, width) of BilinearResize2D for input (H, W)."""
    if mode not in _BR_MODES:
        raise MXNetError("%s: attribute mode=%r is not one of %s" % (_BR, mode, ", ".join(_BR_MODES)))
    sh, sw = _opt_float(scale_height), _opt_float(scale_width)
    out = []
    for size, fixed, scale in ((in_hw[0], int(height), sh), (in_hw[1], int(width), sw)):
        if mode == "size":
            o = int(size * scale) if scale is not None else fixed
        elif mode == "odd_scale":
            if scale is None:
                raise MXNetError("%s: mode='odd_scale' needs scale_height and scale_width" % _BR)
            o = int((size - 1) * scale) + 1 if size % 2 else int(size * scale)
        elif mode == "like":
            o = None
        elif mode == "to_even_down":
            o = size - size % 2
        elif mode == "to_even_up":
            o = size + size % 2
        elif mode == "to_odd_down":
            o = size if size % 2 else size - 1
        else:
            o = size if size % 2 else size + 1
        out.append(o)
    if mode == "like":
        if like_shape is None:
            raise MXNetError("%s: mode='like' needs a second input 'like'" % _BR)
        _check_4d(_BR, "like", like_shape)
        out = [int(like_shape[2]), int(like_shape[3])]
    if min(out) <= 0:
        raise ShapeError("%s: output size %s (from input %s, mode=%r) must be positive"
                         % (_BR, tuple(out), tuple(in_hw), mode))
    return tuple(out)


def _bilinear_matrix(size, out, align_corners):
    """(out, size) float64 matrix of linear-interpolation weights along one axis (MXNet's
    source index: ``i * (size-1)/(out-1)`` with aligned corners, else
    ``max((i + 0.5) * size/out - 0.5, 0)``; 0 for a single output)."""
    i = np.arange(out, dtype=np.float64)
    if out == 1:
        src = np.zeros(1)  # a single output reads the first pixel, whatever align_corners says
    elif align_corners:
        src = i * ((size - 1) / (out - 1))
    else:
        src = np.maximum((i + 0.5) * (size / out) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), size - 1)
    step = (lo < size - 1).astype(np.int64)
    lam = src - lo
    m = np.zeros((out, size))
    rows = np.arange(out)
    np.add.at(m, (rows, lo), 1.0 - lam)
    np.add.at(m, (rows, lo + step), lam)
    return m


def _bilinear_matrices(data_shape, like_shape, attrs):
    _check_4d(_BR, "data", data_shape)
    oh, ow = _bilinear_out_size(data_shape[2:], like_shape, attrs.get("height", 1), attrs.get("width", 1),
                                attrs.get("scale_height"), attrs.get("scale_width"),
                                attrs.get("mode", "size"))
    ac = _truthy(attrs.get("align_corners", True))
    return _bilinear_matrix(data_shape[2], oh, ac), _bilinear_matrix(data_shape[3], ow, ac)


@register(_BR, inputs=_bilinear_inputs)
def _bilinear_resize(xp, data, like=None, *, height=1, width=1, scale_height=None, scale_width=None,
                     mode="size", align_corners=True):
    """Bilinear resize of ``data`` (N, C, H, W) to (N, C, OH, OW); the output size comes from
    ``height``/``width``, ``scale_height``/``scale_width`` or ``mode`` ('size', 'odd_scale',
    'like' (the size of input ``like``), 'to_even_down', 'to_even_up', 'to_odd_down',
    'to_odd_up'), as MXNet 1.9.1's ``contrib.BilinearResize2D``."""
    attrs = dict(height=height, width=width, scale_height=scale_height, scale_width=scale_width,
                 mode=mode, align_corners=align_corners)
    mh, mw = _bilinear_matrices(data.shape, None if like is None else like.shape, attrs)
    return _apply_separable(xp, data, mh, mw)


@_bilinear_resize.def_grad
def _bilinear_resize_grad(i, o, g, attrs):
    """``Mh^T @ g @ Mw`` for data; zeros for ``like`` (only its shape is read)."""
    like = i[1] if len(i) > 1 else None
    mh, mw = _bilinear_matrices(i[0].shape, None if like is None else like.shape, attrs)
    dx = _separable_grad(g[0], i[0].shape, mh, mw)
    return [dx] if like is None else [dx, G.nd().zeros_like(like)]


# ---------------------------------------------------------------- AdaptiveAvgPooling2D
_AP = "_contrib_AdaptiveAvgPooling2D"


def _adaptive_matrix(size, out):
    """(out, size) averaging matrix: row i averages ``[floor(i*size/out), ceil((i+1)*size/out))``."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    cols = np.arange(size)
    inside = (cols[None, :] >= start[:, None]) & (cols[None, :] < end[:, None])
    return inside / (end - start)[:, None].astype(np.float64)


def _adaptive_matrices(data_shape, output_size):
    _check_4d(_AP, "data", data_shape)
    size = _int_tuple(_AP, "output_size", output_size)
    if len(size) == 0:
        size = (1, 1)
    elif len(size) == 1:
        size = size * 2
    elif len(size) != 2:
        raise ShapeError("%s: attribute output_size=%r must have 1 or 2 values" % (_AP, output_size))
    if min(size) <= 0:
        raise ShapeError("%s: attribute output_size=%s must be positive" % (_AP, size))
    return _adaptive_matrix(data_shape[2], size[0]), _adaptive_matrix(data_shape[3], size[1])


@register(_AP)
def _adaptive_avg_pooling(xp, data, *, output_size=()):
    """Adaptive average pooling of ``data`` (N, C, H, W) to (N, C, OH, OW) (``output_size``:
    one int for a square output, or (OH, OW); empty means 1x1).  Output bin i along an axis of
    length H averages rows ``floor(i*H/OH)`` to ``ceil((i+1)*H/OH) - 1``."""
    mh, mw = _adaptive_matrices(data.shape, output_size)
    return _apply_separable(xp, data, mh, mw)


@_adaptive_avg_pooling.def_grad
def _adaptive_avg_pooling_grad(i, o, g, attrs):
    """``Mh^T @ g @ Mw``: each output gradient spread evenly over its bin."""
    mh, mw = _adaptive_matrices(i[0].shape, attrs.get("output_size", ()))
    return [_separable_grad(g[0], i[0].shape, mh, mw)]
