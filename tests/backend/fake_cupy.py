"""A NumPy-backed stand-in for CuPy.  THIS IS A TEST DOUBLE, not a GPU implementation.

It lets ``tests/backend`` run psnet's real :class:`~psnet.backend.cupy_backend.CupyBackend`
code paths on a machine without CUDA, and it is strict where real CuPy is strict, so
host/device mix-ups fail here the way they would on a GPU:

* :class:`ndarray` is its own class (module ``cupy``), not a NumPy subclass; implicit
  conversion to NumPy (``np.asarray(x)``, ``np.array(x)``) raises ``TypeError`` as
  CuPy's ``__array__`` does.  ``.get()``, ``cupy.asnumpy``, ``float(x)``, ``x.item()`` work.
* Mixing a device array with a NumPy array in one operation raises ``TypeError``.
* Every array remembers the device that was current when it was made.  Using it while
  another device is current raises ``ValueError`` (CuPy without peer access) or, with
  ``peer_access=True``, works but is counted in ``FakeState.peer_accesses`` and puts the
  result on the current device, as CuPy does over peer access (the fixture fails a test
  that did so: the result was misplaced or the data crossed the bus silently).  Only
  ``x.copy()`` crosses devices on purpose (onto the current device, as CuPy documents).
* Ufuncs have no ``.at`` (CuPy before v13): scatter-adds must use ``cupyx.scatter_add``.
* NumPy ufuncs applied to device arrays run as CuPy's (``np.float32(2) * x`` works, as
  with CuPy), but NumPy *functions* (``np.concatenate``, ``np.where``...) on device arrays
  raise ``TypeError``: stricter than CuPy, which dispatches only those it implements, so
  psnet code must use ``xp``.

:func:`install` builds fresh ``cupy``/``cupyx`` module objects with a given number of
devices; the ``fake_gpu`` fixture in ``conftest.py`` puts them into ``sys.modules``.
"""
import operator
import types
import weakref

import numpy as np

__all__ = ["install", "ndarray", "FakeState"]


class FakeState:
    """Mutable state of one fake installation: device count, current device, counters."""

    def __init__(self, n_devices, peer_access=False):
        self.n_devices = n_devices
        self.peer_access = peer_access
        self.peer_accesses = []  # (array's device, current device) of each cross-device use
        self.current = 0
        self.synchronized = 0  # Device.synchronize / Stream.synchronize calls
        self.pinned_allocs = 0
        self.nccl_allreduces = 0

    def check_device(self, dev):
        """Using an array of device ``dev``: recorded with peer access, else ValueError
        unless ``dev`` is the current device."""
        if dev != self.current:
            if self.peer_access:
                self.peer_accesses.append((dev, self.current))
                return
            raise ValueError("fake cupy: array on device %d used while device %d is current"
                             % (dev, self.current))


_STATE = FakeState(0)  # replaced by install()


def _wrap(a, dev=None):
    """A fake device array holding the NumPy array (or scalar) ``a``."""
    r = object.__new__(ndarray)
    r._a = np.asarray(a)
    r._dev = _STATE.current if dev is None else dev
    return r


def _unwrap(obj):
    """Replace device arrays by their NumPy data, refusing NumPy arrays (host data)."""
    if isinstance(obj, ndarray):
        _STATE.check_device(obj._dev)
        return obj._a
    if isinstance(obj, np.ndarray):
        raise TypeError("fake cupy: unsupported type %s (a host array mixed with device arrays)"
                        % type(obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    return obj


def _wrap_result(r):
    if isinstance(r, (np.ndarray, np.generic)):
        return _wrap(r)
    if isinstance(r, tuple):
        return tuple(_wrap_result(x) for x in r)
    if isinstance(r, list):
        return [_wrap_result(x) for x in r]
    return r


def _apply(fn, args, kwargs):
    out = kwargs.get("out")
    kw = {k: _unwrap(v) for k, v in kwargs.items()}
    r = fn(*[_unwrap(a) for a in args], **kw)
    if out is not None:
        return out[0] if isinstance(out, tuple) and len(out) == 1 else out
    return _wrap_result(r)


def _key(key):
    """An index with device arrays replaced by their data (host index arrays are allowed)."""
    if isinstance(key, ndarray):
        _STATE.check_device(key._dev)
        return key._a
    if isinstance(key, tuple):
        return tuple(_key(k) for k in key)
    return key


_METHODS = frozenset("""all any argmax argmin argsort astype clip conj cumprod cumsum diagonal dot
fill flatten max mean min nonzero prod ravel repeat reshape round sort squeeze std sum swapaxes
take trace transpose var view""".split())
_VIEW_METHODS = frozenset("reshape transpose view squeeze swapaxes".split())  # no kernel: any device
_HOST_METHODS = frozenset(("tolist", "tobytes", "item"))  # implicit device-to-host copies


class ndarray:
    """A fake device array: NumPy data plus the id of the device it lives on."""

    __slots__ = ("_a", "_dev", "__weakref__")
    __array_priority__ = 100.0

    def __init__(self, shape, dtype=float):
        self._a = np.empty(shape, dtype)
        self._dev = _STATE.current

    # ---- what real CuPy refuses or converts
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        return _apply(ufunc, inputs, kwargs)  # e.g. np.float32(2) * x, as CuPy allows

    def __array_function__(self, func, types_, args, kwargs):
        return NotImplemented  # likewise numpy functions (CuPy would dispatch some of them)

    def get(self, stream=None, out=None):
        """A NumPy copy in host memory (written into ``out`` when given)."""
        if out is None:
            return self._a.copy()
        out[...] = self._a
        return out

    def set(self, arr):
        """Copy the host array ``arr`` (same shape and dtype, as CuPy requires) into this array."""
        _STATE.check_device(self._dev)
        if not isinstance(arr, np.ndarray) or arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError("fake cupy: set() needs a host array of shape %s and dtype %s"
                             % (self.shape, self.dtype))
        self._a[...] = arr

    def copy(self, order="C"):
        """A copy on the *current* device (the one call that may cross devices)."""
        return _wrap(self._a.copy(order))

    # ---- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: _apply(np.transpose, (self,), {}))

    @property
    def device(self):
        """The fake Device holding this array."""
        return _Device(self._dev)

    @property
    def data(self):
        """The memory "pointer" (an id the fake NCCL resolves back to this array)."""
        _BY_PTR[id(self)] = self
        return types.SimpleNamespace(ptr=id(self), device_id=self._dev)

    def _view(self, r):
        """``r`` computed from this array's data: a view stays on this array's device
        (no kernel ran), anything else is a kernel result on the current device."""
        if np.may_share_memory(r, self._a):
            return _wrap(r, self._dev)
        _STATE.check_device(self._dev)
        return _wrap(r)

    def __getattr__(self, name):
        if name in _VIEW_METHODS:
            bound = getattr(self._a, name)
            return lambda *a, **k: self._view(bound(*a, **k))
        if name in _METHODS:
            bound = getattr(self._a, name)
            return lambda *a, **k: (_STATE.check_device(self._dev), _apply(bound, a, k))[1]
        if name in _HOST_METHODS:
            return getattr(self._a, name)
        raise AttributeError("fake cupy.ndarray has no attribute %r" % name)

    # ---- Python protocol
    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(r, self._dev) for r in self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return operator.index(self._a)

    def __repr__(self):
        return "fake_cupy.array(%r, device=%d)" % (self._a.tolist(), self._dev)

    __hash__ = None

    def __getitem__(self, key):
        return self._view(self._a[_key(key)])

    def __setitem__(self, key, value):
        _STATE.check_device(self._dev)
        if isinstance(value, ndarray):
            _STATE.check_device(value._dev)
            value = value._a
        self._a[_key(key)] = value


def _binary(fn):
    return lambda self, other: _apply(fn, (self, other), {})


def _reflected(fn):
    return lambda self, other: _apply(fn, (other, self), {})


def _inplace(fn):
    def method(self, other):
        _STATE.check_device(self._dev)
        fn(self._a, _unwrap(other))
        return self
    return method


ndarray.__module__ = "cupy"  # how psnet.backend.get_array_module recognises CuPy arrays
for _n in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
           "lshift", "rshift"):
    _f = getattr(operator, _n + "_" if _n in ("and", "or") else _n)
    setattr(ndarray, "__%s__" % _n, _binary(_f))
    setattr(ndarray, "__r%s__" % _n, _reflected(_f))
    setattr(ndarray, "__i%s__" % _n, _inplace(getattr(operator, "i" + _n)))
for _n in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(ndarray, "__%s__" % _n, _binary(getattr(operator, _n)))
for _n in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, "__%s__" % _n, (lambda f: lambda self: _apply(f, (self,), {}))(getattr(operator, _n)))


class _Device:
    """``cupy.cuda.Device``: a context manager making a device current."""

    def __init__(self, device=None):
        self.id = _STATE.current if device is None else int(device)
        self._prev = []

    def _check(self):
        if not 0 <= self.id < _STATE.n_devices:
            raise RuntimeError("cudaErrorInvalidDevice: invalid device ordinal %d" % self.id)

    def use(self):
        """Make this device current."""
        self._check()
        _STATE.current = self.id

    def __enter__(self):
        self._check()
        self._prev.append(_STATE.current)
        _STATE.current = self.id
        return self

    def __exit__(self, *exc):
        _STATE.current = self._prev.pop()

    def synchronize(self):
        """Wait for the device (counted in FakeState.synchronized)."""
        _STATE.synchronized += 1

    def __eq__(self, other):
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)


class _Stream:
    """``cupy.cuda.Stream``: NumPy work is finished when it returns."""

    done = True
    ptr = 0

    def synchronize(self):
        _STATE.synchronized += 1


_BY_PTR = weakref.WeakValueDictionary()  # fake pointers of arrays handed to NCCL


class _NcclCommunicator:
    """``cupy.cuda.nccl.NcclCommunicator`` for one process driving several devices."""

    pending = None  # the all-reduces of the open group: (communicator, send, recv, count)

    def __init__(self, device, devices):
        self.device, self.devices = device, devices

    @staticmethod
    def initAll(devices):
        """One communicator per device id of ``devices``."""
        return [_NcclCommunicator(d, list(devices)) for d in devices]

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        """Queue a sum all-reduce; it runs at groupEnd() once every device has joined."""
        if _NcclCommunicator.pending is None:
            raise RuntimeError("fake NCCL: allReduce outside groupStart()/groupEnd() in one process")
        send, recv = _BY_PTR[sendbuf], _BY_PTR[recvbuf]
        for a in (send, recv):
            if a._dev != self.device or a._dev != _STATE.current:
                raise ValueError("fake NCCL: buffer on device %d for the communicator of device %d "
                                 "(current %d)" % (a._dev, self.device, _STATE.current))
        _NcclCommunicator.pending.append((self, send, recv, count))


def _nccl_group_start():
    _NcclCommunicator.pending = []


def _nccl_group_end():
    ops, _NcclCommunicator.pending = _NcclCommunicator.pending, None
    if sorted(c.device for c, _, _, _ in ops) != sorted(ops[0][0].devices):
        raise RuntimeError("fake NCCL: an all-reduce needs every device of its communicators")
    total = sum(s._a.reshape(-1)[:n] for _, s, _, n in ops)
    for _, _, r, n in ops:
        r._a.reshape(-1)[:n] = total
    _STATE.nccl_allreduces += 1


class _Generator:
    """``cupy.random.Generator``: NumPy's generator, results on the current device."""

    _API = ("random", "standard_normal", "standard_gamma", "standard_exponential", "poisson",
            "integers", "uniform", "binomial", "beta")

    def __init__(self, seed):
        self._g = np.random.default_rng(seed)

    def __getattr__(self, name):
        if name not in self._API:
            raise AttributeError("fake cupy.random.Generator has no method %r" % name)
        return lambda *a, **k: _apply(getattr(self._g, name), a, k)


class _MemoryPool:
    def free_all_blocks(self):
        """Nothing is cached by the double."""

    def used_bytes(self):
        return 0


def _scatter_add(a, slices, value):
    """``cupyx.scatter_add``: unbuffered in-place add at ``slices`` (numpy.add.at)."""
    _STATE.check_device(a._dev)
    np.add.at(a._a, _key(slices), _unwrap(value))


def _to_host(a, stream=None, out=None):
    if isinstance(a, ndarray):
        return a._a.copy()
    return np.asarray(a)


def _to_device(a, dtype=None, order=None):
    """``cupy.asarray``: host data is copied to the current device; device arrays pass through."""
    if isinstance(a, ndarray):
        return a if dtype is None else a.astype(dtype, copy=False)
    return _wrap(np.array(a, dtype=dtype, order=order or "K", copy=True))


def _array(a, dtype=None, copy=True, order="K", ndmin=0):
    if isinstance(a, ndarray):
        return a.copy().astype(dtype or a.dtype)
    return _wrap(np.array(a, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def _namespace(name, source, extra=None):
    """A module wrapping ``source``'s functions so they take and return device arrays."""
    mod = types.ModuleType(name)

    def getattr_(attr):
        obj = getattr(source, attr)
        if isinstance(obj, np.ufunc):
            w = _Ufunc(obj)
        elif callable(obj) and not isinstance(obj, type):
            w = (lambda f: lambda *a, **k: _apply(f, a, k))(obj)
        else:
            w = obj
        setattr(mod, attr, w)
        return w
    mod.__getattr__ = getattr_
    for k, v in (extra or {}).items():
        setattr(mod, k, v)
    return mod


class _Ufunc:
    """A CuPy ufunc: callable, with reduce/accumulate/outer but (like CuPy < 13) no ``at``."""

    def __init__(self, uf):
        self._uf = uf
        self.__name__ = uf.__name__

    def __call__(self, *a, **k):
        return _apply(self._uf, a, k)

    def reduce(self, *a, **k):
        return _apply(self._uf.reduce, a, k)

    def accumulate(self, *a, **k):
        return _apply(self._uf.accumulate, a, k)

    def outer(self, *a, **k):
        return _apply(self._uf.outer, a, k)


def install(n_devices=2, peer_access=False):
    """Fresh ``(cupy, cupyx, state)`` module objects simulating ``n_devices`` devices."""
    global _STATE
    _STATE = FakeState(n_devices, peer_access)
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: _STATE.n_devices,
        getDevice=lambda: _STATE.current,
        setDevice=lambda i: _Device(i).use(),
        memGetInfo=lambda: (15 << 30, 16 << 30),
        getDeviceProperties=lambda i: {"name": b"fake CUDA device %d" % i})

    def alloc_pinned_memory(nbytes):
        _STATE.pinned_allocs += 1
        return bytearray(nbytes)

    nccl = types.SimpleNamespace(available=True, NcclCommunicator=_NcclCommunicator, NCCL_SUM=0,
                                 groupStart=_nccl_group_start, groupEnd=_nccl_group_end,
                                 **{n: i for i, n in enumerate(("NCCL_FLOAT16", "NCCL_FLOAT32", "NCCL_FLOAT64",
                                                                "NCCL_INT32", "NCCL_INT64", "NCCL_UINT8"))})
    cuda = types.SimpleNamespace(Device=_Device, runtime=runtime, Stream=_Stream, nccl=nccl,
                                 get_current_stream=lambda: _Stream(),
                                 alloc_pinned_memory=alloc_pinned_memory)
    random = types.SimpleNamespace(default_rng=lambda seed=None: _Generator(seed))
    pool = _MemoryPool()
    stride_tricks = _namespace("cupy.lib.stride_tricks", np.lib.stride_tricks)
    cupy = _namespace("cupy", np, {
        "ndarray": ndarray, "cuda": cuda, "random": random, "asnumpy": _to_host,
        "asarray": _to_device, "array": _array, "get_default_memory_pool": lambda: pool,
        "get_default_pinned_memory_pool": lambda: pool,
        "linalg": _namespace("cupy.linalg", np.linalg),
        "lib": types.SimpleNamespace(stride_tricks=stride_tricks),
        "get_array_module": lambda *a: cupy, "__version__": "13.0.0-fake"})

    def empty_pinned(shape, dtype=float):
        _STATE.pinned_allocs += 1
        return np.empty(shape, dtype)

    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = _scatter_add
    cupyx.empty_pinned = empty_pinned
    cupyx.zeros_pinned = lambda shape, dtype=float: empty_pinned(shape, dtype) * 0
    return cupy, cupyx, _STATE
