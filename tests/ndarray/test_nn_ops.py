"""Neural-network operators against NumPy references and values printed by MXNet 1.9.1.

Gradients of every op are checked against finite differences in tests/ops/test_gradients.py;
here: forward values, MXNet's conventions (shapes, attributes, modes), the loss heads'
backward, auxiliary-state updates and error messages.
"""
import math

import numpy as np
import pytest

import psnet as mx
from psnet import autograd as ag

RS = np.random.RandomState(42)
X34 = RS.randn(3, 4).astype(np.float32)
X432 = RS.randn(4, 3, 2).astype(np.float32)


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------- FullyConnected
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fully_connected_flatten_and_bias(dtype):
    w = RS.randn(5, 6).astype(dtype)
    b = RS.randn(5).astype(dtype)
    x = X432.astype(dtype)
    out = mx.nd.FullyConnected(mx.nd.array(x, dtype=dtype), mx.nd.array(w, dtype=dtype),
                               mx.nd.array(b, dtype=dtype), num_hidden=5)
    assert out.shape == (4, 5) and out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.asnumpy(), x.reshape(4, -1) @ w.T + b, rtol=1e-5)


def test_fully_connected_no_flatten_no_bias():
    w = RS.randn(3, 2).astype(np.float32)
    out = mx.nd.FullyConnected(mx.nd.array(X432), mx.nd.array(w), num_hidden=3, no_bias=True, flatten=False)
    assert out.shape == (4, 3, 3)
    np.testing.assert_allclose(out.asnumpy(), X432 @ w.T, rtol=1e-5)


def test_fully_connected_call_conventions():
    x, w, b = mx.nd.array(X34), mx.nd.ones((2, 4)), mx.nd.array([1.0, -1.0])
    ref = X34 @ np.ones((4, 2)) + [1, -1]
    np.testing.assert_allclose(mx.nd.FullyConnected(data=x, weight=w, bias=b, num_hidden=2).asnumpy(), ref,
                               rtol=1e-5)
    # Gluon's Dense passes bias=None with no_bias=True
    np.testing.assert_allclose(mx.nd.FullyConnected(x, w, None, no_bias=True, num_hidden=2).asnumpy(),
                               ref - [1, -1], rtol=1e-5)


def test_fully_connected_errors_name_the_shapes():
    with pytest.raises(mx.MXNetError, match=r"weight has shape \(5, 6\)"):
        mx.nd.FullyConnected(mx.nd.array(X432), mx.nd.ones((5, 6)), mx.nd.ones(5), num_hidden=4)
    with pytest.raises(mx.MXNetError, match="num_hidden"):
        mx.nd.FullyConnected(mx.nd.array(X432), mx.nd.ones((5, 6)), mx.nd.ones(5))


# ---------------------------------------------------------------------------- activations
@pytest.mark.parametrize("act,ref", [
    ("relu", lambda x: np.maximum(x, 0)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", np.tanh),
    ("softrelu", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (1 + np.abs(x))),
])
def test_activation(act, ref):
    x = X34 * 3
    np.testing.assert_allclose(mx.nd.Activation(mx.nd.array(x), act_type=act).asnumpy(), ref(x),
                               rtol=1e-5, atol=1e-7)


def test_activation_is_stable_for_large_inputs_and_rejects_unknown_types():
    x = mx.nd.array([-1000.0, 0.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_allclose(mx.nd.Activation(x, act_type="sigmoid").asnumpy(), [0, 0.5, 1])
        np.testing.assert_allclose(mx.nd.Activation(x, act_type="softrelu").asnumpy(),
                                   [0, math.log(2), 1000], rtol=1e-6)
    with pytest.raises(mx.MXNetError, match="act_type 'swish'"):
        mx.nd.Activation(x, act_type="swish")


def test_leaky_relu_types_match_mxnet():
    x = mx.nd.array([-1.0, 0.5])
    # values printed by MXNet 1.9.1
    np.testing.assert_allclose(mx.nd.LeakyReLU(x, act_type="selu").asnumpy(), [-1.1113307, 0.5253505], rtol=1e-6)
    np.testing.assert_allclose(mx.nd.LeakyReLU(x, act_type="gelu").asnumpy(), [-0.15865527, 0.3457312], rtol=1e-6)
    np.testing.assert_allclose(mx.nd.LeakyReLU(x, act_type="elu").asnumpy(), [0.25 * (math.exp(-1) - 1), 0.5],
                               rtol=1e-6)
    np.testing.assert_allclose(mx.nd.LeakyReLU(x, slope=0.1).asnumpy(), [-0.1, 0.5])
    # rrelu: the mean slope in prediction, random slopes in [lower, upper] in training
    np.testing.assert_allclose(mx.nd.LeakyReLU(x, act_type="rrelu").asnumpy(), [-0.2295, 0.5], rtol=1e-6)
    with ag.train_mode():
        y = mx.nd.LeakyReLU(mx.nd.full((1000,), -1.0), act_type="rrelu").asnumpy()
    assert (y <= -0.125).all() and (y >= -0.334).all() and y.std() > 0.03


def test_prelu_broadcasts_gamma_over_channels():
    gamma = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    out = mx.nd.LeakyReLU(mx.nd.array(X432), mx.nd.array(gamma), act_type="prelu").asnumpy()
    np.testing.assert_allclose(out, np.where(X432 > 0, X432, X432 * gamma[None, :, None]), rtol=1e-6)


# ---------------------------------------------------------------------------- softmax family
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_log_softmax_softmin(axis):
    x = mx.nd.array(X432)
    np.testing.assert_allclose(mx.nd.softmax(x, axis=axis).asnumpy(), _np_softmax(X432, axis), rtol=1e-5)
    np.testing.assert_allclose(mx.nd.log_softmax(x, axis=axis, temperature=2.0).asnumpy(),
                               np.log(_np_softmax(X432 / 2, axis)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.softmin(axis=axis).asnumpy(), _np_softmax(-X432, axis), rtol=1e-5)


def test_softmax_temperature_matches_mxnet_and_is_stable():
    out = mx.nd.softmax(mx.nd.array([[1, 2, 3]]), temperature=2.0).asnumpy()
    np.testing.assert_allclose(out, [[0.18632373, 0.3071959, 0.5064804]], rtol=1e-6)  # MXNet 1.9.1
    big = mx.nd.softmax(mx.nd.array([[1000.0, 0.0, -1000.0]])).asnumpy()
    np.testing.assert_allclose(big, [[1, 0, 0]])
    np.testing.assert_allclose(mx.nd.log_softmax(mx.nd.array([[1000.0, 0.0]])).asnumpy(), [[0, -1000]])


def test_softmax_with_length_matches_mxnet():
    x = mx.nd.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]])
    out = mx.nd.softmax(x, mx.nd.array([2, 3], dtype="int32"), use_length=True).asnumpy()
    np.testing.assert_allclose(out, [[0.26894143, 0.7310586, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]], rtol=1e-6)
    out = mx.nd.softmax(mx.nd.ones((2, 3, 2)), mx.nd.array([[1, 2], [3, 0]], dtype="int32"), axis=1,
                        use_length=True).asnumpy()
    np.testing.assert_allclose(out[0], [[1, 0.5], [0, 0.5], [0, 0]])
    np.testing.assert_allclose(out[1], [[1 / 3, 0], [1 / 3, 0], [1 / 3, 0]], rtol=1e-6)
    with pytest.raises(mx.MXNetError, match="integer"):
        mx.nd.softmax(x, mx.nd.array([2, 3]), use_length=True)
    with pytest.raises(mx.MXNetError, match="softmax only"):
        mx.nd.log_softmax(x, use_length=True)


def test_softmax_dtype_attribute():
    out = mx.nd.softmax(mx.nd.array(X34, dtype="float16"), dtype="float32")
    assert out.dtype == np.float32


def test_softmax_activation_modes():
    x = mx.nd.array(X432)
    np.testing.assert_allclose(mx.nd.SoftmaxActivation(x).asnumpy(), _np_softmax(X432, -1), rtol=1e-5)
    np.testing.assert_allclose(mx.nd.SoftmaxActivation(x, mode="channel").asnumpy(), _np_softmax(X432, 1),
                               rtol=1e-5)


# ---------------------------------------------------------------------------- Dropout
def test_dropout_scaling_mask_and_gradient():
    x = mx.nd.ones((200, 100))
    x.attach_grad()
    with ag.record():
        y = mx.nd.Dropout(x, p=0.25)
    y.backward()
    v = y.asnumpy()
    assert set(np.unique(v)) == {0.0, np.float32(1 / 0.75)}
    assert abs((v == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(x.grad.asnumpy(), v)  # the same mask scales the gradient


def test_dropout_axes_modes_and_reproducibility():
    x = mx.nd.ones((4, 50))
    with ag.train_mode():
        y = mx.nd.Dropout(x, p=0.5, axes=(0,)).asnumpy()
        mx.random.seed(3)
        a = mx.nd.Dropout(x, p=0.5).asnumpy()
        mx.random.seed(3)
        b = mx.nd.Dropout(x, p=0.5).asnumpy()
        assert (mx.nd.Dropout(x, p=1.0).asnumpy() == 0).all()
    assert (y == y[:1]).all()  # one mask value shared along axis 0
    np.testing.assert_array_equal(a, b)
    always = mx.nd.Dropout(x, p=0.5, mode="always").asnumpy()
    assert (always == 0).any()
    with pytest.raises(mx.MXNetError, match="p must be"):
        mx.nd.Dropout(x, p=1.5)


# ---------------------------------------------------------------------------- normalisation
def _bn_ref(x, gamma, beta, axis, eps):
    axes = tuple(k for k in range(x.ndim) if k != axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return xhat * gamma.reshape(shape) + beta.reshape(shape), mean, var


def test_batch_norm_training_updates_moving_statistics():
    gamma, beta = np.array([1.0, 2.0, 3.0], np.float32), np.array([0.1, 0.2, 0.3], np.float32)
    mm, mv = mx.nd.zeros(3), mx.nd.ones(3)
    with ag.train_mode():
        out, mean, inv = mx.nd.BatchNorm(mx.nd.array(X432), mx.nd.array(gamma), mx.nd.array(beta), mm, mv,
                                         fix_gamma=False, momentum=0.9, output_mean_var=True)
    ref, m, v = _bn_ref(X432, gamma, beta, 1, 1e-3)
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mean.asnumpy(), m, rtol=1e-5)
    np.testing.assert_allclose(inv.asnumpy(), 1 / np.sqrt(v + 1e-3), rtol=1e-5)  # MXNet's "var" is 1/std
    np.testing.assert_allclose(mm.asnumpy(), 0.1 * m, rtol=1e-5)
    np.testing.assert_allclose(mv.asnumpy(), 0.9 + 0.1 * v, rtol=1e-5)  # biased batch variance


def test_batch_norm_prediction_uses_moving_statistics_and_fix_gamma():
    mm, mv = np.array([0.1, -0.2, 0.3], np.float32), np.array([1.5, 0.5, 2.0], np.float32)
    gamma = mx.nd.array([1.0, 2.0, 3.0])
    out = mx.nd.BatchNorm(mx.nd.array(X432), gamma, mx.nd.zeros(3), mx.nd.array(mm), mx.nd.array(mv))
    ref = (X432 - mm[None, :, None]) / np.sqrt(mv[None, :, None] + 1e-3)
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(gamma.asnumpy(), [1, 1, 1])  # fix_gamma writes 1, as MXNet does
    assert isinstance(out, mx.nd.NDArray)


def test_batch_norm_last_axis_and_errors():
    with ag.train_mode():
        out = mx.nd.BatchNorm(mx.nd.array(X432), mx.nd.ones(2), mx.nd.zeros(2), mx.nd.zeros(2),
                              mx.nd.ones(2), axis=-1)
    np.testing.assert_allclose(out.asnumpy(), _bn_ref(X432, np.ones(2), np.zeros(2), 2, 1e-3)[0],
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(mx.MXNetError, match=r"gamma must have shape \(3,\)"):
        mx.nd.BatchNorm(mx.nd.array(X432), mx.nd.ones(2), mx.nd.zeros(3), mx.nd.zeros(3), mx.nd.ones(3))


def test_batch_norm_gradient_flows_to_gamma_and_beta_only_when_not_fixed():
    x, gamma, beta = mx.nd.array(X432), mx.nd.array([1.0, 2.0, 3.0]), mx.nd.zeros(3)
    for p in (x, gamma, beta):
        p.attach_grad()
    with ag.record():
        y = mx.nd.BatchNorm(x, gamma, beta, mx.nd.zeros(3), mx.nd.ones(3))
    y.backward()
    np.testing.assert_allclose(gamma.grad.asnumpy(), 0)
    np.testing.assert_allclose(beta.grad.asnumpy(), [8, 8, 8])
    np.testing.assert_allclose(x.grad.asnumpy(), 0, atol=1e-5)  # sum of a normalised batch is constant


def test_layer_norm_instance_norm_group_norm():
    x = mx.nd.array(X432)
    out, mean, std = mx.nd.LayerNorm(x, mx.nd.array([1.0, 2.0]), mx.nd.array([0.5, 0.0]), output_mean_var=True)
    m, s = X432.mean(-1, keepdims=True), np.sqrt(X432.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out.asnumpy(), (X432 - m) / s * [1, 2] + [0.5, 0], rtol=1e-4, atol=1e-5)
    assert mean.shape == (4, 3, 1) and std.shape == (4, 3, 1)
    np.testing.assert_allclose(std.asnumpy(), s, rtol=1e-5)

    x4 = RS.randn(2, 4, 3).astype(np.float32)
    g4 = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    out = mx.nd.InstanceNorm(mx.nd.array(x4), mx.nd.array(g4), mx.nd.zeros(4)).asnumpy()
    ref = (x4 - x4.mean(2, keepdims=True)) / np.sqrt(x4.var(2, keepdims=True) + 1e-3) * g4[None, :, None]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)

    out, mean, std = mx.nd.GroupNorm(mx.nd.array(x4), mx.nd.array([1.0, 2.0]), mx.nd.array([0.0, 1.0]),
                                     num_groups=2, output_mean_var=True)
    xg = x4.reshape(2, 2, 6)
    ref = ((xg - xg.mean(2, keepdims=True)) / np.sqrt(xg.var(2, keepdims=True) + 1e-5)
           * np.array([1, 2])[None, :, None] + np.array([0, 1])[None, :, None]).reshape(x4.shape)
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-4, atol=1e-5)
    assert mean.shape == (2, 2)
    with pytest.raises(mx.MXNetError, match="num_groups=3"):
        mx.nd.GroupNorm(mx.nd.array(x4), mx.nd.ones(3), mx.nd.zeros(3), num_groups=3)


# ---------------------------------------------------------------------------- Embedding
def test_embedding_lookup_clip_and_scatter_add_gradient():
    w = mx.nd.arange(12).reshape((4, 3))
    w.attach_grad()
    with ag.record():
        e = mx.nd.Embedding(mx.nd.array([[0, 2], [2, 9]]), w, input_dim=4, output_dim=3)
    e.backward()
    # values printed by MXNet 1.9.1 (index 9 is clipped to the last row)
    np.testing.assert_array_equal(e.asnumpy(), [[[0, 1, 2], [6, 7, 8]], [[6, 7, 8], [9, 10, 11]]])
    np.testing.assert_array_equal(w.grad.asnumpy(), [[1, 1, 1], [0, 0, 0], [2, 2, 2], [1, 1, 1]])
    with pytest.raises(mx.MXNetError, match="input_dim, output_dim"):
        mx.nd.Embedding(mx.nd.array([0]), w, input_dim=5, output_dim=3)


# ---------------------------------------------------------------------------- losses
def test_softmax_cross_entropy_and_smooth_l1_match_mxnet():
    ce = mx.nd.softmax_cross_entropy(mx.nd.array([[1, 2, 3], [1, 1, 1]]), mx.nd.array([2, 0]))
    np.testing.assert_allclose(ce.asnumpy(), [1.5062183], rtol=1e-6)  # MXNet 1.9.1
    sl1 = mx.nd.smooth_l1(mx.nd.array([-2, -0.5, 0.3, 3]), scalar=1.0)
    np.testing.assert_allclose(sl1.asnumpy(), [1.5, 0.125, 0.045, 2.5], rtol=1e-6)
    with pytest.raises(mx.MXNetError, match=r"labels must lie in \[0, 3\)"):
        mx.nd.softmax_cross_entropy(mx.nd.array([[1, 2, 3]]), mx.nd.array([3]))


_XH = [[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]]


def _head_grad(op, x, label, **attrs):
    x = mx.nd.array(x)
    x.attach_grad()
    with ag.record():
        y = getattr(mx.nd, op)(x, mx.nd.array(label), **attrs)
    y.backward(mx.nd.ones_like(y) * 7)  # loss heads ignore the head gradient
    return y.asnumpy(), x.grad.asnumpy()


def test_softmax_output_forward_and_backward_match_mxnet():
    y, g = _head_grad("SoftmaxOutput", _XH, [2, 0])
    np.testing.assert_allclose(y, [[0.1752904, 0.0391126, 0.785597], [0.6954922, 0.1895437, 0.1149641]], rtol=1e-5)
    np.testing.assert_allclose(g, [[0.1752904, 0.0391126, -0.214403], [-0.3045078, 0.1895437, 0.1149641]],
                               rtol=1e-5)
    _, g = _head_grad("SoftmaxOutput", _XH, [2, 0], use_ignore=True, ignore_label=0, normalization="valid")
    np.testing.assert_allclose(g, [[0.1752904, 0.0391126, -0.214403], [0, 0, 0]], rtol=1e-5)
    _, g = _head_grad("SoftmaxOutput", _XH, [2, 0], grad_scale=3.0, normalization="batch")
    np.testing.assert_allclose(g, 1.5 * np.array([[0.1752904, 0.0391126, -0.214403],
                                                  [-0.3045078, 0.1895437, 0.1149641]]), rtol=1e-5)


def test_softmax_output_ignore_label_out_of_range_and_bad_labels():
    _, g = _head_grad("SoftmaxOutput", _XH, [255, 0], use_ignore=True, ignore_label=255)
    np.testing.assert_allclose(g, [[0, 0, 0], [-0.3045078, 0.1895437, 0.1149641]], rtol=1e-5)
    with pytest.raises(mx.MXNetError, match=r"labels must lie in \[0, 3\)"):
        _head_grad("SoftmaxOutput", _XH, [3, 0])


def test_softmax_output_label_smoothing_matches_mxnet():
    _, g = _head_grad("SoftmaxOutput", _XH, [2, 0], smooth_alpha=0.3)
    np.testing.assert_allclose(g, [[0.0252904, -0.1108874, 0.085597], [-0.0045078, 0.0395437, -0.0350359]],
                               rtol=1e-4, atol=1e-7)
    with pytest.raises(mx.MXNetError, match="out_grad"):
        mx.nd.SoftmaxOutput(mx.nd.ones((2, 3)), mx.nd.zeros(2), out_grad=True)


def test_softmax_output_multi_output_matches_mxnet():
    y, g = _head_grad("SoftmaxOutput", [[[0.5, -1.0], [2.0, 1.5], [0.2, -0.3]]], [[2, 0]], multi_output=True)
    np.testing.assert_allclose(y, [[[0.1607069, 0.0658057], [0.7202384, 0.8016778], [0.1190546, 0.1325164]]],
                               rtol=1e-5)
    np.testing.assert_allclose(g, [[[0.0803535, -0.4670972], [0.3601192, 0.4008389], [-0.4404727, 0.0662582]]],
                               rtol=1e-5)


def test_regression_heads_match_mxnet():
    label = [[1, 0, 0.5], [0, 1, 0]]
    y, g = _head_grad("LinearRegressionOutput", _XH, label, grad_scale=3.0)
    np.testing.assert_allclose(y, _XH, rtol=1e-6)
    np.testing.assert_allclose(g, [[-0.5, -1.0, 1.5], [1.5, -0.8, -0.3]], rtol=1e-6)
    y, g = _head_grad("LogisticRegressionOutput", _XH, label, grad_scale=3.0)
    np.testing.assert_allclose(y, [[0.6224594, 0.2689414, 0.880797], [0.8175744, 0.549834, 0.4255575]], rtol=1e-6)
    np.testing.assert_allclose(g, [[-0.3775406, 0.2689414, 0.380797], [0.8175744, -0.450166, 0.4255575]],
                               rtol=1e-5)
    _, g = _head_grad("MAERegressionOutput", _XH, label, grad_scale=3.0)
    np.testing.assert_allclose(g, [[-1, -1, 1], [1, -1, -1]])
    with pytest.raises(mx.MXNetError, match="label of shape"):
        mx.nd.LinearRegressionOutput(mx.nd.ones((2, 3)), mx.nd.ones((2, 2)))


def test_parameter_shapes_are_inferred_from_the_data_shape():
    from psnet.ops import registry
    fc = registry.get("FullyConnected").infer_shape
    assert fc({"num_hidden": 5}, [(2, 4, 3), None, None]) == ([(2, 4, 3), (5, 12), (5,)], [(2, 5)])
    assert fc({"num_hidden": 5, "flatten": False, "no_bias": True}, [(2, 4, 3), None]) == \
        ([(2, 4, 3), (5, 3)], [(2, 4, 5)])
    assert fc({"num_hidden": 5}, [None, None, None]) is None
    gn = registry.get("GroupNorm").infer_shape
    assert gn({"num_groups": 2}, [(2, 4, 3), None, None]) == ([(2, 4, 3), (2,), (2,)], [(2, 4, 3)])
