"""The worker side of the dist KVStore: ``mx.kv.create('dist_sync' | 'dist_async' | ...)``.

Requests are asynchronous: :meth:`DistKVStore.push` sends and returns at once; a pull
sends one message per server (small keys batched, big keys sliced over every server,
keys ordered by priority) and waits only for its own answers.  A server answers a push
only when it fails (a key nobody initialised, a shape mismatch); that error is raised by
the next call that waits, naming the key.

Failures: the scheduler tells every worker when a node dies; a call waiting on the job
then raises :class:`~psnet.kvstore.dist.health.DeadNodeError` naming the node's role,
rank and host.  A server that snapshots its shard is instead waited for (up to
``PSNET_RECOVERY_TIMEOUT`` seconds): when it restarts the worker reconnects and resends
what the snapshot does not cover (:mod:`.recovery`).

Like MXNet, a pushed NDArray is read while it is sent: do not write into it before the
next pull of that key (the usual push -> pull -> backward order is safe).
"""
import atexit
import collections
import itertools
import struct
import time
import zlib

import msgpack
import numpy as np
import zmq

from ...base import MXNetError, NotSupportedError
from ...storage import open_uri
from ..base import KVStoreBase, KeyKind, group_key_values
from ...context import cpu
from ..local import backend_array_on
from . import codec, wire
from .config import DistConfig, setup_logging
from .health import DeadNodeError, describe
from .node import Heartbeat, RendezvousError, join
from .recovery import ReplayLog
from .security import secure_client

__all__ = ["DistKVStore", "ServerError", "KVTimeoutError", "DeadNodeError"]


_CPU = cpu()
_CLOSE_LIMIT = 10.0   # seconds close() waits for servers and scheduler (a process must be able to exit)
_SLICE_MS = 50        # a wait for a server's answer looks at the scheduler's notices this often


class ServerError(MXNetError, ValueError):
    """An error a server reported for this worker's request (the message names the key)."""


class KVTimeoutError(MXNetError, TimeoutError):
    """A server or the scheduler did not answer within ``PSNET_KVSTORE_TIMEOUT``."""


class _Request:
    """One message in flight to one server."""

    __slots__ = ("server", "op", "keys", "fill")

    def __init__(self, server, op, keys, fill=None):
        self.server, self.op, self.keys, self.fill = server, op, keys, fill


class DistKVStore(KVStoreBase):
    """A worker's handle on the parameter servers (MXNet's dist KVStore)."""

    capabilities = frozenset((KVStoreBase.OPTIMIZER,))

    def __init__(self, kvtype="dist_sync", cfg=None):
        self._type = kvtype
        self._sync = "async" not in kvtype
        self._cfg = cfg or DistConfig.from_env(role="worker")
        if self._cfg.role != "worker":
            raise MXNetError("mx.kv.create(%r) is for workers but DMLC_ROLE=%s" % (kvtype, self._cfg.role))
        self._ctx = zmq.Context.instance()
        self._sched, book = join(self._ctx, self._cfg, "worker", 0)
        self._rank, self._num_workers = book["rank"], book["num_workers"]
        self._log = setup_logging(self._cfg, "worker %d" % self._rank)
        self._addresses = list(book["servers"])
        self._servers = [self._connect(address) for address in self._addresses]
        self._replay = ReplayLog(len(self._servers))
        for s, durable in enumerate(book.get("checkpointed", ())):
            if durable:
                self._replay.enable(s)
        self._dead = []                                       # dead nodes the job cannot survive
        self._lost = {}                                       # server -> (node, deadline): awaiting restart
        self._ids = itertools.count(1)
        self._inflight = {}                                   # rid -> _Request awaiting an answer
        self._pushes = [collections.deque() for _ in self._servers]   # (rid, keys) sent, unconfirmed
        self._errors = []
        self._kind = KeyKind()
        self._gc = None
        self._frames = {}                                     # (key, part) -> (array, wire.Shared) pushed
        self._closed = False
        self._heartbeat = Heartbeat(self._ctx, self._cfg, "worker", self._rank)
        self._heartbeat.start()
        self._log.info("rank %d of %d workers, %d servers", self._rank, self._num_workers, len(self._servers))
        # like MXNet's, a dist store lives until the process ends: at exit it tells the
        # scheduler this worker finished even when the program dropped its handle earlier
        # (a weak reference here let the handle die silently and stalled the job's end)
        atexit.register(_close_at_exit, self)

    # -- properties ---------------------------------------------------------------------
    @property
    def type(self):
        """The store type this handle was created with (``'dist_sync'``...)."""
        return self._type

    @property
    def rank(self):
        """This worker's rank in ``[0, num_workers)``."""
        return self._rank

    @property
    def num_workers(self):
        """The number of workers in the job."""
        return self._num_workers

    @property
    def num_servers(self):
        """The number of servers in the job."""
        return len(self._servers)

    def _connect(self, address):
        """A DEALER socket connected to the server at ``address`` (CURVE when the job has a key)."""
        sock = secure_client(self._ctx.socket(zmq.DEALER), self._cfg.cluster_key)
        sock.setsockopt(zmq.LINGER, 1000)
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.setsockopt(zmq.RCVHWM, 0)
        sock.setsockopt(zmq.RCVTIMEO, _SLICE_MS)   # see _wait
        sock.connect(address)
        return sock

    # -- failures ---------------------------------------------------------------------
    def _notice(self, h):
        """Handle a scheduler notice: a dead node, or a restarted server's new address."""
        op = h.get("op")
        if op == "dead_node":
            node = h.get("node") or {}
            self._log.warning("the scheduler reports %s dead", describe(node))
            if node.get("role") == "server" and self._replay.enabled[node.get("rank", 0)]:
                self._lost[node["rank"]] = (node, time.monotonic() + self._cfg.recovery_timeout)
            else:
                self._dead.append(node)
        elif op == "server_moved":
            self._reconnect(h["rank"], h["address"])

    def _reconnect(self, server, address):
        """Talk to restarted ``server`` at ``address`` and resend what its snapshot lacks."""
        self._servers[server].close(linger=0)
        sock = self._servers[server] = self._connect(address)
        self._addresses[server] = address
        self._lost.pop(server, None)
        entries = self._replay.replay(server)
        self._log.warning("server %d restarted at %s; resending %d request(s)", server, address, len(entries))
        for header, arrays in entries:
            wire.send(sock, header, arrays)

    def _check_alive(self, waiting_for):
        """Raise :class:`DeadNodeError` when the job lost a node it cannot do without."""
        now = time.monotonic()
        gone = self._dead + [node for node, deadline in self._lost.values() if now > deadline]
        if self._heartbeat.scheduler_lost:
            raise DeadNodeError("the scheduler at %s stopped answering heartbeats for %g s while this "
                                "worker (rank %d) waited for %s" % (self._heartbeat.where,
                                                                    self._cfg.heartbeat_timeout, self._rank, waiting_for))
        if gone:
            raise DeadNodeError("%s died while this worker (rank %d) waited for %s%s" % (
                ", ".join(describe(n) for n in gone), self._rank, waiting_for,
                "" if not self._lost else "; its restart did not come within PSNET_RECOVERY_TIMEOUT=%g s"
                % self._cfg.recovery_timeout))

    def _drain_scheduler(self):
        """Handle every notice waiting on the scheduler socket (none is a reply)."""
        while True:
            try:
                reply, _ = wire.recv(self._sched, flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            self._notice(reply)

    # -- key placement ------------------------------------------------------------------
    def _placement(self, key, size):
        """``[(server, part, lo, hi)]``: where the flat elements ``[lo, hi)`` of ``key`` live."""
        n = len(self._servers)
        if size > self._cfg.bigarray_bound and n > 1:
            bounds = [size * i // n for i in range(n + 1)]
            return [(i, i, bounds[i], bounds[i + 1]) for i in range(n)]
        h = key if isinstance(key, int) else zlib.crc32(key.encode())
        return [(h % n, -1, 0, size)]

    # -- requests -----------------------------------------------------------------------
    def _send(self, server, op, keys, parts, arrays=(), fill=None, **extra):
        rid = next(self._ids)
        header = dict(extra, op=op, id=rid, rank=self._rank, sync=self._sync, keys=keys, parts=parts)
        self._replay.record(server, rid, header, arrays)
        wire.send(self._servers[server], header, arrays)
        if op == "push":    # answered only on error (see _answer)
            self._pushes[server].append((rid, keys))
        else:
            self._inflight[rid] = _Request(server, op, keys, fill)
        return rid

    def _send_all(self, op, **extra):
        """Send one keyless request to every server; returns the request ids."""
        return [self._send(s, op, [], [], **extra) for s in range(len(self._servers))]

    def _wait(self, ids, results=None, limit=None):
        """Process answers until the requests ``ids`` are done.

        ``results`` (a dict) receives ``rid -> (header, arrays)`` of those requests.
        Raises the first server error seen, or :class:`KVTimeoutError` after ``limit``
        seconds (``PSNET_KVSTORE_TIMEOUT`` when None).

        It blocks in a receive from one server it still waits for (answers of the others
        queue meanwhile), in slices of :data:`_SLICE_MS` ms after which it reads the
        scheduler's notices and checks the deadline: polling every socket for each
        answer cost several system calls more per message.
        """
        limit = self._cfg.timeout if limit is None else limit
        deadline = time.monotonic() + limit
        mine = set(ids)
        todo = mine & set(self._inflight)
        while todo and not self._errors:
            if self._dead or self._lost or self._heartbeat.scheduler_lost:
                self._check_alive(self._waiting_text(todo))
            server = self._inflight[next(iter(todo))].server
            try:
                header, arrays = wire.recv(self._servers[server])
            except zmq.Again:      # a slice passed without an answer
                self._drain_scheduler()
                if time.monotonic() > deadline:
                    raise KVTimeoutError(self._describe_timeout(todo, limit)) from None
                continue
            rid = header.get("id")
            self._answer(server, rid, header, arrays)
            todo.discard(rid)
            if results is not None and rid in mine:
                results[rid] = (header, arrays)
        if self._errors:
            # this call failed: forget its other requests (late answers are ignored) and
            # raise the first error; errors of other calls' requests surface in later calls
            for rid in todo:
                self._inflight.pop(rid, None)
            error = self._errors[0][1]
            self._errors = [(rid, e) for rid, e in self._errors[1:] if rid not in mine]
            raise error

    def _waiting_text(self, todo):
        reqs = [self._inflight[r] for r in todo if r in self._inflight]
        return "%s of %s" % ("/".join(sorted({r.op for r in reqs})) or "answers",
                             _keys_text(sorted({k for r in reqs for k in r.keys}, key=str)[:8] or ["-"]))

    def _answer(self, server, rid, header, arrays):
        """Handle one answer from ``server``.

        A server answers a push only when it fails.  Answers on one connection arrive in
        the order the server handled the requests, so an answer to request ``rid``
        confirms every earlier push to that server.
        """
        if "durable" in header:
            self._replay.durable(server, header["durable"])
        self._replay.drop(server, rid)
        pushes = self._pushes[server]
        while pushes and pushes[0][0] < rid:
            pushes.popleft()
        if pushes and pushes[0][0] == rid:
            req = _Request(server, "push", pushes.popleft()[1])
        else:
            req = self._inflight.pop(rid, None)
        if req is None:
            return
        if "error" in header:
            self._errors.append((rid, ServerError("%s of %s failed: %s" % (
                req.op, _keys_text(req.keys), header["error"]))))
        elif req.fill is not None:
            req.fill(arrays)

    def _describe_timeout(self, todo, limit):
        reqs = [self._inflight[r] for r in todo if r in self._inflight]
        where = sorted({self._addresses[r.server] for r in reqs})
        keys = sorted({str(k) for r in reqs for k in r.keys})[:8]
        return ("no answer within %g s (PSNET_KVSTORE_TIMEOUT) from server(s) %s for %s of key(s) %s; "
                "a worker or server may have died" % (limit, ", ".join(where),
                                                     "/".join(sorted({r.op for r in reqs})), ", ".join(keys)))

    def _ask_scheduler(self, header, limit=None):
        """Send ``header`` to the scheduler and return its answer (within ``limit`` seconds)."""
        limit = self._cfg.timeout if limit is None else limit
        rid = next(self._ids)
        header = dict(header, id=rid, role="worker", rank=self._rank)
        wire.send(self._sched, header)
        deadline = time.monotonic() + limit
        while True:
            if self._dead or self._lost or self._heartbeat.scheduler_lost:
                self._check_alive("the scheduler's answer to %s" % header["op"])
            left = deadline - time.monotonic()
            if left <= 0:
                raise KVTimeoutError("the scheduler at %s:%d did not answer %s within %g s"
                                     % (self._cfg.root_uri, self._cfg.root_port, header["op"], limit))
            if not self._sched.poll(int(min(left, 0.5) * 1000)):
                continue
            reply, _ = wire.recv(self._sched)
            if reply.get("id") != rid:
                self._notice(reply)
            elif "dead" in reply:
                raise DeadNodeError("%s (rank %d waited in %s)" % (reply.get("error"), self._rank, header["op"]))
            elif reply.get("op") == "error":
                raise RendezvousError("scheduler: %s" % reply.get("error"))
            else:
                return reply

    # -- the KVStore API ----------------------------------------------------------------
    def init(self, key, value):
        """Initialise keys (collective: rank 0's values are stored, every worker waits for it)."""
        keys, values = group_key_values(key, value)
        self._kind.check(keys)
        if self._rank == 0:
            self._wait(self._route("init", keys, [_host(vs[0]) for vs in values]))
        self._barrier()

    def push(self, key, value, priority=0):
        """Push values (summed over a key's device list first); returns without waiting."""
        keys, values = group_key_values(key, value)
        ks, arrays, extra = self._pushed(keys, values, _by_priority(keys, priority))
        self._route("push", ks, arrays, **extra)

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        """Pull the current values into ``out`` (every array of a key's device list)."""
        keys, outs = group_key_values(key, out, "out")
        self._kind.check(keys)
        order = _by_priority(keys, priority)
        self._wait(self._route("pull", [keys[i] for i in order], outs=[outs[i] for i in order]))

    def pushpull(self, key, value, out=None, priority=0):
        """Push ``value`` and pull the result into ``out`` (into ``value`` when None).

        One request per server carries both, so a round costs one message each way.
        """
        keys, values = group_key_values(key, value)
        outs = values if out is None else group_key_values(key, out, "out")[1]
        order = _by_priority(keys, priority)
        ks, arrays, extra = self._pushed(keys, values, order)
        self._wait(self._route("pushpull", ks, arrays, [outs[i] for i in order], **extra))

    def _pushed(self, keys, values, order):
        """``(keys, arrays, extra header)`` of a push in ``order``, reduced and compressed."""
        self._kind.check(keys)
        arrays = [self._compress(keys[i], _reduce(values[i])) for i in order]
        return [keys[i] for i in order], arrays, {} if self._gc is None else {"codec": self._gc.get_params()}

    def broadcast(self, key, value, out, priority=0):
        """Initialise ``key`` with rank 0's ``value`` and pull it into ``out`` on every worker."""
        self.init(key, value)
        self.pull(key, out, priority)

    def barrier(self):
        """Wait until every worker reaches this point (after the servers handled our pushes)."""
        self._flush()
        self._ask_scheduler({"op": "barrier", "group": "worker"})

    _barrier = barrier

    def _flush(self, limit=None):
        """Wait until every server has handled everything sent so far (raises their errors)."""
        self._wait(self._send_all("flush"), limit=limit)

    def num_dead_node(self, node_id, timeout=60):
        """How many nodes of group ``node_id`` (2 servers, 4 workers, 6 both) were silent ``timeout`` s."""
        return self._ask_scheduler({"op": "dead", "node_id": int(node_id), "timeout": timeout})["count"]

    def set_optimizer(self, optimizer):
        """Run ``optimizer`` on the servers (sent as its registered name and hyper-parameters)."""
        self._command("set_optimizer", config=optimizer.to_config())

    def set_updater(self, updater):
        """Select a server-side updater by name (``'module:callable'`` given to the servers' ``--updater``).

        A Python function cannot be used: MXNet 1.9.1 only installs it in the worker's
        local store, where a dist push never calls it, and psnet never ships code over the
        network.  Use :meth:`set_optimizer`, or register the function on the servers.
        """
        if not isinstance(updater, str):
            raise NotSupportedError(
                "%s cannot run a Python updater sent from a worker; start the servers with "
                "--updater module:callable and call kv.set_updater('module:callable'), or use "
                "kv.set_optimizer(opt)" % self._type)
        self._command("set_updater", name=updater)

    _set_updater = set_updater

    def set_gradient_compression(self, compression_params):
        """Compress pushed gradients (``{'type': '2bit', 'threshold': 0.5}``, MXNet's scheme).

        The worker quantises each pushed (device-summed) gradient with error feedback and
        sends 2 (or 1) bits per element; the servers unpack and sum as usual.
        """
        from ..compression import create_compression
        self._gc = create_compression(compression_params)

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Fetch the optimizer states from every server and write them to ``fname``."""
        results = {}
        ids = self._send_all("get_states", dump_optimizer=bool(dump_optimizer))
        self._wait(ids, results)
        blobs = [results[rid][1][0] for rid in ids]
        head = msgpack.packb({"sizes": [b.size for b in blobs]})
        with open_uri(fname, "wb") as f:
            f.write(_MAGIC + struct.pack("<Q", len(head)) + head)
            for b in blobs:
                f.write(b.tobytes())

    def load_optimizer_states(self, fname):
        """Send states saved by :meth:`save_optimizer_states` back to their servers."""
        with open_uri(fname, "rb") as f:
            blob = f.read()
        if not blob.startswith(_MAGIC):
            raise MXNetError("%s is not a psnet dist optimizer-states file" % fname)
        n = struct.unpack("<Q", blob[8:16])[0]
        sizes = msgpack.unpackb(blob[16:16 + n])["sizes"]
        if len(sizes) != len(self._servers):
            raise MXNetError("%s holds the states of %d servers but this job has %d"
                             % (fname, len(sizes), len(self._servers)))
        ids, pos = [], 16 + n
        for s, size in enumerate(sizes):
            ids.append(self._send(s, "set_states", [], [], [np.frombuffer(blob, np.uint8, size, pos)]))
            pos += size
        self._wait(ids)

    def close(self):
        """Finish: wait for pending requests, tell the scheduler, release the sockets.

        After a node died the job has failed: nothing is flushed, the scheduler (if it
        still answers) is told.
        """
        if self._closed:
            return
        self._closed = True
        orphan = self._heartbeat.scheduler_lost
        try:
            try:
                if not (self._dead or self._lost or orphan):
                    self._flush(limit=_CLOSE_LIMIT)
            finally:
                self._dead, self._lost = [], {}
                if not orphan:
                    self._ask_scheduler({"op": "finish"}, limit=_CLOSE_LIMIT)
        finally:
            self._heartbeat.stop()
            for sock in self._servers + [self._sched]:
                sock.close()

    # -- helpers --------------------------------------------------------------------------
    def _command(self, op, **extra):
        """Every worker sends ``op`` to every server and waits; errors name the op's subject."""
        self._wait(self._send_all(op, **extra))

    def _route(self, op, keys, arrays=None, outs=None, **extra):
        """Send one message per server for ``keys``: their ``arrays`` (big keys sliced) and/or
        the ``outs`` the answers are written into.  Returns the request ids."""
        batches = collections.defaultdict(lambda: ([], [], [], []))
        packing = extra["codec"]["type"] if "codec" in extra else None
        for i, key in enumerate(keys):
            size = arrays[i].size if arrays is not None else outs[i][0].size
            for server, part, lo, hi in self._placement(key, size):
                ks, ps, arrs, dst = batches[server]
                ks.append(key)
                ps.append(part)
                if arrays is not None:
                    arrs.append(self._outgoing(key, part, arrays[i], lo, hi) if packing is None
                                else codec.pack(_piece(arrays[i], part, lo, hi), packing))
                if outs is not None:
                    dst.append((outs[i], part, lo, hi))
        return [self._send(s, op, ks, ps, arrs, fill=_filler(dst) if outs is not None else None, **extra)
                for s, (ks, ps, arrs, dst) in batches.items()]

    def _outgoing(self, key, part, arr, lo, hi):
        """What a push sends for ``key``'s ``part`` of ``arr``: a large one as a :class:`wire.Shared`.

        The frame is kept per (key, part) and reused while the pushed array is the same
        buffer (a Trainer pushes the same gradient arrays every step), so a push wraps no
        new zero-copy frame.  One array per key is held: the last one pushed.
        """
        if arr.nbytes < wire.ZERO_COPY_BYTES:
            return _piece(arr, part, lo, hi)
        cached = self._frames.get((key, part))
        if cached is None or cached[0] is not arr:
            cached = self._frames[(key, part)] = (arr, wire.Shared(_piece(arr, part, lo, hi)))
        return cached[1]

    def _compress(self, key, arr):
        """The quantised gradient (residual kept per key) when compression is on."""
        if self._gc is None:
            return arr
        from ...ndarray.ndarray import from_backend
        return self._gc.compress(key, from_backend(arr, _CPU))


def _piece(arr, part, lo, hi):
    """``arr`` itself, or for a slice of a big key (``part`` >= 0) its flat elements [lo, hi)."""
    return arr if part < 0 else arr.reshape(-1)[lo:hi]


def _filler(dst):
    """A callback writing a pull's answer arrays into their output NDArrays."""
    def fill(arrays):
        for (outs, part, lo, hi), arr in zip(dst, arrays):
            for o in outs:
                _write(o, part, lo, hi, arr)
    return fill


def _write(out, part, lo, hi, arr):
    """Write a pull's host array ``arr`` into ``out`` (or its flat slice [lo, hi)) directly."""
    data = out._data
    dst = data if part < 0 else data.reshape(-1)[lo:hi]  # NDArray data is C-contiguous: a view
    out._ctx.backend.set_from_host(dst, arr.reshape(dst.shape))


def _host(x):
    """An NDArray's values as a NumPy array for the wire (no copy on CPUs; one copy into
    page-locked memory from a GPU)."""
    return x._ctx.backend.asnumpy(x._data, pinned=True)


def _reduce(values):
    """Sum a key's per-device values on the first value's device (GPUs add on the GPU, as
    the 'device' store does) and return the sum in host memory for the wire."""
    first = values[0]
    if len(values) == 1:
        return _host(first)
    b, ctx = first._ctx.backend, first._ctx
    xp = b.xp
    total = xp.add(first._data, backend_array_on(values[1]._data, values[1]._ctx, ctx))
    for v in values[2:]:
        xp.add(total, backend_array_on(v._data, v._ctx, ctx), out=total)
    return b.asnumpy(total, pinned=True)


def _by_priority(keys, priority):
    """Indices of ``keys`` with higher priority first (stable); ``priority`` is one int or a list."""
    if isinstance(priority, (list, tuple)):
        return sorted(range(len(keys)), key=lambda i: -priority[i])
    return range(len(keys))


def _keys_text(keys):
    return "key %r" % keys[0] if len(keys) == 1 else "keys %s" % (list(keys),)


_MAGIC = b"PSNETDST"


def _close_at_exit(store):
    try:
        store.close()
    except MXNetError as e:
        store._log.warning("closing the kvstore at exit: %s", e)
