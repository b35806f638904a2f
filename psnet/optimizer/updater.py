"""The :class:`Updater`: an optimizer plus the per-key state, and its non-pickle file format.

``updater(key, grad, weight)`` creates the key's state on first use and calls the
optimizer.  :meth:`Updater.get_states` serialises the states (and optionally the
optimizer, as :meth:`Optimizer.to_config`) as::

    b"PSNETOPT"  uint32 little-endian header length  msgpack header  raw array bytes

The header is ``{"version": 1, "optimizer": config or None, "states": [[key, tree], ...],
"arrays": [[dtype name, shape], ...]}`` where a ``tree`` is ``None``, ``{"a": i}`` (the
i-th array), or ``{"t": [trees]}`` (a tuple).  The arrays follow in order, C-contiguous,
native little-endian.  Nothing is unpickled, so a state file is safe to load from anywhere.
"""
import struct

import msgpack
import numpy as np

from ..base import MXNetError, normalize_dtype
from ..context import cpu
from ..ndarray.ndarray import NDArray, array, as_in_context_nested
from .optimizer import Optimizer, from_config

__all__ = ["Updater", "get_updater", "dumps_states", "loads_states"]

MAGIC = b"PSNETOPT"
_VERSION = 1


class Updater:
    """Keeps the optimizer state of every key and applies ``optimizer`` to (key, grad, weight)."""

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise MXNetError("Updater needs an Optimizer, got %s" % type(optimizer).__name__)
        self.optimizer = optimizer
        self.states = {}
        self.states_synced = {}

    def __call__(self, index, grad, weight):
        """Update ``weight`` in place from ``grad``; ``index`` may be a list (then lists of arrays)."""
        if isinstance(index, (list, tuple)):
            indices, grads, weights = list(index), list(grad), list(weight)
        else:
            indices, grads, weights = [index], [grad], [weight]
        if not weights:
            return
        opt = self.optimizer
        opt._set_current_context(weights[0].context.device_id)
        states = self.states
        for idx, g, w in zip(indices, grads, weights):
            if isinstance(idx, bytes):
                idx = idx.decode()
            if idx not in states:
                states[idx] = opt.create_state_multi_precision(idx, w)
                self.states_synced[idx] = True
            elif not self.states_synced[idx]:
                states[idx] = as_in_context_nested(states[idx], w.context)
                self.states_synced[idx] = True
            opt.update_multi_precision(idx, w, g, states[idx])

    def get_states(self, dump_optimizer=False):
        """The states (and the optimizer's config when ``dump_optimizer``) as bytes."""
        return dumps_states(self.states, self.optimizer if dump_optimizer else None)

    def set_states(self, states):
        """Load bytes from :meth:`get_states`; a dumped optimizer replaces the current one."""
        loaded, optimizer = loads_states(states)
        self.states = loaded
        if optimizer is not None:
            self.optimizer = optimizer
        self.states_synced = dict.fromkeys(self.states, False)


def get_updater(optimizer):
    """An :class:`Updater` for ``optimizer`` (MXNet's ``mx.optimizer.get_updater``)."""
    return Updater(optimizer)


def _encode(state, arrays):
    if state is None:
        return None
    if isinstance(state, NDArray):
        arrays.append(np.ascontiguousarray(state.asnumpy()))
        return {"a": len(arrays) - 1}
    if isinstance(state, (tuple, list)):
        return {"t": [_encode(s, arrays) for s in state]}
    raise MXNetError("cannot save optimizer state of type %s (NDArrays, tuples and None only)"
                     % type(state).__name__)


def _decode(tree, arrays):
    if tree is None:
        return None
    if "a" in tree:
        return arrays[tree["a"]]
    return tuple(_decode(t, arrays) for t in tree["t"])


def dumps_states(states, optimizer=None):
    """Serialise a ``{key: state}`` dict (and an optimizer's config) to bytes (see module doc)."""
    arrays = []
    entries = [[k, _encode(s, arrays)] for k, s in states.items()]
    header = {"version": _VERSION, "optimizer": optimizer.to_config() if optimizer is not None else None,
              "states": entries, "arrays": [[a.dtype.name, list(a.shape)] for a in arrays]}
    head = msgpack.packb(header, use_bin_type=True)
    parts = [MAGIC, struct.pack("<I", len(head)), head]
    parts.extend(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes() for a in arrays)
    return b"".join(parts)


def loads_states(data):
    """``(states dict with NDArrays on cpu(), optimizer or None)`` from :func:`dumps_states` bytes."""
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise MXNetError("not a psnet optimizer state file (it must start with %r); psnet never "
                         "loads pickled MXNet states" % MAGIC)
    (hlen,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    header = msgpack.unpackb(data[start:start + hlen], raw=False, strict_map_key=False)
    if header.get("version") != _VERSION:
        raise MXNetError("optimizer state format version %r is not supported (expected %d)"
                         % (header.get("version"), _VERSION))
    pos = start + hlen
    arrays = []
    for dtype, shape in header["arrays"]:
        dt = normalize_dtype(dtype).newbyteorder("<")
        n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        if pos + n > len(data):
            raise MXNetError("optimizer state data is truncated (array of shape %s %s)" % (shape, dtype))
        a = np.frombuffer(data, dtype=dt, count=n // dt.itemsize, offset=pos).reshape(shape)
        arrays.append(array(a.astype(dt.newbyteorder("="), copy=True), ctx=cpu(), dtype=dtype))
        pos += n
    states = {k: _decode(t, arrays) for k, t in header["states"]}
    opt = from_config(header["optimizer"]) if header["optimizer"] is not None else None
    return states, opt
