"""Legacy layer ops (psnet/ops/legacy_ops.py): L2Normalization, MakeLoss, SVMOutput, Crop,
im2col / col2im; values vs NumPy and MXNet 1.9.1 constants, loss-head gradients, errors."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, ShapeError

RS = np.random.RandomState(3)
X4 = RS.randn(2, 3, 4, 5).astype(np.float32)


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(a.asnumpy() if hasattr(a, "asnumpy") else a, b, rtol=rtol, atol=atol)


def backward_of(fn, x, head):
    """x's gradient of fn(x) under the head gradient ``head``."""
    y = mx.nd.array(x)
    y.attach_grad()
    with mx.autograd.record():
        z = fn(y)
    z.backward(mx.nd.array(head))
    return y.grad


@pytest.mark.parametrize("mode,axes", [("instance", (1, 2, 3)), ("channel", (1,)), ("spatial", (2, 3))])
def test_l2_normalization_modes(mode, axes):
    r = mx.nd.L2Normalization(mx.nd.array(X4), mode=mode, eps=0.5)
    close(r, X4 / np.sqrt((X4 ** 2).sum(axis=axes, keepdims=True) + 0.5))


def test_l2_normalization_errors():
    with pytest.raises(MXNetError, match="mode"):
        mx.nd.L2Normalization(mx.nd.array(X4), mode="row")
    with pytest.raises(ShapeError, match=r"at least 3 dimensions, got shape \(2, 3\)"):
        mx.nd.L2Normalization(mx.nd.ones((2, 3)), mode="spatial")


def test_make_loss_identity_and_gradient_ignores_head():
    x = np.array([[0.5, -1.5, 2.0], [0.2, 0.9, -0.4]], np.float32)
    close(mx.nd.MakeLoss(mx.nd.array(x)), x)
    head = np.full((2, 3), 7.0, np.float32)
    close(backward_of(lambda y: mx.nd.MakeLoss(y, grad_scale=2.0), x, head), np.full((2, 3), 2.0))
    close(backward_of(lambda y: mx.nd.make_loss(y, normalization="batch"), x, head), np.full((2, 3), 0.5))
    # MXNet 1.9.1: 3 elements above 0.4, grad_scale 3 -> 1 everywhere
    close(backward_of(lambda y: mx.nd.MakeLoss(y, grad_scale=3.0, normalization="valid", valid_thresh=0.4),
                      x, head), np.ones((2, 3)))
    with pytest.raises(MXNetError, match="normalization"):
        mx.nd.MakeLoss(mx.nd.array(x), normalization="mean")


def test_svm_output_gradients_match_mxnet():
    x = np.array([[0.5, -1.5, 2.0], [0.2, 0.9, -0.4]], np.float32)
    lab = mx.nd.array([2, 0])
    head = np.full((2, 3), 7.0, np.float32)
    close(mx.nd.SVMOutput(mx.nd.array(x), lab), x)
    g = backward_of(lambda y: mx.nd.SVMOutput(y, lab, margin=1.0), x, head)
    close(g, [[3.0, 0.0, 0.0], [-1.600000023841858, 3.799999952316284, 1.2000000476837158]])
    g = backward_of(lambda y: mx.nd.SVMOutput(y, lab, use_linear=True, regularization_coefficient=0.5), x, head)
    close(g, [[0.5, 0.0, 0.0], [-0.5, 0.5, 0.5]])
    with pytest.raises(ShapeError, match="label"):
        mx.nd.SVMOutput(mx.nd.array(x), mx.nd.array([1, 0, 1]))


def test_crop_modes():
    d = mx.nd.array(X4)
    close(mx.nd.Crop(d, num_args=1, h_w=(2, 3), offset=(1, 2)), X4[:, :, 1:3, 2:5])
    close(mx.nd.Crop(d, mx.nd.zeros((1, 1, 2, 3)), num_args=2, center_crop=True), X4[:, :, 1:3, 1:4])
    close(mx.nd.Crop(d, mx.nd.zeros((1, 1, 3, 3)), num_args=2), X4[:, :, :3, :3])
    with pytest.raises(ShapeError, match=r"does not fit in data of shape \(2, 3, 4, 5\)"):
        mx.nd.Crop(d, num_args=1, h_w=(3, 3), offset=(2, 0))


def test_crop_gradient_pads_with_zeros():
    head = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4) + 1
    g = backward_of(lambda y: mx.nd.Crop(y, num_args=1, h_w=(3, 4), offset=(1, 0)),
                    np.zeros((1, 1, 5, 5), np.float32), head)
    ref = np.zeros((1, 1, 5, 5), np.float32)
    ref[:, :, 1:4, 0:4] = head
    close(g, ref)


def test_im2col_values_and_mxnet_constants():
    img = np.arange(1, 9, dtype=np.float32).reshape(1, 1, 2, 4)
    close(mx.nd.im2col(mx.nd.array(img), kernel=(2, 2), stride=(1, 2)),
          [[[1.0, 3.0], [2.0, 4.0], [5.0, 7.0], [6.0, 8.0]]])
    x = RS.randn(2, 3, 5, 4).astype(np.float32)
    c = mx.nd.im2col(mx.nd.array(x), kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 1))
    assert c.shape == (2, 18, 12)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    # row (c=1, ky=2, kx=1), window (oy=1, ox=3): xp[:, 1, 2*1 + 2, 3 + 2]
    close(c[:, 1 * 6 + 2 * 2 + 1, 1 * 4 + 3], xp[:, 1, 4, 5])


def test_col2im_sums_overlaps_and_is_adjoint_of_im2col():
    cols = np.arange(1, 13, dtype=np.float32).reshape(1, 4, 3)
    close(mx.nd.col2im(mx.nd.array(cols), output_size=(2, 4), kernel=(2, 2)),
          [[[[1.0, 6.0, 8.0, 6.0], [7.0, 18.0, 20.0, 12.0]]]])
    kw = dict(kernel=(2, 3), stride=(2, 1), pad=(1, 0), dilate=(1, 1))
    x = RS.randn(1, 2, 4, 5)
    c = RS.randn(1, 12, 9)
    lhs = (mx.nd.im2col(mx.nd.array(x, dtype="float64"), **kw).asnumpy() * c).sum()
    rhs = (x * mx.nd.col2im(mx.nd.array(c, dtype="float64"), output_size=(4, 5), **kw).asnumpy()).sum()
    assert abs(lhs - rhs) < 1e-9
    with pytest.raises(ShapeError, match=r"\(1, 12, 8\)"):
        mx.nd.col2im(mx.nd.ones((1, 12, 8)), output_size=(4, 5), **kw)


def test_symbol_shapes():
    d = mx.sym.var("d")
    _, outs, _ = mx.sym.Crop(d, mx.sym.var("r"), num_args=2).infer_shape(d=(1, 2, 5, 5), r=(1, 1, 3, 2))
    assert outs == [(1, 2, 3, 2)]
    _, outs, _ = mx.sym.im2col(d, kernel=(2, 2)).infer_shape(d=(1, 2, 4, 4))
    assert outs == [(1, 8, 9)]
    assert mx.sym.SVMOutput(d, name="svm").list_arguments() == ["d", "svm_label"]
