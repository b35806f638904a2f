"""MXNet 1.9.1 contrib operators, registered as ``_contrib_<name>`` (``mx.nd.contrib.<name>``,
``mx.sym.contrib.<name>``): ``BilinearResize2D``, ``AdaptiveAvgPooling2D``, ``ROIAlign``,
``box_iou``, ``box_nms``, ``boolean_mask``, ``index_copy``, ``arange_like``, ``div_sqrt_dim``,
``quadratic``.

``BilinearResize2D`` and ``AdaptiveAvgPooling2D`` are separable linear maps of the last two
axes: each builds an interpolation (or averaging) matrix per axis, ``Mh`` (OH, H) and ``Mw``
(OW, W), from the shapes and attributes alone, and computes ``Mh @ x @ Mw^T`` with two
batched GEMMs (no loop over pixels).  Their gradient ``Mh^T @ g @ Mw`` is written with
``mx.nd.dot`` on the same matrices, so it is itself differentiable and backend-agnostic.
``ROIAlign`` is separable per ROI in the same way (its per-ROI weights are hidden outputs);
``box_nms`` runs greedy suppression as a fixed point over the IoU matrix (no loop over boxes).

Deliberate differences from MXNet 1.9.1: ``ROIAlign`` rows with a batch index outside
[0, N) give zeros (MXNet leaves them uninitialised), an ``aligned`` ROI of non-positive size
raises (MXNet aborts the process), and ``index_copy`` raises on an out-of-range index (MXNet
silently skips it).
"""
import numpy as np

from ..base import MXIndexError, MXNetError, NotSupportedError, ShapeError
from .attrs import int_tuple
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
    size = int_tuple(_AP, "output_size", output_size)
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


# ---------------------------------------------------------------- ROIAlign
_RA = "_contrib_ROIAlign"


def _roi_align_pooled(pooled_size):
    vals = int_tuple(_RA, "pooled_size", pooled_size)
    if len(vals) != 2 or min(vals) <= 0:
        raise ShapeError("%s: attribute pooled_size=%r must be 2 positive values (pooled height, "
                         "pooled width)" % (_RA, pooled_size))
    return vals


def _roi_align_check(dshape, rshape, pooled, position_sensitive):
    if dshape is not None:
        _check_4d(_RA, "data", dshape)
        if position_sensitive and dshape[1] % (pooled[0] * pooled[1]):
            raise ShapeError("%s: with position_sensitive=True the channels of data %s must be a multiple "
                             "of pooled_size %s's product" % (_RA, tuple(dshape), pooled))
    if rshape is not None and (len(rshape) != 2 or rshape[1] != 5):
        raise ShapeError("%s: rois must be a 2-D (R, 5) array of [batch_index, x1, y1, x2, y2] rows, "
                         "got shape %s" % (_RA, tuple(rshape)))


def _roi_axis_weights(xp, start, end, pooled, size, sample_ratio, aligned, dt):
    """(R, pooled, size) weights of the bilinear samples of each ROI bin along one axis (a
    sample outside [-1, size] contributes nothing; coordinates are clamped as MXNet does),
    and the number of samples per bin (R,)."""
    extent = end - start
    if not aligned:
        extent = xp.maximum(extent, dt.type(1))
    elif extent.size and bool((extent <= 0).any()):
        raise MXNetError("%s: with aligned=True every ROI needs x2 > x1 and y2 > y1 after scaling "
                         "(MXNet aborts on such an ROI)" % _RA)
    bin_size = extent / dt.type(pooled)
    if sample_ratio > 0:
        grid = xp.full(start.shape, int(sample_ratio), dtype=np.int64)
    else:
        grid = xp.ceil(extent / dt.type(pooled)).astype(np.int64)
    r = start.shape[0]
    wts = xp.zeros((r, pooled, size), dtype=dt)
    if r == 0:
        return wts, grid
    gmax = int(grid.max())
    cols = xp.arange(size)[None, None, :]
    p = xp.arange(pooled, dtype=dt)[None, :]
    gf = xp.maximum(grid, 1).astype(dt)[:, None]
    for k in range(gmax):
        pos = start[:, None] + p * bin_size[:, None] + (dt.type(k) + dt.type(0.5)) * bin_size[:, None] / gf
        valid = (pos >= -1.0) & (pos <= size) & (k < grid)[:, None]             # (R, pooled)
        pos = xp.maximum(pos, dt.type(0))
        lo = pos.astype(np.int64)
        top = lo >= size - 1
        lo = xp.where(top, size - 1, lo)
        hi = xp.where(top, lo, lo + 1)
        pos = xp.where(top, lo.astype(dt), pos)
        lam = (pos - lo) * valid
        stay = (dt.type(1) - pos + lo) * valid
        wts += stay[..., None] * (cols == lo[..., None]) + lam[..., None] * (cols == hi[..., None])
    return wts, grid


def _roi_align(xp, data, rois, *, pooled_size, spatial_scale, sample_ratio=-1, position_sensitive=False,
               aligned=False):
    """ROIAlign (Mask R-CNN) of ``data`` (N, C, H, W) over ``rois`` (R, 5) rows
    ``[batch_index, x1, y1, x2, y2]`` (scaled by ``spatial_scale``; shifted by -0.5 pixel and not
    forced to at least 1 pixel when ``aligned``): each of the ``pooled_size`` bins averages a grid
    of ``sample_ratio`` x ``sample_ratio`` bilinear samples (``ceil(roi size / pooled size)`` per
    axis when ``sample_ratio <= 0``).  Output (R, C, ph, pw), or (R, C / (ph*pw), ph, pw) with
    ``position_sensitive`` (bin (i, j) of output channel c reads channel ``c*ph*pw + i*pw + j``);
    rows with a batch index outside [0, N) give zeros.  Sampling is separable: two hidden outputs
    keep each ROI's weights along H (R, ph, H, divided by the sample count) and W (R, pw, W)."""
    ph, pw = _roi_align_pooled(pooled_size)
    ps, al = _truthy(position_sensitive), _truthy(aligned)
    if not 0.0 <= float(spatial_scale) <= 1.0:
        raise MXNetError("%s: attribute spatial_scale=%s must be in [0, 1] (feature map size / image size)"
                         % (_RA, spatial_scale))
    _roi_align_check(data.shape, rois.shape, (ph, pw), ps)
    if data.dtype.kind != "f":
        raise MXNetError("%s: data must be a floating-point array, got %s" % (_RA, data.dtype))
    n, c, h, w = data.shape
    dt = data.dtype
    box = rois[:, 1:].astype(dt) * dt.type(float(spatial_scale)) - dt.type(0.5 if al else 0.0)
    ay, gy = _roi_axis_weights(xp, box[:, 1], box[:, 3], ph, h, int(sample_ratio), al, dt)
    ax, gx = _roi_axis_weights(xp, box[:, 0], box[:, 2], pw, w, int(sample_ratio), al, dt)
    batch = xp.trunc(rois[:, 0]).astype(np.int64)
    ok = (batch >= 0) & (batch < n)
    ay = ay * (ok / xp.maximum(gy * gx, 1))[:, None, None].astype(dt)
    r = rois.shape[0]
    full = xp.zeros((r, c, ph, pw), dtype=dt)
    axt = xp.swapaxes(ax, 1, 2)[:, None]                                    # (R, 1, W, pw)
    for b in range(n):  # one pair of GEMMs per image (never a copy of the feature map per ROI)
        sel = xp.nonzero(batch == b)[0]
        if sel.size:
            t = xp.matmul(ay[sel][:, None], data[b])                        # (Rb, C, ph, W)
            full[sel] = xp.matmul(t, axt[sel])
    if ps:
        k = xp.arange(ph * pw)
        full = full.reshape(r, c // (ph * pw), ph * pw, ph * pw)[:, :, k, k]
        full = full.reshape(r, c // (ph * pw), ph, pw)
    return xp.ascontiguousarray(full), ay, xp.ascontiguousarray(ax)


def _roi_align_infer_shape(attrs, in_shapes):
    """data (N, C, H, W), rois (R, 5) -> output (R, C or C/(ph*pw), ph, pw) and the hidden
    sampling weights (R, ph, H), (R, pw, W)."""
    data, rois = in_shapes
    ph, pw = _roi_align_pooled(attrs.get("pooled_size"))
    ps = _truthy(attrs.get("position_sensitive", False))
    _roi_align_check(data, rois, (ph, pw), ps)
    if data is None or rois is None:
        return None
    r = rois[0]
    out = (r, data[1] // (ph * pw) if ps else data[1], ph, pw)
    return [tuple(data), tuple(rois)], [out, (r, ph, data[2]), (r, pw, data[3])]


ROIAlign = register(_RA, num_outputs=3, num_visible_outputs=1,
                    infer_shape=_roi_align_infer_shape)(_roi_align)


@ROIAlign.def_grad
def _roi_align_grad(i, o, g, attrs):
    """Data gradient ``sum over the ROIs of image n of Ay^T @ g @ Ax``: ``u = g @ Ax`` per ROI,
    then one GEMM of the (R*ph, N*H) one-hot-by-image ``Ay`` with ``u`` (R*ph, C*W); rois get
    none, as in MXNet."""
    nd = G.nd()
    data, rois = i
    ay, ax = o[1], o[2]
    n, c, h, w = data.shape
    r = rois.shape[0]
    ph, pw = _roi_align_pooled(attrs.get("pooled_size"))
    gr = g[0]
    if _truthy(attrs.get("position_sensitive", False)):
        eye = nd.array(np.eye(ph * pw), ctx=gr.context, dtype=gr.dtype).reshape((1, 1, ph * pw, ph * pw))
        gr = nd.broadcast_mul(gr.reshape((r, -1, 1, ph * pw)), eye)
    u = nd.batch_dot(gr.reshape((r, c * ph, pw)), ax)                             # (R, C*ph, W)
    u = nd.transpose(u.reshape((r, c, ph, w)), axes=(0, 2, 1, 3)).reshape((r * ph, c * w))
    batch = nd.clip(nd.trunc(rois[:, 0]), 0, n - 1)   # rows outside [0, N) have zero weights
    onehot = nd.one_hot(batch, n, dtype=gr.dtype)                                 # (R, N)
    ayb = nd.broadcast_mul(ay.reshape((r, ph, 1, h)), onehot.reshape((r, 1, n, 1))).reshape((r * ph, n * h))
    dx = nd.dot(ayb, u, transpose_a=True)                                         # (N*H, C*W)
    dx = nd.transpose(dx.reshape((n, h, c, w)), axes=(0, 2, 1, 3))
    return [dx, None]


# ---------------------------------------------------------------- box_iou / box_nms
def _box_format(op, name, value):
    if value not in ("corner", "center"):
        raise MXNetError("%s: attribute %s=%r must be 'corner' or 'center'" % (op, name, value))
    return value


def _to_corner(xp, b, fmt):
    """(..., 4) boxes as [xmin, ymin, xmax, ymax] from ``fmt`` ('corner' or 'center' [x, y, w, h])."""
    if fmt == "corner":
        return b
    half = b[..., 2:4] / b.dtype.type(2)
    return xp.concatenate([b[..., 0:2] - half, b[..., 0:2] + half], axis=-1)


def _pairwise_iou(xp, a, b):
    """IoU of corner boxes ``a`` (..., P, 4) and ``b`` (..., Q, 4) -> (..., P, Q); 0 where the
    union is empty."""
    a, b = a[..., :, None, :], b[..., None, :, :]
    iw = xp.maximum(xp.minimum(a[..., 2], b[..., 2]) - xp.maximum(a[..., 0], b[..., 0]), 0)
    ih = xp.maximum(xp.minimum(a[..., 3], b[..., 3]) - xp.maximum(a[..., 1], b[..., 1]), 0)
    inter = iw * ih
    union = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
             + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - inter)
    safe = xp.where(union > 0, union, 1)
    return xp.where(union > 0, inter / safe, 0).astype(a.dtype, copy=False)


_IOU = "_contrib_box_iou"


@register(_IOU)
def _box_iou(xp, lhs, rhs, *, format="corner"):
    """Intersection over union of every box of ``lhs`` (..., 4) with every box of ``rhs``
    (..., 4): output ``lhs.shape[:-1] + rhs.shape[:-1]``.  ``format`` 'corner' is
    [xmin, ymin, xmax, ymax], 'center' is [x, y, width, height]."""
    fmt = _box_format(_IOU, "format", format)
    for name, arr in (("lhs", lhs), ("rhs", rhs)):
        if arr.ndim < 1 or arr.shape[-1] != 4:
            raise ShapeError("%s: %s must have 4 values (a box) in its last axis, got shape %s"
                             % (_IOU, name, tuple(arr.shape)))
    a = _to_corner(xp, lhs.reshape(-1, 4), fmt)
    b = _to_corner(xp, rhs.reshape(-1, 4), fmt)
    return _pairwise_iou(xp, a, b).reshape(lhs.shape[:-1] + rhs.shape[:-1])


@_box_iou.def_grad
def _box_iou_grad(i, o, g, attrs):
    """Zero, as MXNet 1.9.1's ``_backward_contrib_box_iou``."""
    nd = G.nd()
    return [nd.zeros_like(i[0]), nd.zeros_like(i[1])]


_NMS = "_contrib_box_nms"


def _nms_check(shape, coord_start, score_index, id_index):
    if len(shape) < 2:
        raise ShapeError("%s: data must have at least 2 dimensions (..., num_boxes, box_width), got shape %s"
                         % (_NMS, tuple(shape)))
    k = shape[-1]
    if not 0 <= coord_start <= k - 4:
        raise ShapeError("%s: attribute coord_start=%d needs 4 coordinates within box width %d (shape %s)"
                         % (_NMS, coord_start, k, tuple(shape)))
    if not 0 <= score_index < k:
        raise ShapeError("%s: attribute score_index=%d is outside box width %d (shape %s)"
                         % (_NMS, score_index, k, tuple(shape)))
    if id_index >= k:
        raise ShapeError("%s: attribute id_index=%d is outside box width %d (shape %s)"
                         % (_NMS, id_index, k, tuple(shape)))


@register(_NMS, aliases=("_contrib_box_non_maximum_suppression",), num_outputs=2, num_visible_outputs=1,
          output_names=("output0",))
def _box_nms(xp, data, *, overlap_thresh=0.5, valid_thresh=0.0, topk=-1, coord_start=2, score_index=1,
             id_index=-1, background_id=-1, force_suppress=False, in_format="corner", out_format="corner"):
    """Non-maximum suppression of the boxes of ``data`` (..., N, K) (leading axes are batches).
    Boxes with score > ``valid_thresh`` (and class id != ``background_id`` when both
    ``id_index`` and ``background_id`` are >= 0) are sorted by descending score (ties keep their
    order), the first ``topk`` (all when -1) take part, and a box is dropped when a kept box of
    higher rank overlaps it with IoU > ``overlap_thresh`` (only boxes of the same id unless
    ``force_suppress`` or ``id_index`` < 0).  The kept boxes come first in score order, the other
    rows are -1; coordinates are converted from ``in_format`` to ``out_format``.  A hidden second
    output holds each output row's index in the input (-1 for filled rows) for the gradient.

    The greedy suppression is computed as the fixed point of ``keep_j = candidate_j and no kept
    i < j suppresses j`` over the (B, N, N) IoU matrix: each sweep fixes at least one more rank,
    and it usually converges in a few sweeps."""
    cs, si, ii, bg = int(coord_start), int(score_index), int(id_index), int(background_id)
    _nms_check(data.shape, cs, si, ii)
    fin = _box_format(_NMS, "in_format", in_format)
    fout = _box_format(_NMS, "out_format", out_format)
    shape = data.shape
    n, k = shape[-2], shape[-1]
    x = data.reshape(-1, n, k)
    valid = x[:, :, si] > valid_thresh
    if ii >= 0 and bg >= 0:
        valid &= x[:, :, ii] != bg
    key = xp.where(valid, x[:, :, si].astype(np.float64), -np.inf)
    order = xp.argsort(-key, axis=1, kind="stable")
    srt = xp.take_along_axis(x, order[:, :, None], axis=1)
    cand = xp.take_along_axis(valid, order, axis=1)
    if int(topk) > 0:
        cand &= xp.arange(n)[None, :] < int(topk)
    boxes = _to_corner(xp, srt[:, :, cs:cs + 4], fin)
    sup = _pairwise_iou(xp, boxes, boxes) > overlap_thresh                    # (B, N, N)
    if ii >= 0 and not _truthy(force_suppress):
        ids = srt[:, :, ii]
        sup &= ids[:, :, None] == ids[:, None, :]
    sup &= xp.triu(xp.ones((n, n), dtype=bool), 1)[None]                    # only i < j suppresses j
    keep = cand
    for _ in range(n + 1):
        new = cand & ~xp.any(keep[:, :, None] & sup, axis=1)
        if bool(xp.array_equal(new, keep)):
            break
        keep = new
    perm = xp.argsort(~keep, axis=1, kind="stable")                          # kept rows first
    out = xp.take_along_axis(srt, perm[:, :, None], axis=1)
    rec = xp.take_along_axis(order, perm, axis=1)
    filled = xp.arange(n)[None, :] >= keep.sum(axis=1, keepdims=True)
    if fin != fout:
        c = out[:, :, cs:cs + 4]
        if fout == "center":
            conv = xp.concatenate([(c[..., 0:2] + c[..., 2:4]) / c.dtype.type(2), c[..., 2:4] - c[..., 0:2]], -1)
        else:
            conv = _to_corner(xp, c, "center")
        out = out.copy()
        out[:, :, cs:cs + 4] = conv
    out = xp.where(filled[:, :, None], data.dtype.type(-1), out)
    rec = xp.where(filled, -1, rec)
    return out.reshape(shape), rec.reshape(shape[:-1])


@_box_nms.def_grad
def _box_nms_grad(i, o, g, attrs):
    """Each output row's gradient goes back to its input row (suppressed rows get 0), as in
    MXNet: ``onehot(record)^T @ g`` per batch."""
    nd = G.nd()
    shape = i[0].shape
    n, k = shape[-2], shape[-1]
    rec = o[1].reshape((-1, n))
    onehot = nd.one_hot(rec, n, dtype=g[0].dtype)                            # (B, N_out, N_in)
    gin = nd.batch_dot(onehot, g[0].reshape((-1, n, k)), transpose_a=True)
    return [gin.reshape(shape)]


# ---------------------------------------------------------------- boolean_mask / index_copy
_BM = "_contrib_boolean_mask"


def _mask_check(data_shape, index_shape, axis):
    if int(axis) != 0:
        raise NotSupportedError("%s: only axis=0 is supported (as in MXNet 1.9.1), got axis=%s" % (_BM, axis))
    if len(data_shape) < 1 or len(index_shape) != 1 or index_shape[0] != data_shape[0]:
        raise ShapeError("%s: index must be 1-D with one entry per row of data: data %s, index %s"
                         % (_BM, tuple(data_shape), tuple(index_shape)))


@register(_BM)
def _boolean_mask(xp, data, index, *, axis=0):
    """The rows of ``data`` whose entry in ``index`` (1-D, one per row) is nonzero, in order;
    the output's first dimension depends on the values (0 rows when none is set)."""
    _mask_check(data.shape, index.shape, axis)
    return data[index != 0]


@_boolean_mask.def_grad
def _boolean_mask_grad(i, o, g, attrs):
    """The head gradient scattered back to the selected rows (zeros elsewhere); no gradient
    for ``index``."""
    return [G.nd().invoke(_backward_boolean_mask, [g[0], i[1]], {}), None]


def _boolean_mask_backward(xp, ograd, index):
    """Adjoint of :func:`_boolean_mask` for mask ``index`` (N,): ``ograd`` (M, ...) placed at
    the M rows where ``index`` is nonzero of a zero (N, ...) array."""
    sel = index != 0
    out = xp.zeros((index.shape[0],) + ograd.shape[1:], dtype=ograd.dtype)
    out[sel] = ograd
    return out


_backward_boolean_mask = register("_backward_contrib_boolean_mask")(_boolean_mask_backward)


@_backward_boolean_mask.def_grad
def _boolean_mask_backward_grad(i, o, g, attrs):
    """The adjoint of the scatter is the mask itself."""
    return [G.nd().invoke(_boolean_mask, [g[0], i[1]], {}), None]


_IC = "_contrib_index_copy"


@register(_IC)
def _index_copy(xp, old_tensor, index_vector, new_tensor):
    """A copy of ``old_tensor`` whose rows ``index_vector[i]`` are replaced by ``new_tensor[i]``
    (``new_tensor`` has shape ``(len(index_vector),) + old_tensor.shape[1:]``; with repeated
    indices the last row wins, as in MXNet)."""
    if (index_vector.ndim != 1 or old_tensor.ndim < 1
            or tuple(new_tensor.shape) != (index_vector.shape[0],) + tuple(old_tensor.shape[1:])):
        raise ShapeError("%s: expected index_vector (M,) and new_tensor (M,) + old_tensor.shape[1:], got "
                         "old_tensor %s, index_vector %s, new_tensor %s"
                         % (_IC, tuple(old_tensor.shape), tuple(index_vector.shape), tuple(new_tensor.shape)))
    idx = index_vector.astype(np.int64)
    n = old_tensor.shape[0]
    if idx.size and bool(((idx < 0) | (idx >= n)).any()):
        raise MXIndexError("%s: index_vector has entries outside [0, %d) (old_tensor shape %s)"
                           % (_IC, n, tuple(old_tensor.shape)))
    out = old_tensor.copy()
    out[idx] = new_tensor.astype(out.dtype, copy=False)
    return out


@_index_copy.def_grad
def _index_copy_grad(i, o, g, attrs):
    """old_tensor: the head gradient with the replaced rows zeroed; new_tensor: the head
    gradient's rows ``index_vector``; index_vector: none."""
    nd = G.nd()
    old, idx = i[0], i[1]
    n = old.shape[0]
    hit = nd.clip(nd.sum(nd.one_hot(idx, n, dtype=g[0].dtype), axis=0), 0, 1)
    keep = (1 - hit).reshape((n,) + (1,) * (old.ndim - 1))
    return [nd.broadcast_mul(g[0], keep), None, nd.take(g[0], idx, axis=0)]


# ---------------------------------------------------------------- elementwise helpers
_AL = "_contrib_arange_like"


@register(_AL)
def _arange_like(xp, data, *, start=0.0, step=1.0, repeat=1, ctx=None, axis=None):
    """``start + step * (i // repeat)`` for i = 0, 1, ... in the shape of ``data`` (or, with
    ``axis``, a 1-D array of length ``data.shape[axis]``), in ``data``'s dtype (for an integer
    dtype ``start`` and ``step`` are truncated to integers first, as in MXNet)."""
    rep = int(repeat)
    if rep <= 0:
        raise MXNetError("%s: attribute repeat=%s must be positive" % (_AL, repeat))
    if axis is None or (isinstance(axis, str) and axis.strip() in ("", "None")):
        shape = data.shape
    else:
        ax = int(axis)
        if not -data.ndim <= ax < data.ndim:
            raise ShapeError("%s: attribute axis=%d is out of range for data of shape %s"
                             % (_AL, ax, tuple(data.shape)))
        shape = (data.shape[ax],)
    size = int(np.prod(shape))
    st, sp = float(start), float(step)
    if data.dtype.kind in "iub":  # MXNet casts start and step to the output dtype first
        st, sp = float(int(st)), float(int(sp))
    vals = st + sp * (xp.arange(size, dtype=np.float64) // rep)
    return vals.astype(data.dtype).reshape(shape)


@_arange_like.def_grad
def _arange_like_grad(i, o, g, attrs):
    """Zero: the output depends only on ``data``'s shape."""
    return [G.nd().zeros_like(i[0])]


@register("_contrib_div_sqrt_dim")
def _div_sqrt_dim(xp, data):
    """``data / sqrt(data.shape[-1])`` (the scaling of dot-product attention)."""
    if data.ndim < 1 or data.shape[-1] == 0:
        raise ShapeError("_contrib_div_sqrt_dim: data needs a nonempty last axis, got shape %s"
                         % (tuple(data.shape),))
    return (data / data.dtype.type(np.sqrt(data.shape[-1]))).astype(data.dtype, copy=False)


@_div_sqrt_dim.def_grad
def _div_sqrt_dim_grad(i, o, g, attrs):
    """``g / sqrt(d)``."""
    return [G.nd().contrib.div_sqrt_dim(g[0])]


@register("_contrib_quadratic")
def _quadratic(xp, data, *, a=0.0, b=0.0, c=0.0):
    """``a * data**2 + b * data + c`` elementwise, in ``data``'s dtype (integer data is computed
    in floating point and truncated, as in MXNet)."""
    x = data.astype(np.float64) if data.dtype.kind in "iub" else data
    t = x.dtype.type
    return (t(float(a)) * x * x + t(float(b)) * x + t(float(c))).astype(data.dtype, copy=False)


@_quadratic.def_grad
def _quadratic_grad(i, o, g, attrs):
    """``(2 a x + b) * g``."""
    a, b = float(attrs.get("a", 0.0)), float(attrs.get("b", 0.0))
    return [g[0] * (i[0] * (2 * a) + b)]
