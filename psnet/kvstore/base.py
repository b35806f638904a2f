"""The KVStore interface every store implements, the store registry and ``mx.kv.create``.

:class:`KVStoreBase` is MXNet's plugin point: a class decorated with
``@KVStoreBase.register`` is created by ``mx.kv.create(<class name in lower case>)`` and
accepted by ``gluon.Trainer(kvstore=...)`` (this is how Horovod and BytePS plugged into
MXNet).  psnet's own stores subclass it too: ``'local'``/``'device'`` in
:mod:`psnet.kvstore.local`, the ``dist_*`` stores in :mod:`psnet.kvstore.dist`.

Seam with the distributed stores: ``create('dist_sync' | 'dist_async' | ...)`` imports
:mod:`psnet.kvstore.dist` lazily and calls its ``create(name)``, which returns a
:class:`KVStoreBase` subclass instance.  The helpers :func:`group_key_values` and
:class:`KeyKind` give every store MXNet's argument conventions (one key or a list of
keys; one value or a list of per-device values per key; int or str keys, never mixed).
"""
import importlib

from ..base import MXKeyError, MXNetError, NotSupportedError
from ..registry import Registry

__all__ = ["KVStoreBase", "create", "group_key_values", "KeyKind", "DIST_TYPES"]

# store names served by psnet.kvstore.dist (MXNet 1.9.1 accepts all of these)
DIST_TYPES = frozenset(("dist", "dist_sync", "dist_async", "dist_sync_device", "dist_device_sync",
                        "dist_async_device", "dist_device_async"))


class KVStoreBase:
    """The interface of a key-value store of NDArrays (MXNet's ``mx.kv.KVStoreBase``).

    Subclasses implement :meth:`broadcast` and :meth:`pushpull` at least; psnet's stores
    also implement ``init``/``push``/``pull``.  :meth:`is_capable` tells the Trainer
    whether the store can run the optimizer itself (``KVStoreBase.OPTIMIZER``).
    """

    kv_registry = None  # the Registry of store classes, set below the class
    OPTIMIZER = "optimizer"
    #: capabilities this class has (names such as ``KVStoreBase.OPTIMIZER``)
    capabilities = frozenset()

    def broadcast(self, key, value, out, priority=0):
        """Initialise ``key`` with ``value`` and pull it into ``out``."""
        raise NotSupportedError("%s does not implement broadcast()" % type(self).__name__)

    def pushpull(self, key, value, out=None, priority=0):
        """Push ``value`` for ``key`` and pull the result into ``out`` (``value`` when None)."""
        raise NotSupportedError("%s does not implement pushpull()" % type(self).__name__)

    def set_optimizer(self, optimizer):
        """Run ``optimizer`` inside the store on every push."""
        raise NotSupportedError("%s does not implement set_optimizer()" % type(self).__name__)

    @classmethod
    def is_capable(cls, capability):
        """Whether this store type has ``capability`` (e.g. ``KVStoreBase.OPTIMIZER``)."""
        return capability.lower() in cls.capabilities

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Save the store's optimizer state to ``fname``."""
        raise NotSupportedError("%s does not implement save_optimizer_states()" % type(self).__name__)

    def load_optimizer_states(self, fname):
        """Load the store's optimizer state from ``fname``."""
        raise NotSupportedError("%s does not implement load_optimizer_states()" % type(self).__name__)

    @property
    def type(self):
        """The store's type name (``'local'``, ``'dist_sync'``...)."""
        return type(self).__name__.lower()

    @property
    def rank(self):
        """This worker's rank (0 for in-process stores)."""
        return 0

    @property
    def num_workers(self):
        """Number of workers (1 for in-process stores)."""
        return 1

    @staticmethod
    def register(klass):
        """Class decorator: ``mx.kv.create(klass.__name__.lower())`` will build ``klass()``."""
        return KVStoreBase.kv_registry.register(klass)


KVStoreBase.kv_registry = Registry("KVStore", base=KVStoreBase)


def create(name="local"):
    """Create a store: ``'local'``, ``'device'``, a ``dist_*`` type, or a registered class name.

    A ``KVStoreBase`` instance passed in is returned as is.
    """
    if isinstance(name, KVStoreBase):
        return name
    if not isinstance(name, str):
        raise MXNetError("mx.kv.create takes a store name, got %r" % (name,))
    key = name.lower()
    if key in KVStoreBase.kv_registry:
        return KVStoreBase.kv_registry[key]()
    if key in ("local", "device", "local_update_cpu", "local_allreduce_cpu", "local_allreduce_device"):
        from .local import KVStore
        return KVStore(key)
    if key == "nccl":
        from .nccl import NcclKVStore
        return NcclKVStore()
    if key in DIST_TYPES:
        dist = importlib.import_module("psnet.kvstore.dist")
        return dist.create(key)
    raise MXKeyError("unknown KVStore type %r; known: local, device, nccl, %s, or a class registered with "
                     "@mx.kv.KVStoreBase.register (registered: %s)"
                     % (name, ", ".join(sorted(DIST_TYPES)), ", ".join(sorted(KVStoreBase.kv_registry)) or "none"))


def _is_list(x):
    return isinstance(x, (list, tuple))


def group_key_values(key, value, what="value"):
    """MXNet's argument forms as ``(keys, [[values of key 0], [values of key 1], ...])``.

    ``key`` is one key or a list; ``value`` is one NDArray, a list of NDArrays (one per
    device) for one key, or for a list of keys a list with one NDArray or one list of
    NDArrays per key.  ``what`` names the argument in errors.
    """
    if _is_list(key):
        keys = list(key)
        if not _is_list(value) or len(value) != len(keys):
            raise MXNetError("%d keys need a list of %d %ss, got %s"
                             % (len(keys), len(keys), what, _describe(value)))
        if keys and len(keys) == len(value) and not any(_is_list(v) for v in value):
            return keys, [[v] for v in value]
        return keys, [list(v) if _is_list(v) else [v] for v in value]
    if _is_list(value):
        return [key], [list(value)]
    return [key], [[value]]


def _describe(value):
    return "a list of %d" % len(value) if _is_list(value) else type(value).__name__


class KeyKind:
    """Remembers whether a store uses int or str keys and rejects the other kind (as MXNet does)."""

    __slots__ = ("kind",)

    def __init__(self):
        self.kind = None

    def check(self, keys, commit=True):
        """Raise when ``keys`` are not all int or all str, or differ from the store's kind.

        With ``commit`` the keys' kind becomes the store's kind when it has none yet; a
        store passes ``commit=False`` where a failing call must not fix it (push, pull).
        """
        kind = self.kind
        for k in keys:
            if isinstance(k, bool) or not isinstance(k, (int, str)):
                raise MXKeyError("KVStore keys are int or str, got %r (%s)" % (k, type(k).__name__))
            this = str if isinstance(k, str) else int
            if kind is None:
                kind = this
            elif this is not kind:
                raise MXKeyError("key %r is of type %s but this store uses %s keys; one store cannot "
                                 "mix int and str keys" % (k, this.__name__, kind.__name__))
        if commit:
            self.kind = kind
