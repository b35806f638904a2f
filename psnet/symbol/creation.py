"""``mx.sym.zeros`` / ``ones`` / ``full`` / ``arange``: constant-producing graph nodes."""
import numpy as np

from .symbol import create_op_symbol

__all__ = ["zeros", "ones", "full", "arange"]


def _shape(shape):
    return (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)


def _dtype(dtype):
    return np.dtype(dtype if dtype is not None else np.float32).name


def zeros(shape, dtype=None, name=None, **kwargs):
    """A node producing zeros of ``shape`` (float32 by default)."""
    return create_op_symbol("_zeros", [], {"shape": _shape(shape), "dtype": _dtype(dtype)}, name=name)


def ones(shape, dtype=None, name=None, **kwargs):
    """A node producing ones of ``shape`` (float32 by default)."""
    return create_op_symbol("_ones", [], {"shape": _shape(shape), "dtype": _dtype(dtype)}, name=name)


def full(shape, val, dtype=None, name=None, **kwargs):
    """A node producing ``val`` everywhere in ``shape``."""
    return create_op_symbol("_full", [], {"shape": _shape(shape), "value": float(val), "dtype": _dtype(dtype)},
                            name=name)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None):
    """A node producing evenly spaced values in [start, stop), each repeated ``repeat`` times."""
    return create_op_symbol("_arange", [], {"start": start, "stop": stop, "step": step, "repeat": repeat,
                                            "dtype": _dtype(dtype)}, name=name)
