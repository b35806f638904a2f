"""gluon.data.vision.transforms: values against NumPy and MXNet 1.9.1 semantics."""
import numpy as np
import pytest

import psnet as mx
from psnet.gluon.data.vision import transforms as T


def _img(h=6, w=8, seed=0):
    return mx.nd.array(np.random.RandomState(seed).randint(0, 256, (h, w, 3)), dtype="uint8")


def test_to_tensor_and_normalize():
    img = _img()
    t = T.ToTensor()(img)
    assert t.dtype == np.float32 and t.shape == (3, 6, 8)
    np.testing.assert_allclose(t.asnumpy(), img.asnumpy().transpose(2, 0, 1) / 255.0, rtol=1e-6)
    n = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4))(t).asnumpy()
    ref = (t.asnumpy() - np.array([0.5, 0.4, 0.3])[:, None, None]) / np.array([0.2, 0.3, 0.4])[:, None, None]
    np.testing.assert_allclose(n, ref, rtol=1e-5)
    batch = T.ToTensor()(mx.nd.array(np.zeros((2, 4, 5, 3)), dtype="uint8"))
    assert batch.shape == (2, 3, 4, 5)
    assert T.Normalize(0.5, 0.25)(batch).asnumpy().min() == -2.0
    with pytest.raises(mx.MXNetError, match="channels"):
        T.Normalize((0.5, 0.5), 1.0)(t)


def test_cast_resize_crops_compose():
    img = _img()
    assert T.Cast("float16")(img).dtype == np.float16
    assert T.Resize((4, 3))(img).shape == (3, 4, 3)
    assert T.Resize(3, keep_ratio=True)(img).shape == (3, 4, 3)
    assert T.Resize(4)(mx.nd.array(np.zeros((2, 6, 8, 3)), dtype="uint8")).shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(T.CenterCrop((4, 3))(img).asnumpy(), img.asnumpy()[1:4, 2:6])
    assert T.RandomResizedCrop((5, 4))(img).shape == (4, 5, 3)
    out = T.Compose([T.CenterCrop(4), T.ToTensor()])(img)
    np.testing.assert_allclose(out.asnumpy(), img.asnumpy()[1:5, 2:6].transpose(2, 0, 1) / 255.0, rtol=1e-6)


def test_flips_are_exact_and_random():
    img = _img()
    seen = set()
    for _ in range(20):
        out = T.RandomFlipLeftRight()(img).asnumpy()
        assert (out == img.asnumpy()).all() or (out == img.asnumpy()[:, ::-1]).all()
        seen.add((out == img.asnumpy()).all())
        out = T.RandomFlipTopBottom()(img).asnumpy()
        assert (out == img.asnumpy()).all() or (out == img.asnumpy()[::-1]).all()
    assert seen == {True, False}


def test_color_transforms_keep_dtype_and_ranges():
    img = _img()
    f = img.asnumpy().astype(np.float32)
    for t in (T.RandomBrightness(0.3), T.RandomContrast(0.3), T.RandomSaturation(0.3), T.RandomHue(0.2),
              T.RandomColorJitter(0.2, 0.2, 0.2, 0.1), T.RandomLighting(0.1)):
        out = t(img)
        assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(T.RandomBrightness(0.0)(img).asnumpy(), img.asnumpy())
    np.testing.assert_array_equal(T.RandomSaturation(0.0)(img).asnumpy(), img.asnumpy())
    gray = T.RandomContrast(0.0)(mx.nd.array(f)).asnumpy()
    np.testing.assert_allclose(gray, f, rtol=1e-5)
    lit = T.RandomLighting(0.5)(mx.nd.array(f)).asnumpy() - f
    assert np.allclose(lit, lit[0, 0])   # one RGB offset for every pixel


def test_transform_first_on_dataset():
    data = mx.gluon.data.ArrayDataset(mx.nd.zeros((4, 5, 5, 3), dtype="uint8"), np.arange(4))
    x, y = data.transform_first(T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5)]))[2]
    assert x.shape == (3, 5, 5) and float(x.asnumpy().min()) == -1.0 and int(y) == 2
