"""hybridize(): cached graphs give the imperative results, gradients and errors."""
import numpy as np
import pytest

import psnet as mx
from psnet import autograd, gluon
from psnet.base import NotSupportedError
from psnet.gluon import nn


def _mlp():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(16, activation="relu"), nn.Dense(8, activation="tanh"), nn.Dense(4))
    return net


def _bn_dropout_net():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(12), nn.BatchNorm(), nn.Activation("relu"), nn.Dropout(0.3), nn.Dense(3))
    return net


def _train_steps(net, x, y, steps, hybrid):
    """Run SGD steps recording (loss, grads) per step; returns the list of snapshots."""
    mx.random.seed(7)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if hybrid:
        net.hybridize()
        loss_fn.hybridize()
    params = list(net.collect_params().values())
    out = []
    for _ in range(steps):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        out.append((loss.asnumpy(), [p.grad().asnumpy().copy() for p in params if p.grad_req != "null"]))
        for p in params:
            if p.grad_req != "null":
                p.data()[:] = p.data() - 0.1 * p.grad()
    out.append([p.data().asnumpy() for p in params])
    with autograd.predict_mode():
        out.append(net(x).asnumpy())
    return out


@pytest.mark.parametrize("make", [_mlp, _bn_dropout_net])
def test_hybrid_matches_imperative_in_training_and_prediction(make):
    rs = np.random.RandomState(0)
    x = mx.nd.array(rs.normal(size=(10, 6)))
    y = mx.nd.array(rs.randint(0, 3, size=10))
    runs = []
    for hybrid in (False, True):
        net = make()
        net.initialize(mx.init.Xavier())
        net(x)  # finish deferred init
        # the same start for both nets (by position: the names' counters differ between them)
        for i, p in enumerate(net.collect_params(".*weight|.*bias|.*gamma|.*beta").values()):
            p.set_data(mx.nd.array(np.random.RandomState(i).uniform(-0.5, 0.5, p.shape)))
        runs.append(_train_steps(net, x, y, 3, hybrid))
    imp, hyb = runs
    for (li, gi), (lh, gh) in zip(imp[:3], hyb[:3]):
        np.testing.assert_allclose(lh, li, rtol=1e-5, atol=1e-6)
        for a, b in zip(gi, gh):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    for a, b in zip(imp[3], hyb[3]):  # weights and BatchNorm running statistics
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hyb[4], imp[4], rtol=1e-5, atol=1e-6)
    assert np.isfinite(hyb[4]).all()


def test_symbol_call_returns_symbol():
    net = _mlp()
    net.hybridize()
    sym = net(mx.sym.var("data"))
    assert isinstance(sym, mx.sym.Symbol)
    assert sym.list_arguments() == ["data"] + [p for p in net.collect_params()]
    args, outs, _ = sym.infer_shape(data=(2, 5))
    assert outs == [(2, 4)] and args[1] == (16, 5)


class _Custom(gluon.HybridBlock):
    """A block with a deferred Parameter and no infer_shape of its own."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.w = self.params.get("w", shape=(3, 0), allow_deferred_init=True)

    def hybrid_forward(self, F, x, w):
        return F.FullyConnected(x, w, no_bias=True, num_hidden=3) * 2


@pytest.mark.parametrize("hybrid", [False, True])
def test_deferred_shape_by_symbolic_inference(hybrid):
    blk = _Custom()
    blk.initialize()
    if hybrid:
        blk.hybridize()
    x = mx.nd.ones((2, 5))
    y = blk(x)
    assert blk.w.shape == (3, 5)
    np.testing.assert_allclose(y.asnumpy(), 2 * x.asnumpy() @ blk.w.data().asnumpy().T, rtol=1e-6)


class _Branchy(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        if x.sum() > 0:
            return x
        return -x


def test_python_control_flow_on_symbols_is_explained():
    blk = _Branchy()
    x = mx.nd.ones((2,))
    assert blk(x).asnumpy().tolist() == [1.0, 1.0]
    blk.hybridize()
    with pytest.raises(NotSupportedError, match="hybrid"):
        blk(x)


def test_new_input_shape_and_inference_memory_plan():
    net = _mlp()
    net.initialize()
    net.hybridize()
    a = net(mx.nd.ones((4, 5)))
    b = net(mx.nd.ones((7, 5)))
    assert a.shape == (4, 4) and b.shape == (7, 4)
    np.testing.assert_allclose(a.asnumpy()[0], b.asnumpy()[0], rtol=1e-6)
    with autograd.record():
        c = net(mx.nd.ones((7, 5)))
    c.backward()
    assert net[0].weight.grad().shape == (16, 5)


def test_input_gradient_predict_mode_and_multiple_outputs():
    class Two(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            return F.Dropout(x * 2, p=0.5), x.sum()

    blk = Two()
    blk.hybridize()
    x = mx.nd.ones((2, 3))
    x.attach_grad()
    with autograd.record():
        a, b = blk(x)
        (b * 3).backward()
    assert x.grad.asnumpy().tolist() == [[3.0] * 3] * 2
    assert a.asnumpy().max() in (0.0, 4.0)  # training: dropped or scaled by 1/(1-p)
    assert blk(x)[0].asnumpy().tolist() == [[2.0] * 3] * 2  # prediction: identity
    with autograd.record():
        b = blk(x)[1]
    with pytest.raises(NotSupportedError, match="higher-order"):
        autograd.grad(b, [x], create_graph=True)


def test_trainer_trains_a_hybridized_net():
    rs = np.random.RandomState(2)
    x = mx.nd.array(rs.normal(size=(32, 4)))
    y = mx.nd.array((rs.normal(size=32) > 0).astype(np.float32))
    net = _mlp()
    net.initialize(mx.init.Xavier())
    net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    losses = []
    for _ in range(40):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(32)
        losses.append(float(loss.mean().asscalar()))
    assert losses[-1] < 0.5 * losses[0]


def test_hybridized_net_on_two_contexts():
    net = _mlp()
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net.initialize(ctx=ctxs)
    net.hybridize()
    xs = [mx.nd.ones((3, 5), ctx=c) for c in ctxs]
    with autograd.record():
        losses = [net(x).sum() for x in xs]
    for loss in losses:
        loss.backward()
    w = net[0].weight
    assert w.grad(ctxs[1]).context == ctxs[1]
    np.testing.assert_allclose(w.grad(ctxs[0]).asnumpy(), w.grad(ctxs[1]).asnumpy())
    assert np.abs(w.grad(ctxs[0]).asnumpy()).sum() > 0


class _OptionalInputs(mx.gluon.nn.HybridBlock):
    """A block whose second and third inputs are optional (a mask, a scale)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = mx.gluon.nn.Dense(3)

    def hybrid_forward(self, F, x, mask=None, scale=None):
        y = self.dense(x)
        if mask is not None:
            y = y * mask
        if scale is not None:
            y = F.broadcast_mul(y, scale)
        return y


def test_hybridized_block_takes_none_for_optional_inputs_like_mxnet():
    """None inputs are passed to hybrid_forward as None: the graph's variables are the
    array inputs only (data0, data1... as MXNet names them), a call leaving out other
    inputs is traced again, and every pattern equals the imperative result."""
    net = _OptionalInputs()
    net.initialize(mx.init.Uniform(1.0))
    rs = np.random.RandomState(0)
    x, mask, scale = (mx.nd.array(rs.rand(*s)) for s in ((2, 4), (2, 3), (1, 3)))
    calls = [(x, None, scale), (x, mask, None), (x, None, None), (x, mask, scale)]
    want = [net(*c).asnumpy() for c in calls]
    net.hybridize()
    for c, w in zip(calls, want):
        np.testing.assert_allclose(net(*c).asnumpy(), w, rtol=1e-6)
    net(x, None, scale)
    assert net._cached_graph.symbol.list_inputs()[:1] == ["data0"] and \
        "data1" in net._cached_graph.symbol.list_inputs() and "data2" not in net._cached_graph.symbol.list_inputs()
    with pytest.raises(mx.base.MXNetError, match="NDArrays.*None"):
        net(x, 3.0)


def test_hybridized_ctc_loss_with_a_left_out_length_matches_imperative():
    loss = mx.gluon.loss.CTCLoss()
    rs = np.random.RandomState(1)
    pred = mx.nd.array(rs.randn(2, 6, 4))
    label = mx.nd.array([[1, 2, 0], [2, 2, 1]])
    lengths = mx.nd.array([2, 3])
    want = loss(pred, label, None, lengths).asnumpy()
    loss.hybridize()
    np.testing.assert_allclose(loss(pred, label, None, lengths).asnumpy(), want, rtol=1e-6)
