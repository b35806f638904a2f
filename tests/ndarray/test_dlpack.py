"""DLPack interop (psnet/ndarray/dlpack.py, NDArray.__dlpack__): memory shared both ways with
NumPy and (when installed) PyTorch, MXNet's capsule API, and the errors."""
import gc

import numpy as np
import pytest

import psnet as mx
from psnet.base import ContextError, DTypeError, MXNetError, NotSupportedError


def capsule_name(c):
    return repr(c).split('"')[1]


# ------------------------------------------------------------------ NDArray -> NumPy (protocol)
def test_numpy_from_dlpack_shares_memory_both_ways():
    x = mx.nd.array([[1, 2, 3], [4, 5, 6]])
    a = np.from_dlpack(x)
    assert a.shape == (2, 3) and a.dtype == np.float32
    a[0, 1] = 20.0                      # numpy -> NDArray
    assert x.asnumpy()[0, 1] == 20.0
    x[1] = 7.0                          # NDArray -> numpy
    np.testing.assert_array_equal(a[1], [7, 7, 7])
    x += 1
    np.testing.assert_array_equal(a, [[2, 21, 4], [8, 8, 8]])


def test_dlpack_device_is_cpu_and_views_export_their_part():
    x = mx.nd.arange(12).reshape((3, 4))
    assert x.__dlpack_device__() == (1, 0)
    row = np.from_dlpack(x[1])          # basic first-axis indexing is a view in psnet
    row[:] = -1
    np.testing.assert_array_equal(x.asnumpy()[1], [-1] * 4)
    np.testing.assert_array_equal(x.asnumpy()[0], [0, 1, 2, 3])


# ------------------------------------------------------------------ MXNet's capsule API
def test_to_dlpack_returns_dltensor_capsules():
    x = mx.nd.ones((2, 3))
    for c in (mx.nd.to_dlpack_for_read(x), mx.nd.to_dlpack_for_write(x), x.to_dlpack_for_read()):
        assert type(c).__name__ == "PyCapsule" and capsule_name(c) == "dltensor"


def test_mxnet_docstring_roundtrip_write_through():
    # MXNet 1.9.1's from_dlpack example: u += 1 through the capsule changes x
    x = mx.nd.ones((2, 3))
    z = mx.nd.from_dlpack(mx.nd.to_dlpack_for_read(x))
    np.testing.assert_array_equal(z.asnumpy(), np.ones((2, 3)))
    u = mx.nd.from_dlpack(mx.nd.to_dlpack_for_write(x))
    u += 1
    np.testing.assert_array_equal(x.asnumpy(), np.full((2, 3), 2.0))
    x[0, 0] = 5.0
    assert u.asnumpy()[0, 0] == 5.0 and z.asnumpy()[0, 0] == 5.0


@pytest.mark.parametrize("dtype", ["int32", "int64", "float16", "float64", "uint8"])
def test_roundtrip_keeps_dtype_and_shares(dtype):
    a = mx.nd.array([[1, 2], [3, 4]], dtype=dtype)
    b = mx.nd.from_dlpack(a.to_dlpack_for_write())
    assert b.dtype == np.dtype(dtype) and b.shape == (2, 2)
    b[0, 1] = 9
    np.testing.assert_array_equal(a.asnumpy(), [[1, 9], [3, 4]])


def test_capsule_is_consumed_once():
    c = mx.nd.to_dlpack_for_read(mx.nd.ones((2,)))
    mx.nd.from_dlpack(c)
    assert capsule_name(c) == "used_dltensor"
    with pytest.raises(MXNetError, match="already consumed"):
        mx.nd.from_dlpack(c)


# ------------------------------------------------------------------ NumPy -> NDArray
def test_from_dlpack_numpy_array_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = mx.nd.from_dlpack(a)
    assert x.shape == (2, 3) and x.context == mx.cpu()
    x *= 2                              # NDArray -> numpy
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3) * 2)
    a[1, 2] = -3                        # numpy -> NDArray
    assert x.asnumpy()[1, 2] == -3
    np.testing.assert_array_equal((x + 1).asnumpy(), a + 1)


def test_from_dlpack_versioned_capsule_and_zero_d():
    a = np.arange(4, dtype=np.int64)
    if "max_version" not in (np.ndarray.__dlpack__.__doc__ or ""):
        pytest.skip("this NumPy exports no versioned DLPack")
    x = mx.nd.from_dlpack(a.__dlpack__(max_version=(1, 0)))
    x[0] = 10
    assert a[0] == 10 and x.dtype == np.int64
    s = mx.nd.from_dlpack(np.array(3.5))    # 0-d: MXNet 1.x arrays have ndim >= 1
    assert s.shape == (1,) and s.asscalar() == 3.5


def test_from_dlpack_errors():
    with pytest.raises(NotSupportedError, match="not compact"):
        mx.nd.from_dlpack(np.arange(6.0)[::2])
    with pytest.raises(DTypeError, match="complex"):
        mx.nd.from_dlpack(np.array([1 + 2j], dtype=np.complex64))
    with pytest.raises(DTypeError, match="__dlpack__"):
        mx.nd.from_dlpack([1.0, 2.0])
    with pytest.raises(DTypeError, match="NDArray"):
        mx.nd.to_dlpack_for_read(np.ones(3))

    class OnDevice:
        def __init__(self, kind):
            self.kind = kind

        def __dlpack__(self, **kw):
            raise AssertionError("must not be exported")

        def __dlpack_device__(self):
            return (self.kind, 0)

    with pytest.raises(ContextError, match="device type 4"):
        mx.nd.from_dlpack(OnDevice(4))      # OpenCL
    if mx.context.num_gpus() == 0:
        with pytest.raises(ContextError):
            mx.nd.from_dlpack(OnDevice(2))  # CUDA without psnet's GPU backend


# ------------------------------------------------------------------ PyTorch (optional)
def test_torch_from_dlpack_of_ndarray_shares_memory():
    torch = pytest.importorskip("torch", reason="torch is an optional interop partner, not a psnet dependency")
    x = mx.nd.array([[1, 2], [3, 4]])
    t = torch.from_dlpack(x)
    assert tuple(t.shape) == (2, 2) and t.dtype == torch.float32
    t[0, 0] = 100.0
    assert x.asnumpy()[0, 0] == 100.0
    x[1] = 0.5
    assert t[1].tolist() == [0.5, 0.5]


def test_ndarray_from_torch_tensor_and_capsules_share_memory():
    torch = pytest.importorskip("torch", reason="torch is an optional interop partner, not a psnet dependency")
    t = torch.zeros(3, dtype=torch.float64)
    x = mx.nd.from_dlpack(t)
    assert x.dtype == np.float64
    x[:] = 7.0
    assert t.tolist() == [7.0, 7.0, 7.0]
    t[0] = 1.0
    assert x.asnumpy().tolist() == [1.0, 7.0, 7.0]
    # old-style capsule from torch: imported writable, as MXNet does
    y = mx.nd.from_dlpack(torch.utils.dlpack.to_dlpack(t))
    y[1] = 9.0
    assert t.tolist() == [1.0, 9.0, 7.0]
    # psnet capsule into torch
    z = mx.nd.array([1, 2, 3], dtype="int32")
    tz = torch.utils.dlpack.from_dlpack(mx.nd.to_dlpack_for_write(z))
    tz += 10
    assert z.asnumpy().tolist() == [11, 12, 13]


def test_ndarray_from_torch_outlives_the_tensor_and_errors():
    torch = pytest.importorskip("torch", reason="torch is an optional interop partner, not a psnet dependency")

    def make():
        return mx.nd.from_dlpack(torch.arange(1000, dtype=torch.float32) * 2)

    x = make()
    gc.collect()
    _ = [torch.ones(1000) for _ in range(10)]  # would reuse a freed block
    np.testing.assert_array_equal(x.asnumpy(), np.arange(1000, dtype=np.float32) * 2)
    with pytest.raises(NotSupportedError, match="contiguous"):
        mx.nd.from_dlpack(torch.arange(6.0).reshape(2, 3).t())
    with pytest.raises(MXNetError, match="could not import"):
        mx.nd.from_dlpack(torch.ones(2, requires_grad=True))
