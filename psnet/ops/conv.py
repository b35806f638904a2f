"""Convolution, Deconvolution and UpSampling (MXNet names, attributes and layouts).

Convolution is one GEMM (grouped: one batched GEMM) between the weight, flattened to
``(num_filter, C/num_group * prod(kernel))``, and the im2col matrix of the padded input
(see :mod:`psnet.ops.im2col`).  Ungrouped convolutions of inputs with at least
``_MIN_CHANNELS_LAST`` channels build the channels-last matrix instead (a much faster
copy) and multiply it by the weight with its channel axis moved last.  Its gradient is a dedicated op,
``_backward_Convolution_data`` / ``_backward_Convolution_weight``: the data gradient
as weight^T x output-gradient followed by col2im (or, at stride 1, as a convolution of
the output gradient with the flipped weight), the weight gradient as output-gradient x
im2col^T.
Deconvolution (a transposed convolution) is the same pair of kernels swapped.
"""
import math

from ..base import MXNetError, NotSupportedError, ShapeError
from .registry import register
from .im2col import (spatial_tuple, out_size, pad_spatial, im2col, col2im, im2col_last, col2im_last,
                     placeholder, useful_taps)
from . import _grad_util as G

_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
# below this many input channels the channels-last im2col copies runs too short to pay off
_MIN_CHANNELS_LAST = 4


def _geometry(op, data, attrs_kernel, stride, dilate, pad, layout):
    """Check the input's rank and layout; return (nd, kernel, stride, dilate, pad)."""
    nd = data.ndim - 2
    if nd not in _LAYOUTS:
        raise ShapeError("%s: data must be 3-D, 4-D or 5-D (NCW/NCHW/NCDHW), got shape %s"
                         % (op, tuple(data.shape)))
    if layout not in (None, "None", _LAYOUTS[nd]):
        raise NotSupportedError("%s: layout %r is not supported for %d-D data; psnet computes in "
                                "channels-first layout %s (transpose the data first)"
                                % (op, layout, data.ndim, _LAYOUTS[nd]))
    kernel = spatial_tuple(attrs_kernel, nd, 1, "kernel", op)
    return (nd, kernel, spatial_tuple(stride, nd, 1, "stride", op),
            spatial_tuple(dilate, nd, 1, "dilate", op), spatial_tuple(pad, nd, 0, "pad", op))


def _check_groups(op, channels, num_filter, num_group):
    if channels % num_group or num_filter % num_group:
        raise ShapeError("%s: channels %d and num_filter %d must be divisible by num_group %d"
                         % (op, channels, num_filter, num_group))


def _check_weight(op, weight, expected):
    if tuple(weight.shape) != tuple(expected):
        raise ShapeError("%s: weight has shape %s, expected %s" % (op, tuple(weight.shape), tuple(expected)))


def _grouped_matmul(xp, a, b, g):
    """``a @ b`` where both are split into ``g`` row blocks (a: (g*m, k) as (g, m, k), b: (g*k, n))."""
    if g == 1:
        return a @ b
    return xp.matmul(a.reshape(g, -1, a.shape[-1]), b.reshape(g, -1, b.shape[-1])).reshape(-1, b.shape[-1])


def _channels_first(x):
    """(N, C, *sp) -> (C, N*L) contiguous."""
    n, c = x.shape[:2]
    return x.reshape(n, c, -1).transpose(1, 0, 2).reshape(c, -1)


def _batch_first(xp, y, n, spatial):
    """(C, N*L) -> (N, C, *spatial) contiguous."""
    c = y.shape[0]
    return xp.ascontiguousarray(y.reshape(c, n, -1).transpose(1, 0, 2)).reshape((n, c) + tuple(spatial))


def _channels_last(c, g):
    """Whether a convolution of ``c`` input channels in ``g`` groups uses the channels-last
    column matrix (:func:`im2col_last`)."""
    return g == 1 and c >= _MIN_CHANNELS_LAST


def _weight_last(weight, taps):
    """(F, C, *kernel) -> (F, K*C) over the kernel taps ``taps``, channel axis last (matching
    :func:`im2col_last`'s columns)."""
    kept = weight[(slice(None), slice(None)) + tuple(slice(t0, t1) for t0, t1 in taps)]
    return kept.transpose((0,) + tuple(range(2, weight.ndim)) + (1,)).reshape(weight.shape[0], -1)


def _weight_taps(weight, taps):
    """(F, C, *kernel) -> (K, F, C) over the kernel taps ``taps`` (one (F, C) matrix per tap)."""
    kept = weight[(slice(None), slice(None)) + tuple(slice(t0, t1) for t0, t1 in taps)]
    return kept.transpose(tuple(range(2, weight.ndim)) + (0, 1)).reshape(-1, weight.shape[0], weight.shape[1])


def _rows_to_nchw(xp, y, n, spatial):
    """(N*L, F) -> (N, F, *spatial) contiguous."""
    f = y.shape[1]
    return xp.ascontiguousarray(y.reshape(n, -1, f).transpose(0, 2, 1)).reshape((n, f) + tuple(spatial))


def _nchw_to_rows(xp, x):
    """(N, F, *spatial) -> (N*L, F) contiguous."""
    return xp.ascontiguousarray(xp.moveaxis(x, 1, -1)).reshape(-1, x.shape[1])


def _truthy(v):
    return v in (True, "True", "true", 1, "1")


def _inputs_for(no_bias_default):
    """The input-name function of an op whose bias input exists unless ``no_bias``."""
    def inputs(attrs):
        return ["data", "weight"] if _truthy(attrs.get("no_bias", no_bias_default)) else ["data", "weight", "bias"]
    return inputs


# ------------------------------------------------------------------ Convolution
def _convolution(xp, data, weight, bias=None, kernel=(), stride=(), dilate=(), pad=(), num_filter=0,
                 num_group=1, workspace=1024, no_bias=False, cudnn_tune=None, cudnn_off=False,
                 layout=None):
    """N-D convolution (1-D/2-D/3-D), MXNet's ``Convolution``.

    ``data`` (N, C, *spatial), ``weight`` (num_filter, C/num_group, *kernel), ``bias``
    (num_filter,) unless ``no_bias``.  Output size per axis:
    ``floor((x + 2*pad - dilate*(kernel-1) - 1) / stride) + 1``.
    """
    nd, k, s, d, p = _geometry("Convolution", data, kernel, stride, dilate, pad, layout)
    n, c = data.shape[:2]
    g, f = int(num_group), int(num_filter)
    _check_groups("Convolution", c, f, g)
    _check_weight("Convolution", weight, (f, c // g) + k)
    out = tuple(out_size(data.shape[2 + i], k[i], s[i], d[i], p[i]) for i in range(nd))
    if min(out) <= 0:
        raise ShapeError("Convolution: kernel %s (dilate %s) does not fit input %s padded by %s"
                         % (k, d, tuple(data.shape), p))
    has_bias = bias is not None and not _truthy(no_bias)
    if _channels_last(c, g):
        taps = useful_taps(data.shape[2:], k, s, d, p, out)
        y = im2col_last(xp, data, taps, s, d, p, out) @ _weight_last(weight, taps).T
        if has_bias:
            y += bias
        return _rows_to_nchw(xp, y, n, out)
    xv, w, kv, _ = _trim(pad_spatial(xp, data, p), weight, k, s, d, p, data.shape[2:], out)
    y = _grouped_matmul(xp, w.reshape(f, -1), im2col(xp, xv, kv, s, d, out), g)
    if has_bias:
        y += bias.reshape(f, 1)
    return _batch_first(xp, y, n, out)


def _trim(xpad, weight, kernel, stride, dilate, pad, sizes, out):
    """Drop the kernel taps that only ever see padding (see :func:`useful_taps`): returns the
    padded data view, weight view and kernel to compute with, and the weight slices kept
    (None when every tap is useful)."""
    taps = useful_taps(sizes, kernel, stride, dilate, pad, out)
    if all(t0 == 0 and t1 == kk for (t0, t1), kk in zip(taps, kernel)):
        return xpad, weight, kernel, None
    keep = (slice(None), slice(None)) + tuple(slice(t0, t1) for t0, t1 in taps)
    view = xpad[(Ellipsis,) + tuple(slice(t0 * dd, None) for (t0, _), dd in zip(taps, dilate))]
    return view, weight[keep], tuple(t1 - t0 for t0, t1 in taps), keep


def _conv_weight_grad(xp, ograd, data, weight, kernel=(), stride=(), dilate=(), pad=(), num_group=1,
                      layout=None):
    """Gradient of Convolution w.r.t. its weight: output-gradient x im2col(data)^T."""
    nd, k, s, d, p = _geometry("Convolution", data, kernel, stride, dilate, pad, layout)
    g, f = int(num_group), weight.shape[0]
    out = ograd.shape[2:]
    if _channels_last(data.shape[1], g):
        taps = useful_taps(data.shape[2:], k, s, d, p, out)
        dw = _nchw_to_rows(xp, ograd).T @ im2col_last(xp, data, taps, s, d, p, out)   # (F, K*C)
        kt = tuple(t1 - t0 for t0, t1 in taps)
        dw = xp.moveaxis(dw.reshape((f,) + kt + (data.shape[1],)), -1, 1)
        if kt == k:
            return xp.ascontiguousarray(dw)
        full = xp.zeros(weight.shape, dtype=weight.dtype)
        full[(slice(None), slice(None)) + tuple(slice(t0, t1) for t0, t1 in taps)] = dw
        return full
    xv, wv, kv, keep = _trim(pad_spatial(xp, data, p), weight, k, s, d, p, data.shape[2:], out)
    cols = im2col(xp, xv, kv, s, d, out)                             # (Cg*K, N*L) per group
    gy = _channels_first(ograd)                                     # (F, N*L)
    if g == 1:
        dw = gy @ cols.T
    else:
        dw = xp.matmul(gy.reshape(g, f // g, -1), cols.reshape(g, -1, cols.shape[1]).transpose(0, 2, 1))
    if keep is None:
        return dw.reshape(weight.shape)
    full = xp.zeros(weight.shape, dtype=weight.dtype)
    full[keep] = dw.reshape(wv.shape)
    return full


def _conv_data_grad(xp, ograd, data, weight, kernel=(), stride=(), dilate=(), pad=(), num_group=1,
                    layout=None):
    """Gradient of Convolution w.r.t. its data (``data`` gives only the shape)."""
    nd, k, s, d, p = _geometry("Convolution", data, kernel, stride, dilate, pad, layout)
    n, c = data.shape[:2]
    g, f = int(num_group), weight.shape[0]
    out = ograd.shape[2:]
    taps = useful_taps(data.shape[2:], k, s, d, p, out)
    if _channels_last(c, g):
        dcols = xp.matmul(_nchw_to_rows(xp, ograd), _weight_taps(weight, taps))      # (K, N*L, C)
        return col2im_last(xp, dcols, data.shape, taps, s, d, p, out)
    padded = tuple(si + 2 * pi for si, pi in zip(data.shape[2:], p))
    full_pad = tuple(dd * (kk - 1) - pi for dd, kk, pi in zip(d, k, p))
    # the stride-1 route copies F*K*N*L_in values where col2im scatters C*K*N*L_out (slower per value)
    cheaper = f * math.prod(data.shape[2:]) <= 1.5 * c * math.prod(out)
    trimmed = any(t0 != 0 or t1 != kk for (t0, t1), kk in zip(taps, k))
    if not trimmed and cheaper and all(si == 1 for si in s) and min(full_pad) >= 0:
        return _data_grad_stride1(xp, ograd, weight, k, d, full_pad, g, data.shape)
    keep = (slice(None), slice(None)) + tuple(slice(t0, t1) for t0, t1 in taps)
    kv = tuple(t1 - t0 for t0, t1 in taps)
    offset = tuple(t0 * dd for (t0, _), dd in zip(taps, d))
    padded = tuple(pd - o for pd, o in zip(padded, offset))
    return _data_grad_col2im(xp, _channels_first(ograd), weight[keep].reshape(f, -1), n, c, g, padded, kv,
                             s, d, out, p, offset, data.shape)


def _data_grad_stride1(xp, ograd, weight, k, d, full_pad, g, shape):
    """Data gradient of a stride-1 convolution as a convolution of the output gradient
    (padded by dilate*(kernel-1) - pad) with the flipped, transposed weight: one im2col
    copy and one GEMM, cheaper than col2im's scatter-adds."""
    f, cg = weight.shape[:2]
    nd = len(k)
    flipped = weight[(slice(None), slice(None)) + (slice(None, None, -1),) * nd]
    wt = flipped.reshape((g, f // g, cg) + k).swapaxes(1, 2).reshape((g * cg, f // g) + k)
    return _convolution(xp, ograd, wt, kernel=k, dilate=d, pad=full_pad, num_filter=g * cg, num_group=g,
                        no_bias=True)


def _data_grad_col2im(xp, gy, w2, n, c, g, padded, kernel, stride, dilate, out, pad, offset, shape):
    """Data gradient as weight^T x output-gradient scattered back by col2im (any stride)."""
    f = w2.shape[0]
    if g == 1:
        dcols = w2.T @ gy
    else:
        dcols = xp.matmul(w2.reshape(g, f // g, -1).transpose(0, 2, 1), gy.reshape(g, f // g, -1))
    dxp = col2im(xp, dcols.reshape(c * math.prod(kernel), -1), n, c, padded, kernel, stride, dilate, out)
    return xp.ascontiguousarray(dxp[(Ellipsis,) + tuple(slice(pi - o, pi - o + shape[2 + i])
                                                        for i, (pi, o) in enumerate(zip(pad, offset)))])


def _conv_infer_shape(attrs, in_shapes):
    data = in_shapes[0]
    if data is None:
        return None
    nd, k, s, d, p = _geometry("Convolution", placeholder(data), attrs.get("kernel"), attrs.get("stride"),
                               attrs.get("dilate"), attrs.get("pad"), attrs.get("layout"))
    f, g = int(attrs["num_filter"]), int(attrs.get("num_group", 1))
    ins = [tuple(data), (f, data[1] // g) + k]
    if not _truthy(attrs.get("no_bias", False)):
        ins.append((f,))
    out = (data[0], f) + tuple(out_size(data[2 + i], k[i], s[i], d[i], p[i]) for i in range(nd))
    return ins, [out], []


Convolution = register("Convolution", inputs=_inputs_for(False), infer_shape=_conv_infer_shape)(_convolution)
Convolution.params.pop("bias")  # an optional input, not an attribute
_backward_Convolution_data = register("_backward_Convolution_data")(_conv_data_grad)
_backward_Convolution_weight = register("_backward_Convolution_weight")(_conv_weight_grad)


_GEOMETRY = ("kernel", "stride", "dilate", "pad", "num_group", "layout")


@Convolution.def_grad
def _convolution_grad(inputs, outputs, ograds, attrs):
    """Data and weight gradients as two ops (a graph needing only one, e.g. a first layer's
    weight, runs only that one), the bias gradient as a sum."""
    nd = G.nd()
    keys = {k: attrs[k] for k in _GEOMETRY}
    args = [ograds[0], inputs[0], inputs[1]]
    grads = [nd.invoke(_backward_Convolution_data, args, keys), nd.invoke(_backward_Convolution_weight, args, keys)]
    if len(inputs) > 2:
        grads.append(nd.sum(ograds[0], axis=(0,) + tuple(range(2, ograds[0].ndim))))
    return grads


def _conv_attrs(attrs, num_filter):
    return dict({k: attrs[k] for k in _GEOMETRY}, num_filter=num_filter, no_bias=True)


# Both gradient ops are bilinear in (output gradient, weight) and (output gradient, data):
# their own gradients are convolutions again, which gives second-order gradients.
@_backward_Convolution_data.def_grad
def _conv_data_grad_grad(inputs, outputs, ograds, attrs):
    nd = G.nd()
    gy, x, w = inputs
    h = ograds[0]
    keys = {k: attrs[k] for k in _GEOMETRY}
    return [nd.invoke(Convolution, [h, w], _conv_attrs(attrs, w.shape[0])), None,
            nd.invoke(_backward_Convolution_weight, [gy, h, w], keys)]


@_backward_Convolution_weight.def_grad
def _conv_weight_grad_grad(inputs, outputs, ograds, attrs):
    nd = G.nd()
    gy, x, w = inputs
    h = ograds[0]
    keys = {k: attrs[k] for k in _GEOMETRY}
    return [nd.invoke(Convolution, [x, h], _conv_attrs(attrs, w.shape[0])),
            nd.invoke(_backward_Convolution_data, [gy, x, h], keys), None]


# ------------------------------------------------------------------ Deconvolution
def _deconv_geometry(data, weight, kernel, stride, dilate, pad, adj, target_shape, num_filter,
                     num_group, layout):
    nd, k, s, d, p = _geometry("Deconvolution", data, kernel, stride, dilate, pad, layout)
    a = spatial_tuple(adj, nd, 0, "adj", "Deconvolution")
    c, g, f = data.shape[1], int(num_group), int(num_filter)
    _check_groups("Deconvolution", c, f, g)
    _check_weight("Deconvolution", weight, (c, f // g) + k)
    full = tuple(s[i] * (data.shape[2 + i] - 1) + d[i] * (k[i] - 1) + 1 for i in range(nd))
    if target_shape not in (None, (), [], "", "()") and any(spatial_tuple(target_shape, nd, 0, "target_shape", "Deconvolution")):
        target = spatial_tuple(target_shape, nd, 0, "target_shape", "Deconvolution")
        total = tuple(fu - t for fu, t in zip(full, target))
        if min(total) < 0:
            raise ShapeError("Deconvolution: target_shape %s is larger than the full output %s"
                             % (target, full))
        a = tuple(t % 2 for t in total)
        p = tuple((t + 1) // 2 for t in total)
    out = tuple(full[i] - 2 * p[i] + a[i] for i in range(nd))
    return nd, k, s, d, p, a, out


def _deconvolution(xp, data, weight, bias=None, kernel=(), stride=(), dilate=(), pad=(), adj=(),
                   target_shape=(), num_filter=0, num_group=1, workspace=512, no_bias=True,
                   cudnn_tune=None, cudnn_off=False, layout=None):
    """N-D transposed convolution, MXNet's ``Deconvolution``.

    ``data`` (N, C, *spatial), ``weight`` (C, num_filter/num_group, *kernel).  Output
    size per axis: ``stride*(x-1) + dilate*(kernel-1) + 1 - 2*pad + adj``; with
    ``target_shape``, pad and adj are chosen to reach it.
    """
    nd, k, s, d, p, a, out = _deconv_geometry(data, weight, kernel, stride, dilate, pad, adj,
                                              target_shape, num_filter, num_group, layout)
    n, c = data.shape[:2]
    g, f = int(num_group), int(num_filter)
    x2 = _channels_first(data)                                       # (C, N*L)
    w2 = weight.reshape(g, c // g, -1).transpose(0, 2, 1)            # (g, Fg*K, Cg)
    cols = w2[0] @ x2 if g == 1 else xp.matmul(w2, x2.reshape(g, c // g, -1)).reshape(f * math.prod(k), -1)
    padded = tuple(o + 2 * pi for o, pi in zip(out, p))
    y = col2im(xp, cols, n, f, padded, k, s, d, data.shape[2:])
    y = xp.ascontiguousarray(y[(Ellipsis,) + tuple(slice(pi, pi + o) for pi, o in zip(p, out))])
    if bias is not None and not _truthy(no_bias):
        y += bias.reshape((1, f) + (1,) * nd)
    return y


def _deconv_backward(xp, ograd, data, weight, kernel=(), stride=(), dilate=(), pad=(), adj=(),
                     target_shape=(), num_filter=0, num_group=1, no_bias=True, layout=None):
    """Gradients of Deconvolution w.r.t. data, weight (and bias), on raw arrays."""
    nd, k, s, d, p, a, out = _deconv_geometry(data, weight, kernel, stride, dilate, pad, adj,
                                              target_shape, num_filter, num_group, layout)
    n, c = data.shape[:2]
    g = int(num_group)
    gpad = pad_spatial(xp, ograd, p)
    cols = im2col(xp, gpad, k, s, d, data.shape[2:])                 # (F*K, N*L_in)
    x2 = _channels_first(data)                                       # (C, N*L_in)
    w2 = weight.reshape(c, -1)                                       # (C, Fg*K)
    if g == 1:
        dx2 = w2 @ cols
        dw = x2 @ cols.T
    else:
        colsg = cols.reshape(g, -1, cols.shape[1])
        dx2 = xp.matmul(w2.reshape(g, c // g, -1), colsg).reshape(c, -1)
        dw = xp.matmul(x2.reshape(g, c // g, -1), colsg.transpose(0, 2, 1))
    res = (_batch_first(xp, dx2, n, data.shape[2:]), dw.reshape(weight.shape))
    if not _truthy(no_bias):
        res = res + (ograd.sum(axis=(0,) + tuple(range(2, 2 + nd))),)
    return res


def _deconv_infer_shape(attrs, in_shapes):
    data = in_shapes[0]
    if data is None:
        return None
    nd = len(data) - 2
    k = spatial_tuple(attrs.get("kernel"), nd, 1, "kernel", "Deconvolution")
    f, g = int(attrs["num_filter"]), int(attrs.get("num_group", 1))
    ins = [tuple(data), (data[1], f // g) + k]
    out = _deconv_geometry(placeholder(data), placeholder(ins[1]), k, attrs.get("stride"), attrs.get("dilate"),
                           attrs.get("pad"), attrs.get("adj"), attrs.get("target_shape"), f, g,
                           attrs.get("layout"))[-1]
    if not _truthy(attrs.get("no_bias", True)):
        ins.append((f,))
    return ins, [(data[0], f) + out], []


Deconvolution = register("Deconvolution", inputs=_inputs_for(True), infer_shape=_deconv_infer_shape)(_deconvolution)
Deconvolution.params.pop("bias")
_backward_Deconvolution = register("_backward_Deconvolution", num_outputs=lambda a: 2 if _truthy(a.get("no_bias", True)) else 3)(_deconv_backward)


@Deconvolution.def_grad
def _deconvolution_grad(inputs, outputs, ograds, attrs):
    keys = ("kernel", "stride", "dilate", "pad", "adj", "target_shape", "num_filter", "num_group",
            "no_bias", "layout")
    return list(G.nd().invoke(_backward_Deconvolution, [ograds[0], inputs[0], inputs[1]],
                              {k: attrs[k] for k in keys}))


# ------------------------------------------------------------------ UpSampling
def _upsampling(xp, *data, scale=1, num_filter=0, sample_type="nearest", multi_input_mode="concat",
                num_args=1, workspace=512):
    """MXNet's ``UpSampling``: nearest-neighbour upsampling of NCHW inputs by ``scale``
    (several inputs are each brought to the first one's upsampled size, then concatenated
    on channels or summed, per ``multi_input_mode``), or ``bilinear`` upsampling of one
    input with a given (C, 1, 2s - s%2, 2s - s%2) weight as a depthwise deconvolution."""
    scale = int(scale)
    if sample_type == "bilinear":
        if len(data) != 2:
            raise MXNetError("UpSampling: bilinear takes data and weight (num_args=2), got %d inputs" % len(data))
        x, w = data
        kk = 2 * scale - scale % 2
        return _deconvolution(xp, x, w, kernel=(kk, kk), stride=(scale, scale),
                              pad=(scale // 2,) * 2, num_filter=x.shape[1],
                              num_group=x.shape[1], no_bias=True)
    if sample_type != "nearest":
        raise MXNetError("UpSampling: sample_type must be 'nearest' or 'bilinear', got %r" % (sample_type,))
    if data[0].ndim != 4:
        raise ShapeError("UpSampling: inputs must be 4-D (NCHW), got shape %s" % (tuple(data[0].shape),))
    h, w = data[0].shape[2] * scale, data[0].shape[3] * scale
    ups = []
    for x in data:
        if h % x.shape[2] or w % x.shape[3] or h // x.shape[2] != w // x.shape[3]:
            raise ShapeError("UpSampling: input of shape %s cannot be upsampled to %dx%d by an integer"
                             " scale" % (tuple(x.shape), h, w))
        r = h // x.shape[2]
        ups.append(x.repeat(r, axis=2).repeat(r, axis=3) if r > 1 else x)
    if len(ups) == 1:
        return ups[0]
    if multi_input_mode == "sum":
        return sum(ups[1:], ups[0])
    return xp.concatenate(ups, axis=1)


def _upsampling_backward(xp, ograd, *data, scale=1, sample_type="nearest", multi_input_mode="concat",
                         num_args=1):
    """Gradients of nearest-neighbour UpSampling w.r.t. each input: the output gradient's
    channel block of that input (or all of it, when summed), summed over each r x r block."""
    grads, c0 = [], 0
    for x in data:
        n, c, h, w = x.shape
        r = ograd.shape[2] // h
        part = ograd if multi_input_mode == "sum" or len(data) == 1 else ograd[:, c0:c0 + c]
        c0 += c
        grads.append(part.reshape(n, c, h, r, w, r).sum(axis=(3, 5)) if r > 1 else part.copy())
    return tuple(grads)


UpSampling = register("UpSampling")(_upsampling)
_backward_UpSampling = register("_backward_UpSampling", num_outputs=lambda a: int(a.get("num_args", 1)))(
    _upsampling_backward)


@UpSampling.def_grad
def _upsampling_grad(inputs, outputs, ograds, attrs):
    nd = G.nd()
    g = ograds[0]
    if attrs["sample_type"] == "bilinear":
        x, w = inputs
        s = int(attrs["scale"])
        kk = 2 * s - s % 2
        return list(nd.invoke(_backward_Deconvolution, [g, x, w], {
            "kernel": (kk, kk), "stride": (s, s), "pad": (s // 2,) * 2,
            "num_filter": x.shape[1], "num_group": x.shape[1], "no_bias": True}))
    res = nd.invoke(_backward_UpSampling, [g] + list(inputs), {
        "scale": attrs["scale"], "multi_input_mode": attrs["multi_input_mode"], "num_args": len(inputs)})
    return res if isinstance(res, list) else [res]
