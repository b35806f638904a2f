"""Deliberate errors: MXNetError subclasses that also match Python's built-in exceptions,
with messages naming what is wrong."""
import pytest

import psnet as mx
from psnet.base import ContextError, DTypeError, MXIndexError, MXNetError, ShapeError


def test_mixed_contexts_name_both_contexts():
    a, b = mx.nd.ones((2,), ctx=mx.cpu(0)), mx.nd.ones((2,), ctx=mx.cpu(1))
    for fn in (lambda: a + b, lambda: mx.nd.dot(a, b), lambda: mx.nd.concat(a, b, dim=0),
               lambda: a.__setitem__(slice(None), b)):
        with pytest.raises(ContextError) as e:
            fn()
        assert "cpu(0)" in str(e.value) and "cpu(1)" in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, MXNetError)


def test_incompatible_broadcast_names_both_shapes():
    with pytest.raises(ShapeError) as e:
        mx.nd.ones((2, 3)) * mx.nd.ones((3, 2))
    assert "(2, 3)" in str(e.value) and "(3, 2)" in str(e.value)
    assert isinstance(e.value, ValueError)


def test_bad_reshape_names_shape_and_request():
    with pytest.raises(ShapeError) as e:
        mx.nd.ones((2, 3)).reshape((4, -1))
    assert "(2, 3)" in str(e.value) and "(4, -1)" in str(e.value)


@pytest.mark.parametrize("bad", ["float31", "complex64", "str"])
def test_unknown_dtype_is_named(bad):
    with pytest.raises(DTypeError) as e:
        mx.nd.zeros((2,), dtype=bad)
    assert bad in str(e.value) and isinstance(e.value, TypeError)
    with pytest.raises(DTypeError, match=bad):
        mx.nd.ones((2,)).astype(bad)


def test_gpu_without_cupy_or_device_says_so():
    if mx.context.num_gpus() > 0:
        pytest.skip("a GPU is present")
    with pytest.raises(ContextError) as e:
        mx.nd.ones((2,), ctx=mx.gpu(0))
    msg = str(e.value)
    assert "CuPy" in msg or "gpu(0)" in msg


def test_index_errors_are_index_errors():
    with pytest.raises(MXIndexError) as e:
        mx.nd.ones((2, 3))[2]
    assert isinstance(e.value, IndexError) and "(2, 3)" in str(e.value)


def test_unknown_operator_attribute_is_named():
    with pytest.raises(MXNetError, match="no_such_attr"):
        mx.nd.sum(mx.nd.ones((2,)), no_such_attr=1)


def test_wrong_input_count_names_the_op():
    with pytest.raises(MXNetError, match="dot"):
        mx.nd.dot(mx.nd.ones((2, 2)))


def test_mxnet_error_is_reachable_as_mx_base():
    assert mx.base.MXNetError is mx.MXNetError
    for cls in (ShapeError, DTypeError, ContextError, MXIndexError):
        assert issubclass(cls, mx.base.MXNetError)


def test_wrong_argument_types_and_truth_value_are_mxnet_errors():
    with pytest.raises(DTypeError, match="from_numpy takes a numpy.ndarray, got list"):
        mx.nd.from_numpy([1, 2])
    with pytest.raises(DTypeError, match="copyto takes an NDArray or a Context, got str"):
        mx.nd.ones(2).copyto("cpu")
    with pytest.raises(ShapeError, match=r"ambiguous \(shape \(2, 2\)\)"):
        bool(mx.nd.ones((2, 2)))
