"""Server snapshots: a shard's values, round state and optimizer state, written atomically.

A server started with ``--checkpoint-dir DIR`` (or ``PSNET_CHECKPOINT_DIR``) writes
``DIR/server-<rank>.ckpt`` every ``PSNET_CHECKPOINT_ROUNDS`` completed sync rounds
(default 1) and/or every ``PSNET_CHECKPOINT_SECONDS`` seconds.  A file is written to a
temporary name, flushed to disk and moved over the old one with ``os.replace``, so a
crash mid-write leaves the previous snapshot intact.  A server restarted with the same
rank loads it and rejoins.

The format is data only (never a pickle): ``MAGIC``, the length of a msgpack header, the
header (``meta`` plus ``[name, shape, dtype, offset]`` per array) and the raw arrays.
"""
import os
import struct
import time

import msgpack
import numpy as np

from ...base import MXNetError, env_float, env_int, env_str
from .wire import DTYPES

__all__ = ["CheckpointError", "Policy", "path_for", "save", "load"]

MAGIC = b"PSNETCK1"


class CheckpointError(MXNetError, OSError):
    """A snapshot that cannot be written or read back."""


class Policy:
    """When to snapshot: every ``rounds`` completed rounds and/or every ``seconds`` seconds."""

    def __init__(self, directory=None, rounds=None, seconds=None, clock=time.monotonic):
        self.directory = directory if directory is not None else env_str("PSNET_CHECKPOINT_DIR")
        self.rounds = env_int("PSNET_CHECKPOINT_ROUNDS", 1) if rounds is None else rounds
        self.seconds = env_float("PSNET_CHECKPOINT_SECONDS", 0.0) if seconds is None else seconds
        self.clock = clock
        self.last_round = 0
        self.last_time = clock()

    @property
    def enabled(self):
        """Whether a checkpoint directory is configured."""
        return bool(self.directory)

    def due(self, rounds_done):
        """Whether a snapshot is due after ``rounds_done`` completed rounds."""
        if not self.enabled:
            return False
        by_rounds = self.rounds > 0 and rounds_done - self.last_round >= self.rounds
        by_time = self.seconds > 0 and self.clock() - self.last_time >= self.seconds
        return by_rounds or by_time

    def taken(self, rounds_done):
        """Record that a snapshot was just written."""
        self.last_round, self.last_time = rounds_done, self.clock()


def path_for(directory, rank):
    """The snapshot file of server ``rank`` in ``directory``."""
    return os.path.join(directory, "server-%d.ckpt" % rank)


def save(path, meta, arrays):
    """Atomically write ``meta`` (msgpack-able) and ``arrays`` (name -> NumPy array) to ``path``."""
    entries, offset = [], 0
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype.name not in DTYPES:
            raise CheckpointError("cannot snapshot array %r of dtype %s" % (name, arr.dtype))
        entries.append([name, list(arr.shape), arr.dtype.name, offset])
        offset += arr.nbytes
    head = msgpack.packb({"meta": meta, "arrays": entries}, use_bin_type=True)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        os.makedirs(directory, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(MAGIC + struct.pack("<Q", len(head)) + head)
            for arr in arrays.values():
                f.write(np.ascontiguousarray(arr).reshape(-1).view(np.uint8))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as e:
        raise CheckpointError("cannot write snapshot %s: %s" % (path, e)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path):
    """``(meta, {name: array})`` from a snapshot written by :func:`save`; None when absent."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CheckpointError("cannot read snapshot %s: %s" % (path, e)) from None
    if not blob.startswith(MAGIC) or len(blob) < 16:
        raise CheckpointError("%s is not a psnet server snapshot" % path)
    n = struct.unpack("<Q", blob[8:16])[0]
    try:
        head = msgpack.unpackb(blob[16:16 + n], raw=False, strict_map_key=False)
        base, arrays = 16 + n, {}
        for name, shape, dtype, offset in head["arrays"]:
            dt = DTYPES[dtype]
            count = int(np.prod(shape, dtype=np.int64))
            if base + offset + count * dt.itemsize > len(blob):
                raise ValueError("array %r runs past the end of the file" % (name,))
            arrays[name] = np.frombuffer(blob, dt, count, base + offset).reshape(shape).copy()
        return head["meta"], arrays
    except (ValueError, KeyError, TypeError, msgpack.UnpackException) as e:
        raise CheckpointError("snapshot %s is damaged: %s" % (path, e)) from None
