"""gluon.contrib.nn and nn.BatchNormReLU: values, reprs and parameter names against MXNet 1.9.1."""

import numpy as np
import pytest

import psnet as mx
from psnet import autograd
from psnet.base import MXNetError
from psnet.gluon import nn
from psnet.gluon.contrib import nn as cnn


# MXNet 1.9.1: PixelShuffle1D(3) of arange(12).reshape(1, 6, 2), and so on.
PS1 = [[[0.0, 2.0, 4.0, 1.0, 3.0, 5.0], [6.0, 8.0, 10.0, 7.0, 9.0, 11.0]]]
PS2 = [[[[0.0, 4.0, 8.0, 1.0, 5.0, 9.0], [12.0, 16.0, 20.0, 13.0, 17.0, 21.0],
         [2.0, 6.0, 10.0, 3.0, 7.0, 11.0], [14.0, 18.0, 22.0, 15.0, 19.0, 23.0]]]]
PS3 = [[[[[0.0, 8.0, 16.0, 1.0, 9.0, 17.0], [24.0, 32.0, 40.0, 25.0, 33.0, 41.0],
          [2.0, 10.0, 18.0, 3.0, 11.0, 19.0], [26.0, 34.0, 42.0, 27.0, 35.0, 43.0]],
         [[4.0, 12.0, 20.0, 5.0, 13.0, 21.0], [28.0, 36.0, 44.0, 29.0, 37.0, 45.0],
          [6.0, 14.0, 22.0, 7.0, 15.0, 23.0], [30.0, 38.0, 46.0, 31.0, 39.0, 47.0]]]]]


@pytest.mark.parametrize("block, shape, expected", [
    (lambda: cnn.PixelShuffle1D(3), (1, 6, 2), PS1),
    (lambda: cnn.PixelShuffle2D((2, 3)), (1, 6, 2, 2), PS2),
    (lambda: cnn.PixelShuffle3D((1, 2, 3)), (1, 6, 2, 2, 2), PS3),
])
def test_pixel_shuffle_matches_mxnet(block, shape, expected):
    x = mx.nd.arange(int(np.prod(shape))).reshape(shape)
    net = block()
    np.testing.assert_array_equal(net(x).asnumpy(), np.array(expected))
    net.hybridize()
    np.testing.assert_array_equal(net(x).asnumpy(), np.array(expected))


def test_pixel_shuffle_2d_formula_and_gradient():
    f1, f2, c, h, w = 2, 3, 2, 3, 2
    x_np = np.random.RandomState(0).randn(2, c * f1 * f2, h, w).astype(np.float32)
    ref = np.empty((2, c, h * f1, w * f2), np.float32)
    for ci in range(c):
        for i in range(f1):
            for j in range(f2):
                ref[:, ci, i::f1, j::f2] = x_np[:, ci * f1 * f2 + i * f2 + j]
    x = mx.nd.array(x_np)
    x.attach_grad()
    head = np.random.RandomState(1).randn(*ref.shape).astype(np.float32)
    with autograd.record():
        y = cnn.PixelShuffle2D((f1, f2))(x)
    y.backward(mx.nd.array(head))
    np.testing.assert_array_equal(y.asnumpy(), ref)
    # the gradient is the inverse shuffle of the head gradient
    grad = np.empty_like(x_np)
    for ci in range(c):
        for i in range(f1):
            for j in range(f2):
                grad[:, ci * f1 * f2 + i * f2 + j] = head[:, ci, i::f1, j::f2]
    np.testing.assert_array_equal(x.grad.asnumpy(), grad)


def test_pixel_shuffle_repr_and_errors():
    assert [repr(cnn.PixelShuffle1D(2)), repr(cnn.PixelShuffle2D((2, 3))), repr(cnn.PixelShuffle2D(2)),
            repr(cnn.PixelShuffle3D(2)), repr(cnn.PixelShuffle3D((1, 2, 3)))] == [
        "PixelShuffle1D(2)", "PixelShuffle2D((2, 3))", "PixelShuffle2D((2, 2))",
        "PixelShuffle3D((2, 2, 2))", "PixelShuffle3D((1, 2, 3))"]
    with pytest.raises(MXNetError, match="divisible"):
        cnn.PixelShuffle2D(2)(mx.nd.zeros((1, 6, 2, 2)))
    with pytest.raises(MXNetError, match="4-D"):
        cnn.PixelShuffle2D(2)(mx.nd.zeros((1, 8, 2)))
    with pytest.raises(MXNetError, match="factor"):
        cnn.PixelShuffle3D((2, 2))


def test_concurrent_and_identity():
    net = cnn.Concurrent(axis=1)
    with net.name_scope():
        net.add(nn.Dense(2, weight_initializer=mx.init.Constant(0.5)))
        net.add(cnn.Identity())
    net.initialize()
    x = mx.nd.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    out = net(x).asnumpy()
    expected = np.concatenate([x.asnumpy().sum(1, keepdims=True).repeat(2, 1) * 0.5, x.asnumpy()], axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert list(net.collect_params().keys()) == ["concurrent0_dense0_weight", "concurrent0_dense0_bias"]
    assert repr(net) == ("Concurrent(\n  (0): Dense(3 -> 2, linear)\n  (1): Identity(\n  \n  )\n)")
    assert cnn.Identity()(x) is x


def test_hybrid_concurrent_hybridized_equals_imperative():
    net = cnn.HybridConcurrent(axis=-1)
    with net.name_scope():
        net.add(nn.Dense(3), nn.Activation("relu"), cnn.Identity())
    net.initialize(mx.init.Uniform(1.0))
    x = mx.nd.array(np.random.RandomState(2).randn(4, 5))
    imperative = net(x).asnumpy()
    assert imperative.shape == (4, 13)
    np.testing.assert_array_equal(imperative[:, 3:8], np.maximum(x.asnumpy(), 0))
    net.hybridize()
    np.testing.assert_allclose(net(x).asnumpy(), imperative, rtol=1e-6)
    assert net.prefix.startswith("hybridconcurrent")
    with pytest.raises(MXNetError, match="no children"):
        cnn.HybridConcurrent()(x)


def test_sparse_embedding_is_dense_embedding():
    emb = cnn.SparseEmbedding(10, 4)
    assert repr(emb) == "SparseEmbedding(10 -> 4, float32)"
    assert list(emb.collect_params().keys()) == [emb.prefix + "weight"]
    assert emb.prefix.startswith("sparseembedding") and emb.weight.shape == (10, 4)
    emb.initialize()
    w = emb.weight.data().asnumpy()
    idx = mx.nd.array([[1, 3], [3, 9]])
    with autograd.record():
        out = emb(idx)
    out.backward()
    np.testing.assert_array_equal(out.asnumpy(), w[[[1, 3], [3, 9]]])
    grad = np.zeros((10, 4), np.float32)
    grad[1], grad[3], grad[9] = 1, 2, 1
    np.testing.assert_array_equal(emb.weight.grad().asnumpy(), grad)


def test_sync_batch_norm_equals_batch_norm():
    sbn = cnn.SyncBatchNorm(in_channels=3, num_devices=2)
    assert repr(sbn) == ("SyncBatchNorm(eps=1e-05, momentum=0.9, fix_gamma=False, use_global_stats=False, "
                         "ndev=2, key='%s', in_channels=3)" % sbn.prefix)
    assert list(sbn.collect_params().keys()) == [sbn.prefix + n for n in
                                                 ("gamma", "beta", "running_mean", "running_var")]
    bn = nn.BatchNorm(in_channels=3)
    sbn.initialize(mx.init.Uniform(1.0))
    bn.initialize()
    for name in ("gamma", "beta", "running_mean", "running_var"):
        getattr(bn, name).set_data(getattr(sbn, name).data())
    x = mx.nd.array(np.random.RandomState(3).randn(4, 3, 2, 2))
    with autograd.record():
        a, b = sbn(x), bn(x)
    np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(sbn.running_mean.data().asnumpy(), bn.running_mean.data().asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(sbn(x).asnumpy(), bn(x).asnumpy(), rtol=1e-6)   # inference
    with pytest.warns(UserWarning, match="num_devices"):
        default = cnn.SyncBatchNorm()
    assert "ndev=1," in repr(default) and "in_channels=None" in repr(default)


# MXNet 1.9.1: nn.BatchNormReLU(in_channels=3) in training on arange(24).reshape(2, 3, 2, 2) * 0.3 - 3
BNRELU = [[[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]],
          [[[0.73731, 0.90115], [1.065, 1.22885]], [[0.73731, 0.90115], [1.065, 1.22885]],
           [[0.73731, 0.90115], [1.065, 1.22885]]]]


def test_batch_norm_relu_matches_mxnet():
    net = nn.BatchNormReLU(in_channels=3)
    assert repr(net) == ("BatchNormReLU(axis=1, eps=1e-05, momentum=0.9, fix_gamma=False, "
                         "use_global_stats=False, in_channels=3)")
    assert list(net.collect_params().keys()) == [net.prefix + n for n in
                                                 ("gamma", "beta", "running_mean", "running_var")]
    assert net.prefix.startswith("batchnormrelu")
    net.initialize()
    x = mx.nd.array(np.arange(24).reshape(2, 3, 2, 2) * 0.3 - 3)
    with autograd.record():
        y = net(x)
    np.testing.assert_allclose(y.asnumpy(), BNRELU, atol=1e-5)
    np.testing.assert_allclose(net.running_mean.data().asnumpy(), [-0.075, 0.045, 0.165], rtol=1e-5)
    net.hybridize()
    with autograd.record():
        y2 = net(x)
    np.testing.assert_allclose(y2.asnumpy(), BNRELU, atol=1e-5)


def test_batch_norm_relu_gradient_is_masked_batch_norm_gradient():
    x_np = np.random.RandomState(4).randn(3, 2, 2).astype(np.float64)
    head = np.random.RandomState(5).randn(3, 2, 2)
    grads = []
    for block in (nn.BatchNormReLU(in_channels=2), nn.BatchNorm(in_channels=2)):
        block.initialize()
        block.cast("float64")
        x = mx.nd.array(x_np, dtype="float64")
        x.attach_grad()
        with autograd.record():
            y = block(x)
        if isinstance(block, nn.BatchNormReLU):
            mask = y.asnumpy() > 0
            y.backward(mx.nd.array(head, dtype="float64"))
        else:
            y.backward(mx.nd.array(head * mask, dtype="float64"))
        grads.append(x.grad.asnumpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)
    assert np.abs(grads[0]).max() > 0
