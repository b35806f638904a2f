"""Array creation functions beyond the basic ones in :mod:`psnet.ndarray.ndarray`."""
import numpy as np

from ..backend import synchronize_all
from ..base import DTypeError, normalize_dtype
from ..context import cpu, current_context
from .ndarray import NDArray, as_dtype, from_backend

__all__ = ["arange", "eye", "linspace", "zeros_like", "ones_like", "full_like", "waitall", "concatenate",
           "from_numpy", "onehot_encode"]


def _ctx(ctx):
    return ctx if ctx is not None else current_context()


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, ctx=None, dtype=None):
    """Evenly spaced values in [start, stop), each repeated ``repeat`` times (float32 default).

    ``infer_range`` is accepted for MXNet compatibility: a missing ``stop`` is always inferred."""
    ctx = _ctx(ctx)
    xp = ctx.backend.xp
    if stop is None:
        start, stop = 0, start
    a = xp.arange(start, stop, step, dtype=np.float64).astype(as_dtype(dtype))
    if repeat > 1:
        a = xp.repeat(a, repeat)
    return from_backend(a, ctx)


def eye(N, M=0, k=0, ctx=None, dtype=None):
    """An N x M matrix with ones on diagonal ``k``."""
    ctx = _ctx(ctx)
    return from_backend(ctx.backend.xp.eye(N, M or N, k, dtype=as_dtype(dtype)), ctx)


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=None):
    """``num`` evenly spaced values from start to stop."""
    ctx = _ctx(ctx)
    a = ctx.backend.xp.linspace(start, stop, num, endpoint=endpoint, dtype=np.float64)
    return from_backend(a.astype(as_dtype(dtype)), ctx)


def zeros_like(data, out=None, **kwargs):
    """Zeros with the shape, dtype and context of ``data``."""
    return full_like(data, 0, out=out)


def ones_like(data, out=None, **kwargs):
    """Ones with the shape, dtype and context of ``data``."""
    return full_like(data, 1, out=out)


def full_like(data, fill_value, out=None, **kwargs):
    """``fill_value`` with the shape, dtype and context of ``data``."""
    xp = data.context.backend.xp
    res = from_backend(xp.full(data.shape, fill_value, dtype=data._data.dtype), data.context)
    if out is not None:
        out._assign_data(res._data)
        return out
    return res


def from_numpy(ndarray, zero_copy=True):
    """An NDArray on cpu(0) from a NumPy array.  With ``zero_copy`` it shares the array's
    memory and, as in MXNet, the NumPy array becomes read-only (write through the NDArray)."""
    if not isinstance(ndarray, np.ndarray):
        raise DTypeError("from_numpy takes a numpy.ndarray, got %s" % type(ndarray).__name__)
    normalize_dtype(ndarray.dtype)
    if not zero_copy or not ndarray.flags.c_contiguous:
        return from_backend(np.array(ndarray, order="C"), cpu())
    view = ndarray.view()
    ndarray.flags.writeable = False
    return from_backend(view, cpu())


def waitall():
    """Wait until every pending computation on every device is done."""
    synchronize_all()


def concatenate(arrays, axis=0, always_copy=True):
    """Join arrays along ``axis`` (MXNet's older name for ``concat``)."""
    from . import concat
    return concat(*arrays, dim=axis)


NDArray.zeros_like = zeros_like
NDArray.ones_like = ones_like


def onehot_encode(indices, out):
    """MXNet's legacy ``onehot_encode``: write the one-hot rows of ``indices`` into the 2-d
    ``out`` (its shape gives the depth) and return ``out``."""
    from ..ops import registry
    from .ndarray import invoke
    return invoke(registry.get("onehot_encode"), [indices, out], {}, out=out)
