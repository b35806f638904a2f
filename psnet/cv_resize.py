"""MXNet 1.9.1's image resizing in NumPy, bit for bit: the ``cv::resize`` of the OpenCV it
ships with, for :mod:`psnet.image` (``imresize`` and everything built on it) and the
record iterators.

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
"""
import numpy as np

from .base import MXNetError, ShapeError

__all__ = ["resize"]


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


def resize(img, w, h, interp):
    """``img`` (an HWC NumPy array) resized to width ``w`` and height ``h`` with MXNet's
    ``interp`` codes (0-4, 9 auto, 10 random), as OpenCV 3.4.2's ``cv::resize`` computes it."""
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
