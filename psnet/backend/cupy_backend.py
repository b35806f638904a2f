"""The GPU backend: CuPy arrays on CUDA devices.  The only module that imports cupy.

CuPy is imported lazily, the first time a GPU context is used, so psnet imports and
runs on machines without it.  Errors say which piece is missing: CuPy, or a device.
"""
from ..base import ContextError

_cupy = None
_import_error = None


def cupy_module():
    """The cupy module, imported on first use; ContextError when it cannot be imported."""
    global _cupy, _import_error
    if _cupy is None and _import_error is None:
        try:
            import cupy
            _cupy = cupy
        except Exception as e:  # ImportError, or a CUDA library that fails to load
            _import_error = e
    if _cupy is None:
        raise ContextError(
            "a GPU context was requested but CuPy is not available (%s); install it with "
            "`pip install psnet[gpu]` (or the cupy-cudaXXx wheel matching your CUDA)" % (_import_error,))
    return _cupy


def device_count():
    """CUDA devices CuPy sees (0 without CuPy or without a driver)."""
    try:
        cp = cupy_module()
        return cp.cuda.runtime.getDeviceCount()
    except Exception:
        return 0


class CupyBackend:
    """Serves ``mx.gpu(device_id)``: arrays are CuPy arrays allocated on that device."""

    name = "cupy"

    def __init__(self, device_id):
        cp = cupy_module()
        n = device_count()
        if device_id >= n:
            raise ContextError("gpu(%d) requested but %s" % (
                device_id, "no CUDA device is visible" if n == 0 else "only %d GPU(s) are visible" % n))
        self.xp = cp
        self.device_id = device_id
        self.device = cp.cuda.Device(device_id)
        self._rng = None
        self._seed = None

    def rng(self, ctx):
        """The CuPy random Generator of this device."""
        if self._rng is None:
            with self.device:
                self._rng = self.xp.random.default_rng(
                    None if self._seed is None else (self._seed * 1000003 + self.device_id))
        return self._rng

    def seed(self, seed, ctx=None):
        """Reseed this device's generator (``ctx`` is this device; accepted for symmetry)."""
        self._seed = int(seed)
        self._rng = None

    def asnumpy(self, array):
        """Copy a device array to host memory."""
        return self.xp.asnumpy(array)

    def from_numpy(self, array):
        """Copy a host array to this device."""
        with self.device:
            return self.xp.asarray(array)

    def synchronize(self):
        """Wait for every stream of this device."""
        self.device.synchronize()

    def empty_cache(self):
        """Free the memory pool's cached blocks."""
        self.xp.get_default_memory_pool().free_all_blocks()

    def memory_info(self):
        """(free, total) bytes on this device."""
        with self.device:
            return self.xp.cuda.runtime.memGetInfo()
