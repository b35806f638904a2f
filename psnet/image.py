"""``mx.image``: decoding, resizing, cropping and the classic augmenters (MXNet 1.9.1 API).

Images are NDArrays in HWC layout (uint8 as decoded, or float after normalisation).
Decoding needs Pillow (``pip install pillow``), imported only when an image is decoded.

Resizing (``interp`` 0 nearest, 1 bilinear, 2 bicubic, 3 area, 4 Lanczos, 9 auto, 10
random) is pure NumPy and reproduces MXNet 1.9.1's OpenCV ``cv::resize`` bit for bit
(:mod:`psnet.cv_resize` documents its arithmetic).
Random choices come from NumPy's global generator (``np.random.seed`` reproduces them).
"""
import io
import json

import numpy as np

from .base import MXNetError, NotSupportedError, ShapeError
from . import cv_resize
from .ndarray import NDArray, array

__all__ = ["imread", "imdecode", "imresize", "resize_short", "fixed_crop", "center_crop", "random_crop",
           "random_size_crop", "scale_down", "color_normalize", "Augmenter", "SequentialAug", "RandomOrderAug",
           "ResizeAug", "ForceResizeAug", "RandomCropAug", "RandomSizedCropAug", "CenterCropAug",
           "BrightnessJitterAug", "ContrastJitterAug", "SaturationJitterAug", "HueJitterAug", "ColorJitterAug",
           "LightingAug", "ColorNormalizeAug", "RandomGrayAug", "HorizontalFlipAug", "CastAug",
           "CreateAugmenter", "rgb_to_gray", "hue_matrix"]

_GRAY = np.array([0.299, 0.587, 0.114], dtype=np.float32)   # ITU-R BT.601 luma weights


def rgb_to_gray(img):
    """Luma of an (..., 3) RGB NumPy array, keeping a last axis of size 1."""
    return (img * _GRAY).sum(axis=-1, keepdims=True)


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise NotSupportedError("decoding images needs Pillow, an optional dependency of psnet: "
                                "pip install pillow") from None
    return Image


def _np(src):
    return src.asnumpy() if isinstance(src, NDArray) else np.asarray(src)


# ---------------------------------------------------------------------- decoding
def imdecode(buf, flag=1, to_rgb=True, out=None):
    """Decode an encoded image (bytes, bytearray or uint8 NDArray/array) to an HWC uint8
    NDArray: 3 channels (RGB, or BGR with ``to_rgb=False``) for ``flag=1``, 1 for ``flag=0``."""
    if isinstance(buf, NDArray):
        buf = buf.asnumpy().tobytes()
    elif isinstance(buf, np.ndarray):
        buf = buf.tobytes()
    try:
        img = _pil().open(io.BytesIO(bytes(buf)))
        img = img.convert("RGB" if flag else "L")
    except OSError as e:
        raise MXNetError("imdecode: cannot decode the image (%d bytes): %s" % (len(buf), e)) from None
    data = np.asarray(img, dtype=np.uint8)
    data = data[:, :, None] if data.ndim == 2 else (data if to_rgb else data[:, :, ::-1])
    res = array(np.ascontiguousarray(data), dtype=np.uint8)
    if out is not None:
        out[:] = res
        return out
    return res


def imread(filename, flag=1, to_rgb=True, out=None):
    """Read and decode an image file (see :func:`imdecode`)."""
    try:
        with open(filename, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise MXNetError("imread: cannot read %s: %s" % (filename, e)) from None
    return imdecode(buf, flag, to_rgb, out)


# ---------------------------------------------------------------------- resizing and cropping
def imresize(src, w, h, interp=1):
    """Resize an HWC image to width ``w`` and height ``h`` with interpolation ``interp``."""
    return array(cv_resize.resize(_np(src), int(w), int(h), interp), dtype=src.dtype)


def resize_short(src, size, interp=2):
    """Resize so that the shorter side is ``size``, keeping the aspect ratio."""
    h, w = src.shape[:2]
    nw, nh = (size, size * h // w) if h > w else (size * w // h, size)
    return imresize(src, nw, nh, interp)


def fixed_crop(src, x0, y0, w, h, size=None, interp=2):
    """Crop the ``w`` x ``h`` rectangle at (``x0``, ``y0``), then resize to ``size`` (w, h) if given."""
    if x0 < 0 or y0 < 0 or x0 + w > src.shape[1] or y0 + h > src.shape[0]:
        raise ShapeError("fixed_crop: rectangle (x0=%d, y0=%d, w=%d, h=%d) is outside the image of shape %s"
                         % (x0, y0, w, h, src.shape))
    out = array(_np(src)[y0:y0 + h, x0:x0 + w], dtype=src.dtype)
    if size is not None and (w, h) != tuple(size):
        out = imresize(out, size[0], size[1], interp)
    return out


def scale_down(src_size, size):
    """Shrink ``size`` (w, h) to fit in ``src_size`` (w, h), keeping its aspect ratio."""
    w, h = size
    sw, sh = src_size
    if sh < h:
        w, h = float(w * sh) / h, sh
    if sw < w:
        w, h = sw, float(h * sw) / w
    return int(w), int(h)


def center_crop(src, size, interp=2):
    """Crop the centre (the largest ``size``-shaped rectangle that fits), resized to ``size``.
    Returns ``(image, (x0, y0, w, h))``."""
    h, w = src.shape[:2]
    nw, nh = scale_down((w, h), size)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    return fixed_crop(src, x0, y0, nw, nh, size, interp), (x0, y0, nw, nh)


def random_crop(src, size, interp=2):
    """Crop a random ``size``-shaped rectangle (scaled down to fit), resized to ``size``.
    Returns ``(image, (x0, y0, w, h))``."""
    h, w = src.shape[:2]
    nw, nh = scale_down((w, h), size)
    x0 = int(np.random.randint(0, w - nw + 1))
    y0 = int(np.random.randint(0, h - nh + 1))
    return fixed_crop(src, x0, y0, nw, nh, size, interp), (x0, y0, nw, nh)


def random_size_crop(src, size, area, ratio, interp=2, **kwargs):
    """Crop a random rectangle covering a fraction ``area`` (float or (min, max)) of the
    image with aspect ratio in ``ratio`` (sampled log-uniformly), resized to ``size``; falls
    back to :func:`center_crop` after 10 failed draws.  Returns ``(image, (x0, y0, w, h))``."""
    h, w = src.shape[:2]
    if isinstance(area, (int, float)):
        area = (area, 1.0)
    src_area = h * w
    for _ in range(10):
        target = np.random.uniform(area[0], area[1]) * src_area
        log_ratio = (np.log(ratio[0]), np.log(ratio[1]))
        new_ratio = np.exp(np.random.uniform(*log_ratio))
        nw = int(round(np.sqrt(target * new_ratio)))
        nh = int(round(np.sqrt(target / new_ratio)))
        if 0 < nw <= w and 0 < nh <= h:
            x0 = int(np.random.randint(0, w - nw + 1))
            y0 = int(np.random.randint(0, h - nh + 1))
            return fixed_crop(src, x0, y0, nw, nh, size, interp), (x0, y0, nw, nh)
    return center_crop(src, size, interp)


def color_normalize(src, mean, std=None):
    """``(src - mean) / std`` (per channel when ``mean``/``std`` are arrays)."""
    src = src - mean if mean is not None else src
    return src / std if std is not None else src


# ---------------------------------------------------------------------- augmenters
class Augmenter:
    """Base class of the image augmenters: ``aug(src) -> src``; ``dumps()`` describes it."""

    def __init__(self, **kwargs):
        self._kwargs = {k: (v.asnumpy().tolist() if isinstance(v, NDArray) else
                            v.tolist() if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}

    def dumps(self):
        """``[class name in lower case, constructor arguments]`` as a JSON string."""
        return json.dumps([type(self).__name__.lower(), self._kwargs])

    def __call__(self, src):
        raise NotImplementedError("%s must implement __call__" % type(self).__name__)


class SequentialAug(Augmenter):
    """Apply a list of augmenters in order."""

    def __init__(self, ts):
        super().__init__()
        self.ts = ts

    def dumps(self):
        """``[class name, [child.dumps() ...]]`` (a list, as MXNet returns it)."""
        return [type(self).__name__.lower(), [t.dumps() for t in self.ts]]

    def __call__(self, src):
        for t in self.ts:
            src = t(src)
        return src


class RandomOrderAug(SequentialAug):
    """Apply a list of augmenters in a random order."""

    def __call__(self, src):
        for i in np.random.permutation(len(self.ts)):
            src = self.ts[i](src)
        return src


class ResizeAug(Augmenter):
    """Resize the shorter side to ``size``."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return resize_short(src, self.size, self.interp)


class ForceResizeAug(Augmenter):
    """Resize to exactly ``size`` (w, h)."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return imresize(src, self.size[0], self.size[1], self.interp)


class RandomCropAug(Augmenter):
    """Crop a random ``size`` (w, h) rectangle."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return random_crop(src, self.size, self.interp)[0]


class RandomSizedCropAug(Augmenter):
    """Crop a random area/aspect-ratio rectangle and resize it to ``size`` (see :func:`random_size_crop`)."""

    def __init__(self, size, area, ratio, interp=2, **kwargs):
        super().__init__(size=size, area=area, ratio=ratio, interp=interp)
        self.size, self.area, self.ratio, self.interp = size, area, ratio, interp

    def __call__(self, src):
        return random_size_crop(src, self.size, self.area, self.ratio, self.interp)[0]


class CenterCropAug(Augmenter):
    """Crop the centre to ``size`` (w, h)."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size, self.interp = size, interp

    def __call__(self, src):
        return center_crop(src, self.size, self.interp)[0]


def _float(src):
    return src.astype("float32") if src.dtype != np.float32 else src


class BrightnessJitterAug(Augmenter):
    """Multiply by ``1 + U(-brightness, brightness)``."""

    def __init__(self, brightness):
        super().__init__(brightness=brightness)
        self.brightness = brightness

    def __call__(self, src):
        return _float(src) * (1.0 + np.random.uniform(-self.brightness, self.brightness))


class ContrastJitterAug(Augmenter):
    """Blend with the image's mean gray level by ``1 + U(-contrast, contrast)``."""

    def __init__(self, contrast):
        super().__init__(contrast=contrast)
        self.contrast = contrast

    def __call__(self, src):
        alpha = 1.0 + np.random.uniform(-self.contrast, self.contrast)
        src = _float(src)
        gray = float(rgb_to_gray(src.asnumpy()).mean())
        return src * alpha + gray * (1.0 - alpha)


class SaturationJitterAug(Augmenter):
    """Blend with the per-pixel gray image by ``1 + U(-saturation, saturation)``."""

    def __init__(self, saturation):
        super().__init__(saturation=saturation)
        self.saturation = saturation

    def __call__(self, src):
        alpha = 1.0 + np.random.uniform(-self.saturation, self.saturation)
        src = _float(src)
        gray = rgb_to_gray(src.asnumpy())
        return src * alpha + array(gray * (1.0 - alpha))


def hue_matrix(alpha):
    """The RGB -> RGB matrix rotating hue by ``alpha`` * 180 degrees (through YIQ)."""
    u, w = np.cos(alpha * np.pi), np.sin(alpha * np.pi)
    bt = np.array([[1.0, 0.0, 0.0], [0.0, u, -w], [0.0, w, u]])
    tyiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321], [0.211, -0.523, 0.311]])
    ityiq = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]])
    return (ityiq @ bt @ tyiq).T.astype(np.float32)


class HueJitterAug(Augmenter):
    """Rotate the hue by ``U(-hue, hue)`` * 180 degrees."""

    def __init__(self, hue):
        super().__init__(hue=hue)
        self.hue = hue

    def __call__(self, src):
        t = hue_matrix(np.random.uniform(-self.hue, self.hue))
        return array(_float(src).asnumpy() @ t)


class ColorJitterAug(RandomOrderAug):
    """Brightness, contrast and saturation jitter in a random order."""

    def __init__(self, brightness, contrast, saturation):
        ts = []
        if brightness > 0:
            ts.append(BrightnessJitterAug(brightness))
        if contrast > 0:
            ts.append(ContrastJitterAug(contrast))
        if saturation > 0:
            ts.append(SaturationJitterAug(saturation))
        super().__init__(ts)


# principal components of ImageNet's RGB pixels (AlexNet's lighting noise)
IMAGENET_PCA_EIGVAL = [55.46, 4.794, 1.148]
IMAGENET_PCA_EIGVEC = [[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]]


class LightingAug(Augmenter):
    """AlexNet-style PCA lighting noise: add ``eigvec @ (N(0, alphastd) * eigval)``."""

    def __init__(self, alphastd, eigval, eigvec):
        super().__init__(alphastd=alphastd, eigval=eigval, eigvec=eigvec)
        self.alphastd, self.eigval, self.eigvec = alphastd, np.asarray(eigval), np.asarray(eigvec)

    def __call__(self, src):
        alpha = np.random.normal(0, self.alphastd, size=(3,))
        rgb = (self.eigvec @ (alpha * self.eigval)).astype(np.float32)
        return _float(src) + array(rgb)


class ColorNormalizeAug(Augmenter):
    """``(src - mean) / std`` per channel."""

    def __init__(self, mean, std):
        self.mean = None if mean is None else array(np.asarray(_np(mean), dtype=np.float32))
        self.std = None if std is None else array(np.asarray(_np(std), dtype=np.float32))
        super().__init__(mean=self.mean, std=self.std)

    def __call__(self, src):
        return color_normalize(_float(src), self.mean, self.std)


class RandomGrayAug(Augmenter):
    """Convert to gray (3 equal channels) with probability ``p``."""

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p

    def __call__(self, src):
        if np.random.random() < self.p:
            gray = rgb_to_gray(_float(src).asnumpy())
            return array(np.repeat(gray, 3, axis=2))
        return src


class HorizontalFlipAug(Augmenter):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p

    def __call__(self, src):
        if np.random.random() < self.p:
            return array(_np(src)[:, ::-1], dtype=src.dtype)
        return src


class CastAug(Augmenter):
    """Cast to ``typ`` (default float32)."""

    def __init__(self, typ="float32"):
        super().__init__(type=typ)
        self.typ = typ

    def __call__(self, src):
        return src.astype(self.typ)




def CreateAugmenter(data_shape, resize=0, rand_crop=False, rand_resize=False, rand_mirror=False, mean=None,
                    std=None, brightness=0, contrast=0, saturation=0, hue=0, pca_noise=0, rand_gray=0,
                    inter_method=2):
    """The standard augmenter list for ``data_shape`` (C, H, W): optional shorter-side
    resize, random-sized / random / centre crop to (W, H), mirror, cast to float32, colour
    jitter, hue, PCA lighting, random gray, and normalisation (``mean``/``std`` True use
    the ImageNet statistics)."""
    auglist = []
    if resize > 0:
        auglist.append(ResizeAug(resize, inter_method))
    crop_size = (data_shape[2], data_shape[1])
    if rand_resize:
        if not rand_crop:
            raise MXNetError("CreateAugmenter: rand_resize needs rand_crop=True")
        auglist.append(RandomSizedCropAug(crop_size, 0.08, (3.0 / 4.0, 4.0 / 3.0), inter_method))
    elif rand_crop:
        auglist.append(RandomCropAug(crop_size, inter_method))
    else:
        auglist.append(CenterCropAug(crop_size, inter_method))
    if rand_mirror:
        auglist.append(HorizontalFlipAug(0.5))
    auglist.append(CastAug())
    if brightness or contrast or saturation:
        auglist.append(ColorJitterAug(brightness, contrast, saturation))
    if hue:
        auglist.append(HueJitterAug(hue))
    if pca_noise > 0:
        auglist.append(LightingAug(pca_noise, IMAGENET_PCA_EIGVAL, IMAGENET_PCA_EIGVEC))
    if rand_gray > 0:
        auglist.append(RandomGrayAug(rand_gray))
    if mean is True:
        mean = np.array([123.68, 116.28, 103.53])
    if std is True:
        std = np.array([58.395, 57.12, 57.375])
    if mean is not None or std is not None:
        auglist.append(ColorNormalizeAug(mean, std))
    return auglist


# ---------------------------------------------------------------------- rotation
from .base import DTypeError  # noqa: E402


class _RotateArgError(MXNetError, ValueError):
    """An invalid argument of :func:`imrotate` / :func:`random_rotate` (a ValueError)."""


def _bilinear_sample(src, grid):
    """MXNet's ``BilinearSampler`` on NumPy arrays: ``src`` (N, C, H, W), ``grid``
    (N, 2, Ho, Wo) of normalized (x, y) in [-1, 1]; neighbours outside the image count 0.
    The op's own kernel (:func:`psnet.ops.spatial._sample`), MXNet's float32 arithmetic."""
    from .ops.spatial import _sample
    return _sample(np, src, grid)


def imrotate(src, rotation_degrees, zoom_in=False, zoom_out=False):
    """Rotate float32 CHW image(s) counter-clockwise about their centre (MXNet 1.9.1).

    ``src`` is one image (C, H, W) with a scalar ``rotation_degrees`` or a batch (N, C, H, W)
    with a scalar or N angles (NDArray, list or array).  The output keeps the shape: the
    rotated sampling grid (normalized to [-1, 1] after the rotation, so the aspect ratio is
    kept) is read with bilinear interpolation, zero outside the image.  ``zoom_in`` scales
    so that no padding shows, ``zoom_out`` so that the whole rotated image fits (not both).
    Computed in NumPy float32 as MXNet's ``BilinearSampler``.
    """
    if zoom_in and zoom_out:
        raise _RotateArgError("imrotate: `zoom_in` and `zoom_out` cannot be both True")
    if np.dtype(src.dtype) != np.float32:
        raise DTypeError("imrotate: only float32 images are supported, got %s"
                         % np.dtype(src.dtype).name)
    img = _np(src)
    expanded = img.ndim == 3
    if expanded:
        if not isinstance(rotation_degrees, (int, float, np.number)):
            raise DTypeError("imrotate: when a single image is passed the rotation angle is "
                             "required to be a scalar, got %s" % type(rotation_degrees).__name__)
        img = img[None]
    elif img.ndim != 4:
        raise ShapeError("imrotate: only 3-D (C, H, W) and 4-D (N, C, H, W) images are "
                         "supported, got shape %s" % (img.shape,))
    if isinstance(rotation_degrees, (int, float, np.number)):
        angles = np.full((img.shape[0],), rotation_degrees, dtype=np.float32)
    else:
        angles = _np(rotation_degrees).astype(np.float32).reshape(-1)
    if angles.shape[0] != img.shape[0]:
        raise ShapeError("imrotate: the number of images (%d) must equal the number of "
                         "rotation angles (%d)" % (img.shape[0], angles.shape[0]))
    f32 = np.float32
    rad = (f32(np.pi) * angles / f32(180)).reshape(-1, 1, 1)
    _, _, h, w = img.shape
    hscale, wscale = f32((h - 1) / 2.0), f32((w - 1) / 2.0)
    h_matrix = np.repeat(np.arange(h, dtype=f32).reshape(h, 1), w, axis=1)[None] - hscale
    w_matrix = np.repeat(np.arange(w, dtype=f32).reshape(1, w), h, axis=0)[None] - wscale
    c_alpha, s_alpha = np.cos(rad), np.sin(rad)
    w_rot = (w_matrix * c_alpha - h_matrix * s_alpha) / wscale
    h_rot = (w_matrix * s_alpha + h_matrix * c_alpha) / hscale
    grid = np.concatenate([w_rot[:, None], h_rot[:, None]], axis=1)
    if zoom_in or zoom_out:
        hf, wf = f32(h), f32(w)
        rho = np.sqrt(hf * hf + wf * wf)
        ang = np.arctan(hf / wf)
        arad = np.abs(rad)
        max_x = np.maximum(np.abs(rho * np.cos(ang + arad)), np.abs(rho * np.cos(ang - arad)))
        max_y = np.maximum(np.abs(rho * np.sin(ang + arad)), np.abs(rho * np.sin(ang - arad)))
        if zoom_out:
            scale = np.maximum(max_x / wf, max_y / hf)
        else:
            scale = np.minimum(wf / max_x, hf / max_y)
        grid = grid * scale[..., None].astype(f32)
    out = _bilinear_sample(img.astype(f32, copy=False), grid.astype(f32, copy=False))
    ctx = src.context if isinstance(src, NDArray) else None
    return array(out[0] if expanded else out, dtype=np.float32, ctx=ctx)


def random_rotate(src, angle_limits, zoom_in=False, zoom_out=False):
    """:func:`imrotate` by angles drawn uniformly in ``angle_limits`` (degrees) from NumPy's
    global generator: one for an image (C, H, W), one per image for a batch (N, C, H, W)."""
    if src.ndim == 3:
        rotation_degrees = np.random.uniform(*angle_limits)
    else:
        rotation_degrees = np.random.uniform(*angle_limits, size=src.shape[0])
    return imrotate(src, rotation_degrees, zoom_in=zoom_in, zoom_out=zoom_out)


__all__ += ["imrotate", "random_rotate"]
from .image_iter import ImageIter  # noqa: E402,F401
__all__ += ["ImageIter"]
