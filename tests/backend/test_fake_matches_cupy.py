"""Keeps the test double honest: every CuPy name the double offers (and psnet uses) exists in
the real CuPy, with the parameters psnet passes.  Needs only an importable CuPy, no GPU;
skips with the reason when CuPy is not installed."""
import inspect
import types

import pytest

from . import fake_cupy

cupy = pytest.importorskip("cupy", reason="CuPy is not installed: the double cannot be compared with it")
cupyx = pytest.importorskip("cupyx")

_MODULE_NAMES = ["asarray", "asnumpy", "array", "copyto", "get_default_memory_pool",
                 "get_default_pinned_memory_pool", "cuda.Device", "cuda.runtime.getDeviceCount",
                 "cuda.runtime.memGetInfo", "cuda.runtime.getDeviceProperties", "cuda.runtime.getDevice",
                 "cuda.get_current_stream", "cuda.alloc_pinned_memory", "random.default_rng",
                 "lib.stride_tricks.as_strided", "linalg.norm", "add.reduce", "maximum.accumulate"]


def _resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", _MODULE_NAMES)
def test_module_level_names_exist_in_cupy(name):
    fake, _, _ = fake_cupy.install()
    _resolve(fake, name)  # the double offers it...
    _resolve(cupy, name)  # ...and so does CuPy


def test_array_methods_exist_in_cupy():
    names = (fake_cupy._METHODS | fake_cupy._VIEW_METHODS | fake_cupy._HOST_METHODS
             | {"get", "set", "copy", "device", "shape", "dtype", "strides", "T"})
    missing = sorted(n for n in names if not hasattr(cupy.ndarray, n))
    assert not missing, missing


def test_generator_methods_exist_in_cupy():
    missing = [m for m in fake_cupy._Generator._API if not hasattr(cupy.random.Generator, m)]
    assert not missing, missing


def test_device_and_extras_used_by_psnet_exist():
    for name in ("use", "synchronize", "__enter__", "__exit__"):
        assert hasattr(cupy.cuda.Device, name), name
    assert callable(cupyx.scatter_add) and callable(cupyx.empty_pinned)
    assert "out" in _params(cupy.ndarray.get)  # the dist worker copies into pinned memory


def _params(fn):
    try:
        return inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a Cython method: read the documented signature
        return (fn.__doc__ or "").split("\n")[0]


def test_the_double_is_a_module_like_cupy():
    fake, fakex, _ = fake_cupy.install()
    assert isinstance(fake, types.ModuleType) and fake.__name__ == cupy.__name__
    assert fake_cupy.ndarray.__module__.startswith("cupy") and cupy.ndarray.__module__.startswith("cupy")


def test_nccl_names_used_by_the_nccl_store_exist():
    from cupy.cuda import nccl
    if not getattr(nccl, "available", False):
        pytest.skip("CuPy's NCCL binding is not available (pip install nvidia-nccl-cu12)")
    fake, _, _ = fake_cupy.install()
    for name in vars(fake.cuda.nccl):
        assert hasattr(nccl, name), name
    assert hasattr(nccl.NcclCommunicator, "initAll") and hasattr(nccl.NcclCommunicator, "allReduce")
