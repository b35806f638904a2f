"""``mx.kv``: key-value stores of NDArrays for data-parallel training.

``mx.kv.create('local' | 'device')`` gives an in-process store (:mod:`.local`);
``'dist_sync'``, ``'dist_async'``... give the parameter-server stores of
:mod:`psnet.kvstore.dist` (imported only when asked for).  User stores subclass
:class:`KVStoreBase` and register with ``@mx.kv.KVStoreBase.register``.
"""
from .base import KVStoreBase, create

__all__ = ["KVStoreBase", "create", "KVStore"]


def __getattr__(name):
    if name == "KVStore":
        from .local import KVStore
        return KVStore
    raise AttributeError("module 'psnet.kvstore' has no attribute %r" % (name,))
