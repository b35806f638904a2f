"""Array-filling ops (MXNet's ``_zeros``, ``_ones``, ``_full``, ``_arange``, ``zeros_like``,
``ones_like``): what ``mx.sym.zeros(shape)`` and ``F.zeros_like(x)`` in a hybridized block
become in a graph.  ``mx.nd`` keeps its own creation functions with ``ctx=``.  They have no
gradient: their outputs do not depend on input values."""
import numpy as np

from ..base import normalize_dtype
from .registry import register


def _filler(name, value):
    def forward(xp, shape=(), dtype="float32"):
        return xp.full(tuple(shape), value, dtype=normalize_dtype(dtype))
    forward.__doc__ = "An array of shape ``shape`` filled with %s." % value
    register(name)(forward)


def _like(name, value):
    def forward(xp, data):
        return xp.full(data.shape, value, dtype=data.dtype)
    forward.__doc__ = "An array of %ss with the shape and dtype of ``data``." % value
    register(name)(forward)


_filler("_zeros", 0)
_filler("_ones", 1)
_like("zeros_like", 0)
_like("ones_like", 1)


@register("_full")
def _full(xp, shape=(), value=0.0, dtype="float32"):
    """An array of shape ``shape`` filled with ``value``."""
    return xp.full(tuple(shape), value, dtype=normalize_dtype(dtype))



@register("_arange")
def _arange(xp, start=0.0, stop=None, step=1.0, repeat=1, infer_range=False, dtype="float32"):
    """Evenly spaced values in [start, stop) (from 0 to ``start`` when ``stop`` is None),
    each repeated ``repeat`` times."""
    if stop is None:
        start, stop = 0.0, start
    out = xp.arange(start, stop, step, dtype=np.float64).astype(normalize_dtype(dtype))
    return xp.repeat(out, int(repeat)) if int(repeat) > 1 else out

