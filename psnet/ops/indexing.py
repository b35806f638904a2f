"""Indexing operators: ``x[key]``, slices, take, pick, gather/scatter, one_hot, where.

Index arrays may be of any dtype (MXNet passes indices as float32 arrays); they are
converted to integers here.  Out-of-range indices follow each op's ``mode``: 'clip'
(the default, as in MXNet), 'wrap', or 'raise'.  Gradients of the gathering ops are
the matching scatter-add ops, and vice versa, so they are differentiable again.
"""
import math

from ..base import DTypeError, MXIndexError, ShapeError
from ..backend import scatter_add
from .registry import register
from . import _grad_util as G


def _invoke(name, inputs, attrs):
    nd = G.nd()
    return nd.invoke(nd.registry.get(name), inputs, attrs)


def _as_index(xp, index, n, mode, opname):
    """Integer indices into an axis of length ``n`` after applying ``mode``."""
    idx = index if index.dtype.kind in "iu" else index.astype(xp.int64)
    if mode == "clip":  # two ufuncs: xp.clip costs several times more on small index arrays
        return xp.minimum(xp.maximum(idx, 0), n - 1)
    if mode == "wrap":
        return xp.mod(idx, n)
    if mode == "raise":
        if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
            raise MXIndexError("%s: index out of range [%d, %d) (mode='raise')" % (opname, -n, n))
        return xp.mod(idx, n)
    raise MXIndexError("%s: mode must be 'clip', 'wrap' or 'raise', got %r" % (opname, mode))


# ---------------------------------------------------------------- x[key]
def is_first_axis_key(key):
    """Whether ``x[key]`` is a contiguous part of the first axis (MXNet returns a view then)."""
    if isinstance(key, tuple):
        if len(key) != 1:
            return False
        key = key[0]
    return isinstance(key, int) or (isinstance(key, slice) and key.step in (None, 1))


_BASIC = (int, slice, type(None), type(Ellipsis))


def is_basic_key(key):
    """Whether ``x[key]`` is basic indexing (ints, slices, None, Ellipsis: a view in NumPy)."""
    if type(key) is tuple:
        for p in key:
            if type(p) not in _BASIC:
                return False
        return True
    return type(key) in _BASIC


@register("_getitem")
def _getitem(xp, data, key=None):
    """``data[key]`` for basic and advanced keys.  A contiguous part of the first axis is a
    view sharing memory (as in MXNet); every other result is a new array."""
    r = data[key]
    if is_first_axis_key(key) or not is_basic_key(key):
        return r
    return r.copy()


@_getitem.def_grad
def _getitem_grad(i, o, g, a):
    return [_invoke("_scatter_getitem", [g[0]], {"key": a["key"], "shape": i[0].shape})]


@register("_scatter_getitem")
def _scatter_getitem(xp, data, key=None, shape=()):
    """Zeros of ``shape`` with ``data`` added at ``key`` (the gradient of indexing)."""
    out = xp.zeros(shape, dtype=data.dtype)
    target_shape = out[key].shape
    if is_basic_key(key):
        out[key] = data.reshape(target_shape)
    else:
        scatter_add(xp, out, key, data.reshape(target_shape))
    return out


@_scatter_getitem.def_grad
def _scatter_getitem_grad(i, o, g, a):
    return [_invoke("_getitem", [g[0]], {"key": a["key"]}).reshape(i[0].shape)]


def _slice_key(ndim, begin, end, step):
    step = tuple(step) if step else (None,) * len(begin)
    if len(begin) != len(end) or len(step) != len(begin) or len(begin) > ndim:
        raise ShapeError("slice: begin %s, end %s and step %s must have the same length, at most %d"
                         % (tuple(begin), tuple(end), step, ndim))
    return tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))


def _slice_grad(i, o, g, a, key):
    return [_invoke("_scatter_getitem", [g[0]], {"key": key, "shape": i[0].shape})] + [None] * (len(i) - 1)


@register("slice", aliases=("crop",))
def slice_(xp, data, begin=(), end=(), step=()):
    """``data[begin:end:step]`` per axis (None means the whole axis), as a new array."""
    return data[_slice_key(data.ndim, begin, end, step)].copy()


@slice_.def_grad
def _slice_op_grad(i, o, g, a):
    return _slice_grad(i, o, g, a, _slice_key(i[0].ndim, a["begin"], a["end"], a["step"]))


def _axis_key(ndim, axis, begin, end):
    return (slice(None),) * (axis % ndim) + (slice(begin, end),)


@register("slice_axis")
def slice_axis(xp, data, axis=0, begin=0, end=None):
    """``data[..., begin:end, ...]`` along one ``axis``, as a new array."""
    return data[_axis_key(data.ndim, axis, begin, end)].copy()


@slice_axis.def_grad
def _slice_axis_grad(i, o, g, a):
    return _slice_grad(i, o, g, a, _axis_key(i[0].ndim, a["axis"], a["begin"], a["end"]))


def _like_key(data, shape_like, axes):
    axes = range(min(data.ndim, len(shape_like.shape))) if not axes else [ax % data.ndim for ax in axes]
    key = [slice(None)] * data.ndim
    for ax in axes:
        key[ax] = slice(0, shape_like.shape[ax])
    return tuple(key)


@register("slice_like")
def slice_like(xp, data, shape_like, axes=()):
    """The leading part of ``data`` with the shape of ``shape_like`` (on ``axes`` only when given)."""
    return data[_like_key(data, shape_like, axes)].copy()


@slice_like.def_grad
def _slice_like_grad(i, o, g, a):
    return _slice_grad(i, o, g, a, _like_key(i[0], i[1], a["axes"]))


# ---------------------------------------------------------------- take / pick
@register("take")
def take(xp, a, indices, axis=0, mode="clip"):
    """Elements of ``a`` at ``indices`` along ``axis``; output shape
    a.shape[:axis] + indices.shape + a.shape[axis+1:]."""
    axis %= a.ndim
    return xp.take(a, _as_index(xp, indices, a.shape[axis], mode, "take"), axis=axis)


@take.def_grad
def _take_grad(i, o, g, a):
    return [_invoke("_take_adjoint", [g[0], i[1]], {"axis": a["axis"], "mode": a["mode"], "shape": i[0].shape}),
            None]


@register("_take_adjoint")
def _take_adjoint(xp, data, indices, axis=0, mode="clip", shape=()):
    """Zeros of ``shape`` with ``data`` added at ``indices`` along ``axis`` (take's gradient)."""
    axis %= len(shape)
    out = xp.zeros(shape, dtype=data.dtype)
    scatter_add(xp, out, (slice(None),) * axis + (_as_index(xp, indices, shape[axis], mode, "take"),), data)
    return out


@_take_adjoint.def_grad
def _take_adjoint_grad(i, o, g, a):
    return [G.nd().take(g[0], i[1], axis=a["axis"], mode=a["mode"]), None]


@register("batch_take")
def batch_take(xp, a, indices):
    """``a[i, indices[i]]`` for every row i of a 2-d ``a``."""
    idx = _as_index(xp, indices, a.shape[1], "clip", "batch_take")
    return xp.take_along_axis(a, idx.reshape(-1, 1), axis=1).reshape(-1)


@batch_take.def_grad
def _batch_take_grad(i, o, g, a):
    return [_invoke("_put_along_axis", [g[0].reshape((-1, 1)), i[1].reshape((-1, 1))],
                    {"axis": 1, "mode": "clip", "shape": i[0].shape}), None]


@register("pick", aliases=("choose_element_0index",))
def pick(xp, data, index, axis=-1, keepdims=False, mode="clip"):
    """``data[..., index, ...]`` along ``axis`` with one index per position of the other axes."""
    if axis is None:
        data, axis = data.reshape(-1), 0
    axis %= data.ndim
    if index.ndim == data.ndim:  # MXNet also takes the index with the picked axis kept (size 1)
        index = index.reshape(index.shape[:axis] + index.shape[axis + 1:])
    idx = _as_index(xp, index, data.shape[axis], mode, "pick")
    idx = idx.reshape(idx.shape[:axis] + (1,) + idx.shape[axis:])
    r = xp.take_along_axis(data, idx, axis=axis)
    return r if keepdims else r.squeeze(axis)


@pick.def_grad
def _pick_grad(i, o, g, a):
    nd, x, axis = G.nd(), i[0], a["axis"]
    shape = x.shape if axis is not None else (x.size,)
    axis = 0 if axis is None else axis % x.ndim
    og = g[0] if a["keepdims"] else nd.expand_dims(g[0], axis=axis)
    idx = nd.expand_dims(i[1].reshape(og.shape[:axis] + og.shape[axis + 1:]), axis=axis)
    return [_invoke("_put_along_axis", [og, idx], {"axis": axis, "mode": a["mode"], "shape": shape})
            .reshape(x.shape), None]


@register("_take_along_axis")
def _take_along_axis(xp, data, index, axis=0, mode="clip"):
    """``data`` gathered at ``index`` (same ndim) along ``axis``."""
    return xp.take_along_axis(data, _as_index(xp, index, data.shape[axis], mode, "pick"), axis=axis)


@_take_along_axis.def_grad
def _take_along_axis_grad(i, o, g, a):
    return [_invoke("_put_along_axis", [g[0], i[1]], {"axis": a["axis"], "mode": a["mode"],
                                                       "shape": i[0].shape}), None]


@register("_put_along_axis")
def _put_along_axis(xp, data, index, axis=0, mode="clip", shape=()):
    """Zeros of ``shape`` with ``data`` written at ``index`` along ``axis`` (the gradient of
    pick, sort and topk; indices do not repeat along the axis)."""
    out = xp.zeros(shape, dtype=data.dtype)
    xp.put_along_axis(out, _as_index(xp, index, shape[axis], mode, "pick"), data, axis=axis)
    return out


@_put_along_axis.def_grad
def _put_along_axis_grad(i, o, g, a):
    return [_invoke("_take_along_axis", [g[0], i[1]], {"axis": a["axis"], "mode": a["mode"]}), None]


# ---------------------------------------------------------------- gather_nd / scatter_nd
def _nd_key(xp, data_ndim, indices):
    idx = indices if indices.dtype.kind in "iu" else indices.astype(xp.int64)
    if idx.shape[0] > data_ndim:
        raise ShapeError("gather_nd: indices of shape %s address %d axes but data has %d"
                         % (indices.shape, idx.shape[0], data_ndim))
    return tuple(idx[k] for k in range(idx.shape[0]))


@register("gather_nd")
def gather_nd(xp, data, indices):
    """``data[indices[0], indices[1], ...]``: indices of shape (M, ...) address the first M axes."""
    return data[_nd_key(xp, data.ndim, indices)]


@gather_nd.def_grad
def _gather_nd_grad(i, o, g, a):
    return [_invoke("_backward_gather_nd", [g[0], i[1]], {"shape": i[0].shape}), None]


@register("_backward_gather_nd")
def _backward_gather_nd(xp, data, indices, shape=()):
    """Zeros of ``shape`` with ``data`` added at ``indices`` (repeated indices accumulate)."""
    out = xp.zeros(tuple(shape), dtype=data.dtype)
    scatter_add(xp, out, _nd_key(xp, len(shape), indices), data)
    return out


@_backward_gather_nd.def_grad
def _backward_gather_nd_grad(i, o, g, a):
    return [G.nd().gather_nd(g[0], i[1]), None]


@register("scatter_nd")
def scatter_nd(xp, data, indices, shape=()):
    """Zeros of ``shape`` with ``data`` written at ``indices`` (the inverse of gather_nd)."""
    out = xp.zeros(tuple(shape), dtype=data.dtype)
    out[_nd_key(xp, len(shape), indices)] = data
    return out


@scatter_nd.def_grad
def _scatter_nd_grad(i, o, g, a):
    return [G.nd().gather_nd(g[0], i[1]), None]


@register("ravel_multi_index", aliases=("_ravel_multi_index",))
def ravel_multi_index(xp, data, shape=()):
    """Flat indices into ``shape`` of the index columns of ``data`` (shape (ndim, N))."""
    idx = data if data.dtype.kind in "iu" else data.astype(xp.int64)
    strides = xp.asarray([math.prod(shape[k + 1:]) for k in range(len(shape))], dtype=xp.int64)
    return (strides.reshape((-1,) + (1,) * (idx.ndim - 1)) * idx).sum(axis=0).astype(data.dtype)


@register("unravel_index", aliases=("_unravel_index",))
def unravel_index(xp, data, shape=()):
    """Index columns (shape (ndim, N)) of the flat indices ``data`` into ``shape``."""
    idx = data if data.dtype.kind in "iu" else data.astype(xp.int64)
    strides = xp.asarray([math.prod(shape[k + 1:]) for k in range(len(shape))], dtype=xp.int64)
    dims = xp.asarray(shape, dtype=xp.int64)
    column = (-1,) + (1,) * idx.ndim
    grid = (xp.expand_dims(idx, 0) // strides.reshape(column)) % dims.reshape(column)
    return grid.astype(data.dtype)


# ---------------------------------------------------------------- one_hot / where
@register("one_hot")
def one_hot(xp, indices, depth=0, on_value=1.0, off_value=0.0, dtype="float32"):
    """One-hot rows of length ``depth`` (out-of-range indices give rows of ``off_value``)."""
    idx = indices if indices.dtype.kind in "iu" else indices.astype(xp.int64)
    hot = xp.expand_dims(idx, -1) == xp.arange(depth)
    return xp.where(hot, on_value, off_value).astype(dtype)


def _row_indices(xp, index, rows, op):
    """``index`` (one per row of a 2-d array) as int64 positions, checked in shape."""
    if index.shape != (rows,):
        raise ShapeError("%s: needs one index per row (shape (%d,)), got shape %s" % (op, rows, tuple(index.shape)))
    return index.astype(xp.int64)


@register("onehot_encode")
def onehot_encode(xp, lhs, rhs):
    """MXNet's legacy one-hot: rows of ``rhs``'s shape and dtype with a 1 at column
    ``lhs[i]`` (truncated to an integer).  ``mx.nd.onehot_encode(indices, out)`` writes
    the result into ``out``; ``one_hot`` is the current op."""
    if rhs.ndim != 2:
        raise ShapeError("onehot_encode: the output must be 2-d, got shape %s" % (tuple(rhs.shape),))
    cols = _row_indices(xp, lhs, rhs.shape[0], "onehot_encode")
    out = xp.zeros(rhs.shape, dtype=rhs.dtype)
    out[xp.arange(rhs.shape[0]), cols] = 1
    return out


@register("fill_element_0index")
def fill_element_0index(xp, lhs, mhs, rhs):
    """A copy of the 2-d ``lhs`` with ``lhs[i, rhs[i]] = mhs[i]`` in every row ``i`` (0-based
    column indices ``rhs``, values ``mhs``)."""
    if lhs.ndim != 2:
        raise ShapeError("fill_element_0index: lhs must be 2-d, got shape %s" % (tuple(lhs.shape),))
    cols = _row_indices(xp, rhs, lhs.shape[0], "fill_element_0index")
    if mhs.shape != (lhs.shape[0],):
        raise ShapeError("fill_element_0index: needs one value per row (shape (%d,)), got shape %s"
                         % (lhs.shape[0], tuple(mhs.shape)))
    out = lhs.copy()
    out[xp.arange(lhs.shape[0]), cols] = mhs.astype(lhs.dtype)
    return out


@register("where")
def where(xp, condition, x, y):
    """``x`` where ``condition`` is non-zero, else ``y``; a 1-d condition selects whole rows."""
    if x.shape != y.shape:
        raise ShapeError("where: x and y need the same shape, got %s and %s" % (x.shape, y.shape))
    if x.dtype != y.dtype:
        raise DTypeError("where: x and y need the same dtype, got %s and %s" % (x.dtype, y.dtype))
    cond = condition
    if cond.shape != x.shape:
        if cond.ndim != 1 or cond.shape[0] != x.shape[0]:
            raise ShapeError("where: condition of shape %s must have the shape of x %s or be 1-d of "
                             "length %d" % (cond.shape, x.shape, x.shape[0]))
        cond = cond.reshape((-1,) + (1,) * (x.ndim - 1))
    return xp.where(cond != 0, x, y)


@where.def_grad
def _where_grad(i, o, g, a):
    nd = G.nd()
    zero = nd.zeros_like(g[0])
    return [None, nd.where(i[0], g[0], zero), nd.where(i[0], zero, g[0])]
