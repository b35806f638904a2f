"""Region-of-interest pooling: ``ROIPooling`` (Fast/Faster R-CNN), as in MXNet 1.9.1.

Each ROI row ``[batch_index, x1, y1, x2, y2]`` (input-image coordinates) is scaled by
``spatial_scale``, its corners rounded half away from zero, and split into a
``pooled_size`` grid of bins ``[floor(p * bin), ceil((p + 1) * bin))`` offset by the ROI
corner and clipped to the feature map; each output is the maximum of its bin (the first
maximum in row-major order), 0 for an empty bin or an out-of-range batch index.

The forward loops over the positions inside a bin (at most ``max bin height x max bin
width`` vectorised gathers over all ROIs, bins and channels), never over pixels or ROIs.
A hidden second output keeps the flat position in ``data`` of each maximum (-1 where a
bin is empty); the data gradient scatter-adds the output gradient to those positions.
"""
import numpy as np

from ..base import DTypeError, MXNetError, ShapeError
from .attrs import int_tuple
from .registry import register
from . import _grad_util as G

_OP = "ROIPooling"


def _pooled(pooled_size):
    """``pooled_size`` (tuple, list or MXNet's string ``'(7, 7)'``) as two positive ints."""
    vals = int_tuple(_OP, "pooled_size", pooled_size)
    if len(vals) != 2:
        raise ShapeError("%s: attribute pooled_size=%r must have 2 values (pooled height, "
                         "pooled width), got %d" % (_OP, pooled_size, len(vals)))
    if min(vals) <= 0:
        raise MXNetError("%s: attribute pooled_size=%s must be positive" % (_OP, vals))
    return vals


def _check_shapes(dshape, rshape):
    if dshape is not None and len(dshape) != 4:
        raise ShapeError("%s: data must be a 4-D (N, C, H, W) array, got shape %s"
                         % (_OP, tuple(dshape)))
    if rshape is not None and (len(rshape) != 2 or rshape[1] != 5):
        raise ShapeError("%s: rois must be a 2-D (R, 5) array of [batch_index, x1, y1, x2, y2] "
                         "rows, got shape %s" % (_OP, tuple(rshape)))


def _round_half_away(xp, v):
    """C's ``round``: halves go away from zero (NumPy's ``round`` goes to even)."""
    t = xp.trunc(v)
    return t + xp.sign(v) * (xp.abs(v - t) >= 0.5)


def _bins(xp, start, end, pooled, size, dtype):
    """Clipped bin bounds ``(lo, hi)``, each (R, pooled) int64, along one axis for ROI
    corners ``start``/``end`` (R,) int64 on a feature axis of ``size``."""
    extent = xp.maximum(end - start + 1, 1)  # malformed ROIs are forced to one pixel
    bin_size = extent.astype(dtype) / dtype.type(pooled)
    p = xp.arange(pooled + 1, dtype=dtype)[None, :] * bin_size[:, None]
    lo = xp.floor(p[:, :-1]).astype(np.int64) + start[:, None]
    hi = xp.ceil(p[:, 1:]).astype(np.int64) + start[:, None]
    return xp.clip(lo, 0, size), xp.clip(hi, 0, size)


def _roi_pooling(xp, data, rois, *, pooled_size, spatial_scale):
    """Max pooling of ``data`` (N, C, H, W) over each ROI of ``rois`` (R, 5) into a
    ``pooled_size`` (ph, pw) grid: output (R, C, ph, pw).  ``rois`` rows are
    ``[batch_index, x1, y1, x2, y2]`` in input-image coordinates, scaled to the feature
    map by ``spatial_scale``.  A hidden second output (int64, same shape) holds the flat
    index into ``data`` of each maximum, -1 for empty bins."""
    _check_shapes(data.shape, rois.shape)
    ph, pw = _pooled(pooled_size)
    if data.dtype.kind != "f":
        raise DTypeError("%s: data must be a floating-point array, got %s" % (_OP, data.dtype))
    if rois.dtype != data.dtype:
        raise DTypeError("%s: rois (%s) must have the dtype of data (%s)" % (_OP, rois.dtype, data.dtype))
    n, c, h, w = data.shape
    r = rois.shape[0]
    dt = data.dtype
    out = xp.zeros((r, ph, pw, c), dtype=dt)
    arg = xp.full((r, ph, pw, c), -1, dtype=np.int64)
    if r and c and h and w:
        corners = _round_half_away(xp, rois[:, 1:] * dt.type(float(spatial_scale))).astype(np.int64)
        batch = xp.trunc(rois[:, 0]).astype(np.int64)
        ok = (batch >= 0) & (batch < n)
        batch = xp.where(ok, batch, 0)
        hlo, hhi = _bins(xp, corners[:, 1], corners[:, 3], ph, h, dt)
        wlo, whi = _bins(xp, corners[:, 0], corners[:, 2], pw, w, dt)
        hlo, hhi = hlo[:, :, None], hhi[:, :, None]          # (R, ph, 1)
        wlo, whi = wlo[:, None, :], whi[:, None, :]          # (R, 1, pw)
        kh = int((hhi - hlo).max())
        kw = int((whi - wlo).max())
        b3 = batch[:, None, None]
        live = ok[:, None, None]
        best = xp.full((r, ph, pw, c), -np.inf, dtype=dt)
        nhwc = xp.ascontiguousarray(data.transpose(0, 2, 3, 1))  # each gather reads runs of C
        for dy in range(kh):
            hh = hlo + dy
            hin = (hh < hhi) & live
            hh = xp.minimum(hh, h - 1)
            for dx in range(kw):
                ww = wlo + dx
                inside = hin & (ww < whi)                     # (R, ph, pw)
                ww = xp.minimum(ww, w - 1)
                vals = nhwc[b3, hh, ww]                          # (R, ph, pw, C)
                upd = xp.greater(vals, best)
                upd &= inside[..., None]
                xp.copyto(best, vals, where=upd)
                xp.copyto(arg, (hh * w + ww)[..., None], where=upd)
        found = arg >= 0
        out = xp.where(found, best, dt.type(0))
        chan = xp.arange(c, dtype=np.int64)
        arg = xp.where(found, (b3[..., None] * c + chan) * (h * w) + arg, -1)
    return (xp.ascontiguousarray(out.transpose(0, 3, 1, 2)),
            xp.ascontiguousarray(arg.transpose(0, 3, 1, 2)))


def _infer_shape(attrs, in_shapes):
    """data (N, C, H, W), rois (R, 5) -> output and hidden argmax (R, C, ph, pw)."""
    data, rois = in_shapes
    _check_shapes(data, rois)
    if data is None or rois is None:
        return None
    ph, pw = _pooled(attrs.get("pooled_size"))
    out = (rois[0], data[1], ph, pw)
    return [tuple(data), tuple(rois)], [out, out]


ROIPooling = register(_OP, num_outputs=2, num_visible_outputs=1,
                      infer_shape=_infer_shape)(_roi_pooling)


@ROIPooling.def_grad
def _roi_pooling_grad(i, o, g, attrs):
    """The output gradient goes to the position of each bin's maximum; rois get none."""
    return [G.nd().invoke(_backward_ROIPooling, [g[0], o[1]], {"shape": tuple(i[0].shape)}), None]


def _roi_backward(xp, ograd, argmax, shape=()):
    """Data gradient of :func:`_roi_pooling`: ``ograd`` (R, C, ph, pw) scatter-added into a
    zero array of ``shape`` at the flat positions ``argmax`` (entries -1 are dropped)."""
    from ..backend import scatter_add
    shape = tuple(int(s) for s in shape)
    size = int(np.prod(shape))
    # slot 0 collects the gradient of empty bins (argmax -1) and is dropped
    acc = xp.zeros(size + 1, dtype=ograd.dtype)
    scatter_add(xp, acc, argmax.reshape(-1) + 1, ograd.reshape(-1))
    return acc[1:].reshape(shape)


_backward_ROIPooling = register("_backward_ROIPooling")(_roi_backward)


@_backward_ROIPooling.def_grad
def _roi_backward_grad(i, o, g, attrs):
    """The scatter's adjoint: the head gradient gathered at ``argmax`` (0 where -1)."""
    nd = G.nd()
    argmax = i[1]
    flat = nd.concat(nd.zeros((1,), ctx=g[0].context, dtype=g[0].dtype), g[0].reshape((-1,)), dim=0)
    return [nd.take(flat, argmax + 1), None]
