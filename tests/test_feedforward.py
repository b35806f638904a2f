"""mx.model.FeedForward: the legacy estimator API over NumPy arrays and data iterators."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, ShapeError


def _linear_data(n=100, seed=0):
    rs = np.random.RandomState(seed)
    X = rs.rand(n, 1).astype(np.float32)
    y = (5 * X[:, 0] + rs.randn(n) * 0.1).astype(np.float32)
    return X, y


def _linreg_symbol():
    fc = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=1, name="fc1")
    return mx.sym.LinearRegressionOutput(fc, name="lro")


def test_linear_regression_learns_the_slope():
    X, y = _linear_data()
    model = mx.model.FeedForward(_linreg_symbol(), num_epoch=50, numpy_batch_size=10, learning_rate=0.1)
    model.fit(X, y, eval_metric="mse")
    slope = float(model.arg_params["fc1_weight"].asnumpy().ravel()[0])
    assert abs(slope - 5) < 0.3
    pred = model.predict(X)
    assert pred.shape == (100, 1)
    np.testing.assert_allclose(pred[:, 0], slope * X[:, 0] + model.arg_params["fc1_bias"].asnumpy()[0],
                               rtol=1e-4, atol=1e-5)
    mse = model.score(mx.io.NDArrayIter(X, y, 10, label_name="lro_label"), "mse")
    assert mse < 0.05


def test_classifier_over_data_iterators_with_callbacks_and_eval_data():
    rs = np.random.RandomState(1)
    X = rs.randn(200, 4).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.float32)
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=16, name="fc1")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.FullyConnected(net, num_hidden=2, name="fc2")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    epochs, batches = [], []
    train = mx.io.NDArrayIter(X[:150], y[:150], 25, shuffle=True)
    model = mx.model.FeedForward.create(
        net, train, num_epoch=8, learning_rate=0.5, initializer=mx.init.Xavier(),
        eval_data=(X[150:], y[150:]), epoch_end_callback=lambda e, s, a, x: epochs.append(e),
        batch_end_callback=lambda p: batches.append(p.nbatch))
    assert epochs == list(range(8)) and batches[:6] == [0, 1, 2, 3, 4, 5]
    acc = model.score(mx.io.NDArrayIter(X[150:], y[150:], 25))
    assert acc > 0.9
    probs = model.predict(X[150:])
    assert probs.shape == (50, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    out, data, label = model.predict(mx.io.NDArrayIter(X[150:], y[150:], 20), return_data=True)
    assert out.shape == (50, 2) and data.shape == (50, 4)
    np.testing.assert_array_equal(label, y[150:])


def test_save_load_and_continue(tmp_path):
    X, y = _linear_data()
    model = mx.model.FeedForward(_linreg_symbol(), num_epoch=5, numpy_batch_size=20, learning_rate=0.1)
    model.fit(X, y)
    prefix = str(tmp_path / "linreg")
    model.save(prefix)
    assert (tmp_path / "linreg-symbol.json").exists() and (tmp_path / "linreg-0005.params").exists()
    loaded = mx.model.FeedForward.load(prefix, 5, num_epoch=80, numpy_batch_size=20, learning_rate=0.1)
    assert loaded.begin_epoch == 5
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-6)
    loaded.fit(X, y)
    assert abs(float(loaded.arg_params["fc1_weight"].asnumpy().ravel()[0]) - 5) < 0.3


def test_epoch_size_sets_batches_per_epoch():
    X, y = _linear_data()
    seen = []
    model = mx.model.FeedForward(_linreg_symbol(), num_epoch=2, epoch_size=3, numpy_batch_size=10,
                                 learning_rate=0.1)
    model.fit(X, y, batch_end_callback=lambda p: seen.append((p.epoch, p.nbatch)))
    assert seen == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_errors_are_clear():
    X, y = _linear_data()
    with pytest.raises(MXNetError, match="y must be given"):
        mx.model.FeedForward(_linreg_symbol(), num_epoch=1).fit(X)
    with pytest.raises(ShapeError, match="100 data points but y has 99"):
        mx.model.FeedForward(_linreg_symbol(), num_epoch=1).fit(X, y[:99])
    with pytest.raises(MXNetError, match="num_epoch"):
        mx.model.FeedForward(_linreg_symbol()).fit(X, y)
    with pytest.raises(MXNetError, match="no parameters"):
        mx.model.FeedForward(_linreg_symbol()).predict(X)
    with pytest.raises(MXNetError, match="DataIter"):
        mx.model.FeedForward(_linreg_symbol(), num_epoch=1).fit([1, 2, 3], y)
