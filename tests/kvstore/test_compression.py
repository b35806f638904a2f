"""Gradient compression: MXNet 1.9.1's 2bit numbers, residuals against a NumPy model, 1bit, errors."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError

V = [0.2, 0.6, -0.4, -0.7, 1.5, 0.0]


def _quantise_model(residual, grad, kind, t):
    x = residual + grad
    if kind == "2bit":
        q = np.where(x >= t, t, np.where(x <= -t, -t, 0.0)).astype(np.float32)
    else:
        q = np.where(x > t, 1.0, -1.0).astype(np.float32)
    return q, x - q


@pytest.mark.parametrize("kvtype", ["device", "local"])
def test_2bit_matches_mxnet(kvtype):
    """The pulls MXNet 1.9.1 'device' gives for these pushes (threshold 0.5)."""
    kv = mx.kv.create(kvtype)
    kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
    kv.init(0, mx.nd.zeros((6,)))
    out = mx.nd.zeros((6,))
    expected_single = [[0.0, 0.5, 0.0, -0.5, 0.5, 0.0], [0.0, 0.5, -0.5, -0.5, 0.5, 0.0]]
    for exp in expected_single:
        kv.push(0, mx.nd.array(V))
        kv.pull(0, out=out)
        np.testing.assert_array_equal(out.asnumpy(), exp)
    kv.init(1, mx.nd.zeros((6,)))
    kv._set_updater(lambda key, inp, stored: stored.__iadd__(inp))
    expected_updates = [[0.0, 1.5, 0.0, -1.5, 1.5, 0.0], [0.0, 3.0, -1.5, -3.0, 3.0, 0.0]]
    for exp in expected_updates:
        kv.push(1, [mx.nd.array(V, ctx=mx.cpu(j)) for j in range(3)])
        kv.pull(1, out=out)
        np.testing.assert_array_equal(out.asnumpy(), exp)


@pytest.mark.parametrize("kind,threshold", [("2bit", 0.5), ("2bit", 0.25), ("1bit", 0.0), ("1bit", 0.3)])
def test_residuals_per_key_and_device_against_numpy(kind, threshold):
    rs = np.random.RandomState(1)
    kv = mx.kv.create("device")
    kv.set_gradient_compression({"type": kind, "threshold": threshold})
    keys, ndev, shape = ["a", "b"], 3, (4, 5)
    for k in keys:
        kv.init(k, mx.nd.zeros(shape))
    residual = {(k, d): np.zeros(shape, np.float32) for k in keys for d in range(ndev)}
    for _ in range(5):
        for k in keys:
            grads = [rs.randn(*shape).astype(np.float32) for _ in range(ndev)]
            total = np.zeros(shape, np.float32)
            for d, g in enumerate(grads):
                q, residual[(k, d)] = _quantise_model(residual[(k, d)], g, kind, np.float32(threshold))
                total += q
            kv.push(k, [mx.nd.array(g, ctx=mx.cpu(d)) for d, g in enumerate(grads)])
            out = mx.nd.zeros(shape)
            kv.pull(k, out=out)
            np.testing.assert_allclose(out.asnumpy(), total, rtol=1e-6, atol=1e-6)
            for d in range(ndev):
                got = kv._compression.residual(k, d)
                np.testing.assert_allclose(got, residual[(k, d)], rtol=1e-5, atol=1e-6)


def test_nothing_is_lost_only_delayed():
    """With 2bit, the sum of everything pulled plus the residual equals the sum pushed."""
    kv = mx.kv.create("local")
    kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
    kv.init(0, mx.nd.zeros((8,)))
    kv._set_updater(lambda key, inp, stored: stored.__iadd__(inp))
    rs = np.random.RandomState(2)
    pushed = np.zeros(8, np.float32)
    for _ in range(10):
        g = (rs.rand(8) * 0.3).astype(np.float32)
        pushed += g
        kv.push(0, mx.nd.array(g))
    out = mx.nd.zeros((8,))
    kv.pull(0, out=out)
    np.testing.assert_allclose(out.asnumpy() + kv._compression.residual(0, 0), pushed, rtol=1e-5)


@pytest.mark.parametrize("params,msg", [
    ({"type": "3bit"}, "unknown gradient compression type"),
    ({"type": "2bit", "threshold": 0}, "threshold > 0"),
    ({"type": "2bit", "threshold": 0.5, "foo": 1}, "foo"),
    ({"threshold": 0.5}, "type"),
])
def test_bad_parameters(params, msg):
    kv = mx.kv.create("device")
    with pytest.raises(MXNetError, match=msg):
        kv.set_gradient_compression(params)


def test_none_turns_compression_off():
    kv = mx.kv.create("device")
    kv.set_gradient_compression({"type": "2bit"})
    kv.set_gradient_compression({"type": "none"})
    kv.init(0, mx.nd.zeros((6,)))
    kv.push(0, mx.nd.array(V))
    out = mx.nd.zeros((6,))
    kv.pull(0, out=out)
    np.testing.assert_allclose(out.asnumpy(), V, rtol=1e-7)
