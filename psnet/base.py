"""Errors, dtype names and environment configuration shared by every psnet layer.

Every error psnet raises on purpose is an :class:`MXNetError`.  The subclasses also
derive from the built-in exception a Python user would expect (``ValueError`` for a
bad shape, ``TypeError`` for a bad dtype, ...), so both ``except mx.MXNetError`` and
``except ValueError`` catch them.
"""
import os

import numpy as np

__all__ = [
    "MXNetError", "ShapeError", "DTypeError", "ContextError", "MXKeyError",
    "MXIndexError", "NotSupportedError", "normalize_dtype", "dtype_name",
    "env_int", "env_float", "env_str", "env_bool", "numeric_types", "integer_types",
    "string_types",
]

numeric_types = (float, int, np.generic)
integer_types = (int, np.integer)
string_types = (str,)


class MXNetError(Exception):
    """Base class of every error psnet raises on purpose (MXNet's ``mx.base.MXNetError``)."""


class ShapeError(MXNetError, ValueError):
    """Shapes that do not fit together (broadcasting, reshape, parameter loading...)."""


class DTypeError(MXNetError, TypeError):
    """An unknown dtype name or a dtype an operation cannot take."""


class ContextError(MXNetError, ValueError):
    """Arrays on different contexts in one operation, or a device that is not there."""


class MXKeyError(MXNetError, KeyError):
    """A key (KVStore key, parameter name, registry name) that is not known."""

    def __str__(self):  # KeyError would repr() the message; show it plainly
        return str(self.args[0]) if self.args else ""


class MXIndexError(MXNetError, IndexError):
    """An index out of range."""


class NotSupportedError(MXNetError, NotImplementedError):
    """A valid request that psnet does not support (says what to do instead)."""


# MXNet's dtype names, in its own order.  float32 is the default everywhere.
_DTYPE_NAMES = {
    "float32": np.float32, "float64": np.float64, "float16": np.float16,
    "uint8": np.uint8, "int8": np.int8, "int32": np.int32, "int64": np.int64,
    "bool": np.bool_, "int16": np.int16, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64,
}
_ALLOWED = {np.dtype(t) for t in _DTYPE_NAMES.values()}


def normalize_dtype(dtype, default=np.float32):
    """Return the ``numpy.dtype`` for a dtype name, NumPy type or dtype; None gives ``default``.

    Raises :class:`DTypeError` naming the dtype when it is not one psnet supports.
    """
    if dtype is None:
        return np.dtype(default)
    if isinstance(dtype, str) and dtype not in _DTYPE_NAMES:
        raise DTypeError("unknown dtype %r; psnet supports %s" % (dtype, ", ".join(sorted(_DTYPE_NAMES))))
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DTypeError("unknown dtype %r; psnet supports %s" % (dtype, ", ".join(sorted(_DTYPE_NAMES)))) from None
    if dt not in _ALLOWED:
        raise DTypeError("dtype %s is not supported; psnet supports %s" % (dt, ", ".join(sorted(_DTYPE_NAMES))))
    return dt


def dtype_name(dtype):
    """The MXNet name of a dtype (``'float32'``...)."""
    return np.dtype(dtype).name


def env_str(name, default=None):
    """An environment variable as a string, or ``default`` when unset or empty."""
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_int(name, default):
    """An environment variable as an int; a malformed value is an error naming the variable."""
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(float(value))
    except ValueError:
        raise MXNetError("environment variable %s=%r is not an integer" % (name, value)) from None


def env_float(name, default):
    """An environment variable as a float; a malformed value is an error naming the variable."""
    value = env_str(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise MXNetError("environment variable %s=%r is not a number" % (name, value)) from None


def env_bool(name, default=False):
    """An environment variable as a flag: 1/true/yes/on are true, 0/false/no/off false."""
    value = env_str(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")
