"""Schema checks a server applies to every request before touching its state.

:func:`psnet.kvstore.dist.wire.decode` already guarantees a msgpack map header whose
``arrays`` entries match the frames that follow.  :func:`check_request` adds what a
server needs: a known ``op``, an integer request ``id``, a worker ``rank`` in range,
``keys`` (ints within int64, or short strs) paired with slice numbers ``parts`` in range,
one array per key for the ops that carry values, and a total size within
``PSNET_MAX_REQUEST_BYTES``.  A request that fails raises :class:`wire.ProtocolError`;
the server logs it, drops it and keeps serving.
"""
from ...base import env_int
from .wire import ProtocolError

__all__ = ["OPS", "VALUE_OPS", "MAX_KEY_CHARS", "max_request_bytes", "check_request"]

# request op -> whether it carries one array per key
OPS = {"init": True, "push": True, "pushpull": True, "pull": False, "flush": False,
       "set_optimizer": False, "set_updater": False, "get_states": False, "set_states": False}
VALUE_OPS = frozenset(op for op, values in OPS.items() if values)
MAX_KEY_CHARS = 1024
_INT64 = (-(1 << 63), (1 << 63) - 1)
_DEFAULT_MAX_REQUEST = 1 << 31


def max_request_bytes():
    """The largest request a server accepts (``PSNET_MAX_REQUEST_BYTES``, default 2 GiB)."""
    return env_int("PSNET_MAX_REQUEST_BYTES", _DEFAULT_MAX_REQUEST)


def check_request(h, arrays, num_workers, num_servers, limit):
    """Raise :class:`ProtocolError` unless header ``h`` with ``arrays`` is a well-formed request."""
    op = h.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError("unknown request op %r" % (op,))
    rid = h.get("id")
    if not _is_int(rid):
        raise ProtocolError("%s request without an integer id (got %r)" % (op, rid))
    rank = h.get("rank")
    if rank is not None and not (_is_int(rank) and 0 <= rank < num_workers):
        raise ProtocolError("%s request %s from rank %r; this job has %d workers" % (op, rid, rank, num_workers))
    if not isinstance(h.get("sync", True), bool):
        raise ProtocolError("%s request %s: 'sync' must be a bool" % (op, rid))
    keys, parts = h.get("keys", []), h.get("parts", [])
    if not isinstance(keys, list) or not isinstance(parts, list) or len(keys) != len(parts):
        raise ProtocolError("%s request %s needs 'keys' and 'parts' lists of one length" % (op, rid))
    for key, part in zip(keys, parts):
        _check_key(op, rid, key)
        if not (_is_int(part) and -1 <= part < num_servers):
            raise ProtocolError("%s request %s: slice %r of key %r is not in [-1, %d)"
                                % (op, rid, part, key, num_servers))
    want = len(keys) if OPS[op] else 1 if op == "set_states" else 0
    if len(arrays) != want:
        raise ProtocolError("%s request %s carries %d arrays for %d keys" % (op, rid, len(arrays), len(keys)))
    total = sum(a.nbytes for a in arrays)
    if total > limit:
        raise ProtocolError("%s request %s of %d bytes exceeds PSNET_MAX_REQUEST_BYTES=%d"
                            % (op, rid, total, limit))


def _check_key(op, rid, key):
    if _is_int(key):
        if not _INT64[0] <= key <= _INT64[1]:
            raise ProtocolError("%s request %s: int key %d is outside int64" % (op, rid, key))
    elif isinstance(key, str):
        if not 0 < len(key) <= MAX_KEY_CHARS:
            raise ProtocolError("%s request %s: str key of %d characters (1..%d allowed)"
                                % (op, rid, len(key), MAX_KEY_CHARS))
    else:
        raise ProtocolError("%s request %s: key %r is neither int nor str" % (op, rid, key))


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)
