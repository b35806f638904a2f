"""mx.autograd.get_symbol: the recorded graph of an array as a Symbol (MXNet 1.9.1's
node names, ops, attributes and inputs; evaluates to the array's value)."""
import json

import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, NotSupportedError


def _nodes(sym):
    d = json.loads(sym.tojson())
    return [(n["op"], n["name"], n.get("attrs", {}), n["inputs"]) for n in d["nodes"]], d["heads"]


# MXNet 1.9.1's get_symbol(w).tojson() nodes for the graph of test_graph_matches_mxnet.
MXNET_NODES = [
    ("null", "var0", {}, []), ("null", "var1", {}, []),
    ("broadcast_mul", "node_0", {}, [[0, 0, 0], [1, 0, 0]]),
    ("null", "null2", {}, []),
    ("broadcast_add", "node_1", {}, [[2, 0, 0], [3, 0, 0]]),
    ("SliceChannel", "node_2", {"axis": "0", "num_outputs": "2"}, [[4, 0, 0]]),
    ("relu", "node_3", {}, [[5, 1, 0]]),
    ("broadcast_mul", "node_4", {}, [[6, 0, 0], [5, 0, 0]]),
    ("sum", "node_5", {}, [[0, 0, 0]]),
    ("broadcast_add", "node_6", {}, [[7, 0, 0], [8, 0, 0]])]


def _vars(*values):
    out = []
    for v in values:
        a = mx.nd.array(v)
        a.attach_grad()
        out.append(a)
    return out


def test_graph_matches_mxnet():
    a, b = _vars([1., 2.], [3., 4.])
    c = mx.nd.array([5., 6.])
    with mx.autograd.record():
        y = a * b + c
        z = mx.nd.split(y, num_outputs=2, axis=0)
        w = mx.nd.relu(z[1]) * z[0] + mx.nd.sum(a)
    sym = mx.autograd.get_symbol(w)
    nodes, heads = _nodes(sym)
    assert nodes == MXNET_NODES and heads == [[9, 0, 0]]
    assert sym.list_arguments() == ["var0", "var1", "null2"]
    assert sym.list_outputs() == ["node_6_output"]
    # w = relu(y[1]) * y[0] + sum(a), y = a * b + c = [8, 14]
    np.testing.assert_allclose(w.asnumpy(), [14 * 8 + 3.])
    np.testing.assert_allclose(sym.eval(var0=a, var1=b, null2=c)[0].asnumpy(), [115.])
    # other values through the same graph
    out = sym.eval(var0=mx.nd.array([1., -1.]), var1=mx.nd.array([2., 3.]), null2=mx.nd.array([0., 1.]))
    np.testing.assert_allclose(out[0].asnumpy(), [0. * 2. + 0.])


def test_attributes_scalars_and_leaf():
    a, = _vars([[1., 2., 3.], [4., 5., 6.]])
    with mx.autograd.record():
        q = mx.nd.transpose(a * 2, axes=(1, 0)).sum(axis=1, keepdims=True)
    sym = mx.autograd.get_symbol(q)
    nodes, _ = _nodes(sym)
    assert [n[:3] for n in nodes] == [("null", "var0", {}), ("_mul_scalar", "node_0", {"scalar": "2.0"}),
                                      ("transpose", "node_1", {"axes": "(1, 0)"}),
                                      ("sum", "node_2", {"axis": "1", "keepdims": "True"})]
    np.testing.assert_allclose(sym.eval(var0=a)[0].asnumpy(), [[10.], [14.], [18.]])
    leaf = mx.autograd.get_symbol(a)
    assert leaf.list_arguments() == ["var0"] and leaf.list_outputs() == ["var0"]


def test_multi_output_and_hidden_outputs_bind_and_backward():
    rs = np.random.RandomState(0)
    t, n, i, h = 3, 2, 2, 3
    data, params = _vars(rs.randn(t, n, i), rs.randn(4 * h * (i + h + 2)) * 0.5)
    h0, c0 = mx.nd.zeros((1, n, h)), mx.nd.array(rs.randn(1, n, h))
    with mx.autograd.record():
        out, hy, cy = mx.nd.RNN(data, params, h0, c0, state_size=h, num_layers=1, mode="lstm",
                                state_outputs=True)
        loss = (out * out).sum() + (cy * 3).sum()
    sym = mx.autograd.get_symbol(loss)
    assert sym.list_arguments() == ["var0", "var1", "null2", "null3"]
    feed = {"var0": data, "var1": params, "null2": h0, "null3": c0}
    np.testing.assert_allclose(sym.eval(**feed)[0].asnumpy(), loss.asnumpy(), rtol=1e-6)
    cell = mx.autograd.get_symbol(cy)  # a later visible output of the 4-output RNN node
    assert _nodes(cell)[1] == [[4, 2, 0]]
    np.testing.assert_allclose(cell.eval(**feed)[0].asnumpy(), cy.asnumpy(), rtol=1e-6)
    loss.backward()
    grads = {k: mx.nd.zeros(v.shape) for k, v in feed.items()}
    ex = sym.bind(mx.cpu(), args=dict(feed), args_grad=grads)
    ex.forward(is_train=True)
    ex.backward(mx.nd.ones((1,)))
    np.testing.assert_allclose(grads["var0"].asnumpy(), data.grad.asnumpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads["var1"].asnumpy(), params.grad.asnumpy(), rtol=1e-5, atol=1e-6)


def test_hybridized_block_is_inlined():
    net = mx.gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(mx.gluon.nn.Dense(3, activation="relu"), mx.gluon.nn.Dense(2))
    net.initialize(mx.init.Uniform(1.0))
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    net.hybridize()
    loss_fn.hybridize()
    x = mx.nd.array(np.random.RandomState(1).randn(4, 5))
    label = mx.nd.array([0, 1, 1, 0])
    with mx.autograd.record():
        loss = loss_fn(net(x), label)
    sym = mx.autograd.get_symbol(loss)
    ops = [n[0] for n in _nodes(sym)[0] if n[0] != "null"]
    # the executor's fused pairs come back as MXNet's ops
    assert ops == ["FullyConnected", "Activation", "FullyConnected", "log_softmax", "pick", "_mul_scalar", "mean"]
    params = [p.data() for p in net.collect_params().values()]
    feed = {"var%d" % k: p for k, p in enumerate(params)}
    names = sym.list_arguments()
    assert [n for n in names if n.startswith("var")] == sorted(feed)
    for n in names:  # the block's inputs (constants) keep their traced names
        if n not in feed:
            feed[n] = x if n == "data" else label
    np.testing.assert_allclose(sym.eval(**feed)[0].asnumpy(), loss.asnumpy(), rtol=1e-5, atol=1e-6)


class _Square(mx.autograd.Function):
    def forward(self, x):
        return x * x

    def backward(self, dy):
        return dy


def test_errors():
    a, = _vars([1., 2.])
    with pytest.raises(MXNetError, match="record"):
        mx.autograd.get_symbol(mx.nd.array([1.]))
    with mx.autograd.record():
        y = _Square()(a) + 1
    with pytest.raises(NotSupportedError, match="Function"):
        mx.autograd.get_symbol(y)
    with mx.autograd.record():
        z = (a * a).sum()
    z.backward()
    with pytest.raises(MXNetError, match="freed"):
        mx.autograd.get_symbol(z)
