"""``gluon.data.vision.transforms``: image transformations as Blocks (MXNet 1.9.1 API).

Inputs are HWC images (or NHWC batches) until :class:`ToTensor` turns them into CHW
(NCHW) float32 in [0, 1]; :class:`Normalize` works on the tensor layout.  The random
transforms draw from NumPy's global generator and keep the input's dtype (uint8 results
are rounded and saturated).
"""
import numpy as np

from ....base import MXNetError
from .... import image
from ....ndarray import array
from ...block import Block, HybridBlock
from ...nn import Sequential

__all__ = ["Compose", "Cast", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomResizedCrop",
           "RandomFlipLeftRight", "RandomFlipTopBottom", "RandomBrightness", "RandomContrast",
           "RandomSaturation", "RandomHue", "RandomColorJitter", "RandomLighting"]


class Compose(Sequential):
    """Apply ``transforms`` (a list of Blocks or callables) one after the other."""

    def __init__(self, transforms):
        super().__init__()
        self._fns = []
        for t in transforms:
            if isinstance(t, Block):
                self.add(t)
            self._fns.append(t)

    def forward(self, x, *args):
        """Run every transform in order."""
        for t in self._fns:
            x = t(x)
        return x


class Cast(HybridBlock):
    """Cast to ``dtype``."""

    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = dtype

    def hybrid_forward(self, F, x):
        """``F.cast``."""
        return F.cast(x, self._dtype)


class ToTensor(HybridBlock):
    """HWC (or NHWC) images in [0, 255] to CHW (NCHW) float32 in [0, 1]."""

    def hybrid_forward(self, F, x):
        """Transpose channels first and divide by 255."""
        if x.ndim not in (3, 4):
            raise MXNetError("ToTensor: input must be HWC or NHWC, got shape %s" % (x.shape,))
        axes = (2, 0, 1) if x.ndim == 3 else (0, 3, 1, 2)
        return F.transpose(F.cast(x, "float32"), axes=axes) / 255.0


class Normalize(HybridBlock):
    """``(x - mean) / std`` per channel of CHW (NCHW) tensors; ``mean``/``std`` are numbers
    or one value per channel."""

    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self._std = np.asarray(std, dtype=np.float32).reshape(-1)

    def hybrid_forward(self, F, x):
        """Broadcast subtraction and division over the channel axis."""
        c = x.shape[-3]
        for name, v in (("mean", self._mean), ("std", self._std)):
            if v.size not in (1, c):
                raise MXNetError("Normalize: %s has %d values but the input has %d channels" % (name, v.size, c))
        shape = (-1, 1, 1)
        mean = array(self._mean.reshape(shape), ctx=x.context)
        std = array(self._std.reshape(shape), ctx=x.context)
        return F.broadcast_div(F.broadcast_sub(x, mean), std)


def _size_pair(size):
    return (size, size) if isinstance(size, int) else tuple(size)


def _per_image(fn, x):
    """Apply ``fn`` (HWC NDArray -> HWC NDArray) to an image or to each image of a batch."""
    if x.ndim == 3:
        return fn(x)
    outs = [fn(x[i]).asnumpy() for i in range(x.shape[0])]
    return array(np.stack(outs), dtype=outs[0].dtype, ctx=x.context)


class Resize(Block):
    """Resize to ``size`` (w, h); an int ``size`` with ``keep_ratio`` resizes the shorter side."""

    def __init__(self, size, keep_ratio=False, interpolation=1):
        super().__init__()
        self._size, self._keep, self._interp = size, keep_ratio, interpolation

    def _one(self, img):
        if isinstance(self._size, int) and self._keep:
            return image.resize_short(img, self._size, self._interp)
        w, h = _size_pair(self._size)
        return image.imresize(img, w, h, self._interp)

    def forward(self, x):
        """Resize an HWC image or each image of an NHWC batch."""
        return _per_image(self._one, x)


class CenterCrop(Block):
    """Crop the centre to ``size`` (w, h), resizing when the image is smaller."""

    def __init__(self, size, interpolation=1):
        super().__init__()
        self._size, self._interp = _size_pair(size), interpolation

    def forward(self, x):
        """The centre crop of an HWC image or of each image of a batch."""
        return _per_image(lambda img: image.center_crop(img, self._size, self._interp)[0], x)


class RandomResizedCrop(Block):
    """Crop a random area fraction in ``scale`` with aspect ratio in ``ratio``, resized to ``size``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        self._args = (_size_pair(size), scale, ratio, interpolation)

    def forward(self, x):
        """A random resized crop of an HWC image (each image of a batch draws its own)."""
        return _per_image(lambda img: image.random_size_crop(img, *self._args)[0], x)


def _restore_dtype(res, like):
    """``res`` (float NumPy) in ``like``'s dtype, rounded and saturated for uint8."""
    if like.dtype == np.uint8:
        res = np.clip(np.rint(res), 0, 255)
    return array(res.astype(like.dtype), ctx=like.context, dtype=like.dtype)


class _RandomFlip(Block):
    _axis = 1

    def forward(self, x):
        """Flip with probability 0.5 (a whole batch at once)."""
        if np.random.random() < 0.5:
            return array(np.ascontiguousarray(np.flip(x.asnumpy(), axis=self._axis + x.ndim - 3)),
                         dtype=x.dtype, ctx=x.context)
        return x


class RandomFlipLeftRight(_RandomFlip):
    """Mirror HWC images left-right with probability 0.5."""

    _axis = 1


class RandomFlipTopBottom(_RandomFlip):
    """Flip HWC images upside down with probability 0.5."""

    _axis = 0


def _blend_factor(amount):
    return np.random.uniform(max(0.0, 1.0 - amount), 1.0 + amount)


class RandomBrightness(Block):
    """Multiply by a factor drawn from ``[max(0, 1 - brightness), 1 + brightness]``."""

    def __init__(self, brightness):
        super().__init__()
        self._amount = brightness

    def forward(self, x):
        """Scaled image, same dtype."""
        return _restore_dtype(x.asnumpy().astype(np.float32) * _blend_factor(self._amount), x)


class RandomContrast(Block):
    """Blend with the mean gray level by a factor in ``[max(0, 1 - contrast), 1 + contrast]``."""

    def __init__(self, contrast):
        super().__init__()
        self._amount = contrast

    def forward(self, x):
        """Contrast-jittered image, same dtype."""
        a = _blend_factor(self._amount)
        v = x.asnumpy().astype(np.float32)
        return _restore_dtype(v * a + image.rgb_to_gray(v).mean() * (1 - a), x)


class RandomSaturation(Block):
    """Blend with the per-pixel gray image by a factor in ``[max(0, 1 - s), 1 + s]``."""

    def __init__(self, saturation):
        super().__init__()
        self._amount = saturation

    def forward(self, x):
        """Saturation-jittered image, same dtype."""
        a = _blend_factor(self._amount)
        v = x.asnumpy().astype(np.float32)
        return _restore_dtype(v * a + image.rgb_to_gray(v) * (1 - a), x)


class RandomHue(Block):
    """Rotate the hue by ``U(-hue, hue)`` * 180 degrees (a YIQ rotation)."""

    def __init__(self, hue):
        super().__init__()
        self._amount = hue

    def forward(self, x):
        """Hue-rotated image, same dtype."""
        t = image.hue_matrix(np.random.uniform(-self._amount, self._amount))
        return _restore_dtype(x.asnumpy().astype(np.float32) @ t, x)


class RandomColorJitter(Block):
    """Brightness, contrast, saturation and hue jitter (those that are non-zero) in a random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self._ts = [cls(v) for cls, v in ((RandomBrightness, brightness), (RandomContrast, contrast),
                                           (RandomSaturation, saturation), (RandomHue, hue)) if v]

    def forward(self, x):
        """The jitters in a random order."""
        for i in np.random.permutation(len(self._ts)):
            x = self._ts[i](x)
        return x


class RandomLighting(Block):
    """AlexNet-style PCA lighting noise with standard deviation ``alpha``."""

    def __init__(self, alpha):
        super().__init__()
        self._aug = image.LightingAug(alpha, image.IMAGENET_PCA_EIGVAL, image.IMAGENET_PCA_EIGVEC)

    def forward(self, x):
        """Image plus a random RGB offset along the principal components, same dtype."""
        return _restore_dtype(self._aug(x).asnumpy(), x)


# ------------------------------------------------ containers, crop-resize and rotations
import random as _random  # noqa: E402  (RandomApply draws from Python's generator, as MXNet)

from ....base import DTypeError, ShapeError  # noqa: E402
from ....image import _RotateArgError  # noqa: E402  (MXNetError and ValueError)
from ...nn import HybridSequential  # noqa: E402,F401  (MXNet exports it from this module too)

__all__ += ["HybridSequential", "RandomApply", "CropResize", "Rotate", "RandomRotation"]


class RandomApply(Sequential):
    """Apply ``transforms`` (a Block or callable) with probability ``p``, else return the input.

    The draw is Python's ``random.random()`` (as in MXNet 1.9.1): the input passes through
    unchanged when ``p < random.random()``.
    """

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, x):
        """``transforms(x)`` with probability ``p``, else ``x``."""
        if self.p < _random.random():
            return x
        return self.transforms(x)


class CropResize(Block):
    """Crop the ``width`` x ``height`` region at column ``x``, row ``y`` of an HWC image (or of
    every image of an NHWC batch), then resize it to ``size`` ((w, h), or an int for a
    square) with ``interpolation`` when ``size`` is given (default bilinear, 1; MXNet 1.9.1
    rejects ``interpolation=None`` together with ``size``)."""

    def __init__(self, x, y, width, height, size=None, interpolation=None):
        super().__init__()
        self._x, self._y, self._width, self._height = x, y, width, height
        self._size = size
        self._interpolation = interpolation

    def _one(self, img):
        h, w = img.shape[0], img.shape[1]
        if (self._x < 0 or self._y < 0 or self._width <= 0 or self._height <= 0
                or self._x + self._width > w or self._y + self._height > h):
            raise ShapeError("CropResize: the region x=%d, y=%d, width=%d, height=%d does not "
                             "fit in the image of shape %s"
                             % (self._x, self._y, self._width, self._height, tuple(img.shape)))
        out = img[self._y:self._y + self._height, self._x:self._x + self._width]
        out = array(np.ascontiguousarray(out), dtype=out.dtype)
        if self._size:
            w_out, h_out = _size_pair(self._size)
            interp = 1 if self._interpolation is None else self._interpolation
            out = image.imresize(out, w_out, h_out, interp)
        return out

    def forward(self, x):
        """The crop (resized when ``size`` is set) of an HWC image or of each NHWC image."""
        if x.ndim not in (3, 4):
            raise ShapeError("CropResize expects an HWC image or an NHWC batch, got shape %s"
                             % (x.shape,))
        res = _per_image(lambda img: self._one(img.asnumpy()), x)
        return res.as_in_context(x.context)


def _check_float32(x, name):
    if np.dtype(x.dtype) != np.float32:
        raise DTypeError("%s only supports float32 input, got %s. Consider calling it after "
                         "ToTensor" % (name, np.dtype(x.dtype).name))


class Rotate(Block):
    """Rotate a float32 CHW image (or NCHW batch) by ``rotation_degrees`` counter-clockwise,
    keeping its shape (:func:`psnet.image.imrotate`; ``zoom_in``/``zoom_out`` as there)."""

    def __init__(self, rotation_degrees, zoom_in=False, zoom_out=False):
        super().__init__()
        self._args = (rotation_degrees, zoom_in, zoom_out)

    def forward(self, x):
        """The rotated image(s)."""
        _check_float32(x, "Rotate")
        return image.imrotate(x, *self._args)


class RandomRotation(Block):
    """With probability ``rotate_with_proba``, rotate a float32 CHW image (or each image of
    an NCHW batch) by an angle drawn uniformly in ``angle_limits`` (degrees); the draws
    come from NumPy's global generator (:func:`psnet.image.random_rotate`)."""

    def __init__(self, angle_limits, zoom_in=False, zoom_out=False, rotate_with_proba=1.0):
        super().__init__()
        lower, upper = angle_limits
        if lower >= upper:
            raise _RotateArgError("RandomRotation: `angle_limits` must be an ordered tuple "
                             "(lower < upper), got %r" % (angle_limits,))
        if rotate_with_proba < 0 or rotate_with_proba > 1:
            raise _RotateArgError("RandomRotation: the probability of rotating the image should be "
                             "between 0 and 1, got %r" % (rotate_with_proba,))
        self._args = (angle_limits, zoom_in, zoom_out)
        self._rotate_with_proba = rotate_with_proba

    def forward(self, x):
        """The randomly rotated image(s), or ``x`` itself when no rotation is drawn."""
        if np.random.random() > self._rotate_with_proba:
            return x
        _check_float32(x, "RandomRotation")
        return image.random_rotate(x, *self._args)
