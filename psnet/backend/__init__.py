"""Array backends: NumPy for CPU contexts, CuPy for GPU contexts.

Code above this package never imports cupy; it asks a context for ``ctx.backend`` and
uses ``backend.xp`` (the array module) plus the few helpers a :class:`Backend` has.
Everything works with no CuPy installed: only placing data on ``mx.gpu(i)`` fails.
"""
import numpy as _np

from ..base import ContextError
from .numpy_backend import NumpyBackend
from .pinned_backend import PinnedBackend

__all__ = ["backend_for", "gpu_count", "seed_all", "synchronize_all", "NumpyBackend", "get_array_module",
           "scatter_add"]

_NUMPY = NumpyBackend()
_GPU_BACKENDS = {}
_PINNED = {}  # the cpu_pinned backend, made on first use
_SEED = [None]  # the last seed_all() value, applied to GPU backends created later


def backend_for(ctx):
    """The backend object serving context ``ctx`` (raises ContextError for a missing GPU)."""
    if ctx.device_type == "gpu":
        b = _GPU_BACKENDS.get(ctx.device_id)
        if b is None:
            from .cupy_backend import CupyBackend
            b = _GPU_BACKENDS[ctx.device_id] = CupyBackend(ctx.device_id)
            if _SEED[0] is not None:  # mx.random.seed ran before this device was first used
                b.seed(_SEED[0])
        return b
    if ctx.device_type == "cpu_pinned":
        return _pinned_backend()
    return _NUMPY


def _pinned_backend():
    """Page-locked NumPy arrays when CuPy imports; plain NumPy otherwise."""
    b = _PINNED.get("backend")
    if b is None:
        from .cupy_backend import cupyx_module
        try:
            b = PinnedBackend(_NUMPY, cupyx_module().empty_pinned)
        except ContextError:  # no CuPy: pinning would buy nothing
            b = _NUMPY
        _PINNED["backend"] = b
    return b


def gpu_count():
    """Number of CUDA devices CuPy sees; 0 without CuPy or a driver."""
    from .cupy_backend import device_count
    return device_count()


def seed_all(seed):
    """Reseed the random generators of every backend (``mx.random.seed``)."""
    _SEED[0] = int(seed)
    _NUMPY.seed(seed)
    for b in _GPU_BACKENDS.values():
        b.seed(seed)


def synchronize_all():
    """Wait for pending work on every device in use (``mx.nd.waitall``)."""
    _NUMPY.synchronize()
    for b in _GPU_BACKENDS.values():
        b.synchronize()


def get_array_module(array):
    """numpy or cupy, whichever owns ``array``."""
    if type(array).__module__.startswith("cupy"):
        from .cupy_backend import cupy_module
        return cupy_module()
    return _np


def scatter_add(xp, array, index, values):
    """``array[index] += values`` in place, repeated indices accumulating (NumPy's
    ``np.add.at``; ``cupyx.scatter_add`` on CuPy, whose ufuncs may lack ``.at``)."""
    if xp is _np:
        _np.add.at(array, index, values)
    else:
        from .cupy_backend import cupyx_module
        cupyx_module().scatter_add(array, index, values)
