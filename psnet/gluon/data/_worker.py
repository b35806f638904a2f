"""DataLoader worker processes and the shared-memory hand-over of their batches.

``num_workers`` forked processes each receive ``(batch_id, indices)`` through a pipe,
read and batchify the samples, write the arrays of the batch into one file on a
memory-backed filesystem (``/dev/shm``) and send back only a small description
(file name, dtypes, shapes, offsets).  The main process maps the file, unlinks it at
once and wraps the mapped memory as NDArrays without copying, so no big array is ever
pickled through a pipe.  Batch ``k`` goes to worker ``k % num_workers``; each worker
answers in order, so the main process always knows which pipe holds the next batch.

Workers stop when the iterator is exhausted, closed, garbage-collected (a ``break``
out of the loop), at interpreter exit, or when their parent process disappears.
"""
import atexit
import glob
import mmap
import multiprocessing
import os
import signal
import tempfile
import time
import traceback
import uuid
import weakref

import numpy as np

from ...backend import seed_all
from ...context import cpu
from ...ndarray import NDArray, from_backend
from ._errors import WorkerError, WorkerTimeoutError

__all__ = ["ProcessBatchIter", "encode_batch", "decode_batch"]

_ALIGN = 64
_POLL_S = 0.5  # how often an idle worker checks that its parent is alive
_JOIN_S = 0.5  # how long shutdown waits for workers to finish before terminating them
_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


# ------------------------------------------------------------------ shared-memory codec
def _flatten(obj, arrays):
    """Describe ``obj`` as a tree; arrays go to ``arrays`` and are named by position."""
    if isinstance(obj, NDArray):
        arrays.append(np.ascontiguousarray(obj.context.backend.asnumpy(obj._data)))
        return ("nd", len(arrays) - 1)
    if isinstance(obj, np.ndarray):
        arrays.append(np.ascontiguousarray(obj))
        return ("np", len(arrays) - 1)
    if isinstance(obj, (list, tuple)):
        return ("list" if isinstance(obj, list) else "tuple", [_flatten(x, arrays) for x in obj])
    return ("py", obj)


def encode_batch(batch, path):
    """Write the arrays of ``batch`` into the file ``path``; return the description to send."""
    arrays = []
    tree = _flatten(batch, arrays)
    layout, offset = [], 0
    for a in arrays:
        layout.append((a.dtype.str, a.shape, offset))
        offset += -(-a.nbytes // _ALIGN) * _ALIGN
    if offset:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, offset)
            with mmap.mmap(fd, offset) as buf:
                for a, (_, _, off) in zip(arrays, layout):
                    np.frombuffer(buf, np.uint8, a.nbytes, off)[:] = a.reshape(-1).view(np.uint8)
        finally:
            os.close(fd)
    return (path if offset else None, layout, tree)


def decode_batch(meta, ctx):
    """The batch described by ``meta``: NDArrays on ``ctx`` viewing the mapped file (no copy)."""
    path, layout, tree = meta
    buf = None
    if path is not None:
        fd = os.open(path, os.O_RDWR)
        try:
            buf = mmap.mmap(fd, 0)
        finally:
            os.close(fd)
            os.unlink(path)
    arrays = [np.frombuffer(buf, np.dtype(dt), int(np.prod(shape)), off).reshape(shape)
              if int(np.prod(shape)) else np.empty(shape, np.dtype(dt))
              for dt, shape, off in layout]
    return _unflatten(tree, arrays, ctx)


def _unflatten(tree, arrays, ctx):
    kind, value = tree
    if kind == "nd":
        return from_backend(ctx.backend.from_numpy(arrays[value]), ctx)
    if kind == "np":
        return arrays[value]
    if kind == "list":
        return [_unflatten(t, arrays, ctx) for t in value]
    if kind == "tuple":
        return tuple(_unflatten(t, arrays, ctx) for t in value)
    return value


# ------------------------------------------------------------------ worker side
def _worker_loop(conn, fetch, prefix, parent_pid, seed):
    """Serve ``(batch_id, indices)`` requests until told to stop or orphaned.

    The worker reseeds NumPy's and psnet's generators with its own ``seed``, so random
    augmentations differ between workers instead of repeating the parent's sequence.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's business
    np.random.seed(seed)
    seed_all(seed)
    while True:
        if not conn.poll(_POLL_S):
            if os.getppid() != parent_pid:
                return
            continue
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        batch_id, indices = msg
        try:
            meta = encode_batch(fetch(indices), "%s%d" % (prefix, batch_id))
            conn.send((True, meta))
        except Exception:  # the traceback travels to the main process, which raises it
            conn.send((False, traceback.format_exc()))


# ------------------------------------------------------------------ main side
_LIVE = weakref.WeakSet()


@atexit.register
def _shutdown_all():
    """Stop every worker still running when the interpreter exits."""
    for it in list(_LIVE):
        it.shutdown()


class ProcessBatchIter:
    """Iterator over batches made by worker processes (see the module docstring).

    ``fetch(indices)`` makes one batch (NumPy arrays or NDArrays, nested in lists or
    tuples); it runs in the workers.  At most ``prefetch`` batches are in flight.
    """

    def __init__(self, fetch, batch_sampler, num_workers, prefetch, timeout, ctx=None):
        self._ctx = ctx if ctx is not None else cpu()
        self._timeout = timeout
        self._batches = iter(batch_sampler)
        self._sent = self._received = 0
        self._closed = False
        self._prefix = os.path.join(_SHM_DIR, "psnet_dl_%d_%s_" % (os.getpid(), uuid.uuid4().hex[:12]))
        self._conns, self._procs = [], []
        mp = multiprocessing.get_context("fork")
        _LIVE.add(self)
        seeds = np.random.randint(0, 2 ** 31 - 1, size=num_workers).tolist()
        for seed in seeds:
            parent_end, child_end = mp.Pipe()
            proc = mp.Process(target=_worker_loop, args=(child_end, fetch, self._prefix, os.getpid(), seed),
                              daemon=True)
            proc.start()
            child_end.close()
            self._conns.append(parent_end)
            self._procs.append(proc)
        for _ in range(max(1, prefetch)):
            self._send_next()

    @property
    def worker_pids(self):
        """Process ids of the workers (for monitoring and tests)."""
        return [p.pid for p in self._procs]

    def _send_next(self):
        indices = next(self._batches, None)
        if indices is None:
            return
        self._conns[self._sent % len(self._conns)].send((self._sent, list(indices)))
        self._sent += 1

    def __iter__(self):
        return self

    def __next__(self):
        if self._closed or self._received == self._sent:
            self.shutdown()
            raise StopIteration
        w = self._received % len(self._conns)
        conn = self._conns[w]
        if not conn.poll(self._timeout):
            self.shutdown()
            raise WorkerTimeoutError("DataLoader worker %d (pid %d) did not deliver batch %d within "
                                     "timeout=%s seconds" % (w, self._procs[w].pid, self._received,
                                                             self._timeout))
        try:
            ok, meta = conn.recv()
        except (EOFError, OSError):
            pid = self._procs[w].pid
            self._procs[w].join(1.0)
            code = self._procs[w].exitcode
            self.shutdown()
            raise WorkerError("DataLoader worker %d (pid %d) died (exit code %s) while making batch %d"
                              % (w, pid, code, self._received)) from None
        self._received += 1
        if not ok:
            self.shutdown()
            raise WorkerError("DataLoader worker %d failed on batch %d:\n%s" % (w, self._received - 1, meta))
        self._send_next()
        return decode_batch(meta, self._ctx)

    next = __next__

    def shutdown(self):
        """Stop the workers (politely, then by force) and remove batches nobody received."""
        if self._closed:
            return
        self._closed = True
        _LIVE.discard(self)
        for conn in self._conns:
            try:
                conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + _JOIN_S
        for proc in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.exitcode is None:
                proc.terminate()
                proc.join(2.0)
            if proc.exitcode is None:
                proc.kill()
                proc.join()
        for conn in self._conns:
            conn.close()
        for path in glob.glob(glob.escape(self._prefix) + "*"):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def __del__(self):
        if not getattr(self, "_closed", True):
            self.shutdown()
