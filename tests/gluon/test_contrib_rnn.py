"""Tests of mx.gluon.contrib.rnn: values pasted from MXNet 1.9.1 (parameters set to a sine ramp,
inputs a cosine ramp), parameter names / shapes, state_info, reprs, variational masks,
hybridized == imperative, gradients by finite differences, errors."""
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
