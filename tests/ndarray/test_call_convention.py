"""MXNet's calling convention of the generated ``mx.nd`` / ``mx.sym`` functions for inputs
left out with None: positionally anywhere, or by name (``bias=None``), when the
attributes switch that input off (values checked against NumPy; MXNet accepts the same
calls)."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError


def test_none_for_a_switched_off_input_positionally_or_by_name():
    x, w = mx.nd.array(np.arange(6).reshape(2, 3)), mx.nd.array(np.ones((4, 3)))
    want = np.arange(6).reshape(2, 3) @ np.ones((3, 4))
    for out in (mx.nd.FullyConnected(x, w, None, no_bias=True, num_hidden=4),
                mx.nd.FullyConnected(data=x, weight=w, bias=None, no_bias=True, num_hidden=4),
                mx.nd.FullyConnected(x, w, bias=None, num_hidden=4, no_bias=True)):
        np.testing.assert_allclose(out.asnumpy(), want)


def test_none_in_the_middle_skips_an_optional_input():
    """CTCLoss(data, label, None, label_lengths, use_label_lengths=True): the None stands
    for data_lengths, which use_data_lengths=False switches off."""
    rs = np.random.RandomState(0)
    data, label = mx.nd.array(rs.randn(5, 2, 4)), mx.nd.array([[1, 2], [3, 3]])
    lengths = mx.nd.array([1, 2])
    by_name = mx.nd.CTCLoss(data, label, label_lengths=lengths, use_label_lengths=True)
    positional = mx.nd.CTCLoss(data, label, None, lengths, use_label_lengths=True)
    np.testing.assert_allclose(positional.asnumpy(), by_name.asnumpy())
    assert not np.allclose(by_name.asnumpy(), mx.nd.CTCLoss(data, label).asnumpy())


def test_a_needed_input_given_as_none_is_still_an_error():
    x = mx.nd.ones((2, 3))
    with pytest.raises(MXNetError, match="missing input 'weight'"):
        mx.nd.FullyConnected(x, weight=None, num_hidden=4, no_bias=True)


def test_symbols_none_inputs_become_variables_or_are_left_out():
    s = mx.sym.var("x")
    assert mx.sym.FullyConnected(s, None, None, no_bias=True, num_hidden=4, name="fc").list_arguments() \
        == ["x", "fc_weight"]
    assert mx.sym.FullyConnected(s, None, None, num_hidden=4, name="fc").list_arguments() \
        == ["x", "fc_weight", "fc_bias"]
    assert mx.sym.FullyConnected(data=s, bias=None, no_bias=True, num_hidden=4, name="fc").list_arguments() \
        == ["x", "fc_weight"]


def test_a_missing_or_unknown_attribute_is_named_as_such():
    """Not a dtype error: the op's required attribute, or the attribute it does not take."""
    x, w = mx.nd.ones((2, 3)), mx.nd.ones((4, 3))
    with pytest.raises(MXNetError, match="FullyConnected needs attribute.*num_hidden"):
        mx.nd.FullyConnected(x, w, no_bias=True)
    with pytest.raises(MXNetError, match="relu has no attribute 'bogus'"):
        mx.nd.relu(x, bogus=1)
