"""The ops graph plans fuse pairs into (``_log_softmax_pick``, ``_FullyConnected_relu``)
called on their own: values, hidden outputs and second derivatives equal the unfused
pairs' (first derivatives are checked by finite differences in test_gradients.py)."""
import numpy as np
import pytest

import psnet as mx
from psnet.ops import registry


def _second_derivative(f, x):
    """d/dx sum(w * d/dx sum(f(x) * v)) with fixed weights v, w (create_graph)."""
    rs = np.random.RandomState(1)
    x = mx.nd.array(x, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = f(x)
        v = mx.nd.array(rs.uniform(-1, 1, y.shape), dtype="float64")
        gx = mx.autograd.grad((y * v).sum(), [x], create_graph=True)[0]
        w = mx.nd.array(rs.uniform(-1, 1, gx.shape), dtype="float64")
        z = (gx * w).sum()
    z.backward()
    return x.grad.asnumpy()


@pytest.mark.parametrize("axis, keepdims", [(-1, False), (1, True), (0, False)])
def test_log_softmax_pick_matches_the_pair_to_second_order(axis, keepdims):
    rs = np.random.RandomState(0)
    x = rs.uniform(-2, 2, (3, 4))
    label = mx.nd.array(rs.randint(0, 3, 4 if axis == 0 else 3), dtype="float64")

    def fused(v):
        return mx.nd._log_softmax_pick(v, label, axis=axis, keepdims=keepdims)

    def pair(v):
        return mx.nd.pick(mx.nd.log_softmax(v, axis=axis), label, axis=axis, keepdims=keepdims)

    xv = mx.nd.array(x, dtype="float64")
    np.testing.assert_allclose(fused(xv).asnumpy(), pair(xv).asnumpy(), rtol=1e-12)
    np.testing.assert_allclose(_second_derivative(fused, x), _second_derivative(pair, x),
                               rtol=1e-10, atol=1e-12)


def test_log_softmax_pick_keeps_its_derivative_as_a_hidden_output():
    """The hidden output is onehot(index) - softmax(data) (index clipped, as pick does)."""
    x = np.random.RandomState(2).uniform(-2, 2, (2, 5)).astype(np.float32)
    for axis in (-1, 0):
        index = np.array([1.0, 9.0]) if axis == -1 else np.array([0.0, 1.0, 1.0, 0.0, 7.0])
        out, slope = registry.get("_log_softmax_pick").forward(np, x, index, axis=axis)
        p = np.exp(x - x.max(axis, keepdims=True))
        p /= p.sum(axis, keepdims=True)
        idx = np.expand_dims(np.minimum(index.astype(int), x.shape[axis] - 1), axis)
        onehot = np.zeros_like(p)
        np.put_along_axis(onehot, idx, 1, axis=axis)
        np.testing.assert_allclose(slope, onehot - p, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(out, np.log(np.take_along_axis(p, idx, axis)).reshape(-1), rtol=1e-5)
    assert mx.nd._log_softmax_pick(mx.nd.array(x), mx.nd.array([1, 4])).shape == (2,)


def test_fully_connected_relu_matches_the_pair_to_second_order():
    rs = np.random.RandomState(3)
    w = mx.nd.array(rs.uniform(-1, 1, (4, 3)), dtype="float64")
    b = mx.nd.array(rs.uniform(-1, 1, 4), dtype="float64")

    def fused(v):
        return mx.nd._FullyConnected_relu(v * v, w, b, num_hidden=4)

    def pair(v):
        return mx.nd.relu(mx.nd.FullyConnected(v * v, w, b, num_hidden=4))

    x = rs.uniform(-1, 1, (2, 3))
    np.testing.assert_allclose(_second_derivative(fused, x), _second_derivative(pair, x),
                               rtol=1e-10, atol=1e-12)
