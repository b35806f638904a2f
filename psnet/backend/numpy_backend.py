"""The CPU backend: plain NumPy arrays, and the thread count of the BLAS NumPy uses.

``PSNET_BLAS_THREADS=N`` (read when psnet loads) sets the threads of the OpenBLAS that
NumPy loaded, at run time, through its own ``*_set_num_threads`` entry point (found by
``ctypes`` among the libraries the process mapped; no extra package).  Unset, the
library keeps its default (``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``, else one
thread per core).  docs/performance.md explains when fewer threads are faster.
"""
import ctypes

import numpy as np

from ..base import MXNetError, env_int
from .malloc import keep_freed_memory

__all__ = ["NumpyBackend", "blas_threads", "set_blas_threads"]

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")
_OPENBLAS = []  # [ctypes library or None] once looked up


def _openblas():
    """The OpenBLAS this process loaded (NumPy's), as a ctypes library, or None."""
    if not _OPENBLAS:
        lib = None
        try:
            with open("/proc/self/maps") as maps:
                paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        except OSError:  # not Linux: leave the library alone
            paths = ()
        for path in sorted(paths):
            try:
                cand = ctypes.CDLL(path)
            except OSError:
                continue
            if any(hasattr(cand, name) for name in _SETTERS):
                lib = cand
                break
        _OPENBLAS.append(lib)
    return _OPENBLAS[0]


def _entry(names):
    lib = _openblas()
    for name in names:
        fn = getattr(lib, name, None) if lib is not None else None
        if fn is not None:
            return fn
    return None


def blas_threads():
    """The number of threads NumPy's OpenBLAS uses, or None when it cannot be asked."""
    fn = _entry(_GETTERS)
    return None if fn is None else int(fn())


def set_blas_threads(n):
    """Make NumPy's OpenBLAS use ``n`` threads from now on; False when there is no
    OpenBLAS to tell (another BLAS: set its own variables before starting Python)."""
    n = int(n)
    if n < 1:
        raise MXNetError("set_blas_threads: the thread count must be at least 1, got %d" % n)
    fn = _entry(_SETTERS)
    if fn is None:
        return False
    fn(ctypes.c_int(n))
    return True


class NumpyBackend:
    """Serves every CPU context.  ``cpu(0)`` and ``cpu(1)`` share NumPy but not identity:
    the NDArray layer keeps contexts apart, this layer only computes."""

    name = "numpy"
    xp = np

    def __init__(self):
        self._rngs = {}
        self._seed = None
        threads = env_int("PSNET_BLAS_THREADS", 0)
        if threads > 0:
            set_blas_threads(threads)
        keep_freed_memory()

    def rng(self, ctx):
        """The ``numpy.random.Generator`` of context ``ctx`` (one per device, reseeded by seed())."""
        g = self._rngs.get(ctx.device_id)
        if g is None:
            seed = None if self._seed is None else (self._seed, ctx.device_id)
            g = self._rngs[ctx.device_id] = np.random.default_rng(seed)
        return g

    def seed(self, seed, ctx=None):
        """Reseed every CPU context's generator deterministically from ``seed`` (only
        ``ctx``'s when given; it then draws what it would after reseeding all)."""
        if ctx is not None:
            self._rngs[ctx.device_id] = np.random.default_rng((int(seed), ctx.device_id))
            return
        self._seed = int(seed)
        self._rngs.clear()

    def asnumpy(self, array, pinned=False):
        """``array`` itself: NumPy arrays are already host memory (``pinned`` changes nothing)."""
        return array

    @staticmethod
    def set_from_host(dst, src):
        """Copy host array ``src`` into ``dst`` (same shape)."""
        dst[...] = src

    def from_numpy(self, array):
        """Place a NumPy array on this backend (no copy on the CPU)."""
        return array

    def activate(self):
        """Nothing to select on the CPU (GPU backends make their device current)."""

    def copy_from(self, array, src):
        """A copy of ``array`` (held by backend ``src``) in host memory."""
        return array.copy() if src is self else src.asnumpy(array)

    def synchronize(self):
        """Wait for pending work: NumPy is synchronous, so there is none."""
