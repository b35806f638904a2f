"""Sorting and searching: sort, argsort, topk.

``sort`` and ``topk`` return the permutation as a hidden output, which their gradients
use to put the output gradient back where each value came from.
"""
from ..base import MXNetError
from .registry import register
from . import _grad_util as G


def _argsort(xp, data, axis, is_ascend):
    """Indices sorting ``data`` along ``axis``, ascending or descending (stable: CuPy's sort
    always is, NumPy's is asked to be)."""
    kw = {"kind": "stable"} if xp.__name__ == "numpy" else {}
    if is_ascend:
        return xp.argsort(data, axis=axis, **kw)
    if data.dtype.kind in "ub":
        return xp.flip(xp.argsort(data, axis=axis, **kw), axis=axis)
    return xp.argsort(-data, axis=axis, **kw)


def _flat(data, axis):
    return (data.reshape(-1), 0) if axis is None else (data, axis % data.ndim)


def _put_back(g, idx, x, axis):
    """``g`` scattered to the positions ``idx`` it was gathered from (shape of ``x``)."""
    nd = G.nd()
    shape = (x.size,) if axis is None else x.shape
    r = nd.invoke(nd.registry.get("_put_along_axis"), [g, idx],
                  {"axis": 0 if axis is None else axis % x.ndim, "mode": "clip", "shape": shape})
    return r.reshape(x.shape)


@register("sort", num_outputs=2, num_visible_outputs=1)
def sort(xp, data, axis=-1, is_ascend=True):
    """Values sorted along ``axis`` (of the flattened array when None)."""
    data, axis = _flat(data, axis)
    idx = _argsort(xp, data, axis, is_ascend)
    return xp.take_along_axis(data, idx, axis=axis), idx


@sort.def_grad
def _sort_grad(i, o, g, a):
    return [_put_back(g[0], o[1], i[0], a["axis"])]


@register("argsort")
def argsort(xp, data, axis=-1, is_ascend=True, dtype="float32"):
    """Indices that sort ``data`` along ``axis``, as ``dtype`` (float32 by default, as in MXNet)."""
    data, axis = _flat(data, axis)
    return _argsort(xp, data, axis, is_ascend).astype(dtype)


_TOPK_KINDS = ("value", "indices", "mask", "both")


def _topk_outputs(attrs):
    return 2 if attrs.get("ret_typ", "indices") in ("value", "both") else 1


def _topk_visible(attrs):
    return 2 if attrs.get("ret_typ", "indices") == "both" else 1


@register("topk", num_outputs=_topk_outputs, num_visible_outputs=_topk_visible)
def topk(xp, data, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
    """The ``k`` largest (smallest with ``is_ascend``) entries along ``axis``: their
    'indices' (as ``dtype``), 'value', 'both', or a 0/1 'mask' of the input's shape."""
    if ret_typ not in _TOPK_KINDS:
        raise MXNetError("topk: ret_typ must be one of %s, got %r" % (", ".join(_TOPK_KINDS), ret_typ))
    src = data
    data, axis = _flat(data, axis)
    n = data.shape[axis]
    if k < 1 or k > n:
        raise MXNetError("topk: k=%d is out of range for an axis of length %d" % (k, n))
    idx = xp.take(_argsort(xp, data, axis, is_ascend), xp.arange(k), axis=axis)
    if ret_typ == "indices":
        return idx.astype(dtype)
    if ret_typ == "mask":
        mask = xp.zeros(data.shape, dtype=data.dtype)
        xp.put_along_axis(mask, idx, 1, axis=axis)
        return mask.reshape(src.shape)
    values = xp.take_along_axis(data, idx, axis=axis)
    if ret_typ == "both":
        return values, idx.astype(dtype)
    return values, idx


@topk.def_grad
def _topk_grad(i, o, g, a):
    if a["ret_typ"] not in ("value", "both"):
        return [G.nd().zeros_like(i[0])]
    return [_put_back(g[0], o[1], i[0], a["axis"])]
