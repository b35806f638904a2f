"""Joining a dist job: registering with the scheduler and heartbeats (shared by servers and workers)."""
import threading
import time

import zmq

from ...base import MXNetError
from . import wire
from .security import secure_client

__all__ = ["RendezvousError", "join", "Heartbeat"]


class RendezvousError(MXNetError, ConnectionError):
    """The scheduler could not be reached, or refused this node."""


def join(ctx, cfg, role, port, **extra):
    """Register with the scheduler and wait for the address book.

    ``extra`` fields ride in the registration (a server's ``checkpoint`` flag).
    Returns ``(scheduler socket, book)``; the book holds ``rank``, ``servers``,
    ``num_workers`` and ``num_servers``.  Raises :class:`RendezvousError` naming the
    scheduler's host and port when it does not answer within ``cfg.connect_timeout``
    seconds, or when the other nodes do not all register within ``cfg.timeout``.
    """
    sock = secure_client(ctx.socket(zmq.DEALER), cfg.cluster_key)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(cfg.scheduler_address)
    wire.send(sock, {"op": "register", "role": role, "host": cfg.node_host, "port": port,
                     "rank_hint": cfg.rank_hint, **extra})
    where = "%s:%d" % (cfg.root_uri, cfg.root_port)
    for phase, limit in (("registered", cfg.connect_timeout), ("book", cfg.timeout)):
        if not sock.poll(int(limit * 1000)):
            sock.close()
            if phase == "registered":
                raise RendezvousError("cannot reach the scheduler at %s within %g s (is it running? "
                                      "check DMLC_PS_ROOT_URI / DMLC_PS_ROOT_PORT; the limit is "
                                      "PSNET_CONNECT_TIMEOUT)" % (where, limit))
            raise RendezvousError("the scheduler at %s did not get all %d servers and %d workers "
                                  "within %g s" % (where, cfg.num_servers, cfg.num_workers, limit))
        header, _ = wire.recv(sock)
        if header.get("op") == "error":
            sock.close()
            raise RendezvousError("scheduler at %s refused this %s: %s" % (where, role, header.get("error")))
    return sock, header


class Heartbeat(threading.Thread):
    """A daemon thread telling the scheduler every ``interval`` seconds that this node lives.

    The scheduler acknowledges each heartbeat; after ``cfg.heartbeat_timeout`` seconds
    without an acknowledgement :attr:`scheduler_lost` is set (the scheduler died or the
    network to it is cut).
    """

    def __init__(self, ctx, cfg, role, rank):
        super().__init__(name="psnet-heartbeat", daemon=True)
        self.ctx, self.address, self.interval = ctx, cfg.scheduler_address, cfg.heartbeat_interval
        self.timeout = cfg.heartbeat_timeout
        self.key = cfg.cluster_key
        self.header = {"op": "heartbeat", "role": role, "rank": rank}
        self.stopped = threading.Event()
        self.scheduler_lost = False
        self.where = "%s:%d" % (cfg.root_uri, cfg.root_port)

    def run(self):
        """Send heartbeats until :meth:`stop`."""
        sock = secure_client(self.ctx.socket(zmq.DEALER), self.key)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.address)
        acked = time.monotonic()
        try:
            while not self.stopped.wait(self.interval):
                wire.send(sock, dict(self.header, time=time.time()), flags=zmq.NOBLOCK)
                while sock.poll(0):
                    sock.recv_multipart()
                    acked = time.monotonic()
                self.scheduler_lost = time.monotonic() - acked > self.timeout
        except zmq.ZMQError:
            pass  # the context is going away with the process
        finally:
            sock.close()

    def stop(self):
        """Stop sending and wait (briefly) for the thread to end."""
        self.stopped.set()
        self.join(timeout=2 * self.interval + 1)
