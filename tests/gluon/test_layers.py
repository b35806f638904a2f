"""gluon.nn layers against NumPy formulas, MXNet's reprs, and training/prediction behaviour."""
import numpy as np
import pytest

import psnet as mx
from psnet import autograd
from psnet.base import MXNetError
from psnet.gluon import nn

RS = np.random.RandomState(0)


def _x(*shape):
    return RS.randn(*shape).astype("float32")


def _run(layer, x, init=None):
    layer.initialize(init or mx.init.Normal(0.5))
    return layer(mx.nd.array(x)).asnumpy()


def test_dense_is_affine_and_infers_in_units():
    d = nn.Dense(4)
    x = _x(3, 2, 5)
    y = _run(d, x)
    w, b = d.weight.data().asnumpy(), d.bias.data().asnumpy()
    assert w.shape == (4, 10)
    np.testing.assert_allclose(y, x.reshape(3, 10) @ w.T + b, rtol=1e-5, atol=1e-6)
    assert repr(d) == "Dense(10 -> 4, linear)"


def test_dense_flatten_false_no_bias_activation():
    d = nn.Dense(4, flatten=False, use_bias=False, activation="tanh")
    x = _x(3, 2, 5)
    y = _run(d, x)
    assert d.bias is None and d.weight.shape == (4, 5)
    np.testing.assert_allclose(y, np.tanh(x @ d.weight.data().asnumpy().T), rtol=1e-5, atol=1e-6)


def test_dense_gradient_matches_numpy():
    d = nn.Dense(3, in_units=4)
    d.initialize(mx.init.Normal(1.0))
    x = _x(5, 4)
    with autograd.record():
        y = d(mx.nd.array(x))
    y.backward()
    np.testing.assert_allclose(d.weight.grad().asnumpy(), np.ones((5, 3)).T @ x, rtol=1e-5)
    np.testing.assert_allclose(d.bias.grad().asnumpy(), np.full(3, 5.0))


_ACTS = {
    "relu": lambda x: np.maximum(x, 0), "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "tanh": np.tanh,
    "softrelu": lambda x: np.log1p(np.exp(x)), "softsign": lambda x: x / (1 + np.abs(x)),
}


@pytest.mark.parametrize("name", sorted(_ACTS))
def test_activation(name):
    x = _x(4, 3)
    act = nn.Activation(name)
    assert repr(act) == "Activation(%s)" % name
    np.testing.assert_allclose(act(mx.nd.array(x)).asnumpy(), _ACTS[name](x), rtol=1e-5, atol=1e-6)


def test_activation_unknown_name():
    with pytest.raises(MXNetError, match="swishy"):
        nn.Activation("swishy")


def test_parametric_and_smooth_activations():
    from math import erf
    x = _x(2, 3, 4)
    X = mx.nd.array(x)
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(X).asnumpy(), np.where(x > 0, x, 0.1 * x), rtol=1e-6)
    np.testing.assert_allclose(nn.ELU(0.7)(X).asnumpy(), np.where(x > 0, x, 0.7 * (np.exp(x) - 1)),
                               rtol=1e-5, atol=1e-6)
    lam, alpha = 1.0507009873554805, 1.6732632423543772
    np.testing.assert_allclose(nn.SELU()(X).asnumpy(), lam * np.where(x > 0, x, alpha * (np.exp(x) - 1)),
                               rtol=1e-5, atol=1e-6)
    gelu = x * 0.5 * (1 + np.vectorize(erf)(x / np.sqrt(2)))
    np.testing.assert_allclose(nn.GELU()(X).asnumpy(), gelu, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(nn.Swish(2.0)(X).asnumpy(), x / (1 + np.exp(-2 * x)), rtol=1e-5, atol=1e-6)
    prelu = nn.PReLU(in_channels=3)
    prelu.initialize()
    assert (prelu.alpha.data().asnumpy() == 0.25).all()
    np.testing.assert_allclose(prelu(X).asnumpy(), np.where(x > 0, x, 0.25 * x), rtol=1e-6)
    with pytest.raises(MXNetError, match="no less than 0"):
        nn.LeakyReLU(-1)


def test_dropout_training_and_prediction():
    drop = nn.Dropout(0.5)
    x = mx.nd.ones((200, 50))
    np.testing.assert_array_equal(drop(x).asnumpy(), np.ones((200, 50)))
    with autograd.train_mode():
        y = drop(x).asnumpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs((y == 0).mean() - 0.5) < 0.03
    with autograd.train_mode():
        y = nn.Dropout(0.5, axes=(1,))(x).asnumpy()
    assert (y == y[:, :1]).all()  # one mask value per row
    assert repr(drop) == "Dropout(p = 0.5, axes=())"


def test_batchnorm_training_updates_running_stats_and_prediction_uses_them():
    bn = nn.BatchNorm(momentum=0.8)
    bn.initialize()
    x = _x(16, 3, 2, 2) * 2 + 1
    with autograd.record():
        y = bn(mx.nd.array(x)).asnumpy()
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    bc = (1, 3, 1, 1)
    np.testing.assert_allclose(y, (x - mean.reshape(bc)) / np.sqrt(var.reshape(bc) + 1e-5), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.running_mean.data().asnumpy(), 0.2 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.data().asnumpy(), 0.8 + 0.2 * var, rtol=1e-4)
    rm, rv = bn.running_mean.data().asnumpy(), bn.running_var.data().asnumpy()
    pred = bn(mx.nd.array(x)).asnumpy()
    np.testing.assert_allclose(pred, (x - rm.reshape(bc)) / np.sqrt(rv.reshape(bc) + 1e-5), rtol=1e-4, atol=1e-4)
    assert repr(bn) == ("BatchNorm(axis=1, eps=1e-05, momentum=0.8, fix_gamma=False, "
                        "use_global_stats=False, in_channels=3)")
    assert bn.running_mean.grad_req == "null" and bn.gamma.grad_req == "write"


def test_layernorm_embedding_flatten():
    x = _x(4, 6)
    ln = nn.LayerNorm()
    y = _run(ln, x)
    np.testing.assert_allclose(y, (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5),
                               rtol=1e-4, atol=1e-4)
    assert repr(ln) == "LayerNorm(eps=1e-05, axis=-1, center=True, scale=True, in_channels=6)"
    emb = nn.Embedding(10, 3)
    emb.initialize()
    idx = mx.nd.array([[1, 4], [9, 0]])
    np.testing.assert_array_equal(emb(idx).asnumpy(), emb.weight.data().asnumpy()[[[1, 4], [9, 0]]])
    assert repr(emb) == "Embedding(10 -> 3, float32)"
    assert nn.Flatten()(mx.nd.ones((2, 3, 4))).shape == (2, 12)
    assert repr(nn.Flatten()) == "Flatten"


def test_lambdas():
    lam = nn.Lambda("tanh")
    x = _x(2, 3)
    np.testing.assert_allclose(lam(mx.nd.array(x)).asnumpy(), np.tanh(x), rtol=1e-6)
    assert repr(lam) == "Lambda(tanh)"
    hl = nn.HybridLambda(lambda F, a: F.relu(a) * 2)
    np.testing.assert_allclose(hl(mx.nd.array(x)).asnumpy(), np.maximum(x, 0) * 2)
    assert repr(hl) == "HybridLambda(<lambda>)"
    assert nn.HybridLambda("sigmoid")(mx.nd.zeros((1,))).asscalar() == 0.5
    with pytest.raises(MXNetError, match="nosuchfn is not found"):
        nn.Lambda("nosuchfn")


def test_mxnet_reprs_of_a_layer_zoo():
    net = nn.HybridSequential()
    net.add(nn.Dense(5, in_units=3), nn.BatchNorm(), nn.LeakyReLU(0.1), nn.PReLU(), nn.Activation("tanh"))
    assert repr(net) == ("HybridSequential(\n  (0): Dense(3 -> 5, linear)\n"
                         "  (1): BatchNorm(axis=1, eps=1e-05, momentum=0.9, fix_gamma=False, "
                         "use_global_stats=False, in_channels=None)\n  (2): LeakyReLU(0.1)\n"
                         "  (3): PReLU(\n  \n  )\n  (4): Activation(tanh)\n)")
