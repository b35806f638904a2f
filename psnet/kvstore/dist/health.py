"""Node liveness: the scheduler's failure detector and a TCP probe for container health checks.

Every node sends a heartbeat to the scheduler every ``PSNET_HEARTBEAT_INTERVAL`` seconds
(default 1); :class:`Liveness` declares a node dead once it has been silent for
``PSNET_HEARTBEAT_TIMEOUT`` seconds (default 10), or at once when its connection is known
to be gone.  The scheduler then tells every other node, whose blocked calls raise
:class:`DeadNodeError` naming the dead node's role, rank and host.

``python -m psnet.kvstore.dist.health tcp HOST PORT`` exits 0 when something accepts TCP
connections there (docker-compose / Kubernetes health checks of the scheduler).
"""
import argparse
import socket
import sys
import time

from ...base import MXNetError

__all__ = ["DeadNodeError", "Liveness", "describe", "probe", "main"]


class DeadNodeError(MXNetError, ConnectionError):
    """A node of the job died (or went silent past the heartbeat timeout)."""


def describe(node):
    """``'server 1 (10.0.0.3)'`` for a node ``{'role', 'rank', 'host'}``."""
    return "%s %s (%s)" % (node["role"], node["rank"], node.get("host") or "unknown host")


class Liveness:
    """Last-heard times of the job's nodes and which of them are dead."""

    def __init__(self, timeout, clock=time.monotonic):
        self.timeout = timeout
        self.clock = clock
        self.seen = {}        # (role, rank) -> last time heard
        self.hosts = {}       # (role, rank) -> host
        self.gone = set()     # nodes declared dead (until they rejoin)
        self.done = set()     # nodes that left in order (finished workers): never dead

    def join(self, role, rank, host):
        """A node (re)joined: alive from now on."""
        node = (role, rank)
        self.seen[node] = self.clock()
        self.hosts[node] = host
        self.gone.discard(node)
        self.done.discard(node)

    def beat(self, role, rank):
        """A message from a node: it lives (ignored for nodes that never joined or are dead)."""
        node = (role, rank)
        if node in self.seen and node not in self.gone:
            self.seen[node] = self.clock()

    def leave(self, role, rank):
        """A node finished in order: it is not dead when it goes silent."""
        self.done.add((role, rank))

    def newly_dead(self):
        """Nodes silent past the timeout that were not dead before (now marked dead)."""
        now = self.clock()
        fresh = [n for n, t in self.seen.items()
                 if n not in self.gone and n not in self.done and now - t > self.timeout]
        self.gone.update(fresh)
        return [self.node(n) for n in sorted(fresh)]

    def silent(self, role, timeout):
        """How many nodes of ``role`` have been silent for ``timeout`` seconds (finished ones excluded)."""
        now = self.clock()
        return sum(1 for (r, rank), t in self.seen.items()
                   if r == role and (r, rank) not in self.done and now - t > timeout)

    def node(self, key):
        """The wire description ``{'role', 'rank', 'host'}`` of node ``key = (role, rank)``."""
        return {"role": key[0], "rank": key[1], "host": self.hosts.get(key)}


def probe(host, port, timeout=2.0):
    """Whether a TCP connection to ``host:port`` succeeds within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def main(argv=None):
    """Entry point of ``python -m psnet.kvstore.dist.health tcp HOST PORT``."""
    p = argparse.ArgumentParser(prog="python -m psnet.kvstore.dist.health",
                                description="Exit 0 when HOST:PORT accepts TCP connections.")
    p.add_argument("check", choices=["tcp"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args(argv)
    ok = probe(args.host, args.port, args.timeout)
    print("%s:%d %s" % (args.host, args.port, "reachable" if ok else "unreachable"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
