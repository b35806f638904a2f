"""``mx.image``: decoding, resizing, cropping and the classic augmenters (MXNet 1.9.1 API).

Images are NDArrays in HWC layout (uint8 as decoded, or float after normalisation).
Decoding needs Pillow (``pip install pillow``), imported only when an image is decoded.

Resizing (``interp`` 0 nearest, 1 bilinear, 2 bicubic, 3 area, 4 Lanczos) is pure NumPy
and reproduces MXNet 1.9.1's ``cv::resize`` (OpenCV 3.4.2 built without IPP, SSE2 baseline)
bit for bit, checked against MXNet on thousands of random images (1-4 channels, 1-300
pixels, up, down and mixed scaling, uint8/float32/float64, all five interpolations):

* positions: ``scale = 1 / (n_out / n_in)`` in double; bilinear/bicubic source ``fx =
  (float)((dx + 0.5) * scale - 0.5)``, ``sx = floor(fx)``, ``fx -= sx``; nearest ``min(floor(dx
  * scale), n_in - 1)``.  Bilinear: horizontally a position left of the first or right of the
  last pixel takes that pixel with weights (1, 0); vertically the row index is clamped but
  the fraction kept.  Bicubic (A = -0.75, weights in float32): taps ``sx - 1 .. sx + 2``
  with indices clamped to the image.
* uint8 weights are ``rint(w * 2048)`` (11 bits) and the horizontal pass is exact integer
  arithmetic.  Bilinear's vertical pass is OpenCV's SSE2 formula, which this build uses for
  every output element: ``(((S0 >> 4) * b0 >> 16) + ((S1 >> 4) * b1 >> 16) + 2) >> 2`` (not
  the scalar ``(S0 * b0 + S1 * b1 + 2**21) >> 22``).  Bicubic's vertical pass is SSE2 float
  arithmetic (``sum S_k * float(b_k / 2**22)``, rounded half to even) on the first
  ``8 * floor(row_length / 8)`` values of each row (row_length = width * channels) and
  the integer ``(sum S_k * b_k + 2**21) >> 22`` on the rest.
* float images: the same passes in the image's precision with float32 weights.
* bilinear exact 2x shrinks of both sides become OpenCV's 2x2 INTER_AREA (block means:
  uint8 ``(sum + 2) >> 2`` for 1/3/4 channels, ``rint(sum * 0.25)`` otherwise).
* area: unless both sides shrink, bilinear (same arithmetic) on INTER_AREA's positions
  ``sx = floor(dx * scale)``, ``fx = (float)((dx + 1) - (sx + 1) / scale)`` (clamped at 0,
  fractional part).  Integer shrink factors (within DBL_EPSILON): block means, uint8
  ``rint(float(sum) * float32(1 / area))``.  Other shrinks: each output sums the source
  cells it covers with float32 weights (full cells ``1 / cell``, partial cells their
  covered fraction), row by row then column by column in OpenCV's order, rounded half
  to even for uint8.
* Lanczos-4: 8 taps ``sx - 3 .. sx + 4`` (indices clamped), weights from sin/cos in double
  of float32 ``x + 3 - i``, normalised in float32; uint8 in 11-bit fixed point with the
  integer rounding ``(sum + 2**21) >> 22``.  Like OpenCV, a fraction within 2**-22 of 1
  (``x + 3`` rounds to 4.0 in float32) gives NaN weights: float images get NaN there (as
  in MXNet), uint8 images use OpenCV's fixed-point weight for NaN (-32768) with its
  32-bit wrap-around, as MXNet does.

``interp`` 9 picks cubic to enlarge both sides, area to shrink both, bilinear otherwise,
and 10 a random one of 0-4, as MXNet's Python helpers do (MXNet's imresize itself rejects
9 and 10).  Integer images other than uint8 are resized in float64 and rounded (OpenCV
has its own rules for 16-bit images; MXNet does not use them).
Random choices come from NumPy's global generator (``np.random.seed`` reproduces them).
"""
import io
import json

import numpy as np

from .base import MXNetError, NotSupportedError, ShapeError
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
def _cv_table(n_in, n_out):
    """OpenCV's INTER_LINEAR source positions along one axis: ``(first source index, float32
    fraction)`` per output index, computed as cv::resize does (scale = 1 / (n_out / n_in) in
    double, fx = (float)((dx + 0.5) * scale - 0.5), sx = floor(fx), fx -= sx in float32)."""
    scale = 1.0 / (float(n_out) / n_in)
    pos = ((np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    first = np.floor(pos)
    return first.astype(np.int64), (pos - first).astype(np.float32)


def _cv_weights(frac, fixed):
    """The two interpolation weights (1 - f, f): float32, or OpenCV's 11-bit fixed point
    (each ``saturate_cast<short>(w * 2048)``, rounded half to even) when ``fixed``."""
    w0, w1 = (np.float32(1) - frac).astype(np.float32), frac
    if not fixed:
        return w0, w1
    return (np.rint(w0 * np.float32(2048)).astype(np.int32),
            np.rint(w1 * np.float32(2048)).astype(np.int32))


def _cv_area_half(img):
    """cv::resize's INTER_LINEAR when both sides halve exactly: OpenCV switches to its fast
    2x2 INTER_AREA, i.e. the mean of each 2x2 block (uint8: ``(sum + 2) >> 2`` for 1, 3 or 4
    channels, ``sum * 0.25f`` rounded half to even otherwise; float: ``sum * 0.25`` with the
    sum's order of its SIMD or scalar loop, which matters in the last bit)."""
    if img.dtype == np.uint8:
        s = img.astype(np.int32)
        s = s[0::2, 0::2] + s[0::2, 1::2] + s[1::2, 0::2] + s[1::2, 1::2]
        if img.shape[2] in (1, 3, 4):
            return ((s + 2) >> 2).astype(np.uint8)
        return np.rint(s.astype(np.float32) * np.float32(0.25)).astype(np.uint8)
    a, b, c, d = img[0::2, 0::2], img[0::2, 1::2], img[1::2, 0::2], img[1::2, 1::2]
    quarter = img.dtype.type(0.25)
    pairs, chain = ((a + b) + (c + d)) * quarter, (((a + b) + c) + d) * quarter
    if img.shape[2] == 4:       # OpenCV's SIMD loop sums in pairs; its scalar loop in a chain
        return pairs
    if img.shape[2] == 1:       # SIMD over groups of 4 outputs, the rest scalar
        simd = np.arange(img.shape[1] // 2) < (img.shape[1] // 2) // 4 * 4
        return np.where(simd[None, :, None], pairs, chain)
    return chain


def _cv_area_table(n_in, n_out):
    """OpenCV's INTER_AREA table when enlarging: source index floor(dx * scale) and fraction
    (float)((dx + 1) - (sx + 1) / scale), clamped at 0, fractional part only."""
    scale = 1.0 / (float(n_out) / n_in)
    inv = float(n_out) / n_in
    dst = np.arange(n_out, dtype=np.float64)
    first = np.floor(dst * scale).astype(np.int64)
    frac = ((dst + 1) - (first + 1) * inv).astype(np.float32)
    frac = np.where(frac <= 0, np.float32(0), frac - np.floor(frac)).astype(np.float32)
    return first, frac


def _cv_linear(img, h, w, area=False):
    """Bilinear resize of an HWC array exactly as OpenCV 3.4's cv::resize (INTER_LINEAR) in
    MXNet 1.9.1: uint8 in fixed point, floating point types in their own precision.  With
    ``area`` the positions are INTER_AREA's (OpenCV's area interpolation when enlarging)."""
    in_h, in_w, chans = img.shape
    if not area and in_w == 2 * w and in_h == 2 * h:
        return _cv_area_half(img)
    table = _cv_area_table if area else _cv_table
    fixed = img.dtype == np.uint8
    # horizontal pass: both borders clamp to the edge pixel with weights (1, 0)
    sx, fx = table(in_w, w)
    edge = (sx < 0) | (sx >= in_w - 1)
    fx = np.where(edge, np.float32(0), fx)
    sx = np.clip(sx, 0, in_w - 1)
    a0, a1 = _cv_weights(fx, fixed)
    src = img.astype(np.int32) if fixed else img
    a0, a1 = a0[None, :, None], a1[None, :, None]
    rows = src[:, sx] * a0 + src[:, np.minimum(sx + 1, in_w - 1)] * a1
    # vertical pass: rows outside the image are clamped, the fraction is kept as computed
    sy, fy = table(in_h, h)
    b0, b1 = _cv_weights(fy, fixed)
    top, bottom = rows[np.clip(sy, 0, in_h - 1)], rows[np.clip(sy + 1, 0, in_h - 1)]
    b0, b1 = b0[:, None, None], b1[:, None, None]
    if not fixed:
        return top * b0 + bottom * b1
    # OpenCV's SSE2 vertical pass (VResizeLinearVec_32s8u), which covers whole rows in
    # this build: 16-bit multiply-high of (row >> 4) by each weight, then (+2) >> 2
    out = (((top >> 4) * b0) >> 16) + (((bottom >> 4) * b1) >> 16)
    return np.clip((out + 2) >> 2, 0, 255).astype(np.uint8)


def _cv_block_mean(img, ky, kx):
    """OpenCV's fast INTER_AREA for integer shrink factors: the mean of each ``ky`` x ``kx``
    block (uint8: int sum times float32(1 / area), rounded half to even; float: summed row by
    row in groups of 4 like OpenCV's scalar loop)."""
    if ky == 2 and kx == 2:
        return _cv_area_half(img)
    h, w = img.shape[0] // ky, img.shape[1] // kx
    blocks = img[:h * ky, :w * kx].reshape(h, ky, w, kx, img.shape[2]).transpose(0, 2, 1, 3, 4)
    blocks = blocks.reshape(h, w, ky * kx, img.shape[2])
    if img.dtype == np.uint8:
        total = blocks.astype(np.int64).sum(axis=2).astype(np.float32)
        res = np.rint(total * np.float32(1.0 / (ky * kx)).astype(np.float32))
        return np.clip(res, 0, 255).astype(np.uint8)
    total = np.zeros((h, w, img.shape[2]), img.dtype)
    area, k = ky * kx, 0
    while k <= area - 4:
        total = total + (((blocks[:, :, k] + blocks[:, :, k + 1]) + blocks[:, :, k + 2]) + blocks[:, :, k + 3])
        k += 4
    for k in range(k, area):
        total = total + blocks[:, :, k]
    return total * img.dtype.type(np.float32(1.0 / area))


def _cv_area_taps(n_in, n_out):
    """OpenCV's INTER_AREA shrinking table (computeResizeAreaTab) as padded arrays: for each
    output index, the source indices and float32 weights of the cells it covers, in order."""
    scale = 1.0 / (float(n_out) / n_in)
    start = np.arange(n_out, dtype=np.float64) * scale
    stop = start + scale
    cell = np.minimum(scale, n_in - start)
    last = np.minimum(np.floor(stop).astype(np.int64), n_in - 1)
    first = np.minimum(np.ceil(start).astype(np.int64), last)
    has_left = (first - start) > 1e-3
    has_right = (stop - last) > 1e-3
    n_taps = int(np.max(has_left + (last - first) + has_right))
    idx = (first - has_left)[:, None] + np.arange(n_taps)[None, :]
    weight = np.zeros(idx.shape, np.float32)
    weight = np.where(idx < last[:, None], (1.0 / cell)[:, None].astype(np.float32), weight)
    right = np.minimum(np.minimum(stop - last, 1.0), cell) / cell
    weight = np.where((idx == last[:, None]) & has_right[:, None], right[:, None].astype(np.float32), weight)
    left = ((first - start) / cell).astype(np.float32)
    weight[:, 0] = np.where(has_left, left, weight[:, 0])
    return np.clip(idx, 0, n_in - 1), weight.astype(np.float32)


def _cv_area(img, h, w):
    """INTER_AREA exactly as OpenCV 3.4's cv::resize in MXNet 1.9.1: bilinear with area
    positions unless both sides shrink; block means for integer factors; otherwise each
    output is the float32 weighted sum of the source cells it covers, rounded half to even."""
    in_h, in_w, chans = img.shape
    scale_x, scale_y = 1.0 / (float(w) / in_w), 1.0 / (float(h) / in_h)
    if scale_x < 1 or scale_y < 1:
        return _cv_linear(img, h, w, area=True)
    kx, ky = int(np.rint(scale_x)), int(np.rint(scale_y))
    if abs(scale_x - kx) < np.finfo(np.float64).eps and abs(scale_y - ky) < np.finfo(np.float64).eps:
        return _cv_block_mean(img, ky, kx)
    work = np.float32 if img.dtype == np.uint8 else img.dtype
    src = img.astype(work)
    xi, xw = _cv_area_taps(in_w, w)
    rows = None
    for t in range(xi.shape[1]):
        term = src[:, xi[:, t]] * xw[None, :, t, None].astype(work)
        rows = term if rows is None else rows + term
    yi, yw = _cv_area_taps(in_h, h)
    out = None
    for t in range(yi.shape[1]):
        term = yw[:, t, None, None].astype(work) * rows[yi[:, t]]
        out = term if out is None else out + term
    if img.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out


def _cv_cubic_weights(x):
    """OpenCV's bicubic weights (A = -0.75) for float32 fractions ``x``, in float32 with
    its order of operations; the last weight is 1 minus the others."""
    f32 = np.float32
    a, one = f32(-0.75), f32(1)
    x1, y = (x + one).astype(f32), (one - x).astype(f32)
    c0 = ((a * x1 - f32(5) * a) * x1 + f32(8) * a) * x1 - f32(4) * a
    c1 = ((a + f32(2)) * x - (a + f32(3))) * x * x + one
    c2 = ((a + f32(2)) * y - (a + f32(3))) * y * y + one
    c3 = one - c0 - c1 - c2
    return [c.astype(f32) for c in (c0, c1, c2, c3)]


def _cv_cubic(img, h, w):
    """Bicubic resize of an HWC array exactly as OpenCV 3.4's cv::resize (INTER_CUBIC) in
    MXNet 1.9.1: 4 taps from source index floor(fx) - 1, edge pixels replicated, uint8 in
    11-bit fixed point (vertical pass: SSE2 float formula on groups of 8 elements of a
    row, integer rounding on the remaining tail)."""
    in_h, in_w, chans = img.shape
    fixed = img.dtype == np.uint8
    src = img.astype(np.int32) if fixed else img
    sx, fx = _cv_table(in_w, w)
    rows = None
    for k, wk in enumerate(_cv_cubic_weights(fx)):
        wk = np.rint(wk * np.float32(2048)).astype(np.int32) if fixed else wk
        term = src[:, np.clip(sx - 1 + k, 0, in_w - 1)] * wk[None, :, None]
        rows = term if rows is None else rows + term
    sy, fy = _cv_table(in_h, h)
    taps = [rows[np.clip(sy - 1 + k, 0, in_h - 1)].reshape(h, w * chans) for k in range(4)]
    weights = _cv_cubic_weights(fy)
    if not fixed:
        out = taps[0] * weights[0][:, None]
        for t, wk in zip(taps[1:], weights[1:]):
            out = out + t * wk[:, None]
        return out.reshape(h, w, chans)
    ints = [np.rint(wk * np.float32(2048)).astype(np.int64)[:, None] for wk in weights]
    exact = (sum(t * wk for t, wk in zip(taps, ints)) + (1 << 21)) >> 22
    scale = np.float32(1.0 / (1 << 22))
    simd = taps[0].astype(np.float32) * (ints[0].astype(np.float32) * scale)
    for t, wk in zip(taps[1:], ints[1:]):
        simd = simd + t.astype(np.float32) * (wk.astype(np.float32) * scale)
    n_simd = (w * chans) // 8 * 8
    out = np.where(np.arange(w * chans) < n_simd, np.rint(simd).astype(np.int64), exact)
    return np.clip(out, 0, 255).astype(np.uint8).reshape(h, w, chans)


_S45 = 0.70710678118654752440084436210485
_LANCZOS_CS = [(1, 0), (-_S45, -_S45), (0, 1), (_S45, -_S45), (-1, 0), (_S45, _S45), (0, -1), (-_S45, _S45)]


def _cv_lanczos_weights(x):
    """OpenCV's 8 Lanczos-4 weights for float32 fractions ``x``: sin/cos in double from
    float32 ``x + 3 - i``, each weight rounded to float32, then normalised by a float32 sum.
    Like OpenCV, a fraction so close to 1 that ``x + 3`` rounds to 4 gives NaN weights."""
    f32 = np.float32
    x3 = (x + f32(3)).astype(f32)
    with np.errstate(divide="ignore", invalid="ignore"):
        y0 = -x3.astype(np.float64) * np.pi * 0.25
        s0, c0 = np.sin(y0), np.cos(y0)
        weights, total = [], np.zeros(x.shape, f32)
        for i, (cs, cc) in enumerate(_LANCZOS_CS):
            y = -(x3 - f32(i)).astype(f32).astype(np.float64) * np.pi * 0.25
            wi = ((cs * s0 + cc * c0) / (y * y)).astype(f32)
            weights.append(wi)
            total = (total + wi).astype(f32)
        inv = (f32(1) / total).astype(f32)
        weights = [(wi * inv).astype(f32) for wi in weights]
    exact = x < np.finfo(f32).eps
    return [np.where(exact, f32(i == 3), wi).astype(f32) for i, wi in enumerate(weights)]


def _cv_short_weights(weights):
    """``saturate_cast<short>(w * 2048)``: rounded half to even, saturated, NaN -> -32768."""
    out = []
    for wk in weights:
        scaled = wk * np.float32(2048)
        with np.errstate(invalid="ignore"):
            out.append(np.where(np.isnan(scaled), -32768,
                                np.clip(np.rint(np.nan_to_num(scaled)), -32768, 32767)).astype(np.int64))
    return out


def _cv_lanczos(img, h, w):
    """Lanczos-4 resize of an HWC array exactly as OpenCV 3.4's cv::resize (INTER_LANCZOS4)
    in MXNet 1.9.1: 8 taps from source index floor(fx) - 3, edge pixels replicated, uint8 in
    11-bit fixed point with the integer rounding ``(sum + 2**21) >> 22`` in 32-bit
    arithmetic (no SIMD here)."""
    in_h, in_w, chans = img.shape
    fixed = img.dtype == np.uint8
    src = img.astype(np.int64) if fixed else img
    sx, fx = _cv_table(in_w, w)
    wx, wy = _cv_lanczos_weights(fx), _cv_lanczos_weights(_cv_table(in_h, h)[1])
    if fixed:
        wx, wy = _cv_short_weights(wx), _cv_short_weights(wy)
    rows = None
    for k, wk in enumerate(wx):
        term = src[:, np.clip(sx - 3 + k, 0, in_w - 1)] * wk[None, :, None]
        rows = term if rows is None else rows + term
    sy = _cv_table(in_h, h)[0]
    out = None
    for k, wk in enumerate(wy):
        term = rows[np.clip(sy - 3 + k, 0, in_h - 1)] * wk[:, None, None]
        out = term if out is None else out + term
    if not fixed:
        return out
    # OpenCV's int accumulator wraps around (only reachable with the NaN weights above)
    out = (out.astype(np.int32).astype(np.int64) + (1 << 21)).astype(np.int32) >> 22
    return np.clip(out, 0, 255).astype(np.uint8)


def _cv_nearest(img, h, w):
    """cv::resize INTER_NEAREST: source index min(floor(dst * (1 / (n_out / n_in))), n_in - 1)."""
    def index(n_in, n_out):
        scale = 1.0 / (float(n_out) / n_in)
        return np.minimum(np.floor(np.arange(n_out) * scale).astype(np.int64), n_in - 1)
    return img[index(img.shape[0], h)][:, index(img.shape[1], w)]


_CV_RESIZE = {0: _cv_nearest, 1: _cv_linear, 2: _cv_cubic, 3: _cv_area, 4: _cv_lanczos}


def _resize_np(img, w, h, interp):
    if w <= 0 or h <= 0:
        raise ShapeError("imresize: target size (%d, %d) must be positive" % (w, h))
    if img.ndim != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise ShapeError("imresize: expected a non-empty HWC image, got shape %s" % (img.shape,))
    if interp == 9:    # MXNet's auto: cubic to enlarge, area to shrink, bilinear otherwise
        old_h, old_w = img.shape[:2]
        interp = 2 if (h > old_h and w > old_w) else 3 if (h < old_h and w < old_w) else 1
    elif interp == 10:
        interp = int(np.random.randint(0, 5))
    if interp not in _CV_RESIZE:
        raise MXNetError("imresize: interp must be 0-4, 9 or 10, got %r" % (interp,))
    if interp == 0 or img.dtype == np.uint8 or img.dtype.kind == "f":
        return _CV_RESIZE[interp](img, h, w)
    return _CV_RESIZE[interp](img.astype(np.float64), h, w).round().astype(img.dtype)


def imresize(src, w, h, interp=1):
    """Resize an HWC image to width ``w`` and height ``h`` with interpolation ``interp``."""
    return array(_resize_np(_np(src), int(w), int(h), interp), dtype=src.dtype)


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
