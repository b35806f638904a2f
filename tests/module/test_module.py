"""Module: bind / init / fit / score / predict / checkpoints, on one and several contexts."""
import logging

import numpy as np
import pytest

import psnet as mx


def _mlp():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=32)
    act1 = mx.sym.Activation(data=fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(data=act1, name="fc2", num_hidden=10)
    return mx.sym.SoftmaxOutput(data=fc2, name="softmax")


def _blobs(n=600, dim=20, classes=10, seed=0):
    """A separable synthetic 10-class problem: Gaussian blobs around random centres."""
    rng = np.random.RandomState(seed)
    centres = rng.randn(classes, dim) * 3
    y = rng.randint(0, classes, size=n)
    x = centres[y] + rng.randn(n, dim)
    return x.astype(np.float32), y.astype(np.float32)


def _iters(batch=50):
    x, y = _blobs()
    train = mx.io.NDArrayIter(x[:500], y[:500], batch_size=batch, shuffle=True)
    val = mx.io.NDArrayIter(x[500:], y[500:], batch_size=batch)
    return train, val


def test_fit_then_score_reports_mse_and_accuracy():
    train, val = _iters()
    mod = mx.mod.Module(_mlp(), context=mx.cpu())
    mod.fit(train, num_epoch=5, optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9},
            initializer=mx.init.Xavier())
    res = mod.score(val, ["mse", "acc"])
    assert [name for name, _ in res] == ["mse", "accuracy"]
    assert dict(res)["accuracy"] > 0.9


def test_predict_returns_all_rows_without_padding():
    x, y = _blobs(n=130)
    it = mx.io.NDArrayIter(x, y, batch_size=50, last_batch_handle="pad")
    mod = mx.mod.Module(_mlp())
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params(mx.init.Xavier())
    out = mod.predict(it)
    assert out.shape == (130, 10)
    np.testing.assert_allclose(out.asnumpy().sum(axis=1), np.ones(130), rtol=1e-5)


def test_several_contexts_match_one_context():
    x, y = _blobs(n=200)
    results = []
    for ctxs in ([mx.cpu(0)], [mx.cpu(0), mx.cpu(1), mx.cpu(2), mx.cpu(3)]):
        it = mx.io.NDArrayIter(x, y, batch_size=40)
        mod = mx.mod.Module(_mlp(), context=ctxs)
        mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
        mx.random.seed(7)
        np.random.seed(7)
        mod.init_params(mx.init.Xavier())
        mod.init_optimizer(kvstore="local", optimizer="sgd", optimizer_params={"learning_rate": 0.5})
        for batch in it:
            mod.forward_backward(batch)
            mod.update()
        arg, _ = mod.get_params()
        results.append({k: v.asnumpy() for k, v in arg.items()})
    for k in results[0]:
        np.testing.assert_allclose(results[0][k], results[1][k], rtol=1e-4, atol=1e-5)


def test_checkpoint_round_trip(tmp_path):
    train, _ = _iters()
    mod = mx.mod.Module(_mlp())
    mod.fit(train, num_epoch=1, optimizer_params={"learning_rate": 0.1}, initializer=mx.init.Xavier())
    prefix = str(tmp_path / "mlp")
    mod.save_checkpoint(prefix, 1)
    sym, arg, aux = mx.model.load_checkpoint(prefix, 1)
    assert sym.tojson() == mod.symbol.tojson()
    ref, _ = mod.get_params()
    for k, v in ref.items():
        np.testing.assert_array_equal(arg[k].asnumpy(), v.asnumpy())
    loaded = mx.mod.Module.load(prefix, 1)
    loaded.bind(data_shapes=train.provide_data, label_shapes=train.provide_label, for_training=False)
    train.reset()
    batch = next(iter(train))
    mod.forward(batch, is_train=False)
    loaded.forward(batch, is_train=False)
    np.testing.assert_allclose(loaded.get_outputs()[0].asnumpy(), mod.get_outputs()[0].asnumpy(), rtol=1e-6)


def test_batch_end_callbacks_and_logging(caplog):
    train, val = _iters()
    seen = []
    with caplog.at_level(logging.INFO):
        mx.mod.Module(_mlp()).fit(train, eval_data=val, num_epoch=1,
                                  batch_end_callback=lambda p: seen.append(p.nbatch))
    assert seen == list(range(10))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Epoch[0] Train-accuracy=" in text and "Epoch[0] Validation-accuracy=" in text


def test_errors_before_bind_and_missing_params():
    mod = mx.mod.Module(_mlp())
    with pytest.raises(mx.MXNetError, match="bound"):
        mod.init_params()
    with pytest.raises(mx.MXNetError, match="nosuch"):
        mx.mod.Module(_mlp(), data_names=("nosuch",))
    it = mx.io.NDArrayIter(*_blobs(n=50), batch_size=50)
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    with pytest.raises(mx.MXNetError, match="fc1_bias is missing"):
        mod.init_params(arg_params={"fc1_weight": mx.nd.zeros((32, 20))})
