"""Shape operators: reshape (with MXNet's special codes), transpose, broadcasting, indexing."""
from ..base import ShapeError
from .registry import register
from . import _grad_util as G


def infer_reshape(src, shape, reverse=False):
    """The target shape of MXNet's ``reshape(shape)`` on an array of shape ``src``.

    Codes: 0 copies a dimension, -1 infers one, -2 copies all remaining dimensions, -3
    merges two consecutive dimensions, -4 splits one into the next two values (one may
    be -1).  ``reverse`` matches codes from the right.  Raises ShapeError naming both.
    """
    src, req = list(src), list(shape)
    if reverse:
        src, req = src[::-1], req[::-1]
        # -4 takes its two following values; reversed, they precede it
        fixed, i = [], 0
        while i < len(req):
            if i + 2 < len(req) and req[i + 2] == -4:
                fixed += [-4, req[i + 1], req[i]]
                i += 3
            else:
                fixed.append(req[i])
                i += 1
        req = fixed
    out, i, j, infer_at = [], 0, 0, None
    try:
        while j < len(req):
            c = req[j]
            if c == 0:
                out.append(src[i]); i += 1
            elif c == -1:
                if infer_at is not None:
                    raise ShapeError("reshape: more than one -1 in %s" % (tuple(shape),))
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
                    raise ShapeError("reshape: cannot split dimension %d into (%d, %d)" % (d, a, b))
                out += [a, b]; i += 1; j += 2
            elif c > 0:
                out.append(c); i += 1
            else:
                raise ShapeError("reshape: invalid code %d in %s" % (c, tuple(shape)))
            j += 1
    except IndexError:
        raise ShapeError("cannot reshape array of shape %s into %s: the codes use more input "
                         "dimensions than there are" % (tuple(src), tuple(shape))) from None
    total = 1
    for d in src:
        total *= d
    if infer_at is not None:
        known = 1
        for k, d in enumerate(out):
            if k != infer_at:
                known *= d
        if known == 0 or total % known:
            raise ShapeError("cannot reshape array of shape %s into %s"
                             % (tuple(src[::-1] if reverse else src), tuple(shape)))
        out[infer_at] = total // known
    size = 1
    for d in out:
        size *= d
    if size != total:
        raise ShapeError("cannot reshape array of shape %s into %s (%d elements vs %d)"
                         % (tuple(src[::-1] if reverse else src), tuple(shape), total, size))
    return tuple(out[::-1] if reverse else out)


@register("Reshape", aliases=("reshape",))
def reshape(xp, data, shape=(), reverse=False):
    """Reshape with MXNet's special codes (0, -1, -2, -3, -4) and ``reverse``."""
    return data.reshape(infer_reshape(data.shape, shape, reverse))


@reshape.def_grad
def _reshape_grad(i, o, g, a):
    return [g[0].reshape(i[0].shape)]


@register("transpose")
def transpose(xp, data, axes=()):
    """Permute the axes (reversed when ``axes`` is empty)."""
    return xp.transpose(data, tuple(axes) if axes else None)


@transpose.def_grad
def _transpose_grad(i, o, g, a):
    axes = a["axes"]
    if not axes:
        return [G.nd().transpose(g[0])]
    inv = [0] * len(axes)
    for k, ax in enumerate(axes):
        inv[ax] = k
    return [G.nd().transpose(g[0], axes=tuple(inv))]


@register("broadcast_to")
def broadcast_to(xp, data, shape=()):
    """Broadcast to ``shape``; a 0 in ``shape`` keeps the input's dimension."""
    shape = tuple(s if s != 0 else d for s, d in zip(shape, data.shape)) if len(shape) == data.ndim else tuple(shape)
    try:
        return xp.broadcast_to(data, shape).copy()
    except ValueError:
        raise ShapeError("broadcast_to: cannot broadcast shape %s to %s" % (data.shape, shape)) from None


@broadcast_to.def_grad
def _broadcast_to_grad(i, o, g, a):
    return [G.unbroadcast(g[0], i[0].shape)]


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


@register("_getitem")
def _getitem(xp, data, key=None):
    """``data[key]`` for basic and advanced keys (views for basic slices on the CPU)."""
    return data[key]


@_getitem.def_grad
def _getitem_grad(i, o, g, a):
    return [G.nd().invoke(G.nd().registry.get("_scatter_getitem"), [g[0]],
                          {"key": a["key"], "shape": i[0].shape})]


@register("_scatter_getitem")
def _scatter_getitem(xp, data, key=None, shape=()):
    """Zeros of ``shape`` with ``data`` added at ``key`` (the gradient of indexing)."""
    out = xp.zeros(shape, dtype=data.dtype)
    if hasattr(xp, "add") and hasattr(xp.add, "at"):
        xp.add.at(out, key, data.reshape(out[key].shape))
    else:
        out[key] += data.reshape(out[key].shape)
    return out


@_scatter_getitem.def_grad
def _scatter_getitem_grad(i, o, g, a):
    return [G.nd().invoke(G.nd().registry.get("_getitem"), [g[0]], {"key": a["key"]}).reshape(i[0].shape)]
