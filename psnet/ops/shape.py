"""Shape operators: reshape (with MXNet's special codes), transposes, broadcasting,
joining and splitting, tiling, flipping and padding."""
import math

import numpy as np

from ..base import MXNetError, ShapeError
from ..backend import scatter_add
from .registry import register
from . import _grad_util as G


def infer_reshape(src, shape, reverse=False):
    """The target shape of MXNet's ``reshape(shape)`` on an array of shape ``src``.

    Codes: 0 copies a dimension, -1 infers one, -2 copies all remaining dimensions, -3
    merges two consecutive dimensions, -4 splits one into the next two values (one may
    be -1).  ``reverse`` matches codes from the right.  Raises ShapeError naming both.
    """
    orig = tuple(src)
    src, req = list(src), list(shape)
    if reverse:  # MXNet simply matches both lists from the right
        src, req = src[::-1], req[::-1]
    out, i, j, infer_at = [], 0, 0, None
    try:
        while j < len(req):
            c = req[j]
            if c == 0:
                out.append(src[i]); i += 1
            elif c == -1:
                if infer_at is not None:
                    raise ShapeError("cannot reshape array of shape %s into %s: more than one -1"
                                     % (orig, tuple(shape)))
                infer_at = len(out); out.append(1); i += 1
            elif c == -2:
                out.extend(src[i:]); i = len(src)
            elif c == -3:
                out.append(src[i] * src[i + 1]); i += 2
            elif c == -4:
                a, b = req[j + 1], req[j + 2]
                d = src[i]
                if a == -1:
                    a = d // b
                if b == -1:
                    b = d // a
                if a * b != d:
                    raise ShapeError("cannot reshape array of shape %s into %s: dimension %d cannot be "
                                     "split into (%d, %d)" % (orig, tuple(shape), d, a, b))
                out += [a, b]; i += 1; j += 2
            elif c > 0:
                out.append(c); i += 1
            else:
                raise ShapeError("cannot reshape array of shape %s into %s: invalid code %d"
                                 % (orig, tuple(shape), c))
            j += 1
    except IndexError:
        raise ShapeError("cannot reshape array of shape %s into %s: the codes use more input "
                         "dimensions than there are" % (orig, tuple(shape))) from None
    total = 1
    for d in src:
        total *= d
    if infer_at is not None:
        known = 1
        for k, d in enumerate(out):
            if k != infer_at:
                known *= d
        if known == 0 or total % known:
            raise ShapeError("cannot reshape array of shape %s into %s" % (orig, tuple(shape)))
        out[infer_at] = total // known
    size = 1
    for d in out:
        size *= d
    if size != total:
        raise ShapeError("cannot reshape array of shape %s into %s (%d elements vs %d)"
                         % (orig, tuple(shape), total, size))
    return tuple(out[::-1] if reverse else out)


@register("Reshape", aliases=("reshape",))
def reshape(xp, data, shape=(), reverse=False):
    """Reshape with MXNet's special codes (0, -1, -2, -3, -4) and ``reverse``.  Like every
    operator the result is a new array; only the method ``NDArray.reshape`` shares memory."""
    return data.reshape(infer_reshape(data.shape, shape, reverse)).copy()


@reshape.def_grad
def _reshape_grad(i, o, g, a):
    return [g[0].reshape(i[0].shape)]


@register("transpose")
def transpose(xp, data, axes=()):
    """Permute the axes (reversed when ``axes`` is empty); the result is a new array."""
    axes = tuple(axes) if axes else None
    if axes is not None and sorted(a % data.ndim for a in axes) != list(range(data.ndim)):
        raise ShapeError("transpose: axes %s are not a permutation of the %d axes of shape %s"
                         % (axes, data.ndim, data.shape))
    return xp.transpose(data, axes).copy()


@transpose.def_grad
def _transpose_grad(i, o, g, a):
    axes = a["axes"]
    if not axes:
        return [G.nd().transpose(g[0])]
    inv = [0] * len(axes)
    for k, ax in enumerate(axes):
        inv[ax % len(axes)] = k
    return [G.nd().transpose(g[0], axes=tuple(inv))]




def _reshape_back(i, o, g, a):
    """Gradient of every op that only changes the shape of its first input."""
    return [g[0].reshape(i[0].shape)] + [None] * (len(i) - 1)


@register("reshape_like")
def reshape_like(xp, lhs, rhs, lhs_begin=None, lhs_end=None, rhs_begin=None, rhs_end=None):
    """Reshape ``lhs`` so that dims [lhs_begin, lhs_end) take the shape of rhs's dims
    [rhs_begin, rhs_end) (the whole shapes by default)."""
    lb, le = _span(lhs.ndim, lhs_begin, lhs_end)
    rb, re_ = _span(rhs.ndim, rhs_begin, rhs_end)
    shape = lhs.shape[:lb] + rhs.shape[rb:re_] + lhs.shape[le:]
    if math.prod(shape) != lhs.size:
        raise ShapeError("reshape_like: cannot reshape lhs of shape %s to %s (from rhs of shape %s)"
                         % (lhs.shape, shape, rhs.shape))
    return lhs.reshape(shape).copy()


reshape_like.def_grad(_reshape_back)


def _span(ndim, begin, end):
    b = 0 if begin is None else begin % ndim
    e = ndim if end is None else (end % ndim if end < 0 else end)
    return b, e


@register("expand_dims")
def expand_dims(xp, data, axis=0):
    """Insert a dimension of size 1 at ``axis``."""
    if not -data.ndim - 1 <= axis <= data.ndim:
        raise ShapeError("expand_dims: axis %d is out of range for shape %s" % (axis, data.shape))
    return xp.expand_dims(data, axis).copy()


expand_dims.def_grad(_reshape_back)


@register("squeeze")
def squeeze(xp, data, axis=None):
    """Remove dimensions of size 1 (only those in ``axis`` when given); never below shape (1,)."""
    if axis is not None:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        for ax in axes:
            if data.shape[ax] != 1:
                raise ShapeError("squeeze: axis %d of shape %s has size %d, not 1" % (ax, data.shape, data.shape[ax]))
        return xp.squeeze(data, axis=axes).copy()
    return xp.squeeze(data).copy()


squeeze.def_grad(_reshape_back)


@register("Flatten", aliases=("flatten",))
def flatten(xp, data):
    """Collapse every axis after the first: shape (d0, d1*d2*...)."""
    return (data.reshape(data.shape[0], -1) if data.ndim != 1 else data.reshape(-1, 1)).copy()


flatten.def_grad(_reshape_back)


@register("SwapAxis", aliases=("swapaxes",))
def swapaxes(xp, data, dim1=0, dim2=0):
    """Exchange axes ``dim1`` and ``dim2``; the result is a new array."""
    return xp.swapaxes(data, dim1, dim2).copy()


@swapaxes.def_grad
def _swapaxes_grad(i, o, g, a):
    return [G.nd().swapaxes(g[0], dim1=a["dim1"], dim2=a["dim2"])]


@register("moveaxis")
def moveaxis(xp, tensor, source=0, destination=0):
    """Move axis ``source`` to position ``destination``."""
    return xp.moveaxis(tensor, source, destination).copy()


@moveaxis.def_grad
def _moveaxis_grad(i, o, g, a):
    return [G.nd().moveaxis(g[0], source=a["destination"], destination=a["source"])]


# ---------------------------------------------------------------- broadcasting
def _broadcast(xp, data, shape, opname):
    try:
        return xp.broadcast_to(data, shape).copy()
    except ValueError:
        raise ShapeError("%s: cannot broadcast shape %s to %s" % (opname, data.shape, shape)) from None


def _unbroadcast_first(i, o, g, a):
    return [G.unbroadcast(g[0], i[0].shape)] + [None] * (len(i) - 1)


@register("broadcast_to")
def broadcast_to(xp, data, shape=()):
    """Broadcast to ``shape``; a 0 in ``shape`` keeps the input's dimension."""
    shape = tuple(shape)
    if len(shape) == data.ndim:
        shape = tuple(s if s != 0 else d for s, d in zip(shape, data.shape))
    return _broadcast(xp, data, shape, "broadcast_to")


broadcast_to.def_grad(_unbroadcast_first)


@register("broadcast_axes", aliases=("broadcast_axis",))
def broadcast_axes(xp, data, axis=(), size=()):
    """Broadcast the size-1 dimensions ``axis`` to the sizes ``size``."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    sizes = (size,) if isinstance(size, int) else tuple(size)
    if len(axes) != len(sizes):
        raise ShapeError("broadcast_axes: %d axes but %d sizes" % (len(axes), len(sizes)))
    shape = list(data.shape)
    for ax, n in zip(axes, sizes):
        if shape[ax] != 1:
            raise ShapeError("broadcast_axes: axis %d of shape %s has size %d, not 1" % (ax, data.shape, shape[ax]))
        shape[ax] = n
    return _broadcast(xp, data, tuple(shape), "broadcast_axes")


broadcast_axes.def_grad(_unbroadcast_first)


@register("broadcast_like")
def broadcast_like(xp, lhs, rhs, lhs_axes=None, rhs_axes=None):
    """Broadcast ``lhs`` to the shape of ``rhs`` (or only its ``lhs_axes`` to rhs's ``rhs_axes``)."""
    if lhs_axes is None:
        shape = rhs.shape
    else:
        shape = list(lhs.shape)
        for la, ra in zip(lhs_axes, rhs_axes):
            shape[la] = rhs.shape[ra]
        shape = tuple(shape)
    return _broadcast(xp, lhs, shape, "broadcast_like")


broadcast_like.def_grad(_unbroadcast_first)


@register("_sum_to_shape")
def _sum_to_shape(xp, data, shape=()):
    """Sum ``data`` down to the broadcast-compatible ``shape`` (the gradient of broadcasting)."""
    shape = tuple(shape)
    lead = data.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + k for k, d in enumerate(shape) if d == 1 and data.shape[lead + k] != 1)
    r = data.sum(axis=axes, keepdims=True) if axes else data
    return r.reshape(shape)


@_sum_to_shape.def_grad
def _sum_to_shape_grad(i, o, g, a):
    return [G.nd().broadcast_to(g[0], shape=i[0].shape)]


# ---------------------------------------------------------------- joining and splitting
@register("Concat", aliases=("concat",))
def concat(xp, *data, dim=1, num_args=0):
    """Join arrays along axis ``dim``."""
    if not data:
        raise MXNetError("concat needs at least one array")
    try:
        return xp.concatenate(data, axis=dim)
    except ValueError:
        raise ShapeError("concat: cannot join shapes %s along axis %d"
                         % (", ".join(str(d.shape) for d in data), dim)) from None


@concat.def_grad
def _concat_grad(i, o, g, a):
    nd, dim, off, grads = G.nd(), a["dim"], 0, []
    for x in i:
        n = x.shape[dim]
        grads.append(nd.slice_axis(g[0], axis=dim, begin=off, end=off + n))
        off += n
    return grads


@register("stack")
def stack(xp, *data, axis=0, num_args=0):
    """Join arrays of one shape along a new axis ``axis``."""
    if not data:
        raise MXNetError("stack needs at least one array")
    if any(d.shape != data[0].shape for d in data):
        raise ShapeError("stack: all arrays need the same shape, got %s" % ", ".join(str(d.shape) for d in data))
    return xp.stack(data, axis=axis)


@stack.def_grad
def _stack_grad(i, o, g, a):
    parts = G.nd().split(g[0], num_outputs=len(i), axis=a["axis"], squeeze_axis=True)
    return parts if isinstance(parts, list) else [parts]


def _split_count(attrs):
    return int(attrs.get("num_outputs", 1))


@register("SliceChannel", aliases=("split",), num_outputs=_split_count)
def split(xp, data, num_outputs=1, axis=1, squeeze_axis=False):
    """Split into ``num_outputs`` equal parts along ``axis`` (dropping the axis with
    ``squeeze_axis`` when each part has size 1 there)."""
    n = data.shape[axis]
    if num_outputs < 1 or n % num_outputs:
        raise ShapeError("split: axis %d of shape %s (size %d) cannot be split into %d equal parts"
                         % (axis, data.shape, n, num_outputs))
    parts = xp.split(data, num_outputs, axis=axis)
    if squeeze_axis:
        if n != num_outputs:
            raise ShapeError("split: squeeze_axis needs parts of size 1, but shape %s splits into %d parts"
                             " of size %d" % (data.shape, num_outputs, n // num_outputs))
        parts = [p.squeeze(axis) for p in parts]
    return tuple(p.copy() for p in parts)


@split.def_grad
def _split_grad(i, o, g, a):
    nd = G.nd()
    parts = [nd.expand_dims(x, axis=a["axis"]) for x in g] if a["squeeze_axis"] else list(g)
    return [nd.concat(*parts, dim=a["axis"])]


def _split_v2_count(attrs):
    sections = attrs.get("indices_or_sections", 1)
    return sections if isinstance(sections, int) else len(sections) + 1


@register("split_v2", aliases=("_split_v2",), num_outputs=_split_v2_count)
def split_v2(xp, ary, indices_or_sections=1, axis=0, squeeze_axis=False):
    """Split into equal sections (an int) or at the given indices (a tuple) along ``axis``."""
    sections = indices_or_sections if isinstance(indices_or_sections, int) else list(indices_or_sections)
    try:
        parts = xp.split(ary, sections, axis=axis)
    except ValueError:
        raise ShapeError("split_v2: axis %d of shape %s cannot be split into %s"
                         % (axis, ary.shape, indices_or_sections)) from None
    if squeeze_axis:
        if any(p.shape[axis] != 1 for p in parts):
            raise ShapeError("split_v2: squeeze_axis needs parts of size 1 along axis %d of shape %s"
                             % (axis, ary.shape))
        parts = [p.squeeze(axis) for p in parts]
    return tuple(p.copy() for p in parts)


split_v2.def_grad(_split_grad)


# ---------------------------------------------------------------- tiling, repeating, flipping
@register("tile")
def tile(xp, data, reps=()):
    """Repeat the whole array ``reps`` times along each axis (NumPy's tile)."""
    return xp.tile(data, tuple(reps))


@tile.def_grad
def _tile_grad(i, o, g, a):
    x, reps = i[0], tuple(a["reps"])
    nd_ = max(len(reps), x.ndim)
    reps = (1,) * (nd_ - len(reps)) + reps
    shape = (1,) * (nd_ - x.ndim) + x.shape
    inter = []
    for r, s in zip(reps, shape):
        inter += [r, s]
    summed = g[0].reshape(tuple(inter)).sum(axis=tuple(range(0, 2 * nd_, 2)))
    return [summed.reshape(x.shape)]


@register("repeat")
def repeat(xp, data, repeats=1, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (the flattened array when None)."""
    return xp.repeat(data, repeats, axis=axis)


@repeat.def_grad
def _repeat_grad(i, o, g, a):
    x, r, axis = i[0], a["repeats"], a["axis"]
    if axis is None:
        return [g[0].reshape((-1, r)).sum(axis=1).reshape(x.shape)]
    axis %= x.ndim
    split_shape = x.shape[:axis] + (x.shape[axis], r) + x.shape[axis + 1:]
    return [g[0].reshape(split_shape).sum(axis=axis + 1)]


@register("flip", aliases=("reverse",))
def flip(xp, data, axis=()):
    """Reverse the order of elements along ``axis`` (an int or a tuple)."""
    return xp.flip(data, axis=axis).copy()


@flip.def_grad
def _flip_grad(i, o, g, a):
    return [G.nd().flip(g[0], axis=a["axis"])]


# ---------------------------------------------------------------- padding
def _pad_pairs(ndim, pad_width, opname="pad"):
    pw = tuple(pad_width)
    if len(pw) != 2 * ndim:
        raise ShapeError("%s: pad_width needs 2 values per axis (%d for %d axes), got %s"
                         % (opname, 2 * ndim, ndim, pw))
    return [(pw[2 * k], pw[2 * k + 1]) for k in range(ndim)]


@register("Pad", aliases=("pad",))
def pad(xp, data, mode="constant", pad_width=(), constant_value=0.0):
    """Pad with ``mode`` 'constant' (``constant_value``), 'edge' or 'reflect';
    ``pad_width`` holds (before, after) for every axis."""
    pairs = _pad_pairs(data.ndim, pad_width)
    if mode == "constant":
        return xp.pad(data, pairs, mode="constant", constant_values=data.dtype.type(constant_value))
    if mode not in ("edge", "reflect"):
        raise MXNetError("pad: mode must be 'constant', 'edge' or 'reflect', got %r" % (mode,))
    return xp.pad(data, pairs, mode=mode)


@pad.def_grad
def _pad_grad(i, o, g, a):
    return [G.nd().invoke(G.nd().registry.get("_pad_adjoint"), [g[0]],
                          {"mode": a["mode"], "pad_width": tuple(a["pad_width"])})]


@register("_pad_adjoint")
def _pad_adjoint(xp, data, mode="constant", pad_width=()):
    """The adjoint of ``pad``: every padded value is added back onto the element it copies."""
    pairs = _pad_pairs(data.ndim, pad_width, "_pad_adjoint")
    if mode == "constant":  # the padding is constant: the gradient is the interior
        return data[tuple(slice(b, data.shape[ax] - a) for ax, (b, a) in enumerate(pairs))].copy()
    out = data
    for ax, (before, after) in enumerate(pairs):
        n = out.shape[ax] - before - after
        src = xp.asarray(np.pad(np.arange(n), (before, after), mode=mode))
        acc = xp.zeros(out.shape[:ax] + (n,) + out.shape[ax + 1:], dtype=out.dtype)
        scatter_add(xp, acc, (slice(None),) * ax + (src,), out)
        out = acc
    return out if out is not data else data.copy()


@_pad_adjoint.def_grad
def _pad_adjoint_grad(i, o, g, a):
    return [G.nd().pad(g[0], mode=a["mode"], pad_width=a["pad_width"])]


# ---------------------------------------------------------------- depth <-> space
@register("depth_to_space")
def depth_to_space(xp, data, block_size=1):
    """Move blocks of channels into spatial blocks: (N, C, H, W) -> (N, C/b^2, H*b, W*b)."""
    n, c, h, w = data.shape
    b = block_size
    if c % (b * b):
        raise ShapeError("depth_to_space: %d channels are not divisible by block_size^2 = %d" % (c, b * b))
    x = data.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    return x.reshape(n, c // (b * b), h * b, w * b)


@depth_to_space.def_grad
def _depth_to_space_grad(i, o, g, a):
    return [G.nd().space_to_depth(g[0], block_size=a["block_size"])]


@register("space_to_depth")
def space_to_depth(xp, data, block_size=1):
    """Move spatial blocks into channels: (N, C, H, W) -> (N, C*b^2, H/b, W/b)."""
    n, c, h, w = data.shape
    b = block_size
    if h % b or w % b:
        raise ShapeError("space_to_depth: spatial shape %s is not divisible by block_size %d" % ((h, w), b))
    x = data.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
    return x.reshape(n, c * b * b, h // b, w // b)


@space_to_depth.def_grad
def _space_to_depth_grad(i, o, g, a):
    return [G.nd().depth_to_space(g[0], block_size=a["block_size"])]
