"""mx.image.imresize against MXNet 1.9.1 bit for bit (OpenCV 3.4.2's cv::resize).

The expected arrays below were produced by MXNet 1.9.1's ``mx.image.imresize`` on the
source arrays pasted next to them; the uint8 bilinear values differ by one in places from a
floating-point bilinear interpolation, so these tests fail unless OpenCV's fixed-point
arithmetic is reproduced exactly.
"""
import numpy as np
import pytest

import psnet as mx
from psnet.base import ShapeError

SRC_A = [[[102, 179,  92],
      [ 14, 106,  71],
      [188,  20, 102],
      [121, 210, 214],
      [ 74, 202,  87],
      [116,  99, 103],
      [151, 130, 149]],

     [[ 52,   1,  87],
      [235, 157,  37],
      [129, 191, 187],
      [ 20, 160, 203],
      [ 57,  21, 252],
      [235,  88,  48],
      [218,  58, 254]],

     [[169, 255, 219],
      [187, 207,  14],
      [189, 189, 174],
      [189,  50, 107],
      [ 54, 243,  63],
      [248, 130, 228],
      [ 50, 134,  20]],

     [[ 72, 166,  17],
      [131,  88,  59],
      [ 13, 241, 249],
      [  8,  89,  52],
      [129,  83,  91],
      [110, 187, 198],
      [171, 252,   7]],

     [[174,  34, 205],
      [ 80, 163,  49],
      [103, 131,   1],
      [253, 133,  53],
      [105,   3,  53],
      [220, 190, 145],
      [217,  43, 161]]]
A_3x4 = [[[ 86, 121,  79],
      [158,  91, 140],
      [ 70, 148, 150],
      [167, 102, 147]],

     [[176, 237, 142],
      [189, 172, 166],
      [ 71, 219,  69],
      [124, 133,  98]],

     [[124, 100, 108],
      [ 85, 161,  80],
      [120,  41,  64],
      [195, 141, 129]]]
SRC_B = [[201, 189, 227,  13],
     [ 94,  47,  14, 199],
     [205, 214, 251, 248],
     [189,  39, 212, 207]]
B_9x7 = [[201, 197, 190, 208, 212,  89,  13],
     [183, 177, 166, 178, 181,  97,  44],
     [135, 123, 105,  99,  99, 116, 127],
     [100,  84,  59,  42,  39, 139, 202],
     [150, 143, 132, 132, 139, 191, 224],
     [199, 201, 204, 221, 238, 242, 245],
     [199, 180, 150, 191, 236, 233, 232],
     [192, 147,  77, 143, 218, 215, 214],
     [189, 135,  50, 125, 212, 209, 207]]
B_NEAREST_6x3 = [[201, 189, 227],
     [201, 189, 227],
     [ 94,  47,  14],
     [205, 214, 251],
     [205, 214, 251],
     [189,  39, 212]]
SRC_C = [[[236,  81],
      [110,  52],
      [ 23, 153],
      [216, 251],
      [187, 123],
      [236,  40]],

     [[156,  14],
      [ 44,  64],
      [ 88,  70],
      [  8,  87],
      [128, 235],
      [135, 215]],

     [[ 62, 138],
      [242,  80],
      [135, 162],
      [162,  32],
      [122,   4],
      [233, 230]],

     [[249,  40],
      [ 27, 134],
      [200,  71],
      [ 11, 161],
      [ 32,  47],
      [246, 150]]]
C_HALF = [[[136,  53],
      [ 84, 140],
      [172, 153]],

     [[145,  98],
      [127, 106],
      [158, 108]]]
F_5x3 = [[0.5, -0.19999998807907104, -1.25, 1.3000000715255737, 3.0], [1.25, 1.9999998807907104, 3.125, 2.112499952316284, 1.4375], [2.0, 4.199999809265137, 7.5, 2.924999713897705, -0.125]]
A_CUBIC_3x4 = [[[ 77, 116,  71],
      [163,  85, 144],
      [ 63, 144, 163],
      [177,  97, 147]],

     [[175, 239, 135],
      [191, 171, 179],
      [ 54, 230,  55],
      [134, 125, 106]],

     [[123,  91, 104],
      [ 74, 167,  82],
      [119,  17,  58],
      [202, 154, 135]]]
B_CUBIC_9x7 = [[213, 207, 203, 251, 237,  83,   0],
     [186, 176, 165, 192, 185,  93,  24],
     [126, 109,  85,  66,  71, 104, 129],
     [ 99,  81,  54,  11,  26, 141, 227],
     [142, 140, 135, 112, 123, 200, 255],
     [199, 203, 211, 228, 243, 247, 248],
     [216, 190, 165, 212, 255, 252, 236],
     [206, 141,  67, 133, 228, 226, 213],
     [204, 119,  21,  99, 216, 216, 202]]
SRC_E = [[[180, 118,  85],
      [234, 197, 159],
      [193,  68,  22],
      [142, 244, 160],
      [182, 164,  93],
      [195,  92, 173],
      [108, 189, 154],
      [128,  90, 243],
      [160,  87, 229]],

     [[160,  83, 150],
      [ 87, 198,  59],
      [111, 218,  45],
      [ 12,  94, 123],
      [188, 237,  68],
      [ 79,  61, 112],
      [113, 228,  25],
      [ 19,  53,  62],
      [ 58, 153, 254]]]
E_CUBIC_1x3 = [[[160, 198, 109],
      [185, 200,  80],
      [ 74,  72, 153]]]
F_CUBIC_5x3 = [[0.5982091426849365, -0.9336107969284058, -2.0095481872558594, 1.0509992837905884, 3.7782251834869385],
               [1.0699994564056396, 2.0989999771118164, 3.125, 2.227250099182129, 1.2755001783370972],
               [1.5417897701263428, 5.131611347198486, 8.259549140930176, 3.403501033782959, -1.227225422859192]]
A_AREA_3x4 = [[[ 91, 116,  76],
      [132, 123, 146],
      [ 85, 142, 159],
      [172,  98, 144]],

     [[152, 181,  99],
      [142, 162, 146],
      [105, 137, 120],
      [155, 138, 116]],

     [[119, 107,  97],
      [ 97, 152,  80],
      [135,  80,  78],
      [189, 153, 128]]]
B_AREA_9x7 = [[201, 198, 189, 208, 227,  67,  13],
     [201, 198, 189, 208, 227,  67,  13],
     [121, 111,  83,  75,  67, 131, 153],
     [ 94,  82,  47,  31,  14, 153, 199],
     [150, 145, 131, 132, 133, 201, 224],
     [205, 207, 214, 233, 251, 249, 248],
     [201, 193, 170, 206, 241, 239, 238],
     [189, 152,  39, 126, 212, 208, 207],
     [189, 152,  39, 126, 212, 208, 207]]
SRC_G = [[153, 191,  80,  91,  81, 183,  13,  76, 161],
     [ 71,  82,  24, 109,  92, 176, 253, 160,  45],
     [236, 125, 132,  34, 140, 129,  74,  37, 245],
     [231, 212,  81,  91, 152, 248, 145,  67,  70],
     [171, 114, 242, 192, 125,  79,  96,  23, 155],
     [ 70,  89, 107, 138, 185,  27,  44, 245, 142]]
G_AREA_2x3 = [[122, 115, 118],
     [146, 137, 110]]
A_LANCZOS_3x4 = [[[ 66, 114,  65],
      [155,  87, 147],
      [ 63, 137, 172],
      [180, 104, 149]],

     [[176, 233, 129],
      [196, 168, 187],
      [ 49, 228,  46],
      [144, 113, 111]],

     [[125,  77,  96],
      [ 67, 174,  86],
      [123,   0,  65],
      [211, 164, 138]]]
B_LANCZOS_9x7 = [[224, 203, 209, 255, 250,  88,   0],
     [187, 166, 157, 189, 181,  90,  19],
     [123, 106,  74,  52,  65, 102, 128],
     [ 96,  91,  58,   6,  26, 142, 228],
     [136, 144, 137, 106, 118, 202, 255],
     [199, 202, 210, 226, 242, 249, 250],
     [227, 193, 174, 227, 255, 255, 221],
     [217, 140,  72, 139, 239, 237, 202],
     [205, 107,  10,  80, 205, 223, 195]]
COL_LANCZOS_4x7 = [[  5,   5,   5,   5,   5,   5,   5],
     [ 78,  78,  78,  78,  78,  78,  78],
     [ 31,  31,  31,  31,  31,  31,  31],
     [165, 165, 165, 165, 165, 165, 165]]

def _u8(a):
    a = np.array(a, dtype=np.uint8)
    return mx.nd.array(a if a.ndim == 3 else a[:, :, None], dtype="uint8")


def test_bilinear_uint8_downscale_3_channels():
    out = mx.image.imresize(_u8(SRC_A), 4, 3, interp=1)
    assert out.shape == (3, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out.asnumpy(), A_3x4)


def test_bilinear_uint8_upscale_1_channel():
    out = mx.image.imresize(_u8(SRC_B), 7, 9, interp=1)
    assert out.shape == (9, 7, 1)
    np.testing.assert_array_equal(out.asnumpy()[:, :, 0], B_9x7)


def test_bilinear_uint8_exact_halving_uses_opencv_area_rule():
    # OpenCV turns a 2x INTER_LINEAR shrink into 2x2 INTER_AREA; with 2 channels it rounds
    # sum / 4 half to even: 546 / 4 -> 136 and 426 / 4 -> 106, where (sum + 2) >> 2 (its rule
    # for 1, 3 and 4 channels) would give 137 and 107
    out = mx.image.imresize(_u8(SRC_C), 3, 2, interp=1)
    np.testing.assert_array_equal(out.asnumpy(), C_HALF)


def test_bicubic_uint8():
    np.testing.assert_array_equal(mx.image.imresize(_u8(SRC_A), 4, 3, interp=2).asnumpy(), A_CUBIC_3x4)
    # enlarging overshoots: negative lobes saturate at 0 and 255
    np.testing.assert_array_equal(mx.image.imresize(_u8(SRC_B), 7, 9, interp=2).asnumpy()[:, :, 0], B_CUBIC_9x7)


def test_bicubic_uint8_simd_body_and_scalar_tail():
    # a row of 9 values: OpenCV's SSE2 float formula covers the first 8, integer rounding the
    # 9th; each formula alone gets one of them wrong
    np.testing.assert_array_equal(mx.image.imresize(_u8(SRC_E), 3, 1, interp=2).asnumpy(), E_CUBIC_1x3)


def test_bicubic_float32():
    src = mx.nd.array(np.array([[0.5, -1.25, 3.0], [2.0, 7.5, -0.125]], np.float32)[:, :, None])
    out = mx.image.imresize(src, 5, 3, interp=2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.asnumpy()[:, :, 0], F_CUBIC_5x3, rtol=0, atol=1e-6)


def test_area_uint8_shrink_enlarge_and_integer_factor():
    # shrinking by a non-integer factor: float32 cell-weighted sums
    np.testing.assert_array_equal(mx.image.imresize(_u8(SRC_A), 4, 3, interp=3).asnumpy(), A_AREA_3x4)
    # enlarging: bilinear on OpenCV's INTER_AREA positions (edge rows and columns repeat)
    np.testing.assert_array_equal(mx.image.imresize(_u8(SRC_B), 7, 9, interp=3).asnumpy()[:, :, 0], B_AREA_9x7)
    # integer factor 3: block means rounded half to even
    out = mx.image.imresize(_u8(SRC_G), 3, 2, interp=3).asnumpy()[:, :, 0]
    np.testing.assert_array_equal(out, G_AREA_2x3)
    blocks = np.array(SRC_G).reshape(2, 3, 3, 3).mean(axis=(1, 3))
    np.testing.assert_array_equal(out, np.rint(blocks))


def test_lanczos_uint8():
    np.testing.assert_array_equal(mx.image.imresize(_u8(SRC_A), 4, 3, interp=4).asnumpy(), A_LANCZOS_3x4)
    np.testing.assert_array_equal(mx.image.imresize(_u8(SRC_B), 7, 9, interp=4).asnumpy()[:, :, 0], B_LANCZOS_9x7)


def test_lanczos_reproduces_opencvs_nan_weights():
    # width 1 -> 107: output column 53 sits a hair left of the pixel centre, its fraction
    # rounds to 1.0 in float32 and OpenCV's Lanczos weights become NaN there (MXNet: NaN for
    # float images, saturate_cast(NaN) = -32768 as a fixed-point weight for uint8 images)
    col = np.array([[2], [51], [80], [32], [182]])
    out = mx.image.imresize(mx.nd.array(col[:, :, None], dtype="float32"), 107, 4, interp=4).asnumpy()[:, :, 0]
    assert np.isnan(out).any(axis=0).nonzero()[0].tolist() == [53]
    out = mx.image.imresize(_u8(col), 107, 4, interp=4).asnumpy()[:, :, 0]
    np.testing.assert_array_equal(out[:, 53], [0, 0, 0, 255])
    last_166 = [2, 4, 8, 15, 16, 17, 18, 19, 22, 30, 34, 36, 37, 39, 43, 63, 67, 69, 70, 72, 76, 84, 87, 88, 89, 90,
                91, 98, 102, 104]
    expected = np.tile(np.array([[5], [78], [31], [165]]), (1, 107))
    expected[3, last_166] = 166
    expected[:, 53] = [0, 0, 0, 255]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(mx.image.imresize(_u8(col), 7, 4, interp=4).asnumpy()[:, :, 0], COL_LANCZOS_4x7)


def test_nearest_uint8():
    out = mx.image.imresize(_u8(SRC_B), 3, 6, interp=0)
    np.testing.assert_array_equal(out.asnumpy()[:, :, 0], B_NEAREST_6x3)


def test_bilinear_float32():
    src = mx.nd.array(np.array([[0.5, -1.25, 3.0], [2.0, 7.5, -0.125]], np.float32)[:, :, None])
    out = mx.image.imresize(src, 5, 3, interp=1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.asnumpy()[:, :, 0], F_5x3, rtol=0, atol=1e-6)


def test_gluon_resize_and_center_crop_use_the_same_arithmetic():
    from psnet.gluon.data.vision import transforms
    out = transforms.Resize((4, 3))(_u8(SRC_A))
    np.testing.assert_array_equal(out.asnumpy(), A_3x4)
    img = mx.image.imresize(_u8(SRC_A), 4, 3, interp=1)
    np.testing.assert_array_equal(mx.image.fixed_crop(_u8(SRC_A), 0, 0, 7, 5, size=(4, 3), interp=1).asnumpy(),
                                  img.asnumpy())


@pytest.mark.parametrize("shape,size", [((5, 7, 3), (11, 4)), ((6, 4, 1), (2, 9)), ((3, 8, 2), (4, 3))])
@pytest.mark.parametrize("interp", [0, 1, 2, 3, 4])
def test_constant_image_stays_constant(shape, size, interp):
    for value in (0, 1, 127, 254, 255):
        src = mx.nd.array(np.full(shape, value), dtype="uint8")
        out = mx.image.imresize(src, size[0], size[1], interp=interp).asnumpy()
        assert out.shape == (size[1], size[0], shape[2])
        assert (out == value).all(), (value, np.unique(out))


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("interp", [0, 1, 2, 3, 4])
def test_identity_resize_returns_the_same_values(dtype, interp):
    src = np.random.RandomState(3).randint(0, 256, (6, 5, 3)).astype(dtype)
    out = mx.image.imresize(mx.nd.array(src, dtype=dtype), 5, 6, interp=interp)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out.asnumpy(), src)


def test_bilinear_is_symmetric_under_flips():
    # pixel centres are aligned, so resizing a mirrored image mirrors the result (float path)
    src = np.random.RandomState(4).rand(5, 6, 1).astype(np.float32)
    out = mx.image.imresize(mx.nd.array(src), 9, 4, interp=1).asnumpy()
    flipped = mx.image.imresize(mx.nd.array(src[:, ::-1].copy()), 9, 4, interp=1).asnumpy()
    np.testing.assert_allclose(flipped, out[:, ::-1], atol=1e-5)


def test_auto_interp_9_follows_mxnets_rule():
    src = _u8(SRC_A)     # 5 x 7
    for (w, h), expected in [((9, 8), 2), ((4, 3), 3), ((9, 3), 1), ((7, 3), 1)]:
        auto = mx.image.imresize(src, w, h, interp=9).asnumpy()
        np.testing.assert_array_equal(auto, mx.image.imresize(src, w, h, interp=expected).asnumpy())
        others = [k for k in range(5) if k != expected]
        assert any((mx.image.imresize(src, w, h, interp=k).asnumpy() != auto).any() for k in others)


def test_bad_sizes():
    with pytest.raises(ShapeError, match="positive"):
        mx.image.imresize(_u8(SRC_B), 0, 3)
    with pytest.raises(mx.MXNetError, match="interp"):
        mx.image.imresize(_u8(SRC_B), 3, 3, interp=5)
