"""Optimizer states as wire data: a msgpack-able tree plus a list of arrays (never a pickle).

A state is ``None``, an NDArray, a number, or a (nested) tuple/list of those, as the
optimizers' ``create_state`` returns them.  :func:`pack_states` turns ``{key: state}``
into ``(meta, arrays)`` and :func:`unpack_states` inverts it.
"""
import numbers

import numpy as np

from ...base import MXNetError

__all__ = ["pack_states", "unpack_states"]


def pack_states(states):
    """``{key: state}`` -> ``(meta, arrays)`` with NumPy arrays for every NDArray."""
    arrays = []

    def tree(s):
        if s is None or isinstance(s, (bool, numbers.Number, str)):
            return {"v": s.item() if isinstance(s, np.generic) else s}
        if isinstance(s, (list, tuple)):
            return {"t" if isinstance(s, tuple) else "l": [tree(x) for x in s]}
        if hasattr(s, "asnumpy"):
            arrays.append(s.asnumpy())
            return {"a": len(arrays) - 1}
        raise MXNetError("cannot save optimizer state of type %s" % type(s).__name__)

    return [[key, tree(s)] for key, s in states.items()], arrays


def unpack_states(meta, arrays, wrap):
    """Inverse of :func:`pack_states`; ``wrap`` turns a NumPy array into an NDArray."""
    def build(t):
        if not isinstance(t, dict) or len(t) != 1:
            raise MXNetError("malformed optimizer state entry %r" % (t,))
        (kind, v), = t.items()
        if kind == "v":
            return v
        if kind == "a":
            if not isinstance(v, int) or not 0 <= v < len(arrays):
                raise MXNetError("optimizer state refers to array %r of %d" % (v, len(arrays)))
            return wrap(np.array(arrays[v], copy=True))
        if kind in ("t", "l"):
            items = [build(x) for x in v]
            return tuple(items) if kind == "t" else items
        raise MXNetError("malformed optimizer state entry %r" % (t,))

    if not isinstance(meta, list):
        raise MXNetError("optimizer states must be a list, got %s" % type(meta).__name__)
    return {key: build(t) for key, t in meta}
