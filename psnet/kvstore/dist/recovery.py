"""The worker's replay log: requests a restarted server may not have, resent by their ids.

A server with checkpoints (``--checkpoint-dir``) tells workers, in every answer, the
highest request id of theirs that its latest snapshot covers (``durable``).  A worker keeps
each request it sends to that server (pushes with a private copy of their data, since the
caller may reuse its arrays) until a snapshot covers it.  When the scheduler announces
that the server restarted at a new address, the worker reconnects and resends what the
log still holds, with the original ids; the restarted server skips pushes whose ids its
snapshot already applied, so a retried push is never applied twice.
"""
import collections

import numpy as np

from . import wire

__all__ = ["ReplayLog"]

_READ_ONLY = frozenset(("pull", "flush", "get_states"))


class ReplayLog:
    """Per server: ``rid -> (header, arrays)`` of requests not yet covered by a snapshot."""

    def __init__(self, num_servers):
        self.enabled = [False] * num_servers
        self.entries = [collections.OrderedDict() for _ in range(num_servers)]

    def enable(self, server):
        """``server`` snapshots its state: log what is sent to it from now on."""
        self.enabled[server] = True

    def record(self, server, rid, header, arrays):
        """Remember request ``rid`` (arrays copied: the caller may overwrite its own)."""
        if self.enabled[server]:
            self.entries[server][rid] = (header, [np.array(wire.plain(a), copy=True) for a in arrays])

    def durable(self, server, upto):
        """A snapshot of ``server`` covers every request up to id ``upto``: forget them."""
        log = self.entries[server]
        while log:
            rid = next(iter(log))
            if rid > upto:
                break
            del log[rid]

    def drop(self, server, rid):
        """Forget one answered request that changes nothing on the server (pull, flush, get_states)."""
        header = self.entries[server].get(rid, ({}, None))[0]
        if header.get("op") in _READ_ONLY:
            del self.entries[server][rid]

    def replay(self, server):
        """``[(header, arrays)]`` to resend to a restarted ``server``, oldest first."""
        return list(self.entries[server].values())
