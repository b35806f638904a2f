"""Window reductions: ``Pooling`` (max / avg / sum / lp, 1-D to 3-D) and ``LRN``.

Pooling pads the input once and then reduces over the kernel by combining one strided
view per kernel position (``prod(kernel)`` vectorised steps; no loop over pixels).  The
gradients are dedicated ops computing on raw arrays: max pooling routes each output
gradient to the first input of its window equal to the maximum, as MXNet does.
"""
import numpy as np

from ..base import MXNetError, NotSupportedError, ShapeError
from .registry import register
from .im2col import spatial_tuple, out_size, pad_spatial, kernel_offsets, window_slices, placeholder
from . import _grad_util as G

_POOL_TYPES = ("max", "avg", "sum", "lp")
_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _truthy(v):
    return v in (True, "True", "true", 1, "1")


def _geometry(data, kernel, global_pool, pooling_convention, stride, pad, layout):
    """(kernel, stride, pad, out, pad_after): window geometry with the extra trailing pad
    that the 'full' convention needs for its last, partial windows."""
    nd = data.ndim - 2
    if nd not in _LAYOUTS:
        raise ShapeError("Pooling: data must be 3-D, 4-D or 5-D (NCW/NCHW/NCDHW), got shape %s"
                         % (tuple(data.shape),))
    if layout not in (None, "None", _LAYOUTS[nd]):
        raise NotSupportedError("Pooling: layout %r is not supported for %d-D data; psnet pools in "
                                "channels-first layout %s" % (layout, data.ndim, _LAYOUTS[nd]))
    sp = data.shape[2:]
    if _truthy(global_pool):
        return tuple(sp), (1,) * nd, (0,) * nd, (1,) * nd, (0,) * nd
    if kernel in (None, (), [], "", "()"):
        raise MXNetError("Pooling: attribute kernel is required unless global_pool=True")
    k = spatial_tuple(kernel, nd, 1, "kernel", "Pooling")
    s = spatial_tuple(stride, nd, 1, "stride", "Pooling")
    p = spatial_tuple(pad, nd, 0, "pad", "Pooling")
    if pooling_convention not in ("valid", "full"):
        raise MXNetError("Pooling: pooling_convention must be 'valid' or 'full', got %r"
                         % (pooling_convention,))
    out = tuple(out_size(sp[i], k[i], s[i], 1, p[i], ceil=pooling_convention == "full")
                for i in range(nd))
    if min(out) <= 0:
        raise ShapeError("Pooling: kernel %s does not fit input %s padded by %s" % (k, tuple(data.shape), p))
    after = tuple(max(p[i], (out[i] - 1) * s[i] + k[i] - sp[i] - p[i]) for i in range(nd))
    return k, s, p, out, after


def _avg_count(k, s, p, out, sp, include_pad):
    """Per-window element counts (shape ``out``) for average pooling: windows are clipped
    to the padded input (include_pad) or to the real input (not include_pad)."""
    count = np.ones((), dtype=np.float64)
    for i in range(len(k)):
        start = np.arange(out[i]) * s[i]
        end = np.minimum(start + k[i], sp[i] + 2 * p[i])
        if not include_pad:
            start, end = np.maximum(start, p[i]), np.minimum(end, sp[i] + p[i])
        count = np.multiply.outer(count, np.maximum(end - start, 1))
    return count


def _padded(xp, data, pool_type, p, after):
    fill = -np.inf if pool_type == "max" else 0
    if pool_type == "max" and data.dtype.kind in "iu":
        fill = np.iinfo(data.dtype).min
    return pad_spatial(xp, data, p, after, value=fill)


def _pooling(xp, data, kernel=(), pool_type="max", global_pool=False, cudnn_off=False,
             pooling_convention="valid", stride=(), pad=(), p_value=None, count_include_pad=None,
             layout=None):
    """MXNet's ``Pooling`` over the spatial axes of (N, C, *spatial) data.

    ``pool_type`` max/avg/sum/lp (``p_value`` for lp), ``global_pool`` pools each channel
    to one value, ``pooling_convention`` 'valid' (floor) or 'full' (ceil), and
    ``count_include_pad`` (default True) decides whether padding counts in averages.
    """
    if pool_type not in _POOL_TYPES:
        raise MXNetError("Pooling: pool_type must be one of %s, got %r" % ("/".join(_POOL_TYPES), pool_type))
    k, s, p, out, after = _geometry(data, kernel, global_pool, pooling_convention, stride, pad, layout)
    if _truthy(global_pool) and pool_type != "lp":
        axes = tuple(range(2, data.ndim))
        red = {"max": xp.max, "avg": xp.mean, "sum": xp.sum}[pool_type]
        return red(data, axis=axes, keepdims=True)
    xpad = _padded(xp, data, pool_type, p, after)
    pv = int(p_value or 2)
    acc = None
    for off in kernel_offsets(k):
        win = xpad[(Ellipsis,) + window_slices(off, out, s, (1,) * len(k))]
        if pool_type == "lp":
            win = win ** pv
        if acc is None:
            acc = win.copy()
        elif pool_type == "max":
            xp.maximum(acc, win, out=acc)
        else:
            acc += win
    if pool_type == "avg":
        include = count_include_pad is None or _truthy(count_include_pad)
        acc /= xp.asarray(_avg_count(k, s, p, out, data.shape[2:], include).astype(acc.dtype))
    elif pool_type == "lp":
        if pv != 1:
            acc = xp.sign(acc) * xp.abs(acc) ** (1.0 / pv)  # MXNet takes the signed root
        acc = acc.astype(data.dtype, copy=False)
    return acc


def _pooling_backward(xp, ograd, data, output, kernel=(), pool_type="max", global_pool=False,
                      pooling_convention="valid", stride=(), pad=(), p_value=None,
                      count_include_pad=None, layout=None):
    """Gradient of Pooling w.r.t. its data, from the output gradient and the forward output."""
    k, s, p, out, after = _geometry(data, kernel, global_pool, pooling_convention, stride, pad, layout)
    xpad = _padded(xp, data, pool_type, p, after)
    dxp = xp.zeros(xpad.shape, dtype=ograd.dtype)
    g = ograd
    pv = int(p_value or 2)
    if pool_type == "avg":
        include = count_include_pad is None or _truthy(count_include_pad)
        g = ograd / xp.asarray(_avg_count(k, s, p, out, data.shape[2:], include).astype(ograd.dtype))
    elif pool_type == "lp" and pv != 1:
        mag = xp.abs(output)
        g = xp.where(mag == 0, 0, ograd * xp.where(mag == 0, 1, mag) ** (1 - pv))
    free = xp.ones(output.shape, dtype=bool) if pool_type == "max" else None
    disjoint = all(si >= ki for si, ki in zip(s, k))   # each input element in at most one window
    for off in kernel_offsets(k):
        sl = (Ellipsis,) + window_slices(off, out, s, (1,) * len(k))
        if pool_type == "max":
            hit = xp.equal(xpad[sl], output)
            hit &= free
            free ^= hit                                  # hit is a subset of free
            if disjoint:
                xp.multiply(g, hit, out=dxp[sl])
            else:
                dxp[sl] += g * hit
        elif pool_type == "lp" and pv != 1:
            dxp[sl] += g * xpad[sl] ** (pv - 1)
        else:
            dxp[sl] += g
    crop = (Ellipsis,) + tuple(slice(pi, pi + n) for pi, n in zip(p, data.shape[2:]))
    return xp.ascontiguousarray(dxp[crop])


def _pool_infer_shape(attrs, in_shapes):
    data = in_shapes[0]
    if data is None:
        return None
    out = _geometry(placeholder(data), attrs.get("kernel"), attrs.get("global_pool", False),
                    attrs.get("pooling_convention", "valid"), attrs.get("stride"), attrs.get("pad"),
                    attrs.get("layout"))[3]
    return [tuple(data)], [tuple(data[:2]) + tuple(out)], []


Pooling = register("Pooling", infer_shape=_pool_infer_shape)(_pooling)
_backward_Pooling = register("_backward_Pooling")(_pooling_backward)


@Pooling.def_grad
def _pooling_grad(inputs, outputs, ograds, attrs):
    keys = ("kernel", "pool_type", "global_pool", "pooling_convention", "stride", "pad", "p_value",
            "count_include_pad", "layout")
    return [G.nd().invoke(_backward_Pooling, [ograds[0], inputs[0], outputs[0]], {k: attrs[k] for k in keys})]


# ------------------------------------------------------------------ LRN
def _channel_window_sum(xp, x, nsize):
    """Sum over a centred window of ``nsize`` channels (zero beyond the edges), via a
    cumulative sum along the channel axis."""
    half = nsize // 2
    n, c = x.shape[:2]
    cs = xp.zeros((n, c + 2 * half + 1) + x.shape[2:], dtype=x.dtype)
    xp.cumsum(x, axis=1, out=cs[:, half + 1:c + half + 1])
    cs[:, c + half + 1:] = cs[:, c + half:c + half + 1]
    return cs[:, nsize:nsize + c] - cs[:, :c]


def _lrn_norm(xp, data, alpha, knorm, nsize):
    return knorm + (alpha / nsize) * _channel_window_sum(xp, data * data, nsize)


def _lrn(xp, data, alpha=1e-4, beta=0.75, knorm=2.0, nsize=5):
    """Local response normalisation across channels (MXNet's ``LRN``):
    ``out = data / (knorm + alpha/nsize * sum_{nsize channels} data**2) ** beta``."""
    nsize = int(nsize)
    if nsize % 2 == 0:
        raise MXNetError("LRN: nsize must be odd, got %d" % nsize)
    return data * _lrn_norm(xp, data, alpha, knorm, nsize) ** (-beta)


def _lrn_backward(xp, ograd, data, alpha=1e-4, beta=0.75, knorm=2.0, nsize=5):
    """Gradient of LRN w.r.t. its data, on raw arrays."""
    nsize = int(nsize)
    norm = _lrn_norm(xp, data, alpha, knorm, nsize)
    scaled = norm ** (-beta)
    inner = _channel_window_sum(xp, ograd * data * scaled / norm, nsize)
    return ograd * scaled - (2.0 * alpha * beta / nsize) * data * inner


LRN = register("LRN")(_lrn)
_backward_LRN = register("_backward_LRN")(_lrn_backward)


@LRN.def_grad
def _lrn_grad(inputs, outputs, ograds, attrs):
    keys = ("alpha", "beta", "knorm", "nsize")
    return [G.nd().invoke(_backward_LRN, [ograds[0], inputs[0]], {k: attrs[k] for k in keys})]
