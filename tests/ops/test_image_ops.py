"""mx.nd.image / mx.sym.image operators; expected values from MXNet 1.9.1 (CPU build)."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError


def _img():
    return mx.nd.array(np.arange(2 * 3 * 3).reshape(2, 3, 3), dtype="uint8")   # HWC, 2x3, 3 channels


def test_to_tensor_and_normalize():
    t = mx.nd.image.to_tensor(_img())
    assert t.dtype == np.float32 and t.shape == (3, 2, 3)
    np.testing.assert_allclose(t.asnumpy().ravel()[:6], [0.0, 0.01176471, 0.02352941, 0.03529412, 0.04705882,
                                                         0.05882353], rtol=1e-6)
    assert mx.nd.image.to_tensor(mx.nd.stack(_img(), _img())).shape == (2, 3, 2, 3)
    n = mx.nd.image.normalize(t, mean=(0.1, 0.2, 0.3), std=(0.5, 1, 2))
    np.testing.assert_allclose(n.asnumpy().ravel()[:6], [-0.2, -0.1764706, -0.15294118, -0.12941176,
                                                         -0.10588235, -0.08235294], rtol=1e-6)
    np.testing.assert_allclose(mx.nd.image.normalize(t, mean=0.5, std=0.25).asnumpy().ravel()[:3],
                               [-2.0, -1.9529412, -1.9058824], rtol=1e-6)
    assert mx.nd.image.normalize(mx.nd.stack(t, t), mean=(0.1, 0.2, 0.3), std=(0.5, 1, 2)).shape == (2, 3, 2, 3)
    with pytest.raises(MXNetError, match="mean has 2 values but the input has 3 channels"):
        mx.nd.image.normalize(t, mean=(0.1, 0.2))


def test_normalize_gradient_divides_by_std():
    t = mx.nd.image.to_tensor(_img())
    t.attach_grad()
    with mx.autograd.record():
        y = mx.nd.image.normalize(t, mean=(0.1, 0.2, 0.3), std=(0.5, 1, 2))
        loss = (y * mx.nd.arange(18).reshape(3, 2, 3)).sum()
    loss.backward()
    assert t.grad.asnumpy().ravel()[:8].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 6.0, 7.0]


def test_flips_crop_and_their_errors():
    img = _img()
    assert mx.nd.image.flip_top_bottom(img).asnumpy()[:, :, 0].tolist() == [[9, 12, 15], [0, 3, 6]]
    # MXNet 1.9.1's CPU kernel writes [[6, 0, 0], [15, 0, 9]] here: psnet flips
    assert mx.nd.image.flip_left_right(img).asnumpy()[:, :, 0].tolist() == [[6, 3, 0], [15, 12, 9]]
    assert mx.nd.image.flip_left_right(mx.nd.stack(img, img)).asnumpy()[1, :, :, 0].tolist() == [[6, 3, 0], [15, 12, 9]]
    c = mx.nd.image.crop(img, x=1, y=0, width=2, height=2)
    assert c.dtype == np.uint8 and c.asnumpy()[:, :, 0].tolist() == [[3, 6], [12, 15]]
    assert mx.nd.image.crop(mx.nd.stack(img, img), x=1, y=0, width=2, height=1).shape == (2, 1, 2, 3)
    with pytest.raises(MXNetError, match="does not fit an image of width 3 and height 2"):
        mx.nd.image.crop(img, x=2, y=0, width=2, height=2)
    with pytest.raises(MXNetError, match="HWC image or an NHWC batch"):
        mx.nd.image.flip_left_right(mx.nd.zeros((4, 4)))


def test_random_flip_is_either_flip_and_follows_the_seed():
    f = _img().astype("float32")
    seen = set()
    for seed in range(8):
        mx.random.seed(seed)
        a = mx.nd.image.random_flip_left_right(f).asnumpy()
        mx.random.seed(seed)
        assert (mx.nd.image.random_flip_left_right(f).asnumpy() == a).all()
        seen.add(a[0, 0, 0])
    assert seen == {0.0, 6.0}
    assert (mx.nd.image.random_flip_top_bottom(f, p=1.0).asnumpy() == f.asnumpy()[::-1]).all()


def test_resize_matches_opencv_and_mxnet_sizes():
    img = _img()
    r = mx.nd.image.resize(img, size=(4, 3))
    assert r.shape == (3, 4, 3) and r.dtype == np.uint8
    assert r.asnumpy()[:, :, 0].tolist() == [[0, 2, 4, 6], [5, 6, 9, 11], [9, 11, 13, 15]]
    assert mx.nd.image.resize(img, size=(4, 3), interp=0).asnumpy()[:, :, 0].tolist() == [[0, 0, 3, 6], [0, 0, 3, 6],
                                                                                        [9, 9, 12, 15]]
    assert mx.nd.image.resize(img, size=5, keep_ratio=True).shape == (5, 7, 3)
    assert mx.nd.image.resize(img, size=5).shape == (5, 5, 3)
    assert mx.nd.image.resize(mx.nd.stack(img, img), size=(4, 3)).shape == (2, 3, 4, 3)


def test_lighting():
    x = mx.nd.array(np.linspace(0, 1, 18).reshape(2, 3, 3))
    np.testing.assert_allclose(mx.nd.image.adjust_lighting(x, alpha=(0.1, 0.2, 0.3)).asnumpy().ravel()[:6],
                               [-2.319716215133667, -3.4469494819641113, -3.640421152114868,
                                -2.1432456970214844, -3.2704789638519287, -3.4639506340026855], rtol=1e-6)
    mx.random.seed(1)
    a = mx.nd.image.random_lighting(x, alpha_std=0.1).asnumpy()
    offset = a - x.asnumpy()
    np.testing.assert_allclose(offset, np.broadcast_to(offset[0, 0], offset.shape), atol=1e-6)   # one offset per channel
    assert np.abs(offset).max() > 0


def test_symbol_namespace():
    s = mx.sym.image.to_tensor(mx.sym.var("d"))
    assert s.infer_shape(d=(4, 5, 3))[1] == [(3, 4, 5)]
    assert '"op": "_image_to_tensor"' in s.tojson()
