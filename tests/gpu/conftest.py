"""The real GPU suite: every test here is marked ``gpu`` and skips, with the reason, unless
CuPy imports and sees a CUDA device (run it with ``pytest tests/gpu`` on a GPU machine)."""
import pytest


def _gpu_missing():
    """Why the GPU suite cannot run here, or None when it can."""
    try:
        import cupy
    except Exception as e:  # ImportError, or CUDA libraries that fail to load
        return "CuPy is not importable (%s): pip install psnet[gpu]" % (e,)
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        return "CuPy sees no CUDA driver (%s)" % (e,)
    return None if n > 0 else "CuPy is installed but no CUDA device is visible"


_MISSING = _gpu_missing()


def pytest_collection_modifyitems(config, items):
    """Mark every test of this directory ``gpu`` and skip them all when no GPU is usable."""
    for item in items:
        if "tests/gpu/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.gpu)
            if _MISSING:
                item.add_marker(pytest.mark.skip(reason=_MISSING))


@pytest.fixture
def n_gpus():
    """How many GPUs psnet sees."""
    import psnet as mx
    return mx.context.num_gpus()
