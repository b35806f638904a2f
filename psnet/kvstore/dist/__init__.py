"""The distributed KVStore: a scheduler, parameter servers and worker stores over ZeroMQ.

``mx.kv.create('dist_sync')`` (or ``'dist_async'``, ``'dist'``, ``'dist_sync_device'``,
``'dist_device_sync'``...) reaches :func:`create` through :func:`psnet.kvstore.create`.
The modules, one job each: :mod:`.config` (``DMLC_*`` variables), :mod:`.wire` (message
format), :mod:`.node` (registration, heartbeats), :mod:`.scheduler`, :mod:`.server`,
:mod:`.client` (the worker store), :mod:`.codec` (packed compressed gradients),
:mod:`.roles` (starting a role when psnet is imported with ``DMLC_ROLE`` set), and for the
cluster: :mod:`.health` (failure detection), :mod:`.checkpoint` (server snapshots),
:mod:`.recovery` (the workers' replay log), :mod:`.security` (CURVE keys) and
:mod:`.validate` (request checks).  See docs/distributed.md and docs/cluster.md.
"""
from ..base import DIST_TYPES, MXKeyError

__all__ = ["create"]


def create(name="dist_sync"):
    """A worker store of type ``name`` connected to the job the ``DMLC_*`` variables describe."""
    if name not in DIST_TYPES:
        raise MXKeyError("unknown dist KVStore type %r; known: %s" % (name, ", ".join(sorted(DIST_TYPES))))
    from .client import DistKVStore
    return DistKVStore(name)
