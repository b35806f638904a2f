"""``cpu_pinned`` contexts: NumPy arrays in page-locked host memory when CuPy is present.

Page-locked (pinned) memory is what CUDA copies from fastest, so DataLoader's
``pin_memory=True`` batches reach a GPU sooner.  Computation is plain NumPy; only the
placement of data (``from_numpy``, copies onto the context) allocates pinned buffers.
"""

__all__ = ["PinnedBackend"]


class PinnedBackend:
    """Serves ``cpu_pinned`` contexts: the NumPy backend ``base`` (its generators, its
    array module) with arrays placed into buffers from ``empty_pinned(shape, dtype)``."""

    def __init__(self, base, empty_pinned):
        self._base = base
        self._empty_pinned = empty_pinned

    def __getattr__(self, name):
        return getattr(self._base, name)

    def from_numpy(self, array):
        """A copy of host array ``array`` in page-locked memory."""
        out = self._empty_pinned(array.shape, array.dtype)
        out[...] = array
        return out

    def copy_from(self, array, src):
        """A copy of ``array`` (held by backend ``src``) in page-locked memory."""
        return self.from_numpy(src.asnumpy(array))
