"""The CPU backend: plain NumPy arrays."""
import numpy as np


class NumpyBackend:
    """Serves every CPU context.  ``cpu(0)`` and ``cpu(1)`` share NumPy but not identity:
    the NDArray layer keeps contexts apart, this layer only computes."""

    name = "numpy"
    xp = np

    def __init__(self):
        self._rngs = {}
        self._seed = None

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
