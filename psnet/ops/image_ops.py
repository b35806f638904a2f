"""MXNet's image operators, ``mx.nd.image.*`` / ``mx.sym.image.*`` (registered as ``_image_*``).

Images are HWC (or NHWC batches) for the geometric ops and ``to_tensor``; ``normalize``
works on its CHW (NCHW) output.  ``resize`` computes exactly what OpenCV 3.4.2 (MXNet's
resize) does, through :mod:`psnet.cv_resize`.  Colour jitter (``random_brightness``,
``random_contrast``, ``random_saturation``, ``random_hue``, ``random_color_jitter``) is
not here yet.

MXNet 1.9.1's CPU ``flip_left_right`` writes wrong values (``[[0,1,2]]`` becomes
``[[2,0,0]]`` per channel); psnet flips.
"""
import numpy as np

from ..base import MXNetError, ShapeError
from . import _grad_util as G
from .registry import register

# the AlexNet PCA lighting: eigenvectors scaled by the eigenvalues, one row per RGB channel
_LIGHTING_EIG = np.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                          [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                          [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]])


def _check_image(data, op):
    if data.ndim not in (3, 4):
        raise ShapeError("image.%s: expected an HWC image or an NHWC batch, got shape %s"
                         % (op, tuple(data.shape)))


def _host(xp, array):
    """``array`` as a NumPy array (a copy from a GPU)."""
    return array if xp is np else xp.asnumpy(array)


# ----------------------------------------------------------------------------- to_tensor
@register("_image_to_tensor")
def to_tensor(xp, data):
    """HWC (NHWC) values in [0, 255] to CHW (NCHW) float32 in [0, 1]."""
    _check_image(data, "to_tensor")
    axes = (2, 0, 1) if data.ndim == 3 else (0, 3, 1, 2)
    return xp.ascontiguousarray(xp.transpose(data.astype(xp.float32) / xp.float32(255), axes))


# ----------------------------------------------------------------------------- normalize
def _channel_values(values, channels, name):
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size not in (1, channels):
        raise MXNetError("image.normalize: %s has %d values but the input has %d channels"
                         % (name, v.size, channels))
    return np.broadcast_to(v, (channels,))


def _per_channel(xp, values, data):
    """Per-channel values shaped to broadcast over a CHW / NCHW ``data``."""
    return xp.asarray(np.asarray(values), dtype=data.dtype).reshape(-1, 1, 1)


@register("_image_normalize")
def normalize(xp, data, mean=0.0, std=1.0):
    """``(data - mean) / std`` per channel of a CHW tensor or an NCHW batch; ``mean`` and
    ``std`` are one value or one per channel.  (MXNet's defaults, four zeros and four ones,
    fail on a 3-channel image; psnet's 0 and 1 fit any.)"""
    if data.ndim not in (3, 4):
        raise ShapeError("image.normalize: expected CHW or NCHW, got shape %s" % (tuple(data.shape),))
    c = data.shape[-3]
    m, s = _channel_values(mean, c, "mean"), _channel_values(std, c, "std")
    return (data - _per_channel(xp, m, data)) / _per_channel(xp, s, data)


@normalize.def_grad
def _normalize_grad(i, o, g, attrs):
    x = i[0]
    c = x.shape[-3]
    std = _channel_values(attrs["std"], c, "std")
    scale = G.nd().array(std.reshape(-1, 1, 1), ctx=x.context, dtype=x.dtype)
    return [G.nd().broadcast_div(g[0], scale)]


# ----------------------------------------------------------------------------- flips
def _flip_axis(data, horizontal):
    """The width (horizontal) or height axis of an HWC / NHWC array."""
    return data.ndim - 2 if horizontal else data.ndim - 3


def _flipped(xp, data, horizontal):
    return xp.ascontiguousarray(xp.flip(data, axis=_flip_axis(data, horizontal)))


def _register_flip(name, horizontal):
    def flip(xp, data):
        _check_image(data, name)
        return _flipped(xp, data, horizontal)
    flip.__doc__ = "Flip an HWC image (NHWC batch) %s." % ("left to right" if horizontal else "top to bottom")
    op = register("_image_" + name)(flip)
    op.def_grad(lambda i, o, g, a: [G.nd().flip(g[0], axis=_flip_axis(g[0], horizontal))])

    def random_flip(xp, data, p=0.5, rng=None):
        _check_image(data, "random_" + name)
        return _flipped(xp, data, horizontal) if float(rng.random()) < p else data.copy()
    random_flip.__doc__ = "Flip with probability ``p`` (one draw per call)."
    register("_image_random_" + name)(random_flip)


_register_flip("flip_left_right", True)
_register_flip("flip_top_bottom", False)


# ----------------------------------------------------------------------------- crop
def _crop_box(shape, x, y, width, height):
    h, w = shape[-3], shape[-2]
    if width <= 0 or height <= 0 or x < 0 or y < 0:
        raise MXNetError("image.crop: x=%d, y=%d, width=%d, height=%d must be non-negative with a "
                         "positive size" % (x, y, width, height))
    if x + width > w or y + height > h:
        raise ShapeError("image.crop: the box x=%d..%d, y=%d..%d does not fit an image of width %d "
                         "and height %d" % (x, x + width, y, y + height, w, h))
    return slice(y, y + height), slice(x, x + width)


@register("_image_crop")
def crop(xp, data, *, x, y, width, height):
    """The ``height`` x ``width`` box at column ``x``, row ``y`` of an HWC image (NHWC batch)."""
    _check_image(data, "crop")
    rows, cols = _crop_box(data.shape, x, y, width, height)
    return xp.ascontiguousarray(data[..., rows, cols, :])


@crop.def_grad
def _crop_grad(i, o, g, attrs):
    x = i[0]
    xp = x.context.backend.xp
    rows, cols = _crop_box(x.shape, attrs["x"], attrs["y"], attrs["width"], attrs["height"])
    full = xp.zeros(x.shape, dtype=g[0].dtype)
    full[..., rows, cols, :] = g[0]._data
    return [G.nd().from_backend(full, x.context)]


# ----------------------------------------------------------------------------- resize
def _resize_target(shape, size, keep_ratio):
    """(width, height) of the output for MXNet's ``size`` (int or (w, h)) and ``keep_ratio``."""
    h, w = shape[-3], shape[-2]
    size = tuple(size) if isinstance(size, (list, tuple)) else (size,)
    if len(size) == 2:
        return int(size[0]), int(size[1])
    s = int(size[0])
    if not keep_ratio:
        return s, s
    if h < w:   # the short side becomes s
        return int(w * s / h), s
    return s, int(h * s / w)


@register("_image_resize")
def resize(xp, data, size=(), keep_ratio=False, interp=1):
    """Resize an HWC image (NHWC batch) to ``size`` = (width, height), or the short side to
    ``size`` with ``keep_ratio`` (both sides otherwise), exactly as OpenCV 3.4.2 does."""
    from .. import cv_resize
    _check_image(data, "resize")
    if size in ((), None):
        raise MXNetError("image.resize needs size (an int or (width, height))")
    w, h = _resize_target(data.shape, size, keep_ratio)
    host = _host(xp, data)
    if host.ndim == 3:
        out = cv_resize.resize(host, w, h, int(interp))
    else:
        out = np.stack([cv_resize.resize(img, w, h, int(interp)) for img in host])
    return xp.asarray(out)


# ----------------------------------------------------------------------------- lighting
def _lighting(xp, data, alpha):
    alpha = np.asarray(alpha, dtype=np.float64).reshape(-1)
    if alpha.size != 3 or data.shape[-1] != 3:
        raise ShapeError("image lighting needs 3 alpha values and an RGB image (3 channels last), "
                         "got %d values and shape %s" % (alpha.size, tuple(data.shape)))
    offset = (_LIGHTING_EIG @ alpha).astype(data.dtype)
    return data + xp.asarray(offset)


@register("_image_adjust_lighting")
def adjust_lighting(xp, data, *, alpha):
    """AlexNet-style PCA lighting: add ``eigvecs @ (alpha * eigvals)`` to each RGB pixel."""
    _check_image(data, "adjust_lighting")
    return _lighting(xp, data, alpha)


@adjust_lighting.def_grad
def _adjust_lighting_grad(i, o, g, attrs):
    return [g[0]]


@register("_image_random_lighting")
def random_lighting(xp, data, alpha_std=0.05, rng=None):
    """:func:`adjust_lighting` with ``alpha`` drawn from N(0, ``alpha_std``) per call."""
    _check_image(data, "random_lighting")
    return _lighting(xp, data, _host(xp, rng.normal(0.0, alpha_std, 3)))
