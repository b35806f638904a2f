"""Tests of mx.gluon.contrib.rnn: values pasted from MXNet 1.9.1 (parameters set to a sine ramp,
inputs a cosine ramp), parameter names / shapes, state_info, reprs, variational masks,
hybridized == imperative, gradients by finite differences, errors."""
import re

import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, NotSupportedError
from psnet.gluon.contrib import rnn as crnn


def _ramp(cell):
    """Every parameter (sorted by name, k-th) set to 0.5 sin(0.37 i + k), as in the MXNet run."""
    for k, (_, p) in enumerate(sorted(cell.collect_params().items())):
        n = int(np.prod(p.shape))
        p.set_data(mx.nd.array((0.5 * np.sin(0.37 * np.arange(n) + k)).reshape(p.shape)))


def _x(shape):
    n = int(np.prod(shape))
    return mx.nd.array(np.cos(0.23 * np.arange(n)).reshape(shape))


def _ready(cell, step_shape):
    cell.initialize()
    cell(_x(step_shape), cell.begin_state(step_shape[0]))
    _ramp(cell)
    return cell


# MXNet 1.9.1: cls((2, 4), 2, 3, 3, i2h_pad=1), unroll(2, x (1, 2, 2, 4), 'NTC', merge) -> (outputs, last state)
MX_CONV1D = {
    "Conv1DRNNCell": ([-0.405231, -0.362429, -0.036464, 0.355302, 0.311854, -0.194366, -0.264263, -0.111527, 0.848688, 0.936020, 0.957529, 0.882233, 0.298469, 0.472786, 0.595504, 0.748140],
                      [0.848688, 0.936020, 0.957529, 0.882233, 0.298469, 0.472786, 0.595504, 0.748140]),
    "Conv1DLSTMCell": ([0.044154, 0.014913, 0.003887, -0.009228, 0.255233, 0.228937, 0.187338, 0.147696, -0.260433, -0.454269, -0.430670, -0.029762, 0.077884, 0.026300, 0.003772, -0.028208],
                       [-0.375299, -0.592335, -0.535593, -0.037028, 0.430163, 0.205649, 0.027849, -0.112821]),
    "Conv1DGRUCell": ([0.046883, -0.004866, -0.025466, -0.048825, 0.439069, 0.616417, 0.519103, 0.308846, -0.280560, -0.494884, -0.534148, -0.190121, 0.342701, 0.524889, 0.437573, 0.177361],
                      [-0.280560, -0.494884, -0.534148, -0.190121, 0.342701, 0.524889, 0.437573, 0.177361]),
}


@pytest.mark.parametrize("name", sorted(MX_CONV1D))
def test_conv1d_cells_match_mxnet(name):
    cell = _ready(getattr(crnn, name)((2, 4), 2, 3, 3, i2h_pad=1), (1, 2, 4))
    out, states = cell.unroll(2, _x((1, 2, 2, 4)), layout="NTC", merge_outputs=True)
    assert out.shape == (1, 2, 2, 4)
    np.testing.assert_allclose(out.asnumpy().ravel(), MX_CONV1D[name][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states[-1].asnumpy().ravel(), MX_CONV1D[name][1], rtol=1e-5, atol=1e-6)


def test_conv2d_lstm_relu_dilated_matches_mxnet():
    cell = crnn.Conv2DLSTMCell((2, 4, 5), 3, (3, 2), (3, 3), i2h_pad=(1, 0), h2h_dilate=(1, 2), activation="relu")
    _ready(cell, (2, 2, 4, 5))
    out, states = cell.unroll(3, _x((3, 2, 2, 4, 5)), layout="TNC", merge_outputs=True)
    assert out.shape == (3, 2, 3, 4, 4)
    sums = [out.sum().asscalar(), (out * out).sum().asscalar(), states[1].sum().asscalar()]
    np.testing.assert_allclose(sums, [42.139420, 22.492096, 46.938427], rtol=1e-5)
    np.testing.assert_allclose(out.asnumpy()[2, 1, :, 1, 2], [0.160576, 0.000000, 0.127670], rtol=1e-5, atol=1e-6)


def test_conv3d_gru_matches_mxnet():
    cell = crnn.Conv3DGRUCell((1, 3, 3, 4), 2, 2, 3, i2h_dilate=(1, 1, 2), h2h_dilate=2)
    _ready(cell, (1, 1, 3, 3, 4))
    out, _ = cell.unroll(2, _x((1, 2, 1, 3, 3, 4)), merge_outputs=True)
    assert out.shape == (1, 2, 2, 2, 2, 2)
    np.testing.assert_allclose([out.sum().asscalar(), (out * out).sum().asscalar()], [-10.479170, 6.777187], rtol=1e-5)


def test_lstmp_matches_mxnet():
    cell = crnn.LSTMPCell(3, 2, input_size=4)
    cell.initialize()
    _ramp(cell)
    out, states = cell.unroll(3, _x((2, 3, 4)), merge_outputs=True)
    assert out.shape == (2, 3, 2) and states[0].shape == (2, 2) and states[1].shape == (2, 3)
    np.testing.assert_allclose(out.asnumpy().ravel(), [-0.006699, 0.119297, 0.042032, 0.046708, -0.150826, 0.004404, -0.278569, 0.008325, -0.270501, 0.018317, -0.108563, 0.059716], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states[1].asnumpy().ravel(), [-0.485658, -0.083769, -0.048427, -0.191191, -0.285784, -0.200376], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- names, shapes, state_info, repr (MXNet 1.9.1)

def test_conv_lstm_names_shapes_state_info_repr():
    cell = crnn.Conv2DLSTMCell((3, 5, 5), 4, (3, 3), (3, 3), i2h_pad=(1, 1))
    assert re.fullmatch(r"conv_lstm\d+_", cell.prefix)
    shapes = {k.replace(cell.prefix, "conv_lstm0_"): v.shape for k, v in cell.collect_params().items()}
    assert shapes == {"conv_lstm0_i2h_weight": (16, 3, 3, 3), "conv_lstm0_h2h_weight": (16, 4, 3, 3),
                      "conv_lstm0_i2h_bias": (16,), "conv_lstm0_h2h_bias": (16,)}
    assert cell.state_info(2) == [{"shape": (2, 4, 5, 5), "__layout__": "NCHW"}] * 2
    assert repr(cell) == "Conv2DLSTMCell(3 -> 16, tanh, NCHW)"
    cell.initialize()
    out, states = cell(mx.nd.ones((2, 3, 5, 5)), cell.begin_state(2))
    assert out.shape == (2, 4, 5, 5) and [s.shape for s in states] == [(2, 4, 5, 5)] * 2


def test_conv_gru_dilated_and_conv3d_rnn_shapes():
    gru = crnn.Conv1DGRUCell((3, 7), 2, 3, 3, i2h_dilate=2, h2h_dilate=2)
    assert re.fullmatch(r"conv_gru\d+_", gru.prefix)
    assert {k.replace(gru.prefix, "conv_gru0_"): v.shape for k, v in gru.collect_params().items()} == {
        "conv_gru0_i2h_weight": (6, 3, 3), "conv_gru0_h2h_weight": (6, 2, 3),
        "conv_gru0_i2h_bias": (6,), "conv_gru0_h2h_bias": (6,)}
    assert gru.state_info(1) == [{"shape": (1, 2, 3), "__layout__": "NCW"}]  # 7 - 2 * (3 - 1)
    assert repr(gru) == "Conv1DGRUCell(3 -> 6, tanh, NCW)"
    rnn = crnn.Conv3DRNNCell((2, 4, 4, 4), 2, 1, 1)
    assert repr(rnn) == "Conv3DRNNCell(2 -> 2, tanh, NCDHW)"
    assert rnn.state_info(1) == [{"shape": (1, 2, 4, 4, 4), "__layout__": "NCDHW"}]
    assert rnn.prefix.startswith("conv_rnn")
    states = rnn.begin_state(batch_size=3)
    assert len(states) == 1 and states[0].shape == (3, 2, 4, 4, 4)


def test_lstmp_names_shapes_state_info_repr():
    cell = crnn.LSTMPCell(6, 3, input_size=4)
    assert re.fullmatch(r"lstmp\d+_", cell.prefix)
    assert {k.replace(cell.prefix, "lstmp0_"): v.shape for k, v in cell.collect_params().items()} == {
        "lstmp0_i2h_weight": (24, 4), "lstmp0_h2h_weight": (24, 3), "lstmp0_h2r_weight": (3, 6),
        "lstmp0_i2h_bias": (24,), "lstmp0_h2h_bias": (24,)}
    assert cell.state_info(2) == [{"shape": (2, 3), "__layout__": "NC"}, {"shape": (2, 6), "__layout__": "NC"}]
    assert repr(cell) == "LSTMPCell(4 -> 24 -> 3)"
    deferred = crnn.LSTMPCell(5, 2)
    deferred.initialize()
    out, _ = deferred(mx.nd.ones((3, 7)), deferred.begin_state(3))
    assert out.shape == (3, 2) and deferred.i2h_weight.shape == (20, 7)


def test_variational_dropout_repr_prefix():
    cell = crnn.VariationalDropoutCell(mx.gluon.rnn.LSTMCell(3, prefix="lstm0_"), drop_inputs=0.1,
                                       drop_states=0.2, drop_outputs=0.3)
    assert repr(cell) == "VariationalDropoutCell(p_out = 0.3, p_state = 0.2)"
    assert cell.prefix == "lstm0_vardrop"
    assert set(cell.collect_params()) == {"lstm0_i2h_weight", "lstm0_h2h_weight", "lstm0_i2h_bias", "lstm0_h2h_bias"}


# ---------------------------------------------------------------- errors

def test_errors():
    with pytest.raises(MXNetError, match="odd"):
        crnn.Conv1DRNNCell((3, 7), 2, 3, 2)
    with pytest.raises(NotSupportedError, match="conv_layout"):
        crnn.Conv2DLSTMCell((3, 5, 5), 2, 3, 3, conv_layout="NHWC")
    with pytest.raises(MXNetError, match="length 2"):
        crnn.Conv2DGRUCell((3, 5, 5), 2, (3, 3, 3), 3)
    with pytest.raises(MXNetError, match="input_shape"):
        crnn.Conv2DRNNCell((5, 5), 2, 3, 3)
    with pytest.raises(MXNetError, match="no output"):
        crnn.Conv1DRNNCell((2, 2), 2, 3, 3)
    with pytest.raises(MXNetError, match="Bidirectional"):
        bi = mx.gluon.rnn.BidirectionalCell(mx.gluon.rnn.GRUCell(2), mx.gluon.rnn.GRUCell(2))
        crnn.VariationalDropoutCell(bi, drop_states=0.5)
    base = mx.gluon.rnn.GRUCell(2)
    crnn.VariationalDropoutCell(base, drop_inputs=0.5)
    with pytest.raises(MXNetError, match="modified"):
        crnn.VariationalDropoutCell(base)


# ---------------------------------------------------------------- variational masks

def _relu_identity_cell(units):
    """RNNCell with output relu(x) (i2h = identity, h2h and biases zero), so outputs show the input mask."""
    base = mx.gluon.rnn.RNNCell(units, activation="relu", input_size=units)
    base.initialize()
    base.i2h_weight.set_data(mx.nd.array(np.eye(units)))
    base.h2h_weight.set_data(mx.nd.zeros((units, units)))
    return base


@pytest.mark.parametrize("drop_states", [0.0, 0.5])
def test_variational_masks_fixed_over_sequence_and_redrawn(drop_states):
    cell = crnn.VariationalDropoutCell(_relu_identity_cell(8), drop_inputs=0.5, drop_states=drop_states)
    x = mx.nd.ones((6, 4, 8))  # NTC
    with mx.autograd.train_mode():
        out1, _ = cell.unroll(4, x, merge_outputs=True)
        out2, _ = cell.unroll(4, x, merge_outputs=True)
    o1 = out1.asnumpy()
    assert set(np.unique(o1)) <= {0.0, 2.0} and 0 < (o1 == 0).sum() < o1.size
    for t in range(1, 4):  # one input mask for all steps
        np.testing.assert_array_equal(o1[:, t], o1[:, 0])
    assert not np.array_equal(out2.asnumpy()[:, 0], o1[:, 0])  # unroll resets: a new mask
    out3, _ = cell.unroll(4, x, merge_outputs=True)  # not training: no dropout
    np.testing.assert_array_equal(out3.asnumpy(), np.ones((6, 4, 8)))


def test_variational_step_masks_kept_until_reset():
    cell = crnn.VariationalDropoutCell(_relu_identity_cell(8), drop_outputs=0.5, drop_states=0.5)
    x = mx.nd.ones((6, 8))
    states = cell.begin_state(batch_size=6)
    with mx.autograd.train_mode():
        a, states = cell(x, states)
        b, states = cell(x, states)
        mask = cell.drop_outputs_mask.asnumpy()
        assert cell.drop_states_mask.shape == (6, 8)
        cell.reset()
        assert cell.drop_outputs_mask is None and cell.drop_states_mask is None and cell.drop_inputs_mask is None
        c, _ = cell(x, states)
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    np.testing.assert_array_equal(a.asnumpy(), mask)
    assert not np.array_equal(c.asnumpy(), a.asnumpy())


def test_variational_states_mask_hits_first_state_only():
    base = mx.gluon.rnn.LSTMCell(3, input_size=2)
    base.initialize()
    cell = crnn.VariationalDropoutCell(base, drop_states=0.5)
    x = mx.nd.ones((4, 2))
    states = [mx.nd.ones((4, 3)), mx.nd.ones((4, 3))]
    with mx.autograd.train_mode():
        out, _ = cell(x, states)
    mask = cell.drop_states_mask
    assert mask.shape == (4, 3) and 0 < (mask.asnumpy() == 0).sum() < 12
    twin = mx.gluon.rnn.LSTMCell(3, input_size=2, prefix=base.prefix, params=base.params)  # shares the weights
    ref, _ = twin(x, [states[0] * mask, states[1]])
    np.testing.assert_allclose(out.asnumpy(), ref.asnumpy(), rtol=1e-6)
    unmasked, _ = twin(x, states)
    assert not np.allclose(out.asnumpy(), unmasked.asnumpy())


# ---------------------------------------------------------------- hybridized == imperative

class _Unrolled(mx.gluon.HybridBlock):
    def __init__(self, cell, merge, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.cell = cell
        self.merge = merge

    def hybrid_forward(self, F, x):
        out, states = self.cell.unroll(3, x, layout="NTC", merge_outputs=self.merge)
        if not self.merge:
            out = F.stack(*out, axis=1)
        return [out] + list(states)


@pytest.mark.parametrize("make,shape", [
    (lambda: crnn.Conv2DLSTMCell((2, 4, 4), 3, 3, 3, i2h_pad=1), (2, 3, 2, 4, 4)),
    (lambda: crnn.Conv1DGRUCell((2, 5), 2, 3, 1), (2, 3, 2, 5)),
    (lambda: crnn.Conv3DRNNCell((1, 3, 3, 3), 2, 1, 3, activation="relu"), (2, 3, 1, 3, 3, 3)),
    (lambda: crnn.LSTMPCell(4, 3), (2, 3, 5)),
    (lambda: crnn.VariationalDropoutCell(mx.gluon.rnn.LSTMCell(3), drop_inputs=0.3, drop_outputs=0.2), (2, 3, 5)),
    (lambda: crnn.VariationalDropoutCell(crnn.Conv1DRNNCell((2, 5), 2, 3, 3, i2h_pad=1), drop_states=0.3),
     (2, 3, 2, 5)),
])
@pytest.mark.parametrize("merge", [True, False])
def test_hybridized_equals_imperative(make, shape, merge):
    net = _Unrolled(make(), merge)
    net.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(np.random.RandomState(1).uniform(-1, 1, shape))
    ref = net(x)
    net.hybridize()
    got = net(x)
    assert len(ref) == len(got)
    for r, g in zip(ref, got):
        assert r.shape == g.shape
        np.testing.assert_allclose(g.asnumpy(), r.asnumpy(), rtol=1e-5, atol=1e-6)


def test_hybridized_variational_mask_fixed_over_time():
    net = _Unrolled(crnn.VariationalDropoutCell(_relu_identity_cell(8), drop_inputs=0.5, drop_states=0.5), True)
    net.hybridize()
    with mx.autograd.train_mode():
        out = net(mx.nd.ones((6, 3, 8)))[0].asnumpy()
    assert 0 < (out == 0).sum() < out.size
    np.testing.assert_array_equal(out[:, 1], out[:, 0])
    np.testing.assert_array_equal(out[:, 2], out[:, 0])


# ---------------------------------------------------------------- gradients by finite differences

def _check_unroll_grad(cell, x_shape, param):
    cell.initialize(mx.init.Uniform(0.5))
    cell.cast("float64")
    x = mx.nd.array(np.random.RandomState(2).uniform(-1, 1, x_shape), dtype="float64")
    weight = cell.collect_params()[param]

    def loss_of(xv):
        out, states = cell.unroll(x_shape[1], xv, merge_outputs=True)
        return (out * out).sum() + states[-1].sum() * 0.5

    x.attach_grad()
    with mx.autograd.record():
        loss = loss_of(x)
    loss.backward()
    gx, gw = x.grad.asnumpy().copy(), weight.grad().asnumpy().copy()
    eps = 1e-6
    xs = x.asnumpy()
    for flat_idx in [1, xs.size // 2 + 1, xs.size - 1]:
        idx = np.unravel_index(flat_idx, xs.shape)
        d = np.zeros_like(xs)
        d[idx] = eps
        num = (loss_of(mx.nd.array(xs + d, dtype="float64")).asscalar()
               - loss_of(mx.nd.array(xs - d, dtype="float64")).asscalar()) / (2 * eps)
        np.testing.assert_allclose(gx[idx], num, rtol=1e-5, atol=1e-8)
    wv = weight.data().asnumpy()
    flat = [0, wv.size // 2, wv.size - 1]
    for i in flat:
        d = np.zeros(wv.size)
        d[i] = eps
        weight.set_data(mx.nd.array(wv + d.reshape(wv.shape), dtype="float64"))
        plus = loss_of(x).asscalar()
        weight.set_data(mx.nd.array(wv - d.reshape(wv.shape), dtype="float64"))
        minus = loss_of(x).asscalar()
        weight.set_data(mx.nd.array(wv, dtype="float64"))
        np.testing.assert_allclose(gw.ravel()[i], (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("make,param", [
    (lambda: crnn.Conv1DLSTMCell((2, 4), 2, 3, 3, i2h_pad=1, prefix="cl_"), "cl_h2h_weight"),
    (lambda: crnn.Conv1DGRUCell((2, 4), 2, 3, 3, i2h_pad=1, h2h_dilate=1, prefix="cg_"), "cg_i2h_weight"),
    (lambda: crnn.Conv1DRNNCell((2, 4), 2, 3, 3, i2h_pad=1, prefix="cr_"), "cr_h2h_weight"),
])
def test_conv_cell_gradients_finite_differences(make, param):
    _check_unroll_grad(make(), (1, 2, 2, 4), param)


def test_lstmp_gradients_finite_differences():
    _check_unroll_grad(crnn.LSTMPCell(3, 2, input_size=4, prefix="p_"), (2, 3, 4), "p_h2r_weight")


def test_conv_cell_valid_length():
    cell = crnn.Conv1DGRUCell((2, 4), 2, 3, 3, i2h_pad=1)
    cell.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(np.random.RandomState(3).uniform(-1, 1, (2, 3, 2, 4)))
    out, states = cell.unroll(3, x, merge_outputs=True, valid_length=mx.nd.array([1, 3]))
    full, full_states = cell.unroll(3, x, merge_outputs=True)
    short, short_states = cell.unroll(1, x[0:1, 0:1], merge_outputs=True)
    np.testing.assert_array_equal(out.asnumpy()[0, 1:], 0)
    np.testing.assert_allclose(out.asnumpy()[1], full.asnumpy()[1], rtol=1e-6)
    np.testing.assert_allclose(states[0].asnumpy()[0], short_states[0].asnumpy()[0], rtol=1e-6)
    np.testing.assert_allclose(states[0].asnumpy()[1], full_states[0].asnumpy()[1], rtol=1e-6)
