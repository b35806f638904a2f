"""The GPU backend: CuPy arrays on CUDA devices.  The only module that imports cupy.

CuPy is imported lazily, the first time a GPU context is used, so psnet imports and
runs on machines without it.  Errors say which piece is missing: CuPy, or a device.

CuPy allocates and launches kernels on the *current* device, so reading
:attr:`CupyBackend.xp` makes the backend's device current: every op that the dispatcher
runs for ``mx.gpu(i)`` (and every array psnet creates there) lands on device ``i``.
"""
from ..base import ContextError

__all__ = ["cupy_module", "cupyx_module", "device_count", "CupyBackend"]

_cupy = None
_cupyx = None
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
            "`pip install psnet[gpu]` (CUDA 12) or `pip install psnet[gpu-cuda11]` (CUDA 11), "
            "i.e. the cupy-cuda12x / cupy-cuda11x wheel matching your driver" % (_import_error,))
    return _cupy


def cupyx_module():
    """The cupyx module (CuPy's extras: scatter_add, pinned host arrays)."""
    global _cupyx
    if _cupyx is None:
        cupy_module()
        import cupyx
        _cupyx = cupyx
    return _cupyx


def _count_devices():
    """(number of CUDA devices, why there are none or None); ContextError without CuPy."""
    cp = cupy_module()
    try:
        return cp.cuda.runtime.getDeviceCount(), None
    except Exception as e:  # CUDARuntimeError: no driver, a driver too old for this CuPy...
        return 0, "%s: %s" % (type(e).__name__, e)


def device_count():
    """CUDA devices CuPy sees (0 without CuPy or without a driver)."""
    try:
        return _count_devices()[0]
    except ContextError:
        return 0


class CupyBackend:
    """Serves ``mx.gpu(device_id)``: arrays are CuPy arrays allocated on that device."""

    name = "cupy"

    def __init__(self, device_id):
        cp = cupy_module()
        n, why = _count_devices()
        if device_id >= n:
            raise ContextError("gpu(%d) requested but %s" % (
                device_id, "CuPy is installed but no CUDA device is visible (%scheck the driver, "
                "nvidia-smi and CUDA_VISIBLE_DEVICES)" % (why + "; " if why else "")
                if n == 0 else "only %d GPU(s) are visible" % n))
        self._cp = cp
        self.device_id = device_id
        self.device = cp.cuda.Device(device_id)
        self._rng = None
        self._seed = None

    @property
    def xp(self):
        """The cupy module, with this backend's device made current (where CuPy allocates)."""
        self.activate()
        return self._cp

    def activate(self):
        """Make this device current: CuPy allocates and launches kernels there."""
        self.device.use()

    def rng(self, ctx):
        """The CuPy random Generator of this device, with the device made current (a
        Generator draws onto the current device)."""
        self.activate()
        if self._rng is None:
            self._rng = self._cp.random.default_rng(
                None if self._seed is None else (self._seed * 1000003 + self.device_id))
        return self._rng

    def seed(self, seed, ctx=None):
        """Reseed this device's generator (``ctx`` is this device; accepted for symmetry)."""
        self._seed = int(seed)
        self._rng = None

    def asnumpy(self, array, pinned=False):
        """Copy a device array to host memory (page-locked memory when ``pinned``: what the
        dist worker sends from, and the fastest device-to-host copy)."""
        if not pinned:
            return self._cp.asnumpy(array)
        out = cupyx_module().empty_pinned(array.shape, array.dtype)
        with self.device:
            array.get(out=out)
        return out

    def set_from_host(self, dst, src):
        """Copy host array ``src`` into device array ``dst`` (same shape; no temporary
        device array unless ``dst`` is a non-contiguous view)."""
        with self.device:
            if dst.flags.c_contiguous:
                dst.set(src.astype(dst.dtype, copy=False))
            else:
                dst[...] = self._cp.asarray(src)

    def from_numpy(self, array):
        """Copy a host array to this device."""
        with self.device:
            return self._cp.asarray(array)

    def copy_from(self, array, src):
        """A copy of ``array`` (held by backend ``src``) on this device: device to device
        directly (peer copy) when ``src`` is a GPU, else host to device."""
        if src.name == self.name:
            with self.device:
                return array.copy()
        return self.from_numpy(src.asnumpy(array))

    def synchronize(self):
        """Wait for every stream of this device."""
        self.device.synchronize()

    def empty_cache(self):
        """Free the memory pool's cached blocks."""
        with self.device:
            self._cp.get_default_memory_pool().free_all_blocks()

    def memory_info(self):
        """(free, total) bytes on this device."""
        with self.device:
            return self._cp.cuda.runtime.memGetInfo()
