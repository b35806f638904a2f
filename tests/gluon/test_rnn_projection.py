"""LSTM with projection (LSTMP): the fused RNN op's ``projection_size`` and
``gluon.rnn.LSTM(..., projection_size=P)``, against a NumPy reference, finite
differences and numbers from MXNet 1.9.1."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, ShapeError


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _param_size(i, h, p, layers, dirs):
    gates = 4 * h * dirs
    return (i + p + 2) * gates + (layers - 1) * (p * dirs + p + 2) * gates + p * h * layers * dirs


def lstmp_reference(x, flat, h, p, layers, dirs, h0, c0):
    """Plain NumPy LSTMP over TNC ``x`` with MXNet's flat layout: per layer-direction the
    weights i2h (4H, I_l), h2h (4H, P), h2r (P, H), then all biases (i2h, h2h)."""
    t_len, _, i = x.shape
    off, weights = 0, []
    for layer in range(layers):
        width = i if layer == 0 else dirs * p
        for _ in range(dirs):
            ws = []
            for shape in ((4 * h, width), (4 * h, p), (p, h)):
                n = shape[0] * shape[1]
                ws.append(flat[off:off + n].reshape(shape))
                off += n
            weights.append(ws)
    for ws in weights:
        ws += [flat[off:off + 4 * h], flat[off + 4 * h:off + 8 * h]]
        off += 8 * h
    assert off == flat.size
    hy, cy = np.zeros(h0.shape), np.zeros(c0.shape)
    inp = x
    for layer in range(layers):
        outs = []
        for d in range(dirs):
            j = layer * dirs + d
            wi, wh, wr, bi, bh = weights[j]
            r, c = h0[j], c0[j]
            out = np.zeros((t_len, x.shape[1], p))
            for t in (range(t_len) if d == 0 else range(t_len - 1, -1, -1)):
                g = inp[t] @ wi.T + bi + r @ wh.T + bh
                c = _sig(g[:, h:2 * h]) * c + _sig(g[:, :h]) * np.tanh(g[:, 2 * h:3 * h])
                r = (_sig(g[:, 3 * h:]) * np.tanh(c)) @ wr.T
                out[t] = r
            hy[j], cy[j] = r, c
            outs.append(out)
        inp = np.concatenate(outs, axis=2)
    return inp, hy, cy


def _case(t, n, i, h, p, layers, dirs, seed=0):
    rs = np.random.RandomState(seed)
    return (rs.randn(t, n, i), rs.randn(_param_size(i, h, p, layers, dirs)) * 0.5,
            rs.randn(layers * dirs, n, p) * 0.5, rs.randn(layers * dirs, n, h) * 0.5)


def _rnn_kwargs(h, p, layers, dirs):
    return dict(state_size=h, num_layers=layers, bidirectional=dirs == 2, mode="lstm",
                projection_size=p, state_outputs=True)


@pytest.mark.parametrize("t,n,i,h,p,layers,dirs", [
    (3, 2, 4, 5, 3, 1, 1), (3, 2, 4, 5, 3, 2, 2), (4, 3, 2, 3, 2, 2, 1), (2, 1, 3, 4, 4, 1, 2)])
def test_op_matches_numpy_reference(t, n, i, h, p, layers, dirs):
    arrays = _case(t, n, i, h, p, layers, dirs)
    outs = mx.nd.RNN(*[mx.nd.array(a, dtype="float64") for a in arrays], **_rnn_kwargs(h, p, layers, dirs))
    ref = lstmp_reference(*arrays[:2], h, p, layers, dirs, *arrays[2:])
    assert [o.shape for o in outs] == [(t, n, dirs * p), (layers * dirs, n, p), (layers * dirs, n, h)]
    for o, r in zip(outs, ref):
        np.testing.assert_allclose(o.asnumpy(), r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("t,n,i,h,p,layers,dirs,lengths", [
    (3, 2, 2, 3, 2, 1, 1, None), (3, 2, 2, 3, 2, 2, 2, None), (4, 3, 2, 3, 2, 2, 2, [4, 2, 1])])
def test_op_gradient_finite_differences(t, n, i, h, p, layers, dirs, lengths):
    arrays = list(_case(t, n, i, h, p, layers, dirs, seed=1))
    rs = np.random.RandomState(2)
    heads = [rs.randn(t, n, dirs * p), rs.randn(layers * dirs, n, p), rs.randn(layers * dirs, n, h)]
    kw = _rnn_kwargs(h, p, layers, dirs)
    extra = []
    if lengths is not None:
        kw["use_sequence_length"] = True
        extra = [mx.nd.array(lengths, dtype="float64")]

    def loss(vals):
        outs = mx.nd.RNN(*[mx.nd.array(v, dtype="float64") for v in vals], *extra, **kw)
        return sum(float((o.asnumpy() * hg).sum()) for o, hg in zip(outs, heads))

    xs = [mx.nd.array(a, dtype="float64") for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*xs, *extra, **kw)
    mx.autograd.backward(list(outs), [mx.nd.array(hg, dtype="float64") for hg in heads])
    eps = 1e-6
    for a, x in zip(arrays, xs):
        num = np.zeros(a.size)
        flat = a.reshape(-1)
        for k in range(a.size):
            old = flat[k]
            flat[k] = old + eps
            up = loss(arrays)
            flat[k] = old - eps
            down = loss(arrays)
            flat[k] = old
            num[k] = (up - down) / (2 * eps)
        np.testing.assert_allclose(x.grad.asnumpy().reshape(-1), num, rtol=1e-6, atol=1e-7)


def test_op_errors():
    x, flat, h0, c0 = (mx.nd.array(a) for a in _case(2, 2, 3, 4, 2, 1, 1))
    with pytest.raises(ShapeError, match="state"):  # h state must be P wide
        mx.nd.RNN(x, flat, c0, c0, **_rnn_kwargs(4, 2, 1, 1))
    with pytest.raises(ShapeError, match="parameters"):
        mx.nd.RNN(x, flat[:-1], h0, c0, **_rnn_kwargs(4, 2, 1, 1))
    with pytest.raises(MXNetError, match="projection_size"):
        mx.nd.RNN(x, flat, h0, state_size=4, num_layers=1, mode="gru", projection_size=2)


def test_symbol_infer_shape():
    sym = mx.sym.RNN(mx.sym.var("data"), mx.sym.var("params"), mx.sym.var("h"), mx.sym.var("c"),
                     state_size=5, num_layers=2, bidirectional=True, mode="lstm", projection_size=3,
                     state_outputs=True)
    args, outs, _ = sym.infer_shape(data=(4, 2, 6))
    assert args == [(4, 2, 6), (_param_size(6, 5, 3, 2, 2),), (4, 2, 3), (4, 2, 5)]
    assert outs == [(4, 2, 6), (4, 2, 3), (4, 2, 5)]


# MXNet 1.9.1: LSTM(5, num_layers=2, bidirectional=True, projection_size=3, input_size=4)
MXNET_PARAMS = [
    ('l0_i2h_weight', (20, 4)), ('l0_h2h_weight', (20, 3)), ('l0_i2h_bias', (20,)), ('l0_h2h_bias', (20,)),
    ('l0_h2r_weight', (3, 5)), ('r0_i2h_weight', (20, 4)), ('r0_h2h_weight', (20, 3)), ('r0_i2h_bias', (20,)),
    ('r0_h2h_bias', (20,)), ('r0_h2r_weight', (3, 5)), ('l1_i2h_weight', (20, 6)), ('l1_h2h_weight', (20, 3)),
    ('l1_i2h_bias', (20,)), ('l1_h2h_bias', (20,)), ('l1_h2r_weight', (3, 5)), ('r1_i2h_weight', (20, 6)),
    ('r1_h2h_weight', (20, 3)), ('r1_i2h_bias', (20,)), ('r1_h2h_bias', (20,)), ('r1_h2r_weight', (3, 5))]


def test_parameters_and_states_match_mxnet():
    layer = mx.gluon.rnn.LSTM(5, num_layers=2, bidirectional=True, projection_size=3, input_size=4)
    params = layer.collect_params()
    assert [(k[len(layer.prefix):], p.shape) for k, p in params.items()] == MXNET_PARAMS
    assert [i["shape"] for i in layer.state_info(2)] == [(4, 2, 3), (4, 2, 5)]
    layer.initialize()
    assert [s.shape for s in layer.begin_state(7)] == [(4, 7, 3), (4, 7, 5)]
    assert repr(layer) == "LSTM(4 -> 5, TNC, num_layers=2, bidirectional)"
    deferred = mx.gluon.rnn.LSTM(4, projection_size=2)
    deferred.initialize()
    assert deferred(mx.nd.ones((3, 2, 6))).shape == (3, 2, 2)
    assert deferred.l0_i2h_weight.shape == (16, 6) and deferred.l0_h2r_weight.shape == (2, 4)


def _fill(layer):
    """Deterministic ramp-like values per Parameter, keyed by its name without prefix."""
    for k, p in layer.collect_params().items():
        name = k[len(layer.prefix):]
        n = int(np.prod(p.shape))
        vals = np.sin(np.arange(n) * 0.37 + len(name) + 3 * (name[0] == "r") + 5 * int(name[1])) * 0.5
        p.set_data(mx.nd.array(vals.reshape(p.shape)))


_X = np.cos(np.arange(2 * 2 * 3) * 0.7).reshape(2, 2, 3)
_H0 = np.sin(np.arange(4 * 2 * 2) * 1.3).reshape(4, 2, 2) * 0.3
_C0 = np.cos(np.arange(4 * 2 * 3) * 0.9).reshape(4, 2, 3) * 0.3

# MXNet 1.9.1 (same _fill, inputs and states) for LSTM(3, num_layers=2, bidirectional=True,
# projection_size=2, input_size=3): outputs, final h, final c.
MX_Y = [[[0.0288980, -0.0064129, 0.0616018, -0.0792786], [0.0836710, -0.0887062, 0.1552246, -0.0739527]],
        [[0.0638770, -0.0767953, 0.0129919, -0.0482944], [0.0831237, -0.1011796, 0.1019662, -0.0534651]]]
MX_H = [[[0.2925533, 0.3796681], [0.2175687, 0.2584907]], [[0.1907148, 0.3333145], [0.1143892, 0.1015053]],
        [[0.0638770, -0.0767953], [0.0831237, -0.1011796]], [[0.0616018, -0.0792786], [0.1552246, -0.0739527]]]
MX_C = [[[0.3593071, 0.4686830, 0.3682610], [0.2835277, 0.3886418, 0.3906503]],
        [[-0.7505002, -0.6975639, -0.6563986], [0.3212061, 0.0145927, -0.8776451]],
        [[-0.0998383, -0.2142830, -0.0707787], [-0.1479257, -0.2498860, -0.1185520]],
        [[0.0975442, 0.4201462, 0.4919358], [0.6497197, 0.5726404, 0.1623434]]]
# MXNet 1.9.1: LSTM(4, projection_size=3, layout='NTC', input_size=3) on _X, zero states.
MX_Y_NTC = [[[0.0762541, 0.1158412, -0.0552471], [0.1501525, 0.1085731, -0.1304635]],
            [[0.1174121, 0.1094269, -0.0975682], [0.1355184, 0.1677277, -0.1051021]]]


@pytest.mark.parametrize("hybridize", [False, True])
def test_layer_values_match_mxnet(hybridize):
    layer = mx.gluon.rnn.LSTM(3, num_layers=2, bidirectional=True, projection_size=2, input_size=3)
    layer.initialize()
    _fill(layer)
    ntc = mx.gluon.rnn.LSTM(4, projection_size=3, layout="NTC", input_size=3)
    ntc.initialize()
    _fill(ntc)
    if hybridize:
        layer.hybridize()
        ntc.hybridize()
    y, (h, c) = layer(mx.nd.array(_X), [mx.nd.array(_H0), mx.nd.array(_C0)])
    np.testing.assert_allclose(y.asnumpy(), MX_Y, atol=2e-6)
    np.testing.assert_allclose(h.asnumpy(), MX_H, atol=2e-6)
    np.testing.assert_allclose(c.asnumpy(), MX_C, atol=2e-6)
    np.testing.assert_allclose(ntc(mx.nd.array(_X)).asnumpy(), MX_Y_NTC, atol=2e-6)


def test_layer_matches_reference_and_hybridized_gradients():
    layer = mx.gluon.rnn.LSTM(3, num_layers=2, bidirectional=True, projection_size=2, dtype="float64")
    layer.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(np.random.RandomState(3).randn(4, 2, 3), dtype="float64")
    y = layer(x)
    flat = np.concatenate([getattr(layer, n).data().asnumpy().reshape(-1) for n in layer._flat_order()])
    zeros_h, zeros_c = np.zeros((4, 2, 2)), np.zeros((4, 2, 3))
    ref = lstmp_reference(x.asnumpy(), flat, 3, 2, 2, 2, zeros_h, zeros_c)[0]
    np.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-10, atol=1e-12)
    grads = []
    for hybrid in (False, True):
        if hybrid:
            layer.hybridize()
        with mx.autograd.record():
            out = layer(x)
            loss = (out * out).sum()
        loss.backward()
        np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-10, atol=1e-12)
        grads.append({k: p.grad().asnumpy().copy() for k, p in layer.collect_params().items()})
    assert any(np.abs(g).max() > 0 for k, g in grads[0].items() if "h2r" in k)
    for k in grads[0]:
        np.testing.assert_allclose(grads[1][k], grads[0][k], rtol=1e-10, atol=1e-12)


def test_layer_errors():
    with pytest.raises(ShapeError, match="projection_size"):
        mx.gluon.rnn.LSTM(3, projection_size=0)
    layer = mx.gluon.rnn.LSTM(3, projection_size=2, input_size=2)
    layer.initialize()
    with pytest.raises(ShapeError, match="state shape"):  # h must be P wide
        layer(mx.nd.ones((2, 1, 2)), [mx.nd.zeros((1, 1, 3)), mx.nd.zeros((1, 1, 3))])


def test_sequence_length_equals_truncated_sequence():
    layer = mx.gluon.rnn.LSTM(3, projection_size=2, bidirectional=True, use_sequence_length=True, input_size=2)
    layer.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(np.random.RandomState(0).randn(4, 2, 2))
    y, (h, c) = layer(x, layer.begin_state(2), mx.nd.array([4, 2]))
    plain = mx.gluon.rnn.LSTM(3, projection_size=2, bidirectional=True, input_size=2,
                              params=layer.collect_params())
    y2, (h2, c2) = plain(x[:2, 1:2], plain.begin_state(1))  # sequence 1 alone, its 2 valid steps
    np.testing.assert_allclose(y[:2, 1:2].asnumpy(), y2.asnumpy(), rtol=1e-5, atol=1e-6)
    assert np.all(y[2:, 1].asnumpy() == 0)
    np.testing.assert_allclose(h[:, 1:2].asnumpy(), h2.asnumpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c[:, 1:2].asnumpy(), c2.asnumpy(), rtol=1e-5, atol=1e-6)
