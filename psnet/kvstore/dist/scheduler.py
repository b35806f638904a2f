"""The scheduler: rendezvous, role ranks, the address book, barriers, heartbeats, shutdown.

Run it as ``python -m psnet.kvstore.dist.scheduler`` (configured by the ``DMLC_*``
variables, see :mod:`psnet.kvstore.dist.config`).  Every node sends ``register``; the
scheduler acknowledges at once (so a node can tell "unreachable" from "waiting for the
others") and, once ``DMLC_NUM_SERVER`` servers and ``DMLC_NUM_WORKER`` workers are in,
sends each its rank and the servers' addresses.  Ranks follow registration order, or
the ``DMLC_RANK`` each node of a role passed when they form exactly ``0..n-1`` (set by
``psnet-launch`` so that ``[worker 1]`` in its output is ``kv.rank == 1``).  It then serves barriers and health
queries until every worker has sent ``finish``, tells the servers to stop, and exits.

Failures: a node silent for ``PSNET_HEARTBEAT_TIMEOUT`` seconds is dead.  The scheduler
tells every other node (``dead_node``), fails the barriers waiting for it, and ends the
job (exit status 1) once every worker has finished or died.  A server that registers
while the job runs takes the rank of a dead server (its ``DMLC_RANK`` when that one is
dead; it waits for one to die otherwise), gets the address book, and the workers are told
its new address (``server_moved``) so they reconnect and resend what it may have lost.
"""
import sys
import time

import zmq

from . import wire
from .config import DistConfig, setup_logging
from .health import Liveness, describe
from .security import secure_server, warn_if_exposed

__all__ = ["Scheduler", "NODE_SCHEDULER", "NODE_SERVERS", "NODE_WORKERS", "main"]

# MXNet / ps-lite node group ids, as num_dead_node() takes them (they combine with |)
NODE_SCHEDULER, NODE_SERVERS, NODE_WORKERS = 1, 2, 4


class Scheduler:
    """The rendezvous and coordination node of one dist job."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.log = setup_logging(cfg, "scheduler")
        self.ctx = zmq.Context.instance()
        self.sock = secure_server(self.ctx.socket(zmq.ROUTER), cfg.cluster_key)
        self.sock.setsockopt(zmq.LINGER, 1000)
        host = _bind_host(cfg.root_uri)
        warn_if_exposed(host, cfg.cluster_key, "the scheduler")
        self.sock.bind("tcp://%s:%d" % (host, cfg.root_port))
        self.nodes = {"server": [], "worker": []}   # registration order: [ident, host, port, rank hint]
        self.live = Liveness(cfg.heartbeat_timeout)
        self.barriers = {}                           # group -> list of (ident, request id)
        self.finished = set()
        self.dead_workers = set()
        self.booked = False
        self.replacements = []                       # servers waiting for a dead one's rank
        self.last_heard = time.monotonic()           # when any node was last heard from

    def run(self):
        """Serve until every worker has finished; then stop the servers and return."""
        self.log.info("listening on %s:%d for %d servers and %d workers", self.cfg.root_uri,
                      self.cfg.root_port, self.cfg.num_servers, self.cfg.num_workers)
        tick = int(min(1.0, self.cfg.heartbeat_interval) * 1000)
        while len(self.finished | self.dead_workers) < self.cfg.num_workers:
            if self.sock.poll(tick):
                self.last_heard = time.monotonic()
                self._serve_one()
            elif self._abandoned():
                break
            if self.booked:
                for node in self.live.newly_dead():
                    self._dead(node)
        for ident, *_ in self.nodes["server"]:
            wire.send(self.sock, {"op": "shutdown"}, ident=ident)
        self.sock.close()
        if self.dead_workers:
            self.log.warning("job failed: worker(s) %s died; servers told to stop", sorted(self.dead_workers))
        if len(self.finished) < self.cfg.num_workers:
            return 1
        self.log.info("all %d workers finished; servers told to stop", self.cfg.num_workers)
        return 0

    def _serve_one(self):
        """Receive and handle one message; a malformed one is dropped with a log line."""
        try:
            ident, header, _ = wire.recv(self.sock, router=True)
        except wire.ProtocolError as e:
            self.log.warning("dropped a malformed message: %s", e)
            return
        try:
            self._handle(ident, header)
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            self.log.warning("dropped a malformed %r message: %s", header.get("op"), e)

    def _abandoned(self):
        """True (and logged) when the job cannot go on: the nodes did not all register, or
        every node has been silent, for ``PSNET_KVSTORE_TIMEOUT`` seconds."""
        if time.monotonic() - self.last_heard <= self.cfg.timeout:
            return False
        self.log.error("no node heard from for %g s (%d of %d servers and %d of %d workers registered); "
                       "giving up", self.cfg.timeout, len(self.nodes["server"]), self.cfg.num_servers,
                       len(self.nodes["worker"]), self.cfg.num_workers)
        return True

    def _handle(self, ident, h):
        op = h.get("op")
        if isinstance(h.get("role"), str) and isinstance(h.get("rank"), int):
            self.live.beat(h["role"], h["rank"])
        if op == "register":
            self._register(ident, h)
        elif op == "barrier":
            self._barrier(ident, h)
        elif op == "dead":
            wire.send(self.sock, {"op": "dead", "id": h.get("id"),
                                  "count": self.num_dead(int(h.get("node_id", 0)), float(h.get("timeout", 60)))},
                      ident=ident)
        elif op == "finish":
            if not (isinstance(h.get("rank"), int) and 0 <= h["rank"] < self.cfg.num_workers):
                raise ValueError("finish from rank %r; this job has %d workers" % (h.get("rank"), self.cfg.num_workers))
            self.finished.add(h.get("rank"))
            self.live.leave("worker", h.get("rank"))
            wire.send(self.sock, {"op": "bye", "id": h.get("id")}, ident=ident)
        elif op == "heartbeat":
            wire.send(self.sock, {"op": "alive"}, ident=ident)
        else:
            self.log.warning("dropped a message with unknown op %r", op)

    def _register(self, ident, h):
        role = h.get("role")
        group = self.nodes.get(role)
        port, host = h.get("port"), h.get("host")
        if group is None or not (isinstance(port, int) and 0 <= port < 65536 and isinstance(host, str)):
            wire.send(self.sock, {"op": "error", "error": "bad registration %r" % (h,)}, ident=ident)
            return
        want = self.cfg.num_servers if role == "server" else self.cfg.num_workers
        if self.booked and role == "server":
            wire.send(self.sock, {"op": "registered"}, ident=ident)
            self.replacements.append(_node(ident, h))
            self._replace_servers()
            return
        if len(group) >= want:
            wire.send(self.sock, {"op": "error", "error": "scheduler already has all %d %ss; "
                                  "check DMLC_NUM_%s" % (want, role, role.upper())}, ident=ident)
            return
        group.append(_node(ident, h))
        wire.send(self.sock, {"op": "registered"}, ident=ident)
        self.log.info("%s %d registered from %s", role, len(group) - 1, h.get("host"))
        if (len(self.nodes["server"]) == self.cfg.num_servers
                and len(self.nodes["worker"]) == self.cfg.num_workers):
            self._start_job()

    def _start_job(self):
        """Everyone is here: fix the ranks and send every node the address book."""
        for group in self.nodes.values():
            hints = [node[3] for node in group]
            if all(isinstance(h, int) for h in hints) and sorted(hints) == list(range(len(group))):
                group.sort(key=lambda node: node[3])   # launchers' rank variables decide
        self.booked = True
        for role, group in self.nodes.items():
            for rank, (ident, host, *_) in enumerate(group):
                self.live.join(role, rank, host)
                self._send_book(ident, rank)
        self.log.info("all nodes registered; address book sent")

    def _servers(self):
        """The servers' addresses, by rank."""
        return ["tcp://%s:%d" % (host, port) for _, host, port, *_ in self.nodes["server"]]

    def _send_book(self, ident, rank):
        """The address book for the node ``ident`` of ``rank``."""
        wire.send(self.sock, {"op": "book", "rank": rank, "servers": self._servers(),
                              "checkpointed": [bool(node[4]) for node in self.nodes["server"]],
                              "num_workers": self.cfg.num_workers,
                              "num_servers": self.cfg.num_servers}, ident=ident)

    def _replace_servers(self):
        """Give waiting restarted servers the ranks of dead servers; tell the workers."""
        while self.replacements:
            dead = sorted(rank for role, rank in self.live.gone if role == "server")
            if not dead:
                return
            node = self.replacements[0]
            rank = node[3] if node[3] in dead else dead[0]
            self.replacements.pop(0)
            self.nodes["server"][rank] = node
            self.live.join("server", rank, node[1])
            self._send_book(node[0], rank)
            address = self._servers()[rank]
            self.log.warning("server %d rejoined from %s", rank, address)
            for ident, *_ in self.nodes["worker"]:
                wire.send(self.sock, {"op": "server_moved", "rank": rank, "address": address}, ident=ident)

    def _dead(self, node):
        """Tell every other node that ``node`` died; fail the barriers that wait for it."""
        what = describe(node)
        self.log.warning("%s is dead (silent for %g s)", what, self.cfg.heartbeat_timeout)
        if node["role"] == "worker":
            self.dead_workers.add(node["rank"])
        for role, group in self.nodes.items():
            for rank, (ident, *_) in enumerate(group):
                if (role, rank) != (node["role"], node["rank"]):
                    wire.send(self.sock, {"op": "dead_node", "node": node}, ident=ident)
        for group, waiting in self.barriers.items():
            for who, rid in waiting:
                wire.send(self.sock, {"op": "error", "id": rid, "dead": node,
                                      "error": "barrier failed: %s died" % what}, ident=who)
            self.barriers[group] = []
        self._replace_servers()

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
        return sum(self.live.silent(role, timeout)
                   for bit, role in ((NODE_SERVERS, "server"), (NODE_WORKERS, "worker")) if node_id & bit)


def _node(ident, h):
    """A registered node: ``[ident, host, port, rank hint, whether it checkpoints]``."""
    return [ident, h.get("host"), h["port"], h.get("rank_hint"), bool(h.get("checkpoint"))]


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
    return Scheduler(DistConfig.from_env(role="scheduler")).run()


if __name__ == "__main__":
    sys.exit(main())
