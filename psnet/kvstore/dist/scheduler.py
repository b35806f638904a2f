"""The scheduler: rendezvous, role ranks, the address book, barriers, heartbeats, shutdown.

Run it as ``python -m psnet.kvstore.dist.scheduler`` (configured by the ``DMLC_*``
variables, see :mod:`psnet.kvstore.dist.config`).  Every node sends ``register``; the
scheduler acknowledges at once (so a node can tell "unreachable" from "waiting for the
others") and, once ``DMLC_NUM_SERVER`` servers and ``DMLC_NUM_WORKER`` workers are in,
sends each its rank and the servers' addresses.  Ranks follow registration order, or
the ``DMLC_RANK`` each node of a role passed when they form exactly ``0..n-1`` (set by
``psnet-launch`` so that ``[worker 1]`` in its output is ``kv.rank == 1``).  It then serves barriers and health
queries until every worker has sent ``finish``, tells the servers to stop, and exits.
"""
import sys
import time

import zmq

from . import wire
from .config import DistConfig, setup_logging

__all__ = ["Scheduler", "NODE_SCHEDULER", "NODE_SERVERS", "NODE_WORKERS", "main"]

# MXNet / ps-lite node group ids, as num_dead_node() takes them (they combine with |)
NODE_SCHEDULER, NODE_SERVERS, NODE_WORKERS = 1, 2, 4


class Scheduler:
    """The rendezvous and coordination node of one dist job."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.log = setup_logging(cfg, "scheduler")
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.bind("tcp://%s:%d" % (_bind_host(cfg.root_uri), cfg.root_port))
        self.nodes = {"server": [], "worker": []}   # registration order: [ident, host, port]
        self.last_seen = {}                          # (role, rank) -> time of last message
        self.barriers = {}                           # group -> list of (ident, request id)
        self.finished = set()
        self.started = time.time()

    def run(self):
        """Serve until every worker has finished; then stop the servers and return."""
        self.log.info("listening on %s:%d for %d servers and %d workers", self.cfg.root_uri,
                      self.cfg.root_port, self.cfg.num_servers, self.cfg.num_workers)
        while len(self.finished) < self.cfg.num_workers:
            if not self.sock.poll(1000):
                if self._abandoned():
                    break
                continue
            try:
                ident, header, _ = wire.recv(self.sock, router=True)
            except wire.ProtocolError as e:
                self.log.warning("dropped a malformed message: %s", e)
                continue
            self.last_seen[("any", 0)] = time.time()
            self._handle(ident, header)
        for ident, _, _, _ in self.nodes["server"]:
            wire.send(self.sock, {"op": "shutdown"}, ident=ident)
        self.log.info("all %d workers finished; servers told to stop", self.cfg.num_workers)
        self.sock.close()

    def _abandoned(self):
        """True (and logged) when the job cannot go on: the nodes did not all register, or
        every node has been silent, for ``PSNET_KVSTORE_TIMEOUT`` seconds."""
        now = time.time()
        last = max(self.last_seen.values(), default=self.started)
        if now - max(last, self.started) <= self.cfg.timeout:
            return False
        self.log.error("no node heard from for %g s (%d of %d servers and %d of %d workers registered); "
                       "giving up", self.cfg.timeout, len(self.nodes["server"]), self.cfg.num_servers,
                       len(self.nodes["worker"]), self.cfg.num_workers)
        return True

    def _handle(self, ident, h):
        op = h.get("op")
        if "role" in h and "rank" in h:
            self.last_seen[(h["role"], h["rank"])] = time.time()
        if op == "register":
            self._register(ident, h)
        elif op == "barrier":
            self._barrier(ident, h)
        elif op == "dead":
            wire.send(self.sock, {"op": "dead", "id": h.get("id"),
                                  "count": self.num_dead(h.get("node_id", 0), h.get("timeout", 60))},
                      ident=ident)
        elif op == "finish":
            self.finished.add(h.get("rank"))
            wire.send(self.sock, {"op": "bye", "id": h.get("id")}, ident=ident)
        elif op != "heartbeat":
            self.log.warning("dropped a message with unknown op %r", op)

    def _register(self, ident, h):
        role = h.get("role")
        group = self.nodes.get(role)
        if group is None or not isinstance(h.get("port"), int):
            wire.send(self.sock, {"op": "error", "error": "bad registration %r" % (h,)}, ident=ident)
            return
        want = self.cfg.num_servers if role == "server" else self.cfg.num_workers
        if len(group) >= want:
            wire.send(self.sock, {"op": "error", "error": "scheduler already has all %d %ss; "
                                  "check DMLC_NUM_%s" % (want, role, role.upper())}, ident=ident)
            return
        group.append([ident, h.get("host"), h["port"], h.get("rank_hint")])
        wire.send(self.sock, {"op": "registered"}, ident=ident)
        self.log.info("%s %d registered from %s", role, len(group) - 1, h.get("host"))
        if (len(self.nodes["server"]) == self.cfg.num_servers
                and len(self.nodes["worker"]) == self.cfg.num_workers):
            self._send_book()

    def _send_book(self):
        for group in self.nodes.values():
            hints = [node[3] for node in group]
            if all(isinstance(h, int) for h in hints) and sorted(hints) == list(range(len(group))):
                group.sort(key=lambda node: node[3])   # launchers' rank variables decide
        servers = ["tcp://%s:%d" % (host, port) for _, host, port, _ in self.nodes["server"]]
        now = time.time()
        for role, group in self.nodes.items():
            for rank, (ident, _, _, _) in enumerate(group):
                self.last_seen[(role, rank)] = now
                wire.send(self.sock, {"op": "book", "rank": rank, "servers": servers,
                                      "num_workers": self.cfg.num_workers,
                                      "num_servers": self.cfg.num_servers}, ident=ident)
        self.log.info("all nodes registered; address book sent")

    def _barrier(self, ident, h):
        group = h.get("group", "worker")
        size = {"worker": self.cfg.num_workers, "server": self.cfg.num_servers,
                "all": self.cfg.num_workers + self.cfg.num_servers}.get(group)
        if size is None:
            wire.send(self.sock, {"op": "error", "id": h.get("id"),
                                  "error": "unknown barrier group %r" % (group,)}, ident=ident)
            return
        waiting = self.barriers.setdefault(group, [])
        waiting.append((ident, h.get("id")))
        if len(waiting) == size:
            for who, rid in waiting:
                wire.send(self.sock, {"op": "barrier_done", "id": rid}, ident=who)
            self.barriers[group] = []

    def num_dead(self, node_id, timeout):
        """How many nodes of the groups in ``node_id`` have been silent for ``timeout`` seconds."""
        now = time.time()
        count = 0
        for bit, role, size in ((NODE_SERVERS, "server", self.cfg.num_servers),
                                (NODE_WORKERS, "worker", self.cfg.num_workers)):
            if node_id & bit:
                for rank in range(size):
                    seen = self.last_seen.get((role, rank), self.started)
                    if role == "worker" and rank in self.finished:
                        continue
                    count += now - seen > timeout
        return count


def _bind_host(root_uri):
    """The scheduler binds its own address; a host name is bound on every interface."""
    return "127.0.0.1" if root_uri in ("127.0.0.1", "localhost") else "0.0.0.0" if any(
        c.isalpha() for c in root_uri) else root_uri


def main(argv=None):
    """Entry point of ``python -m psnet.kvstore.dist.scheduler``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    Scheduler(DistConfig.from_env(role="scheduler")).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
