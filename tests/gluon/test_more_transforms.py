"""mx.image.imrotate / random_rotate and the transforms HybridSequential, RandomApply,
CropResize, Rotate, RandomRotation against MXNet 1.9.1 results."""
import random

import numpy as np
import pytest

import psnet as mx
from psnet.base import DTypeError, MXNetError, ShapeError
from psnet.gluon.data.vision import transforms as T

IMG = [[[0.5488, 0.7152, 0.6028, 0.5449], [0.4237, 0.6459, 0.4376, 0.8918], [0.9637, 0.3834, 0.7917, 0.5289]],
       [[0.568, 0.9256, 0.071, 0.0871], [0.0202, 0.8326, 0.7782, 0.87], [0.9786, 0.7992, 0.4615, 0.7805]]]
# MXNet 1.9.1 mx.image.imrotate(IMG, ...)
R30 = [[[0.2555121, 0.5758834, 0.5994408, 0.5969048], [0.5537685, 0.6508776, 0.5297524, 0.6364154],
        [0.3409155, 0.6020423, 0.4952017, 0.2738172]],
       [[0.3143461, 0.3898793, 0.3621047, 0.5461642], [0.5257633, 0.8388051, 0.7074135, 0.7501828],
        [0.0921056, 0.7248048, 0.5772102, 0.2138328]]]
R90 = [[[0.286925, 0.619275, 0.6625, 0.33015], [0.3295, 0.600375, 0.56465, 0.293775],
        [0.316, 0.5834, 0.604175, 0.336775]],
       [[0.039525, 0.451575, 0.72255, 0.3105], [0.24915, 0.65185, 0.717875, 0.315175],
        [0.3734, 0.5866, 0.65765, 0.44445]]]
RM45ZI = [[[0.5609439, 0.6307153, 0.64855, 0.5895633], [0.5191061, 0.5678867, 0.5266429, 0.5616561],
           [0.4643388, 0.6114969, 0.5564153, 0.6698366]],
          [[0.4826592, 0.7503939, 0.7298673, 0.2926593], [0.7861551, 0.7925551, 0.6911919, 0.3297337],
           [0.6525204, 0.6421847, 0.730405, 0.6698449]]]
R120ZO = [[[0.0, 0.556344, 0.2988734, 0.0], [0.0, 0.5680166, 0.4779737, 0.0], [0.0, 0.2868148, 0.2858675, 0.0]],
          [[0.0, 0.5619002, 0.2860788, 0.0], [0.0, 0.3256769, 0.7864498, 0.0], [0.0, 0.3374935, 0.0528662, 0.0]]]
# batch (IMG[:1], IMG[1:] * 2) rotated by (15, -100)
RB = [[[[0.3877479, 0.6189659, 0.5820353, 0.5477881], [0.4825171, 0.6515307, 0.4856133, 0.7419245],
        [0.5828548, 0.5348998, 0.6143286, 0.3941917]]],
      [[[0.5861685, 1.4998723, 0.9614403, 0.9180259], [0.5671089, 1.4047393, 1.3862331, 0.7537559],
        [0.9739586, 1.5422484, 0.647273, 0.0521]]]]


def _img():
    return mx.nd.array(np.array(IMG, dtype=np.float32))


def _batch():
    img = np.array(IMG, dtype=np.float32)
    return mx.nd.array(np.stack([img[:1], img[1:] * 2]))


@pytest.mark.parametrize("angle, kwargs, expected", [
    (30, {}, R30), (90, {}, R90), (-45, {"zoom_in": True}, RM45ZI), (120, {"zoom_out": True}, R120ZO)])
def test_imrotate_matches_mxnet(angle, kwargs, expected):
    out = mx.image.imrotate(_img(), angle, **kwargs)
    assert out.dtype == np.float32 and out.shape == (2, 3, 4)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-5, atol=1e-6)


def test_imrotate_batch_and_identity():
    out = mx.image.imrotate(_batch(), mx.nd.array([15., -100.]))
    np.testing.assert_allclose(out.asnumpy(), RB, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mx.image.imrotate(_batch(), [15., -100.]).asnumpy(), RB, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mx.image.imrotate(_img(), 0).asnumpy(), IMG, rtol=1e-6)
    # 180 degrees flips both spatial axes exactly (up to rounding of the grid)
    np.testing.assert_allclose(mx.image.imrotate(_img(), 180).asnumpy(),
                               np.array(IMG)[:, ::-1, ::-1], atol=1e-5)


def test_imrotate_errors():
    with pytest.raises(ValueError, match="zoom_in"):
        mx.image.imrotate(_img(), 3, zoom_in=True, zoom_out=True)
    with pytest.raises(DTypeError, match="float32"):
        mx.image.imrotate(_img().astype("float64"), 3)
    with pytest.raises(ShapeError, match="number of images"):
        mx.image.imrotate(_batch(), mx.nd.array([1., 2., 3.]))
    with pytest.raises(DTypeError, match="scalar"):
        mx.image.imrotate(_img(), mx.nd.array([1.]))
    with pytest.raises(ShapeError, match="3-D"):
        mx.image.imrotate(mx.nd.zeros((3, 4)), 1)


def test_random_rotate_and_transforms_rotate():
    np.random.seed(5)
    out = mx.image.random_rotate(_batch(), (-30, 30))
    np.random.seed(5)
    angles = np.random.uniform(-30, 30, size=2)
    np.testing.assert_allclose(out.asnumpy(), mx.image.imrotate(_batch(), angles).asnumpy())
    np.testing.assert_allclose(T.Rotate(30)(_img()).asnumpy(), R30, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(T.Rotate(120, zoom_out=True)(_img()).asnumpy(), R120ZO, rtol=1e-5, atol=1e-6)
    with pytest.raises(DTypeError, match="ToTensor"):
        T.Rotate(3)(mx.nd.zeros((3, 4, 4), dtype="uint8"))


def test_random_rotation():
    np.random.seed(11)
    out = T.RandomRotation((-40, 40), zoom_in=True)(_img())
    np.random.seed(11)
    np.random.random()
    angle = np.random.uniform(-40, 40)
    expected = mx.image.imrotate(_img(), angle, zoom_in=True).asnumpy()
    np.testing.assert_allclose(out.asnumpy(), expected)
    assert not np.allclose(expected, IMG)
    x = _img()
    assert T.RandomRotation((-40, 40), rotate_with_proba=0.0)(x) is x
    with pytest.raises(ValueError, match="ordered"):
        T.RandomRotation((40, -40))
    with pytest.raises(ValueError, match="between 0 and 1"):
        T.RandomRotation((-4, 40), rotate_with_proba=2)
    with pytest.raises(DTypeError, match="float32"):
        T.RandomRotation((-4, 40))(mx.nd.zeros((3, 4, 4), dtype="uint8"))


U8 = [[[142, 167, 32], [193, 9, 185], [127, 32, 31], [202, 244, 151], [163, 254, 203]],
      [[114, 183, 28], [34, 128, 128], [164, 53, 133], [38, 232, 244], [17, 79, 132]],
      [[105, 42, 186], [31, 120, 1], [65, 231, 169], [57, 35, 102], [119, 11, 174]],
      [[82, 91, 128], [142, 99, 53], [140, 121, 170], [84, 203, 68], [6, 196, 47]]]
# MXNet 1.9.1 CropResize(1, 0, 4, 3, size=(2, 5), interpolation=1)(U8)
CR2 = [[[160, 20, 108], [182, 249, 177]], [[136, 48, 117], [120, 211, 181]], [[99, 91, 131], [28, 156, 188]],
       [[68, 141, 103], [64, 76, 158]], [[48, 175, 85], [88, 23, 138]]]
# CropResize(0, 1, 3, 3, size=2, interpolation=2) on the batch (U8, U8[::-1])
CR3 = [[[[90, 145, 71], [111, 103, 132]], [[94, 80, 117], [120, 142, 137]]],
       [[[86, 84, 118], [72, 178, 129]], [[141, 144, 64], [144, 27, 86]]]]


def test_crop_resize():
    u8 = mx.nd.array(np.array(U8), dtype="uint8")
    out = T.CropResize(1, 1, 3, 2)(u8)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out.asnumpy(), np.array(U8)[1:3, 1:4])
    out = T.CropResize(1, 0, 4, 3, size=(2, 5), interpolation=1)(u8)
    assert out.dtype == np.uint8 and out.shape == (5, 2, 3)
    np.testing.assert_array_equal(out.asnumpy(), CR2)
    batch = mx.nd.array(np.stack([np.array(U8), np.array(U8)[::-1]]), dtype="uint8")
    np.testing.assert_array_equal(T.CropResize(0, 1, 3, 3, size=2, interpolation=2)(batch).asnumpy(), CR3)
    with pytest.raises(ShapeError, match="does not fit"):
        T.CropResize(3, 0, 3, 2)(u8)
    with pytest.raises(ShapeError, match="HWC"):
        T.CropResize(0, 0, 1, 1)(mx.nd.zeros((4, 4)))


def test_random_apply_and_hybrid_sequential():
    u8 = mx.nd.array(np.array(U8), dtype="uint8")
    cast = T.RandomApply(T.Cast("float32"), p=0.5)
    random.seed(3)
    got = [cast(u8).dtype == np.float32 for _ in range(8)]
    random.seed(3)
    expected = [not (0.5 < random.random()) for _ in range(8)]
    assert got == expected and any(got) and not all(got)
    # MXNet 1.9.1 with random.seed(3): float32, uint8, float32, uint8, uint8, float32, float32, uint8
    assert got == [True, False, True, False, False, True, True, False]
    assert T.RandomApply(T.Cast("float32"), p=0.0)(u8) is u8
    assert repr(cast) == "RandomApply(\n  (transforms): Cast(\n  \n  )\n)"
    seq = T.HybridSequential()
    seq.add(T.Cast("float32"), T.ToTensor())
    out = seq(u8)
    assert out.shape == (3, 4, 5)
    np.testing.assert_allclose(out.asnumpy(), np.array(U8, np.float32).transpose(2, 0, 1) / 255, rtol=1e-6)
    assert isinstance(seq, mx.gluon.nn.HybridSequential)
    for name in ("HybridSequential", "RandomApply", "CropResize", "Rotate", "RandomRotation"):
        assert name in T.__all__
    assert isinstance(T.CropResize(0, 0, 1, 1), mx.gluon.Block)
    with pytest.raises(MXNetError):
        T.Rotate(3, zoom_in=True, zoom_out=True)(_img())
