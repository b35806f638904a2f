"""MXNet 1.x's legacy layer operators: ``L2Normalization``, ``MakeLoss``, ``SVMOutput``,
``Crop`` (the FCN crop), ``im2col`` and ``col2im``.

Gradients are written with ``mx.nd`` ops (differentiable) except for the loss heads
``MakeLoss`` and ``SVMOutput``, whose backward ignores the head gradient as MXNet's does.
"""
import math

from ..base import MXNetError, ShapeError
from .attrs import int_tuple
from . import _grad_util as G
from .im2col import col2im as _col2im_raw, im2col as _im2col_raw, out_size, pad_spatial, spatial_tuple
from .registry import register


# ----------------------------------------------------------------------------- L2Normalization
def _l2_axes(mode, ndim):
    if mode == "instance":
        return tuple(range(1, ndim))
    if mode == "channel":
        return (1,)
    if mode == "spatial":
        return tuple(range(2, ndim))
    raise MXNetError("L2Normalization: mode must be 'instance', 'channel' or 'spatial', got %r" % (mode,))


def _l2_check(data, mode):
    need = 2 if mode in ("instance", "channel") else 3
    if data.ndim < need:
        raise ShapeError("L2Normalization: mode=%r needs an input with at least %d dimensions, got shape %s"
                         % (mode, need, tuple(data.shape)))


@register("L2Normalization")
def l2_normalization(xp, data, eps=1e-10, mode="instance"):
    """``data / sqrt(sum(data**2) + eps)``, the sum over every axis but the batch axis
    (``mode='instance'``), over the channel axis 1 (``'channel'``) or over the spatial
    axes 2.. (``'spatial'``)."""
    _l2_check(data, mode)
    axes = _l2_axes(mode, data.ndim)
    norm = xp.sqrt(xp.sum(data * data, axis=axes, keepdims=True) + data.dtype.type(eps))
    return data / norm


@l2_normalization.def_grad
def _l2_normalization_grad(i, o, g, attrs):
    nd = G.nd()
    x, y, gy = i[0], o[0], g[0]
    axes = _l2_axes(attrs["mode"], x.ndim)
    norm = nd.sqrt(nd.sum(x * x, axis=axes, keepdims=True) + float(attrs["eps"]))
    proj = nd.sum(gy * y, axis=axes, keepdims=True)
    return [nd.broadcast_div(gy - nd.broadcast_mul(y, proj), norm)]


# ----------------------------------------------------------------------------- MakeLoss
@register("MakeLoss", aliases=("make_loss",))
def make_loss(xp, data, grad_scale=1.0, valid_thresh=0.0, normalization="null"):
    """Identity forward marking ``data`` as a loss.  Backward ignores the head gradient and
    gives ``grad_scale`` per element, divided by the batch size (``normalization='batch'``)
    or by the number of elements above ``valid_thresh`` (``'valid'``, at least 1)."""
    if normalization not in ("null", "batch", "valid"):
        raise MXNetError("MakeLoss: normalization must be 'null', 'batch' or 'valid', got %r"
                         % (normalization,))
    return data.copy()


@make_loss.def_grad
def _make_loss_grad(i, o, g, attrs):
    nd = G.nd()
    x = i[0]
    scale = float(attrs["grad_scale"])
    mode = attrs["normalization"]
    if mode == "batch":
        scale /= x.shape[0]
    elif mode == "valid":
        count = float((x._data > x._data.dtype.type(attrs["valid_thresh"])).sum())
        scale /= max(count, 1.0)
    return [nd.ones_like(x) * scale]


# ----------------------------------------------------------------------------- SVMOutput
@register("SVMOutput")
def svm_output(xp, data, label, margin=1.0, regularization_coefficient=1.0, use_linear=False):
    """Identity forward of a one-vs-all SVM loss head over ``data`` (batch, classes...)
    with integer class ``label`` (batch,).  Backward (head gradient ignored) is the hinge
    gradient: L1 (``use_linear``) or squared (L2) hinge with ``margin``, times
    ``regularization_coefficient``."""
    if label.size != data.shape[0]:
        raise ShapeError("SVMOutput: label of shape %s does not give one class per row of data %s"
                         % (tuple(label.shape), tuple(data.shape)))
    return data.copy()


@svm_output.def_grad
def _svm_output_grad(i, o, g, attrs):
    nd = G.nd()
    data, label = i
    xp = data.context.backend.xp
    x = data._data.reshape(data.shape[0], -1)
    dt = x.dtype.type
    margin, reg = dt(attrs["margin"]), dt(attrs["regularization_coefficient"])
    lab = label._data.reshape(-1).astype(xp.int64)
    hit = xp.zeros(x.shape, dtype=bool)
    hit[xp.arange(x.shape[0]), lab] = True
    if attrs["use_linear"]:
        other = (margin > -x).astype(x.dtype) * reg
        own = -(margin > x).astype(x.dtype) * reg
    else:
        other = xp.where(margin > -x, dt(2) * (margin + x), dt(0)) * reg
        own = xp.where(margin > x, dt(-2) * (margin - x), dt(0)) * reg
    grad = xp.where(hit, own, other).reshape(data.shape)
    return [nd.from_backend(grad, data.context), None]


# ----------------------------------------------------------------------------- Crop
def _crop_inputs(attrs):
    n = int(attrs.get("num_args", 1))
    if n not in (1, 2):
        raise MXNetError("Crop: num_args must be 1 or 2, got %d" % n)
    return ["arg0", "arg1"][:n]


def _pair(v, name):
    return spatial_tuple(v, 2, 0, name, "Crop")


def _crop_window(shape, ref_shape, num_args, offset, h_w, center_crop):
    """(top, left, h, w) of the crop of an NCHW ``shape``."""
    if len(shape) != 4:
        raise ShapeError("Crop: data must be 4-D (N, C, H, W), got shape %s" % (tuple(shape),))
    if int(num_args) == 2:
        if ref_shape is None or len(ref_shape) != 4:
            raise ShapeError("Crop: the reference input must be 4-D, got shape %s" % (ref_shape,))
        h, w = int(ref_shape[2]), int(ref_shape[3])
    else:
        h, w = _pair(h_w, "h_w")
    H, W = int(shape[2]), int(shape[3])
    if center_crop:
        top, left = (H - h) // 2, (W - w) // 2
    else:
        top, left = _pair(offset, "offset")
    if h <= 0 or w <= 0 or top < 0 or left < 0 or top + h > H or left + w > W:
        raise ShapeError("Crop: window of size %s at offset %s does not fit in data of shape %s"
                         % ((h, w), (top, left), tuple(shape)))
    return top, left, h, w


def _crop_shape(attrs, in_shapes):
    if in_shapes[0] is None or (len(in_shapes) > 1 and in_shapes[1] is None):
        return None
    ref = in_shapes[1] if len(in_shapes) > 1 else None
    top, left, h, w = _crop_window(in_shapes[0], ref, attrs.get("num_args", 1), attrs.get("offset", (0, 0)),
                                   attrs.get("h_w", (0, 0)), attrs.get("center_crop", False))
    return list(in_shapes), [tuple(in_shapes[0][:2]) + (h, w)]


@register("Crop", inputs=_crop_inputs, infer_shape=_crop_shape)
def crop(xp, *data, num_args=1, offset=(0, 0), h_w=(0, 0), center_crop=False):
    """The legacy FCN crop of NCHW ``data[0]``: to ``h_w`` (``num_args=1``) or to the
    height and width of ``data[1]`` (``num_args=2``), at ``offset`` (y, x) or centred
    (``center_crop``)."""
    if len(data) != int(num_args):
        raise MXNetError("Crop: num_args=%d but %d inputs were given" % (int(num_args), len(data)))
    ref = data[1].shape if len(data) > 1 else None
    top, left, h, w = _crop_window(data[0].shape, ref, num_args, offset, h_w, center_crop)
    return data[0][:, :, top:top + h, left:left + w].copy()


@crop.def_grad
def _crop_grad(i, o, g, attrs):
    nd = G.nd()
    x = i[0]
    ref = i[1].shape if len(i) > 1 else None
    top, left, h, w = _crop_window(x.shape, ref, attrs["num_args"], attrs["offset"], attrs["h_w"],
                                   attrs["center_crop"])
    pad = (0, 0, 0, 0, top, x.shape[2] - top - h, left, x.shape[3] - left - w)
    gx = nd.Pad(g[0], mode="constant", pad_width=pad, constant_value=0.0)
    return [gx] + [None] * (len(i) - 1)


# ----------------------------------------------------------------------------- im2col / col2im
def _geometry(op, nd_, kernel, stride, dilate, pad):
    k = spatial_tuple(kernel, nd_, 1, "kernel", op)
    s = spatial_tuple(stride, nd_, 1, "stride", op)
    d = spatial_tuple(dilate, nd_, 1, "dilate", op)
    p = spatial_tuple(pad, nd_, 0, "pad", op)
    return k, s, d, p


def _kernel_ndim(kernel):
    return len(int_tuple("im2col", "kernel", kernel))


def _outs(op, sizes, k, s, d, p):
    outs = tuple(out_size(n, kk, ss, dd, pp) for n, kk, ss, dd, pp in zip(sizes, k, s, d, p))
    if any(o <= 0 for o in outs):
        raise ShapeError("%s: kernel %s (dilate %s) does not fit the padded input of spatial shape %s "
                         "(pad %s)" % (op, k, d, tuple(sizes), p))
    return outs


@register("im2col")
def im2col(xp, data, kernel=None, stride=(), dilate=(), pad=()):
    """Sliding windows of ``data`` (N, C, *spatial) as columns: output (N, C*prod(kernel), L)
    with rows ordered (c, kernel position) and L the number of window positions."""
    if kernel is None:
        raise MXNetError("operator im2col needs attribute kernel")
    nsp = _kernel_ndim(kernel)
    if data.ndim != nsp + 2:
        raise ShapeError("im2col: a %d-D kernel needs a %d-D input, got shape %s"
                         % (nsp, nsp + 2, tuple(data.shape)))
    k, s, d, p = _geometry("im2col", nsp, kernel, stride, dilate, pad)
    outs = _outs("im2col", data.shape[2:], k, s, d, p)
    cols = _im2col_raw(xp, pad_spatial(xp, data, p), k, s, d, outs)
    n, c = data.shape[:2]
    return xp.ascontiguousarray(cols.reshape(c * math.prod(k), n, math.prod(outs)).transpose(1, 0, 2))


@im2col.def_grad
def _im2col_grad(i, o, g, attrs):
    nd = G.nd()
    x = i[0]
    return [nd.col2im(g[0], output_size=tuple(x.shape[2:]), kernel=attrs["kernel"], stride=attrs["stride"],
                      dilate=attrs["dilate"], pad=attrs["pad"])]


@register("col2im")
def col2im(xp, data, output_size=None, kernel=None, stride=(), dilate=(), pad=()):
    """The adjoint of :func:`im2col`: columns ``data`` (N, C*prod(kernel), L) summed back
    into an (N, C, *output_size) image (overlapping windows add up)."""
    if kernel is None or output_size is None:
        raise MXNetError("operator col2im needs attributes output_size and kernel")
    nsp = _kernel_ndim(kernel)
    k, s, d, p = _geometry("col2im", nsp, kernel, stride, dilate, pad)
    size = spatial_tuple(output_size, nsp, 1, "output_size", "col2im")
    outs = _outs("col2im", size, k, s, d, p)
    K, L = math.prod(k), math.prod(outs)
    if data.ndim != 3 or data.shape[1] % K or data.shape[2] != L:
        raise ShapeError("col2im: input of shape %s is not (N, C*%d, %d) for kernel %s and output_size %s"
                         % (tuple(data.shape), K, L, k, size))
    n, c = data.shape[0], data.shape[1] // K
    cols = data.transpose(1, 0, 2).reshape(c * K, n * L)
    padded = tuple(sz + 2 * pp for sz, pp in zip(size, p))
    img = _col2im_raw(xp, cols, n, c, padded, k, s, d, outs)
    crop = img[(slice(None), slice(None)) + tuple(slice(pp, pp + sz) for pp, sz in zip(p, size))]
    return xp.ascontiguousarray(crop)


@col2im.def_grad
def _col2im_grad(i, o, g, attrs):
    nd = G.nd()
    return [nd.im2col(g[0], kernel=attrs["kernel"], stride=attrs["stride"], dilate=attrs["dilate"],
                      pad=attrs["pad"])]
