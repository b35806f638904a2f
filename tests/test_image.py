"""mx.image: decoding (Pillow), resizing against MXNet 1.9.1 values, crops, and the augmenters."""
import io
import json

import numpy as np
import pytest

import psnet as mx
from psnet.base import ShapeError


def _img(h=7, w=9, seed=0):
    return mx.nd.array(np.random.RandomState(seed).randint(0, 256, (h, w, 3)), dtype="uint8")


def test_imdecode_and_imread_png(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    pixels = np.random.RandomState(1).randint(0, 256, (5, 4, 3)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    img = mx.image.imdecode(buf.getvalue())
    assert img.dtype == np.uint8 and img.shape == (5, 4, 3)
    np.testing.assert_array_equal(img.asnumpy(), pixels)
    np.testing.assert_array_equal(mx.image.imdecode(buf.getvalue(), to_rgb=False).asnumpy(), pixels[:, :, ::-1])
    assert mx.image.imdecode(buf.getvalue(), flag=0).shape == (5, 4, 1)
    path = tmp_path / "x.png"
    path.write_bytes(buf.getvalue())
    np.testing.assert_array_equal(mx.image.imread(str(path)).asnumpy(), pixels)
    with pytest.raises(mx.MXNetError, match="cannot decode"):
        mx.image.imdecode(b"not an image")
    with pytest.raises(mx.MXNetError, match="cannot read"):
        mx.image.imread(str(tmp_path / "missing.png"))


def test_imresize_bilinear_matches_mxnet_exactly():
    # MXNet 1.9.1 (OpenCV) values for the first row of imresize(_img(), 4, 3, interp=1)
    out = mx.image.imresize(_img(), 4, 3, interp=1)
    assert out.shape == (3, 4, 3) and out.dtype == np.uint8
    expected = [[71, 101, 133], [235, 77, 189], [194, 149, 204], [126, 100, 116]]
    np.testing.assert_array_equal(out.asnumpy()[0], expected)


def test_imresize_nearest_and_float():
    src = mx.nd.array(np.arange(4, dtype=np.float32).reshape(2, 2, 1))
    np.testing.assert_array_equal(mx.image.imresize(src, 4, 4, interp=0).asnumpy()[:, :, 0],
                                  [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
    up = mx.image.imresize(src, 4, 2, interp=1).asnumpy()[0, :, 0]
    np.testing.assert_allclose(up, [0, 0.25, 0.75, 1])
    assert mx.image.imresize(_img(), 5, 6, interp=2).shape == (6, 5, 3)


def test_crops():
    img = _img()
    np.testing.assert_array_equal(mx.image.fixed_crop(img, 1, 2, 5, 4).asnumpy(), img.asnumpy()[2:6, 1:6])
    out, rect = mx.image.center_crop(img, (4, 5))
    assert rect == (2, 1, 4, 5)
    np.testing.assert_array_equal(out.asnumpy(), img.asnumpy()[1:6, 2:6])
    out, (x0, y0, w, h) = mx.image.random_crop(img, (3, 3))
    np.testing.assert_array_equal(out.asnumpy(), img.asnumpy()[y0:y0 + 3, x0:x0 + 3])
    out, rect = mx.image.random_size_crop(img, (4, 4), (0.3, 1.0), (0.75, 1.33), interp=1)
    assert out.shape == (4, 4, 3)
    with pytest.raises(ShapeError, match="outside"):
        mx.image.fixed_crop(img, 6, 0, 5, 2)


def test_color_normalize_and_augmenters():
    img = _img()
    f = img.astype("float32")
    norm = mx.image.color_normalize(f, mx.nd.array([1, 2, 3]), mx.nd.array([2, 3, 4]))
    np.testing.assert_allclose(norm.asnumpy(), (f.asnumpy() - [1, 2, 3]) / [2, 3, 4], rtol=1e-6)
    np.testing.assert_array_equal(mx.image.HorizontalFlipAug(1.0)(img).asnumpy(), img.asnumpy()[:, ::-1])
    assert mx.image.CastAug()(img).dtype == np.float32
    b = mx.image.BrightnessJitterAug(0.5)(img).asnumpy() / f.asnumpy().clip(1)
    assert np.allclose(b[f.asnumpy() > 0], b[f.asnumpy() > 0].flat[0], rtol=1e-4)   # one factor
    gray = mx.image.SaturationJitterAug(0.0)(img)
    np.testing.assert_allclose(gray.asnumpy(), f.asnumpy(), rtol=1e-5)
    hue0 = mx.image.HueJitterAug(0.0)(img)
    np.testing.assert_allclose(hue0.asnumpy(), f.asnumpy(), atol=1.0)  # YIQ round trip is approximate
    assert mx.image.ContrastJitterAug(0.3)(img).shape == img.shape
    assert mx.image.RandomSizedCropAug((4, 4), 0.5, (0.75, 1.33))(img).shape == (4, 4, 3)
    assert mx.image.CenterCropAug((4, 4))(img).shape == (4, 4, 3)
    assert mx.image.ResizeAug(14)(img).shape[0] == 14


def test_create_augmenter_pipeline_and_dumps():
    augs = mx.image.CreateAugmenter((3, 8, 8), resize=10, rand_crop=True, rand_mirror=True, mean=True,
                                    std=True, brightness=0.1, hue=0.1, pca_noise=0.1)
    names = [json.loads(a.dumps())[0] if isinstance(a.dumps(), str) else a.dumps()[0] for a in augs]
    assert names == ["resizeaug", "randomcropaug", "horizontalflipaug", "castaug", "colorjitteraug",
                     "huejitteraug", "lightingaug", "colornormalizeaug"]
    img = _img(20, 24)
    for a in augs:
        img = a(img)
    assert img.shape == (8, 8, 3) and img.dtype == np.float32
    assert abs(float(img.asnumpy().mean())) < 3
