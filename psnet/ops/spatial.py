"""Spatial-transformer operators of MXNet 1.9.1: ``GridGenerator``, ``BilinearSampler`` and
``SpatialTransformer``.

* ``GridGenerator(data, transform_type='affine', target_shape=(H, W))``: ``data`` (N, 6) holds
  one 2x3 affine matrix per sample; the output (N, 2, H, W) is that matrix applied to the
  target pixel grid ``[x, y, 1]`` with ``x = -1 + j * 2/(W-1)``, ``y = -1 + i * 2/(H-1)``
  (the factors are computed in double and rounded to the dtype, as MXNet does).
  ``transform_type='warp'``: ``data`` (N, 2, H, W) is a flow field in pixels; the output is
  ``(flow + [j, i]) / ((W-1)/2, (H-1)/2) - 1``.
* ``BilinearSampler(data, grid)``: ``data`` (N, C, H, W) read at ``grid`` (N, 2, Ho, Wo),
  normalised (x, y) in [-1, 1] mapped to pixels by ``(g + 1) * (size - 1) / 2``, with
  bilinear weights; neighbours outside the image count 0.  For float32 (and float16) the
  arithmetic follows MXNet's CPU kernel: coordinates and the first term in the dtype, the
  three terms with a ``1.0 - w`` factor and the sum in double, rounded once at the end.
* ``SpatialTransformer(data, loc, target_shape, transform_type='affine',
  sampler_type='bilinear')``: the affine grid of ``loc`` sampled from ``data``.

The forwards run on raw arrays, vectorised (four gathers, no Python loop over pixels).
The gradients are written with ``mx.nd`` ops (``take`` / ``_take_adjoint`` on an
(N*H*W + 1, C) table whose last row is the zero padding), so they are differentiable again.
"""
import numpy as np

from ..base import MXNetError, ShapeError
from .attrs import int_tuple
from . import _grad_util as G
from .registry import register, get as _get_op


# ----------------------------------------------------------------------------- attributes
def _target_shape(op, value, required):
    """``target_shape`` (tuple, list or MXNet's string ``'(3, 4)'``) as two ints."""
    vals = int_tuple(op, "target_shape", value)
    if len(vals) != 2:
        raise ShapeError("%s: attribute target_shape=%r must have 2 values (height, width), got %d"
                         % (op, value, len(vals)))
    if required and min(vals) <= 0:
        raise MXNetError("%s: attribute target_shape=%s must be positive (height, width) for an "
                         "affine transform" % (op, vals))
    return vals


def _choice(op, name, value, allowed):
    value = str(value)
    if value not in allowed:
        raise MXNetError("%s: attribute %s must be one of %s, got %r"
                         % (op, name, ", ".join(repr(a) for a in allowed), value))
    return value


def _step(dtype, size):
    """MXNet's ``scalar<DType>(2.0 / (size - 1))``: computed in double, then rounded (inf at
    size 1, which gives NaN coordinates as in MXNet)."""
    with np.errstate(divide="ignore"):
        return np.dtype(dtype).type(np.float64(2.0) / np.float64(size - 1))


def _grid_dst(xp, h, w, dtype, wide=False):
    """The target grid of an affine transform, (3, h*w): rows x, y in [-1, 1] and ones.

    ``GridGenerator`` computes ``-1 + j * step`` in the dtype (``step`` rounded first);
    ``SpatialTransformer`` (``wide=True``) computes it in double and rounds once."""
    dt = np.dtype(dtype)
    idx = np.arange(h * w)
    with np.errstate(invalid="ignore", divide="ignore"):
        if wide:
            x = (-1.0 + (idx % w) * (np.float64(2.0) / np.float64(w - 1))).astype(dt)
            y = (-1.0 + (idx // w) * (np.float64(2.0) / np.float64(h - 1))).astype(dt)
        else:
            one = dt.type(1)
            x = -one + (idx % w).astype(dt) * _step(dt, w)
            y = -one + (idx // w).astype(dt) * _step(dt, h)
    return xp.asarray(np.stack([x, y, np.ones(h * w, dtype=dt)]))


def _check_float(op, *arrays):
    for a in arrays:
        if a.dtype.kind != "f":
            raise MXNetError("%s: inputs must be floating-point arrays, got %s" % (op, a.dtype))
    if len({a.dtype for a in arrays}) > 1:
        raise MXNetError("%s: inputs must share one dtype, got %s"
                         % (op, ", ".join(str(a.dtype) for a in arrays)))


# ----------------------------------------------------------------------------- GridGenerator
_GG = "GridGenerator"


def _gg_check(ttype, dshape):
    if dshape is None:
        return
    if ttype == "affine":
        if len(dshape) != 2 or dshape[1] != 6:
            raise ShapeError("%s: transform_type='affine' needs data of shape (N, 6) (one 2x3 "
                             "matrix per sample), got shape %s" % (_GG, tuple(dshape)))
    elif len(dshape) != 4 or dshape[1] != 2:
        raise ShapeError("%s: transform_type='warp' needs data of shape (N, 2, H, W) (a flow "
                         "field), got shape %s" % (_GG, tuple(dshape)))


def _affine_grid(xp, loc, th, tw, wide=False):
    """loc (N, 6) applied to the target grid: (N, 2, th, tw)."""
    n = loc.shape[0]
    dst = _grid_dst(xp, th, tw, loc.dtype, wide)
    out = xp.matmul(loc.reshape(n * 2, 3), dst)
    return out.reshape(n, 2, th, tw)


def _warp_scale(dtype, h, w):
    """MXNet's ``((W - 1) / 2, (H - 1) / 2)`` in the dtype, shape (1, 2, 1, 1)."""
    dt = np.dtype(dtype)
    return np.array([(dt.type(w) - 1.0) / 2.0, (dt.type(h) - 1.0) / 2.0], dtype=dt).reshape(1, 2, 1, 1)


@register(_GG)
def grid_generator(xp, data, *, transform_type, target_shape=(0, 0)):
    """Sampling grid (N, 2, H, W) for :func:`bilinear_sampler`: an affine transform of the
    target grid (``data`` (N, 6), ``target_shape`` (H, W)) or a pixel flow field added to the
    identity grid (``transform_type='warp'``, ``data`` (N, 2, H, W))."""
    ttype = _choice(_GG, "transform_type", transform_type, ("affine", "warp"))
    _gg_check(ttype, data.shape)
    _check_float(_GG, data)
    if ttype == "affine":
        th, tw = _target_shape(_GG, target_shape, True)
        return _affine_grid(xp, data, th, tw)
    _, _, h, w = data.shape
    dt = data.dtype
    ix = xp.arange(w, dtype=dt).reshape(1, w)
    iy = xp.arange(h, dtype=dt).reshape(h, 1)
    base = xp.stack([xp.broadcast_to(ix, (h, w)), xp.broadcast_to(iy, (h, w))])[None]
    return (data + base) / xp.asarray(_warp_scale(dt, h, w)) - dt.type(1)


def _gg_infer_shape(attrs, in_shapes):
    """affine: data (N, 6) -> (N, 2, H, W); warp: data (N, 2, H, W) -> the same shape."""
    ttype = _choice(_GG, "transform_type", attrs.get("transform_type"), ("affine", "warp"))
    data = in_shapes[0]
    _gg_check(ttype, data)
    if ttype == "affine":
        th, tw = _target_shape(_GG, attrs.get("target_shape", (0, 0)), True)
        if data is None:
            return None
        return [tuple(data)], [(data[0], 2, th, tw)]
    if data is None:
        return None
    return [tuple(data)], [tuple(data)]


grid_generator.infer_shape = _gg_infer_shape


def _affine_adjoint(nd, ggrid, n, th, tw, dtype, ctx, wide=False):
    """Gradient of the affine grid w.r.t. loc (N, 6), from the grid's gradient (N, 2, th, tw)."""
    dst = nd.array(np.ascontiguousarray(_grid_dst(np, th, tw, dtype, wide).T), ctx=ctx, dtype=dtype)
    return nd.dot(ggrid.reshape((n * 2, th * tw)), dst).reshape((n, 6))


@grid_generator.def_grad
def _grid_generator_grad(i, o, g, attrs):
    nd = G.nd()
    data, gy = i[0], g[0]
    if str(attrs["transform_type"]) == "affine":
        th, tw = _target_shape(_GG, attrs["target_shape"], True)
        return [_affine_adjoint(nd, gy, data.shape[0], th, tw, data.dtype, data.context)]
    _, _, h, w = data.shape
    scale = nd.array(_warp_scale(data.dtype, h, w), ctx=data.context, dtype=data.dtype)
    return [nd.broadcast_div(gy, scale)]


# ----------------------------------------------------------------------------- BilinearSampler
_BS = "BilinearSampler"


def _bs_check(op, dshape, gshape, gname="grid"):
    if dshape is not None and len(dshape) != 4:
        raise ShapeError("%s: data must be a 4-D (N, C, H, W) array, got shape %s" % (op, tuple(dshape)))
    if gshape is not None and (len(gshape) != 4 or gshape[1] != 2):
        raise ShapeError("%s: %s must be a 4-D (N, 2, H, W) array of (x, y), got shape %s"
                         % (op, gname, tuple(gshape)))
    if dshape is not None and gshape is not None and dshape[0] != gshape[0]:
        raise ShapeError("%s: data (shape %s) and %s (shape %s) must have the same batch size"
                         % (op, tuple(dshape), gname, tuple(gshape)))


def _sample(xp, data, grid):
    """Bilinear sampling of ``data`` (N, C, H, W) at ``grid`` (N, 2, Ho, Wo), MXNet's CPU
    arithmetic; returns (N, C, Ho, Wo)."""
    n, c, ih, iw = data.shape
    ho, wo = grid.shape[2:]
    dt = data.dtype
    wide = np.float64 if dt.itemsize < 8 else dt
    one, two = dt.type(1), dt.type(2)
    out = xp.empty((n, c, ho, wo), dtype=dt)
    if out.size == 0:
        return out
    with np.errstate(invalid="ignore", over="ignore"):
        x = (grid[:, 0] + one) * dt.type(iw - 1) / two          # (N, Ho, Wo)
        y = (grid[:, 1] + one) * dt.type(ih - 1) / two
        x0 = xp.floor(x)
        y0 = xp.floor(y)
        wx = one - (x - x0)                                        # weight of the left column
        wy = one - (y - y0)                                        # weight of the top row
        x0 = xp.nan_to_num(x0, nan=-2.0, posinf=iw + 1.0, neginf=-2.0)
        y0 = xp.nan_to_num(y0, nan=-2.0, posinf=ih + 1.0, neginf=-2.0)
        x0 = xp.clip(x0, -2, iw + 1).astype(np.int64)
        y0 = xp.clip(y0, -2, ih + 1).astype(np.int64)
    nhwc = xp.ascontiguousarray(data.transpose(0, 2, 3, 1))
    batch = xp.arange(n).reshape(n, 1, 1)
    zero = dt.type(0)

    def tap(yy, xx):
        ok = (xx >= 0) & (xx <= iw - 1) & (yy >= 0) & (yy <= ih - 1)
        v = nhwc[batch, xp.clip(yy, 0, ih - 1), xp.clip(xx, 0, iw - 1)]   # (N, Ho, Wo, C)
        return xp.where(ok[..., None], v, zero)

    wx, wy = wx[..., None], wy[..., None]
    wxw, wyw = wx.astype(wide), wy.astype(wide)
    with np.errstate(invalid="ignore", over="ignore"):
        acc = (tap(y0, x0) * wy * wx).astype(wide)
        acc = acc + (tap(y0, x0 + 1) * wy).astype(wide) * (1.0 - wxw)
        acc = acc + tap(y0 + 1, x0).astype(wide) * (1.0 - wyw) * wxw
        acc = acc + tap(y0 + 1, x0 + 1).astype(wide) * (1.0 - wyw) * (1.0 - wxw)
    out[...] = acc.transpose(0, 3, 1, 2)
    return out


@register(_BS)
def bilinear_sampler(xp, data, grid, cudnn_off=False):
    """Bilinear sampling of ``data`` (N, C, H, W) at ``grid`` (N, 2, Ho, Wo), normalised
    (x, y) in [-1, 1] (-1 the first pixel's centre, 1 the last's); zero outside the image.
    Output (N, C, Ho, Wo).  ``cudnn_off`` is accepted and ignored."""
    _bs_check(_BS, data.shape, grid.shape)
    _check_float(_BS, data, grid)
    return _sample(xp, data, grid)


def _bs_infer_shape(attrs, in_shapes):
    """data (N, C, H, W), grid (N, 2, Ho, Wo) -> (N, C, Ho, Wo)."""
    data, grid = in_shapes
    _bs_check(_BS, data, grid)
    if data is None or grid is None:
        return None
    return [tuple(data), tuple(grid)], [(data[0], data[1], grid[2], grid[3])]


bilinear_sampler.infer_shape = _bs_infer_shape


def _sampler_grads(data, grid, gy, need_data=True, need_grid=True):
    """Gradients of :func:`_sample` w.r.t. data and grid, written with ``mx.nd`` ops."""
    nd = G.nd()
    n, c, ih, iw = data.shape
    ho, wo = grid.shape[2:]
    ctx, dt = data.context, data.dtype
    rows = n * ih * iw                       # row ``rows`` of the table is the zero padding
    gx = nd.slice_axis(grid, axis=1, begin=0, end=1).reshape((n, ho, wo))
    gyy = nd.slice_axis(grid, axis=1, begin=1, end=2).reshape((n, ho, wo))
    x = (gx + 1.0) * float(iw - 1) / 2.0
    y = (gyy + 1.0) * float(ih - 1) / 2.0
    x0 = nd.floor(x)
    y0 = nd.floor(y)
    wx = 1.0 - (x - x0)
    wy = 1.0 - (y - y0)
    base = nd.arange(n, ctx=ctx, dtype="float64").reshape((n, 1, 1)) * float(ih * iw)
    x0d = nd.clip(x0.astype("float64"), -2.0, iw + 1.0)
    y0d = nd.clip(y0.astype("float64"), -2.0, ih + 1.0)
    idx = []
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        xx, yy = x0d + dx, y0d + dy
        ok = (xx >= 0) * (xx <= iw - 1) * (yy >= 0) * (yy <= ih - 1)
        pos = base + nd.clip(yy, 0, ih - 1) * iw + nd.clip(xx, 0, iw - 1)
        idx.append(ok * pos + (1 - ok) * rows)
    idx = nd.stack(*idx, axis=0)                                    # (4, N, Ho, Wo)
    gl = nd.transpose(gy, axes=(0, 2, 3, 1))                        # (N, Ho, Wo, C)
    gdata = ggrid = None
    if need_data:
        ws = nd.stack(wy * wx, wy * (1.0 - wx), (1.0 - wy) * wx, (1.0 - wy) * (1.0 - wx), axis=0)
        vals = nd.broadcast_mul(nd.expand_dims(gl, axis=0), nd.expand_dims(ws, axis=4))
        table = nd.invoke(_get_op("_take_adjoint"), [vals, idx],
                          {"axis": 0, "mode": "clip", "shape": (rows + 1, c)})
        gdata = nd.transpose(nd.slice_axis(table, axis=0, begin=0, end=rows).reshape((n, ih, iw, c)),
                             axes=(0, 3, 1, 2))
    if need_grid:
        table = nd.concat(nd.transpose(data, axes=(0, 2, 3, 1)).reshape((rows, c)),
                          nd.zeros((1, c), ctx=ctx, dtype=dt), dim=0)
        v = nd.take(table, idx, axis=0)                             # (4, N, Ho, Wo, C)
        tl, tr, bl, br = [v[k] for k in range(4)]
        cross = tl - tr - bl + br
        dwy = tr - br + nd.broadcast_mul(cross, nd.expand_dims(wx, axis=3))
        dwx = bl - br + nd.broadcast_mul(cross, nd.expand_dims(wy, axis=3))
        gxg = -nd.sum(gl * dwx, axis=3) * (float(iw - 1) / 2.0)
        gyg = -nd.sum(gl * dwy, axis=3) * (float(ih - 1) / 2.0)
        ggrid = nd.stack(gxg, gyg, axis=1)
    return gdata, ggrid


@bilinear_sampler.def_grad
def _bilinear_sampler_grad(i, o, g, attrs):
    return list(_sampler_grads(i[0], i[1], g[0]))


# ----------------------------------------------------------------------------- SpatialTransformer
_ST = "SpatialTransformer"


def _st_check(dshape, lshape):
    if dshape is not None and len(dshape) != 4:
        raise ShapeError("%s: data must be a 4-D (N, C, H, W) array, got shape %s" % (_ST, tuple(dshape)))
    if lshape is not None and (len(lshape) != 2 or lshape[1] != 6):
        raise ShapeError("%s: loc must be of shape (N, 6) (one 2x3 affine matrix per sample), got "
                         "shape %s" % (_ST, tuple(lshape)))
    if dshape is not None and lshape is not None and dshape[0] != lshape[0]:
        raise ShapeError("%s: data (shape %s) and loc (shape %s) must have the same batch size"
                         % (_ST, tuple(dshape), tuple(lshape)))


@register(_ST)
def spatial_transformer(xp, data, loc, *, transform_type, sampler_type, target_shape=(0, 0), cudnn_off=False):
    """Spatial transformer: ``data`` (N, C, H, W) sampled bilinearly at the affine grid of
    ``loc`` (N, 6) over ``target_shape`` (th, tw): output (N, C, th, tw).
    ``transform_type`` must be 'affine' and ``sampler_type`` 'bilinear'; ``cudnn_off`` is ignored."""
    _choice(_ST, "transform_type", transform_type, ("affine",))
    _choice(_ST, "sampler_type", sampler_type, ("bilinear",))
    _st_check(data.shape, loc.shape)
    _check_float(_ST, data, loc)
    th, tw = _target_shape(_ST, target_shape, True)
    return _sample(xp, data, _affine_grid(xp, loc, th, tw, wide=True))


def _st_infer_shape(attrs, in_shapes):
    """data (N, C, H, W), loc (N, 6) -> (N, C, th, tw); loc's shape follows from data's."""
    data, loc = in_shapes
    _st_check(data, loc)
    th, tw = _target_shape(_ST, attrs.get("target_shape", (0, 0)), True)
    if data is None:
        return None
    return [tuple(data), (data[0], 6)], [(data[0], data[1], th, tw)]


spatial_transformer.infer_shape = _st_infer_shape


@spatial_transformer.def_grad
def _spatial_transformer_grad(i, o, g, attrs):
    nd = G.nd()
    data, loc = i
    n = data.shape[0]
    th, tw = _target_shape(_ST, attrs["target_shape"], True)
    dst = nd.array(_grid_dst(np, th, tw, loc.dtype, True), ctx=loc.context, dtype=loc.dtype)
    grid = nd.dot(loc.reshape((n * 2, 3)), dst).reshape((n, 2, th, tw))
    gdata, ggrid = _sampler_grads(data, grid, g[0])
    return [gdata, _affine_adjoint(nd, ggrid, n, th, tw, loc.dtype, loc.context, True)]
