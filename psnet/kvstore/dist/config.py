"""Cluster configuration read from MXNet's ``DMLC_*`` environment variables.

``DMLC_ROLE`` (worker/server/scheduler), ``DMLC_PS_ROOT_URI`` / ``DMLC_PS_ROOT_PORT``
(the scheduler), ``DMLC_NUM_SERVER`` / ``DMLC_NUM_WORKER``, ``DMLC_NODE_HOST`` or
``DMLC_INTERFACE`` (the address this node binds), ``DMLC_RANK`` (preferred rank within
the role), ``PS_VERBOSE``, ``MXNET_KVSTORE_BIGARRAY_BOUND``, and psnet's
``PSNET_CONNECT_TIMEOUT``, ``PSNET_KVSTORE_TIMEOUT``, ``PSNET_HEARTBEAT_INTERVAL``,
``PSNET_HEARTBEAT_TIMEOUT``, ``PSNET_RECOVERY_TIMEOUT`` and the cluster key (:mod:`.security`).
docs/distributed.md has the table with defaults.  Without DMLC_NODE_HOST or
DMLC_INTERFACE a node uses 127.0.0.1 when the scheduler is on loopback, else the
address of the interface that routes to the scheduler.
"""
import dataclasses
import logging
import os
import socket

from ...base import MXNetError, env_float, env_int, env_str
from .security import load_cluster_key

__all__ = ["DistConfig", "interface_address", "setup_logging"]

ROLES = ("worker", "server", "scheduler")


@dataclasses.dataclass
class DistConfig:
    """Everything a dist node needs to know about its cluster."""

    role: str = "worker"
    root_uri: str = "127.0.0.1"
    root_port: int = 9091
    num_servers: int = 1
    num_workers: int = 1
    node_host: str = "127.0.0.1"
    verbose: int = 0
    connect_timeout: float = 60.0
    timeout: float = 600.0
    heartbeat_interval: float = 1.0
    heartbeat_timeout: float = 10.0
    recovery_timeout: float = 60.0  # how long workers wait for a dead checkpointing server
    cluster_key: object = None      # a security.ClusterKey: every socket requires CURVE
    bigarray_bound: int = 1000000
    rank_hint: int = None
    server_io_threads: int = 1      # ZeroMQ I/O threads of a server process (see from_env)

    @classmethod
    def from_env(cls, role=None):
        """Read the configuration from the environment; ``role`` overrides ``DMLC_ROLE``."""
        role = role or env_str("DMLC_ROLE", "worker")
        if role not in ROLES:
            raise MXNetError("DMLC_ROLE=%r is not one of %s" % (role, ", ".join(ROLES)))
        cfg = cls(role=role,
                  root_uri=env_str("DMLC_PS_ROOT_URI", "127.0.0.1"),
                  root_port=env_int("DMLC_PS_ROOT_PORT", 9091),
                  num_servers=env_int("DMLC_NUM_SERVER", 1),
                  num_workers=env_int("DMLC_NUM_WORKER", 1),
                  verbose=env_int("PS_VERBOSE", 0),
                  connect_timeout=env_float("PSNET_CONNECT_TIMEOUT", 60.0),
                  timeout=env_float("PSNET_KVSTORE_TIMEOUT", 600.0),
                  heartbeat_interval=env_float("PSNET_HEARTBEAT_INTERVAL", 1.0),
                  heartbeat_timeout=env_float("PSNET_HEARTBEAT_TIMEOUT", 10.0),
                  recovery_timeout=env_float("PSNET_RECOVERY_TIMEOUT", 60.0),
                  cluster_key=load_cluster_key(),
                  bigarray_bound=env_int("MXNET_KVSTORE_BIGARRAY_BOUND", 1000000),
                  rank_hint=env_int("DMLC_RANK", None))
        # a server's I/O threads do the kernel copies of all its workers' traffic; ZeroMQ
        # spreads the workers' connections over them, so each worker's copies run in
        # parallel (1 MB push+pull rounds, 2 workers, one server: 14% shorter with 2)
        cfg.server_io_threads = env_int("PSNET_SERVER_IO_THREADS",
                                        max(1, min(cfg.num_workers, os.cpu_count() or 1, 4)))
        if cfg.num_servers < 1 or cfg.num_workers < 1:
            raise MXNetError("DMLC_NUM_SERVER=%d and DMLC_NUM_WORKER=%d must both be at least 1"
                             % (cfg.num_servers, cfg.num_workers))
        cfg.node_host = _node_host(cfg.root_uri)
        return cfg

    @property
    def scheduler_address(self):
        """The scheduler's ZeroMQ endpoint ``tcp://host:port``."""
        return "tcp://%s:%d" % (self.root_uri, self.root_port)


def _node_host(root_uri):
    """The address this node binds: DMLC_NODE_HOST, DMLC_INTERFACE's address, or a guess."""
    host = env_str("DMLC_NODE_HOST")
    if host:
        return host
    iface = env_str("DMLC_INTERFACE")
    if iface:
        return interface_address(iface)
    if root_uri in ("127.0.0.1", "localhost", "::1"):
        return "127.0.0.1"
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:  # no packet is sent: connect() on UDP only picks the outgoing interface
        probe.connect((root_uri, 9))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def interface_address(name):
    """The IPv4 address of network interface ``name`` (Linux), e.g. ``'eth0'``."""
    import fcntl
    import struct
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = fcntl.ioctl(sock.fileno(), 0x8915,  # SIOCGIFADDR
                             struct.pack("256s", name.encode()[:15]))
    except OSError as e:
        raise MXNetError("DMLC_INTERFACE=%s: cannot read its IPv4 address (%s)" % (name, e)) from None
    finally:
        sock.close()
    return socket.inet_ntoa(packed[20:24])


def setup_logging(cfg, who):
    """A logger for one node (``who`` like ``'server 0'``); PS_VERBOSE sets its level."""
    logger = logging.getLogger("psnet.kvstore.dist." + who.replace(" ", ""))
    level = logging.DEBUG if cfg.verbose >= 2 else logging.INFO if cfg.verbose >= 1 else logging.WARNING
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s " + who + "] %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    return logger
