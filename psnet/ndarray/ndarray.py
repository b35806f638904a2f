"""The NDArray: an array on a context, a handle for autograd, MXNet 1.x semantics.

An NDArray holds a backend array (``_data``: NumPy on CPUs, CuPy on GPUs) and its
:class:`~psnet.context.Context`.  Operators run through :func:`invoke`, the single
dispatcher between user calls and the :mod:`psnet.ops` registry; it checks contexts,
calls the op's forward on raw arrays and, while ``autograd.record()`` is active, puts
the call on the tape.  In-place operators (``+=``, ``a[:] = ...``) mutate the same
buffer, so every alias sees the change, as in MXNet.
"""
import numpy as np

from ..base import (ContextError, DTypeError, MXIndexError, MXNetError, NotSupportedError, ShapeError,
                    normalize_dtype, numeric_types)
from ..context import Context, current_context
from ..ops import registry as _reg
from ..ops.indexing import is_basic_key as _is_basic_key, is_first_axis_key as _is_first_axis_key

__all__ = ["NDArray", "invoke", "array", "empty", "zeros", "ones", "full", "ag_state", "from_backend"]


class _AutogradState:
    """Global autograd switches (owned here so the dispatcher reads them without imports)."""

    __slots__ = ("recording", "training")

    def __init__(self):
        self.recording = False
        self.training = False


ag_state = _AutogradState()
_record = None  # psnet.autograd.tape.record_op, bound on first recorded call
_tape_module = None


def _tape():
    """:mod:`psnet.autograd.tape`, bound on first use (it imports this module)."""
    global _tape_module
    if _tape_module is None:
        from ..autograd import tape
        _tape_module = tape
    return _tape_module


def _get_recorder():
    global _record
    if _record is None:
        _record = _tape().record_op
    return _record


_new = object.__new__
# GPU arrays skip the dunder fast paths below: CuPy computes on the *current* device, and
# invoke() makes the array's own device current first (several GPUs in one process)
_GPU = Context.devstr2type["gpu"]
_DTYPES = {}


def as_dtype(dtype):
    """``normalize_dtype(dtype)`` (float32 for None), memoised: creation calls it every time."""
    try:
        return _DTYPES[dtype]
    except (KeyError, TypeError):  # TypeError: an unhashable dtype spec
        dt = normalize_dtype(dtype)
        try:
            _DTYPES[dtype] = dt
        except TypeError:
            pass
        return dt


def from_backend(data, ctx):
    """Wrap a backend array (no copy) as an NDArray on ``ctx``; 0-d becomes shape (1,)."""
    if data.ndim == 0:
        data = data.reshape(1)
    r = _new(NDArray)
    r._data = data
    r._ctx = ctx
    r._ag = None
    return r


def _raise_ctx_mismatch(op, inputs):
    ctxs = []
    for x in inputs:
        if x._ctx not in ctxs:
            ctxs.append(x._ctx)
    raise ContextError("operator %s got arrays on different contexts %s; copy them to one context "
                       "first with .as_in_context(ctx) (psnet never copies silently)"
                       % (op.name, " and ".join(map(str, ctxs))))


def invoke(op, inputs, attrs, out=None, ctx=None):
    """Run registry op ``op`` on NDArrays ``inputs`` with attributes ``attrs``.

    Returns the visible output(s): one NDArray, or a list when the op has several.
    ``out`` (an NDArray or list) receives the result in place.  ``ctx`` is the context
    of ops without array inputs (creation, sampling).
    """
    n = len(inputs)
    if n:
        x0 = inputs[0]
        ctx = x0._ctx
        if n > 1:
            for x in inputs:
                if x._ctx is not ctx and x._ctx != ctx:
                    _raise_ctx_mismatch(op, inputs)
    elif ctx is None:
        ctx = current_context()
    backend = ctx._backend
    if backend is None:
        backend = ctx.backend
    if op.needs_train or op.needs_rng:
        attrs = dict(attrs)
        if op.needs_train:
            attrs["is_train"] = ag_state.training
        if op.needs_rng:
            attrs["rng"] = backend.rng(ctx)
    try:
        if n == 1:
            res = op.forward(backend.xp, x0._data, **attrs)
        elif n == 2:
            res = op.forward(backend.xp, x0._data, inputs[1]._data, **attrs)
        else:
            res = op.forward(backend.xp, *[x._data for x in inputs], **attrs)
    except MXNetError:
        raise
    except ValueError as e:
        raise ShapeError("%s: %s (input shapes %s)" % (op.name, e, _shapes(inputs))) from None
    except TypeError as e:
        # a missing or unknown attribute also surfaces as a TypeError: name it as such
        op.full_attrs({k: v for k, v in attrs.items() if k not in ("is_train", "rng")})
        raise DTypeError("%s: %s (input dtypes %s)" % (op.name, e, _dtypes(inputs))) from None
    except IndexError as e:
        raise MXIndexError("%s: %s (input shapes %s)" % (op.name, e, _shapes(inputs))) from None
    if type(res) is tuple or type(res) is list:
        outs = [from_backend(r, ctx) for r in res]
    else:
        r = from_backend(res, ctx)
        if out is None and not ag_state.recording and op.num_visible_outputs == 1:
            return r
        outs = [r]
    if out is not None:
        targets = out if isinstance(out, (list, tuple)) else [out]
        for t, o in zip(targets, outs):
            t._assign_data(o._data)
        outs[:len(targets)] = targets
    if ag_state.recording and op.grad is not None:
        for x in inputs:
            if x._ag is not None:
                _get_recorder()(op, attrs, inputs, outs)
                break
    nvis = op.num_visible_outputs
    if nvis == 1:
        return outs[0]
    if callable(nvis):
        nvis = nvis(attrs)
        if nvis == 1:
            return outs[0]
    return outs[:nvis]


def _shapes(inputs):
    return ", ".join(str(tuple(x._data.shape)) for x in inputs) or "none"


def _dtypes(inputs):
    return ", ".join(str(x._data.dtype) for x in inputs) or "none"


def _op(name):
    return _reg.get(name)


class NDArray:
    """A multi-dimensional array on a device (MXNet's ``mx.nd.NDArray``)."""

    __slots__ = ("_data", "_ctx", "_ag", "__weakref__")
    __array_priority__ = 1000.0  # numpy scalars defer to our reflected operators

    def __init__(self, data, ctx=None, dtype=None):
        ctx = ctx if ctx is not None else current_context()
        if isinstance(data, NDArray):
            data = data.asnumpy()
        arr = np.asarray(data, dtype=as_dtype(dtype) if dtype is not None else None)
        self._data = ctx.backend.from_numpy(arr if arr.ndim else arr.reshape(1))
        self._ctx = ctx
        self._ag = None

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self):
        """The shape tuple."""
        return self._data.shape

    @property
    def size(self):
        """Number of elements."""
        return self._data.size

    @property
    def ndim(self):
        """Number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self):
        """The element type as a NumPy type (``numpy.float32``...), as MXNet returns it."""
        return self._data.dtype.type

    @property
    def context(self):
        """The context (device) the array lives on."""
        return self._ctx

    ctx = context

    @property
    def stype(self):
        """Storage type; psnet arrays are always ``'default'`` (dense)."""
        return "default"

    @property
    def writable(self):
        """Whether the array may be written (always True in psnet)."""
        return True

    def tostype(self, stype):
        """This array in storage type ``stype``; psnet stores only ``'default'`` (dense)."""
        if stype != "default":
            raise NotSupportedError("psnet arrays are dense: storage type %r is not supported (use 'default')"
                                    % (stype,))
        return self

    @property
    def handle(self):
        """The backend array (psnet's counterpart of MXNet's C handle)."""
        return self._data

    @property
    def T(self):
        """Transpose (all axes reversed)."""
        return invoke(_op("transpose"), [self], {})

    @property
    def grad(self):
        """The gradient buffer attached by :meth:`attach_grad`, or None."""
        ag = self._ag
        return getattr(ag, "grad", None)

    # ------------------------------------------------------------------ conversion
    def asnumpy(self):
        """A NumPy copy of the values (synchronises, like MXNet)."""
        return np.array(self._ctx.backend.asnumpy(self._data), copy=True)

    def asscalar(self):
        """The value of a one-element array as a NumPy scalar."""
        if self.size != 1:
            raise ShapeError("asscalar() needs an array of one element, got shape %s" % (self.shape,))
        return self.asnumpy().reshape(())[()]

    def __array__(self, dtype=None, copy=None):
        a = self._ctx.backend.asnumpy(self._data)
        return a if dtype is None else a.astype(dtype, copy=False)

    def astype(self, dtype, copy=True):
        """A copy converted to ``dtype`` (no copy when ``copy=False`` and the dtype already matches)."""
        dt = as_dtype(dtype)
        if not copy and self._data.dtype == dt:
            return self
        return invoke(_op("cast"), [self], {"dtype": dt.name})

    def copy(self):
        """A new array with the same values on the same context."""
        return self.copyto(self._ctx)

    def copyto(self, other):
        """Copy into an NDArray (returned) or onto a context (a new array)."""
        if isinstance(other, NDArray):
            if other is self:
                return self
            if other.shape != self.shape:
                raise ShapeError("copyto: shape %s does not match the target's shape %s"
                                 % (self.shape, other.shape))
            src = self if other._ctx == self._ctx else self.as_in_context(other._ctx)
            other._assign_data(src._data)
            return other
        if isinstance(other, Context):
            if other == self._ctx:
                b = self._ctx.backend
                return from_backend(b.copy_from(self._data, b), self._ctx)
            return self._to_context(other)
        raise DTypeError("copyto takes an NDArray or a Context, got %s" % type(other).__name__)

    def as_in_context(self, context):
        """This array on ``context``: itself when it is already there, else a copy."""
        if context == self._ctx:
            return self
        return self._to_context(context)

    as_in_ctx = as_in_context

    def _to_context(self, ctx):
        out = from_backend(ctx.backend.copy_from(self._data, self._ctx.backend), ctx)
        if ag_state.recording and self._ag is not None:
            _get_recorder()(_reg.get("_copyto"), {"ctx": ctx}, [self], [out])
        return out

    def tolist(self):
        """Nested Python lists of the values."""
        return self.asnumpy().tolist()

    def wait_to_read(self):
        """Block until pending writes to this array are done."""
        self._ctx.backend.synchronize()

    def wait_to_write(self):
        """Block until pending reads and writes of this array are done."""
        self._ctx.backend.synchronize()

    # ------------------------------------------------------------------ autograd
    def attach_grad(self, grad_req="write", stype=None):
        """Allocate a gradient buffer and mark this array as a variable to differentiate."""
        _tape().mark_leaf(self, zeros(self.shape, ctx=self._ctx, dtype=self._data.dtype), grad_req)

    def detach(self):
        """The same values, cut from the autograd graph."""
        return from_backend(self._data, self._ctx)

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Compute gradients of this array w.r.t. the variables it was recorded from."""
        _tape().backward([self], None if out_grad is None else [out_grad], retain_graph, train_mode)

    # ------------------------------------------------------------------ Python protocol
    def __len__(self):
        return self._data.shape[0]

    def __iter__(self):
        for i in range(self._data.shape[0]):
            yield self[i]

    def __bool__(self):
        n = self._data.size
        if n == 0:
            return False
        if n == 1:
            return bool(self._ctx.backend.asnumpy(self._data).reshape(()))
        raise ShapeError("The truth value of an NDArray with multiple elements is ambiguous "
                         "(shape %s); use .asnumpy().any() or .all()" % (self.shape,))

    __hash__ = object.__hash__

    def __repr__(self):
        shape_info = "x".join("%d" % s for s in self.shape)
        return "\n%s\n<%s %s @%s>" % (str(self.asnumpy()), type(self).__name__, shape_info, self._ctx)

    def __reduce__(self):
        return (_rebuild, (self.asnumpy(), self._ctx))

    def __getstate__(self):
        return {"data": self.asnumpy(), "ctx": self._ctx}

    def __setstate__(self, state):
        self._ctx = state["ctx"]
        self._data = self._ctx.backend.from_numpy(state["data"])
        self._ag = None

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack export (array-API protocol): a capsule sharing this array's memory, so
        ``numpy.from_dlpack(x)`` / ``torch.from_dlpack(x)`` see and make its writes."""
        from .dlpack import dlpack_export
        return dlpack_export(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        """``(device_type, device_id)`` in DLPack's codes: ``(1, 0)`` CPU, ``(2, i)`` gpu(i)."""
        from .dlpack import dlpack_device
        return dlpack_device(self)

    # ------------------------------------------------------------------ arithmetic
    # The operators are built by _arith/_compare/_inplace below: each has a fast path for
    # the common case (no recording, one context, one dtype) that calls the backend
    # directly, and otherwise goes through invoke() with the registry op.
    def _binary(self, other, op_name, scalar_name):
        if isinstance(other, NDArray):
            return invoke(_op(op_name), [self, other], {})
        if isinstance(other, numeric_types):
            return invoke(_op(scalar_name), [self], {"scalar": other})
        if isinstance(other, np.ndarray):
            return invoke(_op(op_name), [self, array(other, ctx=self._ctx, dtype=self._data.dtype)], {})
        return NotImplemented

    def __neg__(self):
        if not ag_state.recording and self._ctx.device_typeid != _GPU:
            return from_backend(-self._data, self._ctx)
        return invoke(_op("negative"), [self], {})

    def __pos__(self):
        return self

    def __abs__(self):
        if not ag_state.recording and self._ctx.device_typeid != _GPU:
            return from_backend(abs(self._data), self._ctx)
        return invoke(_op("abs"), [self], {})

    def __eq__(self, other):
        r = self._binary(other, "broadcast_equal", "_equal_scalar")
        return False if r is NotImplemented else r

    def __ne__(self, other):
        r = self._binary(other, "broadcast_not_equal", "_not_equal_scalar")
        return True if r is NotImplemented else r

    # in place: the same buffer changes, so aliases (and views) see the new values
    def _inplace_slow(self, other, op_name, scalar_name):
        if ag_state.recording and self._ag is not None:
            raise MXNetError("in-place operations (+=, -=, x[:]=, ...) are not supported on arrays "
                             "that take part in autograd while recording; write y = x + ... instead")
        r = self._binary(other, op_name, scalar_name)
        if r is NotImplemented:
            return r
        self._assign_data(r._data)
        return self

    def _assign_data(self, data):
        """Write ``data`` (a backend array, broadcastable) into this array's own buffer."""
        self._ctx.backend.activate()
        try:
            self._data[...] = data
        except ValueError:
            raise ShapeError("cannot assign an array of shape %s to an array of shape %s"
                             % (tuple(data.shape), self.shape)) from None

    # ------------------------------------------------------------------ indexing
    def slice_assign(self, rhs, begin, end, step=()):
        """Write the NDArray ``rhs`` into ``self[begin:end:step]`` in place; returns self."""
        step = tuple(step) if step else (None,) * len(begin)
        self[tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))] = rhs
        return self

    def slice_assign_scalar(self, value, begin, end, step=()):
        """Write the scalar ``value`` into ``self[begin:end:step]`` in place; returns self."""
        return self.slice_assign(value, begin, end, step)

    def __getitem__(self, key):
        if not ag_state.recording and _is_basic_key(key) and self._ctx.device_typeid != _GPU:
            # basic indexing without autograd: straight to the backend.  A contiguous part of
            # the first axis is a view sharing memory, as in MXNet; the rest are copies
            try:
                r = self._data[key]
            except IndexError:
                raise MXIndexError("index %r is out of range for an array of shape %s"
                                   % (key, self.shape)) from None
            return from_backend(r if _is_first_axis_key(key) else r.copy(), self._ctx)
        return invoke(_op("_getitem"), [self], {"key": _raw_key(key, self._ctx)})

    def __setitem__(self, key, value):
        if ag_state.recording and self._ag is not None:
            raise MXNetError("in-place assignment x[...] = v is not supported on arrays that take "
                             "part in autograd while recording")
        if isinstance(value, NDArray):
            if value._ctx != self._ctx:
                _raise_ctx_mismatch(_op("_getitem"), [self, value])
            value = value._data
        elif isinstance(value, np.ndarray) and self._ctx.device_type == "gpu":
            value = self._ctx.backend.from_numpy(value)
        self._ctx.backend.activate()
        try:
            self._data[_raw_key(key, self._ctx)] = value
        except ValueError as e:
            raise ShapeError("cannot assign to the slice %r of an array of shape %s: %s"
                             % (key, self.shape, e)) from None
        except IndexError as e:
            raise MXIndexError("index %r is out of range for an array of shape %s: %s"
                               % (key, self.shape, e)) from None


def _binary_method(op_name, scalar_name, fn, compare=False):
    """A binary operator method: a NumPy fast path for the common case (not recording, one
    context, one dtype), else the registry op through invoke (CuPy arrays always take
    invoke, which makes their device current).  Comparisons (``compare``) return 0/1 in
    the array's dtype."""
    nd_cls, new, state, host = NDArray, _new, ag_state, np.ndarray  # closure cells: the hottest path

    def method(self, other):
        a = self._data
        if type(a) is host and not state.recording:
            ctx = self._ctx
            t = type(other)
            if t is nd_cls:
                b = other._data
                adt = a.dtype
                if other._ctx is not ctx or b.dtype is not adt:
                    return self._binary(other, op_name, scalar_name)
            elif t is float or t is int:
                # NumPy keeps the array's dtype for a Python scalar (NEP 50); an integer
                # array with a float scalar gives another dtype and takes the slow path,
                # where the scalar is cast first, as MXNet does
                adt = a.dtype
                if compare and adt.kind != "f":
                    return self._binary(other, op_name, scalar_name)
                b = other
            else:
                return self._binary(other, op_name, scalar_name)
            try:
                r = fn(a, b)
            except Exception:  # broadcast or overflow errors: the slow path explains them
                return self._binary(other, op_name, scalar_name)
            if compare:
                r = r.astype(adt)
            elif r.dtype is not adt:
                return self._binary(other, op_name, scalar_name)
            out = new(nd_cls)  # inlined from_backend
            out._data = r
            out._ctx = ctx
            out._ag = None
            return out
        return self._binary(other, op_name, scalar_name)
    method.__name__ = fn.__name__
    method.__doc__ = "``%s`` with broadcasting (MXNet's %s / %s)." % (fn.__name__, op_name, scalar_name)
    return method


def _inplace(op_name, scalar_name, fn):
    """An in-place operator method: writes into the array's own buffer (aliases see it)."""
    def method(self, other):
        if not ag_state.recording and self._ctx.device_typeid != _GPU:
            t = type(other)
            a = self._data
            if t is NDArray:
                if other._ctx is self._ctx and a.dtype is other._data.dtype:
                    try:
                        fn(a, other._data)
                        return self
                    except Exception:
                        pass
            elif t is float and a.dtype.kind == "f" or t is int and a.dtype.kind in "fiu":
                try:
                    fn(a, other)
                    return self
                except Exception:
                    pass
        return self._inplace_slow(other, op_name, scalar_name)
    method.__name__ = fn.__name__
    method.__doc__ = "In-place ``%s``: the array's buffer is updated." % fn.__name__
    return method


def _install_operators():
    """Attach the arithmetic, reflected, in-place and comparison operators to NDArray."""
    import operator as o
    binary = {  # name: (array op, scalar op, reflected array op, reflected scalar op)
        "add": ("broadcast_add", "_plus_scalar", "broadcast_add", "_plus_scalar"),
        "sub": ("broadcast_sub", "_minus_scalar", "_rsub_array", "_rminus_scalar"),
        "mul": ("broadcast_mul", "_mul_scalar", "broadcast_mul", "_mul_scalar"),
        "truediv": ("broadcast_div", "_div_scalar", "_rdiv_array", "_rdiv_scalar"),
        "floordiv": ("broadcast_floor_div", "_floor_div_scalar", "_rfloor_div_array", "_rfloor_div_scalar"),
        "mod": ("broadcast_mod", "_mod_scalar", "_rmod_array", "_rmod_scalar"),
        "pow": ("broadcast_power", "_power_scalar", "_rpower_array", "_rpower_scalar"),
    }
    for name, (op_name, scalar_name, rop_name, rscalar_name) in binary.items():
        fn = getattr(o, name)
        setattr(NDArray, "__%s__" % name, _binary_method(op_name, scalar_name, fn))
        rfn = (lambda f: lambda a, b: f(b, a))(fn)
        rfn.__name__ = "r" + name
        setattr(NDArray, "__r%s__" % name, _binary_method(rop_name, rscalar_name, rfn))
        if name not in ("floordiv", "pow"):
            setattr(NDArray, "__i%s__" % name, _inplace(op_name, scalar_name, getattr(o, "i" + name)))
    for name, base in (("gt", "greater"), ("ge", "greater_equal"), ("lt", "lesser"), ("le", "lesser_equal")):
        setattr(NDArray, "__%s__" % name,
                _binary_method("broadcast_" + base, "_%s_scalar" % base, getattr(o, name), compare=True))


_install_operators()


def _raw_key(key, ctx):
    """An index with NDArrays replaced by integer backend arrays (for advanced indexing)."""
    if isinstance(key, NDArray):
        return _index_array(key)
    if isinstance(key, tuple):
        return tuple(_index_array(k) if isinstance(k, NDArray) else k for k in key)
    if isinstance(key, list):
        return np.asarray(key) if ctx.device_type != "gpu" else ctx.backend.from_numpy(np.asarray(key))
    return key


def _index_array(nd):
    d = nd._data
    if d.dtype.kind == "b":
        return d
    return d if d.dtype.kind in "iu" else d.astype(np.int64)


def _rebuild(data, ctx):
    return array(data, ctx=ctx, dtype=data.dtype)


def as_in_context_nested(data, ctx):
    """``data`` with every NDArray in it, through nested lists and tuples, on ``ctx``
    (:meth:`NDArray.as_in_context`); anything else is returned as is."""
    if isinstance(data, NDArray):
        return data.as_in_context(ctx)
    if isinstance(data, (list, tuple)):
        return type(data)(as_in_context_nested(d, ctx) for d in data)
    return data


# ---------------------------------------------------------------------- creation
def _place(arr, ctx):
    ctx = ctx if ctx is not None else current_context()
    data = ctx.backend.from_numpy(arr)
    return from_backend(data, ctx)


def array(source_array, ctx=None, dtype=None):
    """An NDArray from a list, NumPy array, scalar or NDArray.

    The dtype defaults to float32 for Python data and to the source's dtype for NumPy
    arrays and NDArrays, as in MXNet.
    """
    if isinstance(source_array, NDArray):
        dt = normalize_dtype(dtype, default=source_array.dtype)
        return _place(source_array.asnumpy().astype(dt, copy=False), ctx or source_array.context)
    if isinstance(source_array, np.ndarray):
        return _place(np.array(source_array, dtype=as_dtype(dtype), copy=True), ctx)
    arr = np.array(source_array, dtype=as_dtype(dtype))
    return _place(arr, ctx)


def empty(shape, ctx=None, dtype=None):
    """An uninitialised array (psnet fills it with zeros: cheaper than debugging garbage)."""
    return zeros(shape, ctx, dtype)


def zeros(shape, ctx=None, dtype=None, **kwargs):
    """An array of zeros."""
    ctx = ctx if ctx is not None else current_context()
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return from_backend(ctx.backend.xp.zeros(shape, dtype=as_dtype(dtype)), ctx)


def ones(shape, ctx=None, dtype=None, **kwargs):
    """An array of ones."""
    ctx = ctx if ctx is not None else current_context()
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return from_backend(ctx.backend.xp.ones(shape, dtype=as_dtype(dtype)), ctx)


def full(shape, val, ctx=None, dtype=None, out=None):
    """An array filled with ``val``."""
    ctx = ctx if ctx is not None else current_context()
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    res = from_backend(ctx.backend.xp.full(shape, val, dtype=as_dtype(dtype)), ctx)
    if out is not None:
        out._assign_data(res._data)
        return out
    return res
