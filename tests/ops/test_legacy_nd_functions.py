"""MXNet 1.x's legacy NDArray functions onehot_encode, fill_element_0index and cast_storage
(expected values from MXNet 1.9.1)."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, NotSupportedError


def test_onehot_encode_writes_into_its_output():
    out = mx.nd.full((3, 4), 5)
    r = mx.nd.onehot_encode(mx.nd.array([1.7, 3, 0]), out)
    assert r is out
    assert out.asnumpy().tolist() == [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]
    with pytest.raises(MXNetError, match="one index per row"):
        mx.nd.onehot_encode(mx.nd.array([1, 2]), out)


def test_fill_element_0index_copies_unless_given_out():
    lhs = mx.nd.ones((3, 4))
    r = mx.nd.fill_element_0index(lhs, mx.nd.array([7, 8, 9]), mx.nd.array([1, 3, 0]))
    assert r.asnumpy().tolist() == [[1, 7, 1, 1], [1, 1, 1, 8], [9, 1, 1, 1]]
    assert (lhs.asnumpy() == 1).all()
    assert mx.nd.fill_element_0index(lhs, mx.nd.array([7, 8, 9]), mx.nd.array([1, 3, 0]), out=lhs) is lhs
    assert lhs.asnumpy()[2].tolist() == [9, 1, 1, 1]
    with pytest.raises(MXNetError, match=r"one value per row \(shape \(3,\)\), got shape \(2,\)"):
        mx.nd.fill_element_0index(lhs, mx.nd.array([7, 8]), mx.nd.array([1, 3, 0]))


def test_cast_storage_is_dense_only():
    x = mx.nd.array([[1, 2]])
    assert mx.nd.cast_storage(x, stype="default").asnumpy().tolist() == [[1, 2]]
    with pytest.raises(NotSupportedError, match="'csr' is not supported"):
        mx.nd.cast_storage(x, stype="csr")
    np.testing.assert_array_equal(mx.sym.cast_storage(mx.sym.var("a"), stype="default")
                                  .eval(a=x)[0].asnumpy(), x.asnumpy())
