"""gluon.nn convolution / pooling / padding / instance- and group-norm layers: shapes,
deferred in_channels, values against the ops and NumPy, MXNet 1.9.1 reprs, training."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import NotSupportedError
from psnet.gluon import nn


def _run(layer, shape):
    layer.initialize()
    return layer(mx.nd.array(np.random.standard_normal(shape)))


@pytest.mark.parametrize("layer,shape,out", [
    (lambda: nn.Conv1D(8, 3, strides=2, padding=1), (2, 3, 9), (2, 8, 5)),
    (lambda: nn.Conv2D(6, (3, 5), padding=(1, 2), groups=2, activation="relu"), (2, 4, 7, 8), (2, 6, 7, 8)),
    (lambda: nn.Conv3D(4, 2, dilation=2), (1, 2, 5, 6, 5), (1, 4, 3, 4, 3)),
    (lambda: nn.Conv1DTranspose(3, 4, strides=2, padding=1), (2, 5, 6), (2, 3, 12)),
    (lambda: nn.Conv2DTranspose(4, 3, strides=2, padding=1, output_padding=1), (2, 3, 5, 5), (2, 4, 10, 10)),
    (lambda: nn.Conv3DTranspose(2, 2, strides=2), (1, 3, 2, 3, 2), (1, 2, 4, 6, 4)),
    (lambda: nn.MaxPool1D(3, 2), (2, 3, 9), (2, 3, 4)),
    (lambda: nn.MaxPool2D(3, 2, 1, ceil_mode=True), (2, 3, 8, 8), (2, 3, 5, 5)),
    (lambda: nn.MaxPool3D(), (1, 2, 4, 4, 6), (1, 2, 2, 2, 3)),
    (lambda: nn.AvgPool1D(), (2, 3, 8), (2, 3, 4)),
    (lambda: nn.AvgPool2D(3, 1, 1, count_include_pad=False), (2, 3, 5, 5), (2, 3, 5, 5)),
    (lambda: nn.AvgPool3D(2), (1, 2, 4, 4, 4), (1, 2, 2, 2, 2)),
    (lambda: nn.GlobalMaxPool1D(), (2, 3, 7), (2, 3, 1)),
    (lambda: nn.GlobalMaxPool2D(), (2, 3, 7, 5), (2, 3, 1, 1)),
    (lambda: nn.GlobalMaxPool3D(), (2, 3, 2, 3, 4), (2, 3, 1, 1, 1)),
    (lambda: nn.GlobalAvgPool1D(), (2, 3, 7), (2, 3, 1)),
    (lambda: nn.GlobalAvgPool2D(), (2, 3, 7, 5), (2, 3, 1, 1)),
    (lambda: nn.GlobalAvgPool3D(), (2, 3, 2, 3, 4), (2, 3, 1, 1, 1)),
    (lambda: nn.ReflectionPad2D(2), (1, 2, 4, 5), (1, 2, 8, 9)),
])
def test_output_shapes(layer, shape, out):
    assert _run(layer(), shape).shape == out


def test_deferred_in_channels_and_parameter_shapes():
    conv = nn.Conv2D(6, 3, groups=2)
    assert conv.weight.shape == (6, 0, 3, 3)
    _run(conv, (1, 4, 5, 5))
    assert conv.weight.shape == (6, 2, 3, 3) and conv.bias.shape == (6,)
    tconv = nn.Conv2DTranspose(6, 3, groups=3, use_bias=False)
    _run(tconv, (1, 9, 5, 5))
    assert tconv.weight.shape == (9, 2, 3, 3) and tconv.bias is None
    assert sorted(tconv.collect_params().keys()) == [tconv.prefix + "weight"]


def test_conv_layer_equals_op_with_its_parameters():
    conv = nn.Conv2D(5, 3, strides=2, padding=1, activation="relu", in_channels=2)
    conv.initialize(mx.init.Normal(1.0))
    x = mx.nd.array(np.random.standard_normal((2, 2, 6, 6)))
    ref = mx.nd.Convolution(x, conv.weight.data(), conv.bias.data(), kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                            num_filter=5)
    np.testing.assert_allclose(conv(x).asnumpy(), np.maximum(ref.asnumpy(), 0), rtol=1e-6)


def test_pool_layer_values():
    x = np.random.standard_normal((2, 3, 4, 6)).astype(np.float32)
    y = nn.MaxPool2D()(mx.nd.array(x)).asnumpy()
    np.testing.assert_allclose(y, x.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5)))
    y = nn.GlobalAvgPool2D()(mx.nd.array(x)).asnumpy()
    np.testing.assert_allclose(y, x.mean(axis=(2, 3), keepdims=True), rtol=1e-6)


def test_reflection_pad_values():
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    y = nn.ReflectionPad2D(1)(mx.nd.array(x)).asnumpy()
    np.testing.assert_array_equal(y, np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)], mode="reflect"))


def test_instance_and_group_norm():
    x = np.random.standard_normal((2, 4, 3, 5)).astype(np.float32)
    inorm = nn.InstanceNorm(scale=True, in_channels=0)
    inorm.initialize()
    y = inorm(mx.nd.array(x)).asnumpy()
    assert inorm.gamma.shape == (4,)
    m, v = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - m) / np.sqrt(v + 1e-5), rtol=1e-4, atol=1e-5)
    gnorm = nn.GroupNorm(num_groups=2)
    gnorm.initialize()
    y = gnorm(mx.nd.array(x)).asnumpy()
    xg = x.reshape(2, 2, -1)
    ref = (xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, ref.reshape(x.shape), rtol=1e-4, atol=1e-5)
    assert gnorm.gamma.shape == (2,)


def test_reprs_match_mxnet():
    assert repr(nn.Conv2D(20, 5)) == "Conv2D(None -> 20, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv2D(20, (3, 3), strides=2, padding=1, dilation=2, groups=2, use_bias=False,
                          activation="relu", in_channels=4)) == \
        ("Conv2D(2 -> 20, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, "
         "bias=False, Activation(relu))")
    assert repr(nn.Conv2DTranspose(10, 3, in_channels=20)) == \
        "Conv2DTranspose(10 -> 20, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.MaxPool3D(3, 2, 1, ceil_mode=True)) == \
        ("MaxPool3D(size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1), ceil_mode=True, global_pool=False, "
         "pool_type=max, layout=NCDHW)")
    assert repr(nn.GlobalAvgPool1D()) == \
        ("GlobalAvgPool1D(size=(1,), stride=(1,), padding=(0,), ceil_mode=True, global_pool=True, "
         "pool_type=avg, layout=NCW)")
    assert repr(nn.InstanceNorm(in_channels=3)) == \
        "InstanceNorm(eps=1e-05, axis=1, center=True, scale=False, in_channels=3)"
    assert repr(nn.GroupNorm(num_groups=4)) == "GroupNorm(eps=1e-05, num_groups=4, center=True, scale=True)"
    assert nn.Conv2D(2, 3).prefix.startswith("conv") and nn.MaxPool2D().prefix.startswith("pool")


def test_channels_last_layout_is_refused_clearly():
    with pytest.raises(NotSupportedError, match="NHWC"):
        nn.Conv2D(4, 3, layout="NHWC")


def test_small_cnn_learns_with_hybridize():
    np.random.seed(1)
    x = np.random.standard_normal((32, 1, 8, 8)).astype(np.float32)
    label = (x[:, 0, :4].sum(axis=(1, 2)) > x[:, 0, 4:].sum(axis=(1, 2))).astype(np.float32)
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1, activation="relu"), nn.MaxPool2D(), nn.Conv2D(4, 3),
            nn.GlobalAvgPool2D(), nn.Dense(2))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = mx.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.05})
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    xs, ys = mx.nd.array(x), mx.nd.array(label)
    losses = []
    for _ in range(60):
        with mx.autograd.record():
            loss = loss_fn(net(xs), ys)
        loss.backward()
        trainer.step(32)
        losses.append(loss.mean().asscalar())
    assert losses[-1] < 0.5 * losses[0]
