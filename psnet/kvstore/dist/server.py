"""A parameter server: owns a shard of the keys, aggregates pushes, runs the updater.

Run it as ``python -m psnet.kvstore.dist.server [--updater module:callable ...]``
(configured by the ``DMLC_*`` variables).  ``--updater`` makes a Python updater
``fn(key, received, stored)`` (NDArrays; update ``stored`` in place) available by that
name (so does ``PSNET_SERVER_UPDATERS=module:callable,...``); a worker selects it with
``kv.set_updater('module:callable')``.  A server never
unpickles anything: optimizers arrive as ``{'name', 'params'}`` and are rebuilt from the
optimizer registry.

Semantics follow MXNet's ps-lite server.  In sync mode (``dist_sync``) the pushes of one
round are summed and the updater runs once per key when all workers have pushed; a
worker's pull of a key it has pushed into an unfinished round is answered when the round
completes, so a pull always returns the latest complete round.  Without an updater the
stored value becomes the sum.  In async mode every push is applied on arrival (without an
updater the push replaces the value).
"""
import argparse
import importlib
import os
import sys

import numpy as np
import zmq

from ...base import MXNetError, env_bool
from . import checkpoint, codec, validate, wire
from .config import DistConfig, setup_logging
from .memory import keep_freed_memory
from .node import Heartbeat, join
from .security import secure_server, warn_if_exposed

# requests that change the server's state: resent ones already applied are skipped
_MUTATING = frozenset(("init", "push", "pushpull", "set_optimizer", "set_updater", "set_states"))
# requests served before the main loop looks at the scheduler's socket again
_BATCH = 64
# the longest a server waits for a request before it looks at the scheduler's socket
_NOTICE_MS = 50

__all__ = ["Server", "register_updater", "load_updater", "main"]

_UPDATERS = {}


def register_updater(name, fn):
    """Make ``fn(key, received, stored)`` selectable on this server as ``name``."""
    _UPDATERS[name] = fn


def load_updater(spec):
    """Import ``'module:callable'`` and register it under that name; returns the callable."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise MXNetError("updater %r must be written module:callable" % (spec,))
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise MXNetError("cannot load updater %r: %s" % (spec, e)) from None
    register_updater(spec, fn)
    return fn


class _Slot:
    """One stored key (or one slice of a big key) and its sync-round bookkeeping."""

    __slots__ = ("value", "merged", "owned", "pushed", "backlog", "shared")

    def __init__(self, value):
        self.value = value
        self.shared = None      # wire.Shared of value, built by the first sync answer
        self.merged = None      # sum of this round's pushes
        self.owned = False      # merged may be summed into in place
        self.pushed = set()     # ranks that pushed into this round
        self.backlog = []       # (rank, array) pushed again before the round completed

    def answer(self):
        """``value`` for a sync pull's answer: one frame shared by every worker's answer."""
        if self.shared is None or self.shared.array is not self.value:
            self.shared = wire.Shared(self.value)
        return self.shared


class _Pending:
    """A pull waiting for sync rounds: answered when ``waiting`` is empty."""

    __slots__ = ("ident", "header", "slots", "waiting")

    def __init__(self, ident, header, slots, waiting):
        self.ident, self.header, self.slots, self.waiting = ident, header, slots, waiting


class Server:
    """A parameter server process (see the module docstring)."""

    def __init__(self, cfg, checkpoint_dir=None):
        self.cfg = cfg
        if env_bool("PSNET_SERVER_KEEP_MEMORY", True):
            keep_freed_memory()          # before ZeroMQ's I/O threads allocate anything
        self.ctx = zmq.Context.instance(io_threads=cfg.server_io_threads)
        self.sock = secure_server(self.ctx.socket(zmq.ROUTER), cfg.cluster_key)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.max_request = validate.max_request_bytes()
        self.sock.setsockopt(zmq.MAXMSGSIZE, self.max_request)   # libzmq drops bigger frames
        warn_if_exposed(cfg.node_host, cfg.cluster_key, "this server")
        port = self.sock.bind_to_random_port("tcp://%s" % cfg.node_host)
        self.policy = checkpoint.Policy(checkpoint_dir)
        self.sched, book = join(self.ctx, cfg, "server", port, checkpoint=self.policy.enabled)
        self.rank = book["rank"]
        self.num_workers = book["num_workers"]
        self.num_servers = book["num_servers"]
        self.log = setup_logging(cfg, "server %d" % self.rank)
        self.slots = {}
        self.pending = []
        self.updater = None
        self.updater_source = None   # the optimizer config or updater name in use
        self.applied = {}            # worker rank -> id of its latest request handled
        self.durable = {}            # worker rank -> id of its latest request in the snapshot
        self.restored = {}           # worker rank -> latest id the snapshot we resumed from applied
        self.rounds = 0              # completed key rounds (sync) / applied pushes (async)
        self.heartbeat = Heartbeat(self.ctx, cfg, "server", self.rank)
        self._cpu = None
        if self.policy.enabled:
            self._restore()

    # -- main loop ----------------------------------------------------------------------
    def run(self):
        """Serve workers until the scheduler says stop.

        The loop blocks in a receive on the workers' socket (waking at least every
        :data:`_NOTICE_MS` ms) and looks at the scheduler's socket between batches: a
        poll of both sockets per request cost several system calls more per message.
        """
        self.heartbeat.start()
        self.sock.setsockopt(zmq.RCVTIMEO, _NOTICE_MS)
        self.log.info("serving %d workers", self.num_workers)
        try:
            while True:
                if self.heartbeat.scheduler_lost:
                    raise SystemExit("server %d: the scheduler at %s stopped answering heartbeats for %g s; "
                                     "stopping" % (self.rank, self.heartbeat.where, self.cfg.heartbeat_timeout))
                if wire.readable(self.sched):
                    header, _ = wire.recv(self.sched)
                    if header.get("op") == "shutdown":
                        break
                    if header.get("op") == "dead_node":
                        self.log.warning("the scheduler reports %s dead", header.get("node"))
                    continue
                self._serve_batch()
        finally:
            self.heartbeat.stop()
            self.sched.close()
            self.sock.close()
        self.log.info("stopped")

    def _serve_batch(self):
        """Serve up to :data:`_BATCH` requests, waiting for each (at most :data:`_NOTICE_MS` ms)."""
        for _ in range(_BATCH):
            try:
                self._serve_one()
            except zmq.Again:    # nothing came within _NOTICE_MS
                return

    def _serve_one(self):
        try:
            ident, h, arrays = wire.recv(self.sock, router=True)
            validate.check_request(h, arrays, self.num_workers, self.num_servers, self.max_request)
        except wire.ProtocolError as e:
            self.log.warning("dropped a malformed message: %s", e)
            return
        op, rank = h["op"], h.get("rank")
        if rank is not None and h["id"] <= self.restored.get(rank, 0) and op in _MUTATING:
            self.log.info("request %d of worker %d was applied before a restart; not again", h["id"], rank)
            reply = (self._handle(ident, dict(h, op="pull"), []) if op == "pushpull"
                     else None if op == "push" else ({"ok": True}, []))
        else:
            reply = self._handle(ident, h, arrays)
        if rank is not None and self.policy.enabled:
            self.applied[rank] = max(h["id"], self.applied.get(rank, 0))
        if self.policy.enabled and (op in _MUTATING - {"push", "pushpull"} or self.policy.due(self._full_rounds())):
            self._snapshot()
        if reply is not None:
            self._reply(ident, h, *reply)

    def _handle(self, ident, h, arrays):
        """Run one checked request; returns the reply ``(header, arrays)`` or None."""
        op = h["op"]
        try:
            return self._HANDLERS[op](self, ident, h, arrays)
        except MXNetError as e:
            return {"error": "server %d: %s" % (self.rank, e)}, []
        except Exception as e:  # an updater's own bug must not bring the server down
            self.log.exception("request %r failed", op)
            return {"error": "server %d: %s failed: %s: %s" % (self.rank, op, type(e).__name__, e)}, []

    def _reply(self, ident, request, header, out):
        """Answer ``request``; with checkpoints, tell the worker what the snapshot covers."""
        header["id"] = request.get("id")
        rank = request.get("rank")
        if self.policy.enabled and rank is not None:
            header["durable"] = self.durable.get(rank, 0)
        wire.send(self.sock, header, out, ident=ident)

    # -- snapshots ------------------------------------------------------------------------
    def _snapshot(self):
        """Write the shard, its round state, the updater and the applied ids (atomically)."""
        meta = {"rank": self.rank, "rounds": self.rounds, "applied": self.applied,
                "updater": self.updater_source, "slots": []}
        if hasattr(self.updater, "get_states"):
            meta["states"] = self.updater.get_states(False)
        arrays = {}
        for i, (sk, slot) in enumerate(self.slots.items()):
            arrays["v%d" % i] = slot.value
            if slot.merged is not None:
                arrays["m%d" % i] = slot.merged
            for j, (_, a) in enumerate(slot.backlog):
                arrays["b%d.%d" % (i, j)] = a
            meta["slots"].append([sk[0], sk[1], sorted(slot.pushed), [r for r, _ in slot.backlog]])
        checkpoint.save(checkpoint.path_for(self.policy.directory, self.rank), meta, arrays)
        self.durable = dict(self.applied)
        self.policy.taken(self._full_rounds())

    def _full_rounds(self):
        """Completed rounds of the whole shard (key rounds over the number of keys)."""
        return self.rounds // max(1, len(self.slots))

    def _restore(self):
        """Resume from this rank's snapshot, when there is one."""
        path = checkpoint.path_for(self.policy.directory, self.rank)
        found = checkpoint.load(path)
        if found is None:
            return
        meta, arrays = found
        for i, (key, part, pushed, backlog) in enumerate(meta["slots"]):
            slot = _Slot(arrays["v%d" % i])
            if "m%d" % i in arrays:
                slot.merged, slot.owned = arrays["m%d" % i], True
            slot.pushed = set(pushed)
            slot.backlog = [(r, arrays["b%d.%d" % (i, j)]) for j, r in enumerate(backlog)]
            self.slots[(key, part)] = slot
        source = meta.get("updater")
        if isinstance(source, dict):
            self._set_optimizer(None, {"config": source}, [])
            if meta.get("states") is not None:
                self.updater.set_states(meta["states"])
        elif source is not None:
            self._set_updater(None, {"name": source}, [])
        self.applied = {int(r): rid for r, rid in meta["applied"].items()}
        self.durable = dict(self.applied)
        self.restored = dict(self.applied)
        self.rounds = meta["rounds"]
        self.policy.taken(self._full_rounds())
        self.log.warning("resumed from %s: %d slots, round %d", path, len(self.slots), self.rounds)

    # -- requests -----------------------------------------------------------------------
    def _slot_keys(self, h, arrays=None):
        keys, parts = h.get("keys"), h.get("parts")
        if not isinstance(keys, list) or not isinstance(parts, list) or len(keys) != len(parts):
            raise MXNetError("request without matching 'keys' and 'parts' lists")
        if arrays is not None and len(arrays) != len(keys):
            raise MXNetError("%d keys but %d arrays" % (len(keys), len(arrays)))
        return [(k, p) for k, p in zip(keys, parts)]

    def _init(self, ident, h, arrays):
        for sk, arr in zip(self._slot_keys(h, arrays), arrays):
            self.slots[sk] = _Slot(np.array(arr, copy=True))
        return {"ok": True}, []

    def _push(self, ident, h, arrays):
        sync = bool(h.get("sync", True))
        rank = h.get("rank")
        sks = self._slot_keys(h, arrays)
        if sync and not (isinstance(rank, int) and 0 <= rank < self.num_workers):
            raise MXNetError("push from unknown worker rank %r (this job has %d workers)" % (rank, self.num_workers))
        if h.get("codec"):
            arrays = self._decompress(h["codec"], sks, arrays)
        for sk, arr in zip(sks, arrays):   # check everything before changing anything
            slot = self._slot(sk)
            if arr.shape != slot.value.shape:
                raise MXNetError("push of key %r: shape %s does not match the stored shape %s"
                                 % (_name(sk), arr.shape, slot.value.shape))
        for sk, arr in zip(sks, arrays):
            slot = self.slots[sk]
            if sync:
                self._merge(sk, slot, rank, arr)
            else:
                self._apply(sk[0], slot, arr)
                self.rounds += 1
        return None     # a push is answered only when it fails

    def _decompress(self, params, sks, arrays):
        """Unpack 2bit/1bit pushes to arrays of the stored shapes and dtypes."""
        if not isinstance(params, dict):
            raise MXNetError("bad compression parameters %r" % (params,))
        out = []
        for sk, packed in zip(sks, arrays):
            slot = self._slot(sk)
            try:
                out.append(codec.unpack(packed, params.get("type"), float(params.get("threshold", 0)),
                                        slot.value.shape, slot.value.dtype))
            except MXNetError as e:
                raise MXNetError("push of key %r: %s" % (_name(sk), e)) from None
        return out

    def _flush(self, ident, h, arrays):
        return {"ok": True}, []   # requests are handled in order: all earlier ones are done

    def _pull(self, ident, h, arrays):
        sks = self._slot_keys(h)
        rank = h.get("rank")
        slots = [self._slot(sk) for sk in sks]
        waiting = {i for i, s in enumerate(slots) if _in_round(s, rank)}
        if waiting:
            self.pending.append(_Pending(ident, h, slots, waiting))
            return None
        return self._pull_reply(h, slots)

    def _pushpull(self, ident, h, arrays):
        self._push(ident, h, arrays)
        return self._pull(ident, h, arrays)

    def _pull_reply(self, h, slots):
        # in async mode a value can change while a zero-copy reply is still being sent
        values = [s.answer() if h.get("sync", True) else s.value.copy() for s in slots]
        return {"ok": True}, values

    def _set_optimizer(self, ident, h, arrays):
        config = h.get("config")
        if config == self.updater_source:
            return {"ok": True}, []   # every worker sends it; keep the states of the first
        if not isinstance(config, dict) or not isinstance(config.get("name"), str):
            raise MXNetError("set_optimizer needs a config {'name': ..., 'params': {...}}, got %r"
                             % (config,))
        from ...optimizer import Updater, from_config
        try:
            optimizer = from_config(config)
        except Exception as e:
            raise MXNetError("cannot create optimizer %r: %s" % (config["name"], e)) from None
        self.updater, self.updater_source = Updater(optimizer), config
        self.log.info("optimizer %s", config["name"])
        return {"ok": True}, []

    def _set_updater(self, ident, h, arrays):
        name = h.get("name")
        if name == self.updater_source:
            return {"ok": True}, []
        fn = _UPDATERS.get(name)
        if fn is None:
            raise MXNetError("unknown updater %r; known here: %s (start servers with --updater "
                             "module:callable)" % (name, ", ".join(map(repr, sorted(_UPDATERS))) or "none"))
        self.updater, self.updater_source = fn, name
        return {"ok": True}, []

    def _get_states(self, ident, h, arrays):
        blob = self._optimizer_updater().get_states(bool(h.get("dump_optimizer")))
        return {"ok": True}, [np.frombuffer(blob, np.uint8)]

    def _set_states(self, ident, h, arrays):
        if len(arrays) != 1 or arrays[0].dtype != np.uint8:
            raise MXNetError("set_states takes one uint8 frame of optimizer states")
        self._optimizer_updater().set_states(arrays[0].tobytes())
        return {"ok": True}, []

    def _optimizer_updater(self):
        if not hasattr(self.updater, "get_states"):
            raise MXNetError("no optimizer is set on the servers (set_optimizer), so there are no "
                             "optimizer states")
        return self.updater

    _HANDLERS = {"init": _init, "push": _push, "flush": _flush, "pull": _pull, "pushpull": _pushpull, "set_optimizer": _set_optimizer,
                 "set_updater": _set_updater, "get_states": _get_states, "set_states": _set_states}

    # -- aggregation ----------------------------------------------------------------------
    def _slot(self, sk):
        slot = self.slots.get(sk)
        if slot is None:
            raise MXNetError("key %r has not been initialised; call kv.init(%r, value) first"
                             % (_name(sk), sk[0]))
        return slot

    def _merge(self, sk, slot, rank, arr):
        if rank in slot.pushed:
            slot.backlog.append((rank, arr))
            return
        if slot.merged is None:     # adopt the received buffer: no copy
            # a received frame is this server's own memory: when writable, later pushes
            # are summed into it in place (no allocation; a 64 MB one costs page faults)
            slot.merged = arr.astype(slot.value.dtype, copy=False)
            slot.owned = slot.merged.flags.writeable
        elif not slot.owned:        # a read-only first push (carried in the header): the sum allocates
            slot.merged, slot.owned = np.add(slot.merged, arr, dtype=slot.value.dtype), True
        else:
            slot.merged += arr
        slot.pushed.add(rank)
        if len(slot.pushed) == self.num_workers:
            self.rounds += 1
            merged, slot.merged = slot.merged, None
            slot.pushed = set()
            if self.updater is None:
                slot.value = np.require(merged, requirements="W")
            else:
                self._apply(sk[0], slot, merged)
            backlog, slot.backlog = slot.backlog, []
            for r, a in backlog:
                self._merge(sk, slot, r, a)
            self._release(slot)

    def _apply(self, key, slot, grad):
        if self.updater is None:
            slot.value = grad.astype(slot.value.dtype, copy=True)
        else:
            self.updater(key, self._wrap(np.require(grad, requirements="W")), self._wrap(slot.value))

    def _release(self, slot):
        """Answer the pulls that were waiting for ``slot``'s round."""
        still = []
        for p in self.pending:
            rank = p.header.get("rank")
            p.waiting = {i for i in p.waiting if not (p.slots[i] is slot and not _in_round(slot, rank))}
            if p.waiting:
                still.append(p)
            else:
                self._reply(p.ident, p.header, *self._pull_reply(p.header, p.slots))
        self.pending = still

    def _wrap(self, arr):
        """A NumPy array as a CPU NDArray over the same memory (what updaters take)."""
        from ...context import cpu
        from ...ndarray.ndarray import from_backend
        if self._cpu is None:
            self._cpu = cpu()
        return from_backend(arr, self._cpu)


def _in_round(slot, rank):
    """Whether ``rank`` has pushed into ``slot``'s unfinished round (so must wait for it)."""
    return rank in slot.pushed or any(r == rank for r, _ in slot.backlog)


def _name(sk):
    key, part = sk
    return key if part < 0 else "%s (slice %d)" % (key, part)


def main(argv=None, known_only=False):
    """Entry point of ``python -m psnet.kvstore.dist.server``; ``known_only`` ignores other arguments."""
    parser = argparse.ArgumentParser(prog="python -m psnet.kvstore.dist.server",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--updater", action="append", default=[], metavar="MODULE:CALLABLE",
                        help="make a Python updater fn(key, received, stored) selectable by name")
    parser.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                        help="snapshot this server's shard to DIR (default: $PSNET_CHECKPOINT_DIR) "
                        "every PSNET_CHECKPOINT_ROUNDS rounds / PSNET_CHECKPOINT_SECONDS seconds, "
                        "and resume from it after a restart")
    args = parser.parse_known_args(argv)[0] if known_only else parser.parse_args(argv)
    env_specs = os.environ.get("PSNET_SERVER_UPDATERS", "")
    for spec in args.updater + [s for s in env_specs.split(",") if s]:
        load_updater(spec)
    Server(DistConfig.from_env(role="server"), checkpoint_dir=args.checkpoint_dir).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
