"""Gluon Parameters: named arrays (one copy per context) with gradients and deferred init.

A :class:`Parameter` whose shape has unknown dimensions (0 or -1, e.g. a Dense layer's
``in_units=0``) is *deferred*: ``initialize()`` records the request and the first
forward pass fills the shape from the data, then allocates and initializes the arrays.
Data arrays are autograd variables (``mark_variables``) writing into the Parameter's
gradient buffers according to ``grad_req``.
"""
import warnings

import numpy as np

from .. import autograd
from .. import initializer
from ..base import DTypeError, MXKeyError, MXNetError, ShapeError, normalize_dtype
from ..context import Context, cpu, current_context
from .. import ndarray as _nd_api
from ..ndarray import ndarray as _nd

__all__ = ["Parameter", "Constant", "ParameterDict", "DeferredInitializationError",
           "ParameterNotInitializedError", "ParameterStateError", "tensor_types"]

tensor_types = (_nd.NDArray,)


class ParameterStateError(MXNetError, RuntimeError):
    """A Parameter used in a state that does not allow it (no gradient, other context...)."""


class DeferredInitializationError(ParameterStateError):
    """A Parameter's data was requested before its deferred initialization could run."""


class ParameterNotInitializedError(ParameterStateError):
    """A Parameter's data was requested before ``initialize()`` was called."""


def shape_is_known(shape):
    """Whether ``shape`` is given and has no unknown (0 or -1) dimension."""
    if shape is None:
        return False
    for d in shape:
        if d <= 0:
            return False
    return True


def _brief_print_list(lst, limit=7):
    """``'a', 'b', ..., 'z'``: at most ``limit`` quoted names."""
    lst = list(lst)
    if len(lst) > limit:
        return _brief_print_list(lst[:limit // 2], limit) + ", ..., " + \
            _brief_print_list(lst[-limit // 2:], limit)
    return ", ".join("'%s'" % str(i) for i in lst)


def _as_ctx_list(ctx):
    if ctx is None:
        return [current_context()]
    if isinstance(ctx, Context):
        return [ctx]
    return list(ctx)


class Parameter:
    """A Block's parameter: an array per context, its gradient, and how to initialize it.

    Parameters
    ----------
    name : str
        Full name (``'dense0_weight'``); the initializer picks its rule from the suffix.
    grad_req : {'write', 'add', 'null'}
    shape : int or tuple of int
        0 or -1 marks a dimension that the first forward pass fills in.
    dtype : numpy dtype or str, default float32
    lr_mult, wd_mult : float
        Multipliers of the optimizer's learning rate and weight decay.
    init : Initializer or str, optional
        This parameter's own initializer (takes precedence over ``initialize``'s).
    allow_deferred_init : bool
        Whether ``initialize`` may wait for the shape to become known.
    differentiable : bool
        False forces ``grad_req='null'`` (BatchNorm's running statistics).
    """

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0,
                 wd_mult=1.0, init=None, allow_deferred_init=False, differentiable=True,
                 stype="default", grad_stype="default"):
        self._data = None
        self._grad = None
        self._ctx_list = None
        self._ctx_map = None
        self._ctx0 = None
        self._deferred_init = ()
        self._differentiable = differentiable
        self._allow_deferred_init = allow_deferred_init
        self._grad_req = None
        if isinstance(shape, int):
            shape = (shape,)
        self._shape = None if shape is None else tuple(shape)
        self.name = name
        self.dtype = dtype
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.grad_req = grad_req
        self.init = init
        if stype != "default" or grad_stype != "default":
            raise MXNetError("Parameter %s: psnet stores every parameter densely; stype=%r / "
                             "grad_stype=%r are not supported" % (name, stype, grad_stype))
        self._stype = stype

    def __repr__(self):
        return "Parameter {name} (shape={shape}, dtype={dtype})".format(
            name=self.name, shape=self.shape, dtype=self.dtype)

    # ------------------------------------------------------------------ attributes
    @property
    def grad_req(self):
        """'write', 'add' or 'null'; changing it reallocates (or drops) the gradients."""
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in ("write", "add", "null"):
            raise MXNetError("Parameter %s: grad_req must be 'write', 'add' or 'null', got %r"
                             % (self.name, req))
        if not self._differentiable:
            req = "null"
        if self._grad_req == req:
            return
        self._grad_req = req
        if req == "null" and self._grad is not None:
            self._grad = None
            self._data = [d.detach() for d in self._data]
        elif self._data is not None:
            self._init_grad()

    @property
    def shape(self):
        """The shape; unknown dimensions are 0 (or -1) until the first forward pass."""
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = tuple(new_shape)
        if self._shape is None:
            self._shape = new_shape
            return
        if len(self._shape) != len(new_shape) or not all(
                j in (-1, 0, i) for i, j in zip(new_shape, self._shape)):
            raise ShapeError("Parameter %s: expected shape %s is incompatible with given shape %s"
                             % (self.name, new_shape, self._shape))
        self._shape = new_shape

    # ------------------------------------------------------------------ data access
    def _not_ready(self):
        if self._deferred_init:
            return DeferredInitializationError(
                "Parameter '%s' has not been initialized yet because initialization was deferred. "
                "Actual initialization happens during the first forward pass. Please pass one batch "
                "of data through the network before accessing Parameters. You can also avoid "
                "deferred initialization by specifying in_units, num_features, etc., for network "
                "layers." % self.name)
        return ParameterNotInitializedError(
            "Parameter '%s' has not been initialized. Call initialize() on the Block (or the "
            "Parameter) first. Note that you should initialize parameters and create Trainer with "
            "Block.collect_params() instead of Block.params because the later does not include "
            "Parameters of nested child Blocks" % self.name)

    def _check_and_get(self, arr_list, ctx):
        if arr_list is None:
            if self._data is not None:
                raise ParameterStateError("Cannot get gradient array for Parameter '%s' because "
                                          "grad_req='null'" % self.name)
            raise self._not_ready()
        if ctx is list:
            return arr_list
        if ctx is None:
            if len(arr_list) == 1:
                return arr_list[0]
            ctx = current_context()
        idx = self._ctx_map.get(ctx)
        if idx is None:
            raise ParameterStateError("Parameter '%s' was not initialized on context %s. It was only "
                                      "initialized on %s." % (self.name, ctx, self._ctx_list))
        return arr_list[idx]

    def data(self, ctx=None):
        """This parameter's array on ``ctx`` (the only context when None and there is one)."""
        d = self._data
        if d is not None and (ctx is self._ctx0 or (ctx is None and len(d) == 1)):
            return d[0]
        return self._check_and_get(d, ctx)

    def list_data(self):
        """The arrays on every context, in the order of :meth:`list_ctx`."""
        return self._check_and_get(self._data, list)

    def grad(self, ctx=None):
        """The gradient buffer on ``ctx``."""
        g = self._grad
        if g is not None and (ctx is self._ctx0 or (ctx is None and len(g) == 1)):
            return g[0]
        return self._check_and_get(g, ctx)

    def list_grad(self):
        """The gradient buffers on every context."""
        return self._check_and_get(self._grad, list)

    def list_ctx(self):
        """The contexts this parameter lives on (or will, once deferred init runs)."""
        if self._data is None:
            if self._deferred_init:
                return self._deferred_init[1]
            raise self._not_ready()
        return list(self._ctx_list)

    # ------------------------------------------------------------------ initialization
    def initialize(self, init=None, ctx=None, default_init=initializer.Uniform(), force_reinit=False):
        """Allocate and initialize the arrays (and gradients) on ``ctx`` (a context or a list).

        ``init`` overrides this parameter's own ``init``, which overrides ``default_init``.
        With unknown shape dimensions and ``allow_deferred_init`` the work waits for the
        first forward pass.
        """
        if self._data is not None and not force_reinit:
            warnings.warn("Parameter '%s' is already initialized, ignoring. Set force_reinit=True "
                          "to re-initialize." % self.name, stacklevel=2)
            return
        self._data = self._grad = None
        ctx = _as_ctx_list(ctx)
        if init is None:
            init = default_init if self.init is None else self.init
        if not shape_is_known(self.shape):
            if self._allow_deferred_init:
                self._deferred_init = (init, ctx, default_init, None)
                return
            raise ShapeError("Cannot initialize Parameter '%s' because it has invalid shape: %s."
                             % (self.name, self.shape))
        self._deferred_init = (init, ctx, default_init, None)
        self._finish_deferred_init()

    def _finish_deferred_init(self):
        """Run the recorded initialization now that the shape is known."""
        if not self._deferred_init:
            return
        init, ctx, default_init, data = self._deferred_init
        self._deferred_init = ()
        if not shape_is_known(self.shape):
            raise ShapeError("Cannot initialize Parameter '%s' because it has invalid shape: %s. "
                             "Please specify in_units, in_channels, etc for `Block`s."
                             % (self.name, self.shape))
        with autograd.pause():
            if data is None:
                data = _nd.zeros(self.shape, ctx=ctx[0], dtype=self.dtype)
                initializer.create(default_init)(
                    initializer.InitDesc(self.name, {"__init__": init}), data)
            self._init_impl(data, ctx)

    def _init_impl(self, data, ctx_list):
        """Place copies of ``data`` on every context and allocate the gradients."""
        self._ctx_list = list(ctx_list)
        self._ctx_map = {c: i for i, c in enumerate(self._ctx_list)}
        self._ctx0 = self._ctx_list[0]
        self._data = [data.copyto(c) for c in self._ctx_list]
        self._init_grad()

    def _init_grad(self):
        """Allocate zero gradients and mark the data arrays as autograd variables."""
        if self.grad_req == "null":
            self._grad = None
            return
        self._grad = [_nd.zeros(d.shape, ctx=d.context, dtype=d.dtype) for d in self._data]
        autograd.mark_variables(self._data, self._grad, self.grad_req)

    def _reduce(self):
        """The average of the copies, on the CPU (what gets saved)."""
        block = self.list_data()
        if len(block) == 1:
            return block[0].copyto(cpu())
        total = block[0].copyto(cpu())
        for w in block[1:]:
            total += w.copyto(cpu())
        return total / len(block)

    def _load_init(self, data, ctx, cast_dtype=False, dtype_source="current"):
        """Initialize (or overwrite) from a loaded array, checking shape and dtype."""
        if dtype_source not in ("current", "saved"):
            raise MXNetError("dtype_source must be 'current' or 'saved', got %r" % (dtype_source,))
        if self.shape:
            if len(self.shape) != len(data.shape) or not all(
                    s in (-1, 0, d) for s, d in zip(self.shape, data.shape)):
                raise ShapeError("Failed loading Parameter '%s' from saved params: shape incompatible "
                                 "expected %s vs saved %s" % (self.name, self.shape, data.shape))
            self._shape = tuple(d if s <= 0 else s for s, d in zip(self.shape, data.shape))
        own = normalize_dtype(self.dtype)
        if own != np.dtype(data.dtype):
            if not cast_dtype:
                raise DTypeError("Failed loading Parameter '%s' from saved params: dtype incompatible "
                                 "expected %s vs saved %s. Set cast_dtype=True to cast the dtype of "
                                 "saved params." % (self.name, own.name, np.dtype(data.dtype).name))
            if dtype_source == "current":
                data = data.astype(own)
            else:
                self.dtype = np.dtype(data.dtype).type
        if isinstance(ctx, Context):
            ctx = [ctx]
        if self._data is None:
            if self._deferred_init:
                ctx = self._deferred_init[1]
            elif ctx is None:
                ctx = [cpu()]
            self._init_impl(data, ctx)
        else:
            self.set_data(data)
        self._deferred_init = ()

    # ------------------------------------------------------------------ mutation
    def set_data(self, data):
        """Overwrite the values on every context (before deferred init: use them as the init)."""
        self.shape = data.shape
        if self._data is None:
            if not self._deferred_init:
                raise self._not_ready()
            self._deferred_init = self._deferred_init[:3] + (data,)
            return
        for arr in self._data:
            src = data.as_in_context(arr.context) if isinstance(data, _nd.NDArray) else data
            arr[:] = src

    def zero_grad(self):
        """Set the gradient buffers to zero (in place)."""
        if self._grad is None:
            return
        for g in self._grad:
            g._ctx.backend.activate()  # CuPy writes with the current device
            g._data[...] = 0

    def reset_ctx(self, ctx):
        """Move the parameter to other context(s), keeping its values."""
        ctx = _as_ctx_list(ctx)
        if self._data is not None:
            data = self._reduce()
            with autograd.pause():
                self._init_impl(data, ctx)
        elif self._deferred_init:
            init, _, default_init, data = self._deferred_init
            self._deferred_init = (init, ctx, default_init, data)
        else:
            raise ParameterNotInitializedError("Cannot reset context for Parameter '%s' because it "
                                               "has not been initialized." % self.name)

    def cast(self, dtype):
        """Convert data and gradients to ``dtype`` (e.g. 'float16')."""
        self.dtype = dtype
        if self._data is None:
            return
        with autograd.pause():
            self._data = [d.astype(dtype) for d in self._data]
            if self._grad is None:
                return
            self._grad = [g.astype(dtype) for g in self._grad]
            autograd.mark_variables(self._data, self._grad, self.grad_req)


class Constant(Parameter):
    """A Parameter holding a fixed value (``grad_req='null'``), e.g. a lookup table."""

    def __init__(self, name, value):
        if not isinstance(value, _nd.NDArray):
            value = _nd.array(value)
        self.value = value
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype,
                         init=initializer.Constant(value))

    def __repr__(self):
        return "Constant {name} (shape={shape}, dtype={dtype})".format(
            name=self.name, shape=self.shape, dtype=self.dtype)

    @property
    def grad_req(self):
        """Always 'null'."""
        return "null"

    @grad_req.setter
    def grad_req(self, req):
        if req != "null":
            warnings.warn('Constant parameter "%s" does not support grad_req other than "null", '
                          'and new value "%s" is ignored.' % (self.name, req))
        self._grad_req = "null"


class ParameterDict:
    """An ordered dict of Parameters sharing a name ``prefix`` (what ``collect_params`` returns).

    ``shared``: another ParameterDict whose Parameters :meth:`get` returns instead of
    creating new ones (parameter sharing between Blocks).
    """

    def __init__(self, prefix="", shared=None):
        self._prefix = prefix
        self._params = {}
        self._shared = shared

    def __repr__(self):
        name = self._prefix + " " if self._prefix else ""
        content = "\n".join("  " + repr(v).replace("\n", "\n  ") for v in self.values())
        return "{name}(\n{content}\n)".format(name=name, content=content)

    def __getitem__(self, key):
        try:
            return self._params[key]
        except KeyError:
            raise MXKeyError("no Parameter named %r in this ParameterDict (it has %s)"
                             % (key, _brief_print_list(self._params))) from None

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __contains__(self, key):
        return key in self._params

    def items(self):
        """(name, Parameter) pairs in insertion order."""
        return self._params.items()

    def keys(self):
        """Parameter names."""
        return self._params.keys()

    def values(self):
        """Parameters."""
        return self._params.values()

    @property
    def prefix(self):
        """The prefix prepended to names given to :meth:`get`."""
        return self._prefix

    def _get_impl(self, name):
        if name in self._params:
            return self._params[name]
        if self._shared is not None and name in self._shared._params:
            self._params[name] = self._shared._params[name]
            return self._params[name]
        return None

    def get(self, name, **kwargs):
        """The Parameter ``prefix + name``, created with ``kwargs`` if it does not exist.

        For an existing one, ``kwargs`` must agree with it (an unknown shape dimension
        agrees with any size and is filled in); attributes it does not have yet are set.
        """
        name = self._prefix + name
        param = self._get_impl(name)
        if param is None:
            param = self._params[name] = Parameter(name, **kwargs)
            return param
        for k, v in kwargs.items():
            existing = getattr(param, k, None)
            if existing is None:
                setattr(param, k, v)
                continue
            if k == "shape":
                merged = _merge_shapes(v, existing)
                if merged is not None:
                    param._shape = merged
                    continue
            elif k == "dtype" and normalize_dtype(v) == normalize_dtype(existing):
                continue
            if v is not None and v != existing:
                raise MXNetError("Cannot retrieve Parameter '%s' because desired attribute does not "
                                 "match with stored for attribute '%s': desired '%s' vs stored '%s'."
                                 % (name, k, v, existing))
        return param

    def get_constant(self, name, value=None):
        """The Constant ``prefix + name``, created from ``value`` if it does not exist."""
        name = self._prefix + name
        param = self._get_impl(name)
        if param is None:
            if value is None:
                raise MXKeyError("No constant named '%s'. Please specify value if you want to "
                                 "create a new constant." % name)
            param = self._params[name] = Constant(name, value)
        elif not isinstance(param, Constant):
            raise MXNetError("Parameter '%s' already exists but it is not a Constant" % name)
        return param

    def update(self, other):
        """Add the Parameters of ``other``; a different Parameter under an existing name is an error."""
        for k, v in other.items():
            if k in self._params:
                if self._params[k] is not v:
                    raise MXNetError("Cannot update self with other because they have different "
                                     "Parameters with the same name '%s'" % k)
            else:
                self._params[k] = v

    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """Initialize every Parameter; ``init`` is the default for those without their own."""
        if verbose:
            init.set_verbosity(verbose=verbose)
        for v in self.values():
            v.initialize(None, ctx, init, force_reinit=force_reinit)

    def zero_grad(self):
        """Zero every gradient buffer."""
        for v in self.values():
            v.zero_grad()

    def reset_ctx(self, ctx):
        """Move every Parameter to ``ctx``."""
        for v in self.values():
            v.reset_ctx(ctx)

    def list_ctx(self):
        """Every context some Parameter lives on."""
        s = []
        for v in self.values():
            for c in v.list_ctx():
                if c not in s:
                    s.append(c)
        return s

    def setattr(self, name, value):
        """Set attribute ``name`` (``grad_req``, ``lr_mult``...) on every Parameter."""
        for v in self.values():
            setattr(v, name, value)

    def save(self, filename, strip_prefix=""):
        """Save every Parameter (averaged over contexts) with ``mx.nd.save``, names minus ``strip_prefix``."""
        arg_dict = {}
        for param in self.values():
            if not param.name.startswith(strip_prefix):
                raise MXNetError("Prefix '%s' is to be striped before saving, but Parameter's name "
                                 "'%s' does not start with '%s'." % (strip_prefix, param.name, strip_prefix))
            arg_dict[param.name[len(strip_prefix):]] = param._reduce()
        _nd_api.save(filename, arg_dict)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="",
             cast_dtype=False, dtype_source="current"):
        """Load Parameters saved by :meth:`save` (names get ``restore_prefix`` back)."""
        if restore_prefix:
            for name in self.keys():
                if not name.startswith(restore_prefix):
                    raise MXNetError("restore_prefix is '%s' but Parameter name '%s' does not start "
                                     "with it" % (restore_prefix, name))
        self.load_dict(_nd_api.load(filename), ctx, allow_missing, ignore_extra, restore_prefix,
                       filename, cast_dtype, dtype_source)

    def load_dict(self, param_dict, ctx=None, allow_missing=False, ignore_extra=False,
                  restore_prefix="", filename=None, cast_dtype=False, dtype_source="current"):
        """Load Parameters from a dict of NDArrays (``'arg:'``/``'aux:'`` key prefixes are dropped)."""
        lprefix = len(restore_prefix)
        arg_dict = {}
        for k, v in param_dict.items():
            if k.startswith("arg:") or k.startswith("aux:"):
                k = k[4:]
            arg_dict[restore_prefix + k] = v
        where = "file '%s'" % filename if filename else "param_dict"
        if not allow_missing:
            for name in self.keys():
                if name not in arg_dict:
                    raise MXKeyError("Parameter '%s' is missing in %s, which contains parameters: %s. "
                                     "Set allow_missing=True to ignore missing parameters."
                                     % (name[lprefix:], where, _brief_print_list(arg_dict)))
        for name, value in arg_dict.items():
            if name not in self._params:
                if not ignore_extra:
                    raise MXKeyError("Parameter '%s' loaded from %s is not present in ParameterDict, "
                                     "choices are: %s. Set ignore_extra=True to ignore."
                                     % (name[lprefix:], where, _brief_print_list(self._params)))
                continue
            self._params[name]._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)


def _merge_shapes(desired, stored):
    """``stored`` with unknown dims filled from ``desired``; None when they conflict."""
    desired = (desired,) if isinstance(desired, int) else tuple(desired)
    if len(desired) != len(stored):
        return None
    merged = []
    for d1, d2 in zip(desired, stored):
        if d1 == d2 or d1 <= 0:
            merged.append(d2)
        elif d2 <= 0:
            merged.append(d1)
        else:
            return None
    return tuple(merged)

