"""gluon.loss: every loss against a NumPy formula, MXNet 1.9.1 values, stability and errors."""
import numpy as np
import pytest

import psnet as mx
from psnet import autograd
from psnet.gluon import loss as L

RS = np.random.RandomState(0)
PRED = (RS.randn(4, 5) * 3).astype("float32")
Y = RS.randn(4, 5).astype("float32")
SIGNS = np.sign(RS.randn(4, 5)).astype("float32")
BITS = (RS.rand(4, 5) > 0.5).astype("float32")
DIST = RS.rand(4, 5).astype("float32")
DIST /= DIST.sum(axis=1, keepdims=True)
LABELS = np.array([0, 3, 4, 1], dtype="float32")


def nd(a):
    return mx.nd.array(a)


def _log_softmax(x):
    x = x.astype(np.float64)
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def check(out, expected, rtol=1e-5):
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=rtol, atol=1e-6)


def test_l2_l1():
    check(L.L2Loss()(nd(PRED), nd(Y)), (0.5 * (PRED - Y) ** 2).mean(axis=1))
    check(L.L1Loss()(nd(PRED), nd(Y)), np.abs(PRED - Y).mean(axis=1))
    sw = np.array([[1], [0], [2], [1]], dtype="float32")
    check(L.L2Loss(weight=3.0)(nd(PRED), nd(Y), nd(sw)), (1.5 * (PRED - Y) ** 2 * sw).mean(axis=1))
    # the label is reshaped like the prediction; means go over all non-batch axes
    p3, y3 = RS.randn(2, 3, 4).astype("float32"), RS.randn(2, 12).astype("float32")
    check(L.L1Loss()(nd(p3), nd(y3)), np.abs(p3 - y3.reshape(2, 3, 4)).mean(axis=(1, 2)))


def test_softmax_cross_entropy_sparse_dense_logits():
    ls = _log_softmax(PRED)
    check(L.SoftmaxCrossEntropyLoss()(nd(PRED), nd(LABELS)), -ls[np.arange(4), LABELS.astype(int)])
    check(L.SoftmaxCrossEntropyLoss(sparse_label=False)(nd(PRED), nd(DIST)), -(ls * DIST).sum(axis=1))
    check(L.SoftmaxCrossEntropyLoss(from_logits=True)(nd(PRED), nd(LABELS)),
          -PRED[np.arange(4), LABELS.astype(int)])
    # MXNet 1.9.1 on the same data (it computes log_softmax a little less exactly)
    np.testing.assert_allclose(L.SoftmaxCrossEntropyLoss()(nd(PRED), nd(LABELS)).asnumpy(),
                               [1.8955953, 3.4071259, 3.2228487, 0.0645465], rtol=1e-4)


def test_softmax_cross_entropy_column_labels_and_gradient():
    x = nd(PRED)
    x.attach_grad()
    with autograd.record():
        loss = L.SoftmaxCrossEntropyLoss()(x, nd(LABELS.reshape(4, 1)))
    loss.backward()
    check(loss, -_log_softmax(PRED)[np.arange(4), LABELS.astype(int)])
    onehot = np.eye(5)[LABELS.astype(int)]
    np.testing.assert_allclose(x.grad.asnumpy(), np.exp(_log_softmax(PRED)) - onehot, rtol=1e-4, atol=1e-6)


def test_softmax_cross_entropy_axis_and_weights():
    p = RS.randn(2, 3, 4).astype("float32")
    lab = np.array([[0, 1, 2, 0], [2, 2, 1, 0]], dtype="float32")
    ls = _log_softmax(np.moveaxis(p, 1, -1))
    picked = np.take_along_axis(ls, lab.astype(int)[..., None], axis=-1)[..., 0]
    check(L.SoftmaxCrossEntropyLoss(axis=1)(nd(p), nd(lab)), -picked.mean(axis=1))
    sw = np.array([[1], [2], [0], [1]], dtype="float32")
    check(L.SoftmaxCrossEntropyLoss(weight=0.5)(nd(PRED), nd(LABELS), nd(sw)),
          -0.5 * _log_softmax(PRED)[np.arange(4), LABELS.astype(int)] * sw[:, 0])


def test_softmax_cross_entropy_is_stable_and_differentiable():
    big = np.array([[1000.0, 0.0, -1000.0]], dtype="float32")
    out = L.SoftmaxCrossEntropyLoss()(nd(big), nd([1.0])).asnumpy()
    np.testing.assert_allclose(out, [1000.0])
    x = nd(PRED)
    x.attach_grad()
    with autograd.record():
        loss = L.SoftmaxCrossEntropyLoss()(x, nd(LABELS))
    loss.backward()
    soft = np.exp(_log_softmax(PRED))
    np.testing.assert_allclose(x.grad.asnumpy(), soft - np.eye(5)[LABELS.astype(int)], rtol=1e-4, atol=1e-6)


def test_softmax_cross_entropy_label_out_of_range():
    with pytest.raises(IndexError, match="label 5.0 is out of range.*5 classes"):
        L.SoftmaxCrossEntropyLoss()(nd(PRED), nd([0, 5, 1, 2]))
    with pytest.raises(mx.MXNetError, match="label -1.0"):
        L.SoftmaxCrossEntropyLoss()(nd(PRED), nd([0, -1, 1, 2]))


def test_sigmoid_bce():
    expected = _softplus(PRED) - PRED * BITS
    check(L.SigmoidBinaryCrossEntropyLoss()(nd(PRED), nd(BITS)), expected.mean(axis=1), rtol=1e-5)
    sig = 1 / (1 + np.exp(-PRED))
    p = -(np.log(sig + 1e-12) * BITS + np.log(1 - sig + 1e-12) * (1 - BITS))
    check(L.SigmoidBCELoss(from_sigmoid=True)(nd(sig), nd(BITS)), p.mean(axis=1), rtol=1e-4)
    pw = np.full(5, 2.0, dtype="float32")
    weighted = -(2 * BITS * np.log(sig) + (1 - BITS) * np.log(1 - sig))
    check(L.SigmoidBCELoss()(nd(PRED), nd(BITS), None, nd(pw)), weighted.mean(axis=1), rtol=1e-4)
    huge = L.SigmoidBCELoss()(nd([[500.0, -500.0]]), nd([[0.0, 1.0]])).asnumpy()
    np.testing.assert_allclose(huge, [500.0])


def test_kldiv():
    ls = _log_softmax(PRED)
    expected = (DIST * (np.log(DIST + 1e-12) - ls)).sum(axis=1)
    check(L.KLDivLoss(from_logits=False)(nd(PRED), nd(DIST)), expected, rtol=1e-4)
    check(L.KLDivLoss()(nd(ls.astype("float32")), nd(DIST)), expected, rtol=1e-4)
    # MXNet 1.9.1 on the same data: the per-sample sum, not the mean
    np.testing.assert_allclose(L.KLDivLoss(from_logits=False)(nd(PRED), nd(DIST)).asnumpy(),
                               [0.9637672, 2.1918566, 0.9881644, 1.9897203], rtol=1e-4)


def test_huber_hinge_squared_hinge_logistic():
    err = np.abs(PRED - Y)
    check(L.HuberLoss(rho=0.7)(nd(PRED), nd(Y)),
          np.where(err > 0.7, err - 0.35, 0.5 / 0.7 * err ** 2).mean(axis=1))
    margin = np.maximum(0, 1 - PRED * SIGNS)
    check(L.HingeLoss()(nd(PRED), nd(SIGNS)), margin.mean(axis=1))
    check(L.SquaredHingeLoss()(nd(PRED), nd(SIGNS)), (margin ** 2).mean(axis=1))
    check(L.LogisticLoss()(nd(PRED), nd(SIGNS)), np.log1p(np.exp(-PRED * SIGNS)).mean(axis=1), rtol=1e-5)
    check(L.LogisticLoss(label_format="binary")(nd(PRED), nd(BITS)),
          np.log1p(np.exp(-PRED * (2 * BITS - 1))).mean(axis=1), rtol=1e-5)
    with pytest.raises(mx.MXNetError, match="label_format"):
        L.LogisticLoss(label_format="onehot")


def test_triplet_and_cosine_embedding():
    neg = RS.randn(4, 5).astype("float32")
    expected = np.maximum(0, ((Y - PRED) ** 2 - (neg - PRED) ** 2).sum(axis=1) + 1)
    check(L.TripletLoss()(nd(PRED), nd(Y), nd(neg)), expected, rtol=1e-5)
    lab = np.array([1, -1, 1, -1], dtype="float32")
    cos = (PRED * Y).sum(1) / (np.linalg.norm(PRED, axis=1) * np.linalg.norm(Y, axis=1))
    expected = np.where(lab == 1, 1 - cos, np.maximum(0, cos - 0.1)).reshape(4, 1)
    check(L.CosineEmbeddingLoss(margin=0.1)(nd(PRED), nd(Y), nd(lab)), expected, rtol=1e-5)


def test_values_computed_by_mxnet_1_9_1():
    np.testing.assert_allclose(L.SigmoidBCELoss()(nd(PRED), nd(BITS)).asnumpy(),
                               [4.4157953, 1.1758733, 0.99724615, 1.1285557], rtol=1e-5)
    np.testing.assert_allclose(L.HuberLoss()(nd(PRED), nd(Y)).asnumpy(),
                               [3.772843, 0.93764865, 1.8438591, 1.4026105], rtol=1e-5)
    np.testing.assert_allclose(L.CosineEmbeddingLoss()(nd(PRED), nd(Y), nd([1, -1, 1, -1])).asnumpy(),
                               [[1.0627894], [0.52326506], [1.1303979], [0.5531151]], rtol=1e-5)


def test_reprs():
    assert repr(L.L2Loss()) == "L2Loss(batch_axis=0, w=1.0)"
    assert repr(L.SoftmaxCrossEntropyLoss()) == "SoftmaxCrossEntropyLoss(batch_axis=0, w=None)"
