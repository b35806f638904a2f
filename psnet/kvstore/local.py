"""The in-process stores: ``'local'`` (aggregates on the CPU) and ``'device'`` (on the devices).

Both keep one stored array per key.  ``push`` sums the values given for a key with
the same pairwise tree in both stores (so both give identical numbers): ``'local'``
first brings every value to the CPU, ``'device'`` adds pairs on the devices holding
them (GPUs when present; several ``cpu(i)`` otherwise) and keeps the stored value on
the first value's device.  Without an updater the sum replaces the stored value; with
one, ``updater(key, sum, stored)`` changes ``stored`` in place.  Every argument is
checked before anything is changed, so an error never leaves a half-updated store.
"""
from ..base import DTypeError, MXKeyError, MXNetError, NotSupportedError, ShapeError
from ..context import cpu
from ..ndarray.ndarray import NDArray, from_backend
from ..optimizer.updater import Updater
from ..storage import open_uri
from .base import KVStoreBase, KeyKind, group_key_values
from .compression import create_compression

__all__ = ["KVStore"]

_DEVICE_TYPES = ("device", "local_allreduce_device")


class KVStore(KVStoreBase):
    """An in-process key-value store of NDArrays (``mx.kv.create('local' | 'device')``)."""

    capabilities = frozenset((KVStoreBase.OPTIMIZER,))

    def __init__(self, kvtype="local"):
        self._type = kvtype
        self._on_device = kvtype in _DEVICE_TYPES
        self._store = {}
        self._keys = KeyKind()
        self._updater = None
        self._compression = None
        self._merge = {}

    # ------------------------------------------------------------------ properties
    @property
    def type(self):
        """``'local'`` or ``'device'`` (the name the store was created with)."""
        return self._type

    # ------------------------------------------------------------------ init / push / pull
    def init(self, key, value):
        """Give each key its initial value (a copy is stored); a key can be initialised once."""
        keys, values = group_key_values(key, value)
        self._keys.check(keys, commit=False)
        seen = set()
        for k, vs in zip(keys, values):
            if k in self._store or k in seen:
                raise MXNetError("key %r is already initialised in this %s store; init each key once "
                                 "(push a new value to change it)" % (k, self._type))
            seen.add(k)
            _check_ndarrays(k, vs, "init")
        self._keys.check(keys)
        for k, vs in zip(keys, values):
            v = vs[0]
            ctx = v.context if self._on_device else cpu()
            self._store[k] = v.copyto(ctx)

    def push(self, key, value, priority=0):
        """Sum the value(s) pushed for each key and store the sum (or hand it to the updater)."""
        keys, values = group_key_values(key, value)
        stored = self._check(keys, values, "push")
        for k, vs, dst in zip(keys, values, stored):
            self._push_one(k, vs, dst)

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        """Copy each key's stored value into every array of ``out`` (one per device)."""
        if out is None:
            raise MXNetError("pull needs out= (the array or arrays to copy the value of key %r into)" % (key,))
        keys, outs = group_key_values(key, out, "out")
        stored = self._check(keys, outs, "pull")
        for src, os_ in zip(stored, outs):
            for o in os_:
                copy_into(o, src)

    def pushpull(self, key, value, out=None, priority=0):
        """``push(key, value)`` then ``pull(key, out)`` (into ``value`` itself when out is None)."""
        self.push(key, value, priority)
        self.pull(key, value if out is None else out, priority)

    def broadcast(self, key, value, out, priority=0):
        """``init(key, value)`` then ``pull(key, out)``."""
        self.init(key, value)
        self.pull(key, out, priority)

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        """Not available: psnet has dense arrays only; use pull()."""
        raise NotSupportedError("row_sparse_pull: psnet arrays are dense; use kv.pull(%r, out)" % (key,))

    # ------------------------------------------------------------------ updaters
    def set_updater(self, updater):
        """Use ``updater(key, input, stored)`` (changing ``stored`` in place) on every push."""
        self._updater = updater

    _set_updater = set_updater

    def set_optimizer(self, optimizer):
        """Run ``optimizer`` (through an :class:`~psnet.optimizer.Updater`) on every push."""
        self._updater = Updater(optimizer)

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Write the optimizer states (psnet's non-pickle format) to ``fname``."""
        with open_uri(fname, "wb") as f:
            f.write(self._optimizer_updater("save_optimizer_states").get_states(dump_optimizer))

    def load_optimizer_states(self, fname):
        """Read optimizer states written by :meth:`save_optimizer_states`."""
        updater = self._optimizer_updater("load_optimizer_states")
        with open_uri(fname, "rb") as f:
            updater.set_states(f.read())

    def set_gradient_compression(self, compression_params):
        """Quantise pushed values (``{'type': '2bit'|'1bit', 'threshold': t}``) with residuals."""
        self._compression = create_compression(compression_params)

    # ------------------------------------------------------------------ internals
    def _optimizer_updater(self, what):
        if not isinstance(self._updater, Updater):
            raise MXNetError("%s: this store has no optimizer; call kv.set_optimizer(opt) first" % what)
        return self._updater

    def _check(self, keys, values, what):
        """The stored arrays of ``keys`` after checking every key and array (nothing changes)."""
        self._keys.check(keys, commit=False)
        stored = []
        for k, vs in zip(keys, values):
            dst = self._store.get(k)
            if dst is None:
                raise MXKeyError("%s: key %r has not been initialised; call kv.init(%r, value) first"
                                 % (what, k, k))
            _check_ndarrays(k, vs, what)
            for v in vs:
                if v.shape != dst.shape:
                    raise ShapeError("%s: key %r holds shape %s but got an array of shape %s"
                                     % (what, k, dst.shape, v.shape))
                if what == "push" and v.dtype != dst.dtype:
                    raise DTypeError("push: key %r holds dtype %s but got an array of dtype %s"
                                     % (k, dst._data.dtype, v._data.dtype))
            stored.append(dst)
        return stored

    def _push_one(self, key, values, dst):
        if self._compression is not None:
            values = [from_backend(self._compression.compress(key, v, i), v.context)
                      for i, v in enumerate(values)]
        if self._updater is None:
            self._reduce_into(values, dst)
            return
        merged = self._merge.get(key)
        if merged is None:
            merged = self._merge[key] = dst.copy()
        self._reduce_into(values, merged)
        self._updater(key, merged, dst)

    def _reduce_into(self, values, out):
        """Write the sum of ``values`` into NDArray ``out`` by a pairwise tree.

        'device' adds each pair on the device of its first array; 'local' moves every
        value to ``out``'s context first.  The order of additions is the same in both,
        so both stores give identical numbers; the last addition writes into ``out``.
        """
        ctx = out.context
        if self._on_device:
            items = [(v._data, v.context) for v in values]
        else:
            items = [(backend_array_on(v._data, v.context, ctx), ctx) for v in values]
        while len(items) > 2:
            nxt = [(ca.backend.xp.add(a, backend_array_on(b, cb, ca)), ca)
                   for (a, ca), (b, cb) in zip(items[0::2], items[1::2])]
            if len(items) % 2:
                nxt.append(items[-1])
            items = nxt
        (a, ca) = items[0]
        if len(items) == 1:
            out._assign_data(backend_array_on(a, ca, ctx))
            return
        b = backend_array_on(items[1][0], items[1][1], ca)
        if ca.backend is ctx.backend:
            ctx.backend.xp.add(a, b, out=out._data)
        else:
            out._assign_data(backend_array_on(ca.backend.xp.add(a, b), ca, ctx))


def _check_ndarrays(key, values, what):
    for v in values:
        if not isinstance(v, NDArray):
            raise MXNetError("%s: the values of key %r must be NDArrays, got %s" % (what, key, type(v).__name__))


def backend_array_on(data, src_ctx, ctx):
    """Backend array ``data`` (living on ``src_ctx``) as an array of ``ctx``'s backend.

    No copy when both contexts share a backend (several ``cpu(i)`` share NumPy); GPU to
    GPU copies go device to device.
    """
    src_b, dst_b = src_ctx.backend, ctx.backend
    if src_b is dst_b:
        return data
    return dst_b.copy_from(data, src_b)


def copy_into(dst, src):
    """Copy NDArray ``src`` into NDArray ``dst`` (same shape), across devices if needed."""
    dst._assign_data(backend_array_on(src._data, src._ctx, dst._ctx))
