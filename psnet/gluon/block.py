"""Gluon Blocks: the building unit of networks (MXNet 1.x ``gluon.Block`` / ``HybridBlock``).

A :class:`Block` owns Parameters (registered by assigning them as attributes) and child
Blocks (registered by attribute assignment or :meth:`Block.register_child`; a plain
Python list of Blocks is *not* registered, exactly as in MXNet, and ``collect_params``
warns about it).  Names come from nested name scopes: a ``Dense`` created inside a
``Sequential``'s ``name_scope()`` gets the prefix ``sequential0_dense0_``.

A :class:`HybridBlock` computes in ``hybrid_forward(F, x, *args, **params)``; called on
NDArrays, ``F`` is :mod:`psnet.ndarray` and its own Parameters arrive as keyword
arguments named like the attributes they were assigned to.
"""
import re
import threading
import warnings
from collections import OrderedDict

from .. import initializer
from . import hybrid as _hybrid
from .. import ndarray as _F
from ..base import MXKeyError, MXNetError
from ..ndarray.ndarray import NDArray
from .parameter import (DeferredInitializationError, Parameter, ParameterDict,
                        _brief_print_list, shape_is_known)

__all__ = ["Block", "HybridBlock", "HookHandle"]


class _NameCounter:
    """Per-hint counters of top-level Block names (``dense0``, ``dense1``...), thread safe."""

    def __init__(self):
        self._counts = {}
        self._lock = threading.Lock()

    def get(self, hint):
        """The next unused name for ``hint``."""
        with self._lock:
            n = self._counts.get(hint, 0)
            self._counts[hint] = n + 1
        return "%s%d" % (hint, n)


_TOP_NAMES = _NameCounter()


class _BlockScope:
    """The name scope of a Block: gives children prefixes and ParameterDicts."""

    _current = threading.local()

    def __init__(self, block):
        self._block = block
        self._counter = {}
        self._old_scope = None

    @staticmethod
    def create(prefix, params, hint):
        """(prefix, ParameterDict) for a new Block in the current scope."""
        current = getattr(_BlockScope._current, "value", None)
        if current is None:
            if prefix is None:
                prefix = _TOP_NAMES.get(hint) + "_"
            params = ParameterDict(prefix) if params is None else ParameterDict(params.prefix, params)
            return prefix, params
        if prefix is None:
            count = current._counter.get(hint, 0)
            prefix = "%s%d_" % (hint, count)
            current._counter[hint] = count + 1
        if params is None:
            parent = current._block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return current._block.prefix + prefix, params

    def __enter__(self):
        if self._block._empty_prefix:
            return self
        self._old_scope = getattr(_BlockScope._current, "value", None)
        _BlockScope._current.value = self
        return self

    def __exit__(self, *exc):
        if self._block._empty_prefix:
            return
        _BlockScope._current.value = self._old_scope


class HookHandle:
    """Handle of a registered forward (pre-)hook; ``detach()`` removes it (also a context manager)."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self._id = HookHandle._next_id
        HookHandle._next_id += 1

    def detach(self):
        """Unregister the hook."""
        if self._hooks is not None:
            self._hooks.pop(self._id, None)
            self._hooks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()


def _indent(s, num_spaces):
    """Indent every line of ``s`` but the first by ``num_spaces``."""
    return s.replace("\n", "\n" + " " * num_spaces)


def _find_unregistered(data, children):
    """Whether the (nested) container ``data`` holds a Block that is not a registered child."""
    if isinstance(data, (list, tuple)):
        return any(_find_unregistered(x, children) for x in data)
    if isinstance(data, dict):
        return any(_find_unregistered(x, children) for x in data.values())
    return isinstance(data, Block) and not any(data is c for c in children)


class Block:
    """Base class of all layers and models.

    Parameters
    ----------
    prefix : str, optional
        Prefix of this Block's name and of its Parameters' names; by default a unique
        one from the class name (``dense0_``) inside the current name scope.
    params : ParameterDict, optional
        Share these Parameters instead of creating new ones.
    """

    def __init__(self, prefix=None, params=None):
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._children = OrderedDict()
        self._reg_params = {}
        self._forward_hooks = OrderedDict()
        self._forward_pre_hooks = OrderedDict()

    def __repr__(self):
        modstr = "\n".join("  ({key}): {block}".format(key=key, block=_indent(repr(block), 2))
                           for key, block in self.__dict__.items() if isinstance(block, Block))
        return "{name}(\n{modstr}\n)".format(name=self.__class__.__name__, modstr=modstr)

    def __setattr__(self, name, value):
        """Registers Blocks and Parameters assigned as attributes."""
        existing = self.__dict__.get(name)
        if isinstance(existing, (Parameter, Block)) and not isinstance(value, type(existing)):
            raise TypeError("Changing attribute type for {name} from {type1} to {type2} is not allowed."
                            .format(name=name, type1=type(existing), type2=type(value)))
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            if name in self._reg_params and self._reg_params[name] is not value:
                raise MXNetError("Overriding Parameter attribute %s is not allowed. If you want to "
                                 "share parameters between blocks, please set 'params' at Block "
                                 "construction instead." % name)
            self._reg_params[name] = value
        object.__setattr__(self, name, value)

    def _check_container_with_block(self):
        children = list(self._children.values())
        for k, v in self.__dict__.items():
            if isinstance(v, (list, tuple, dict)) and not (k.startswith("__") or k == "_children"):
                if _find_unregistered(v, children):
                    warnings.warn('"{name}" is an unregistered container with Blocks. Note that Blocks '
                                  'inside the list, tuple or dict will not be registered automatically. '
                                  'Make sure to register them using register_child() or switching to '
                                  'nn.Sequential/nn.HybridSequential instead. '
                                  .format(name=self.__class__.__name__ + "." + k), stacklevel=3)

    def _alias(self):
        return self.__class__.__name__.lower()

    # ------------------------------------------------------------------ naming
    @property
    def prefix(self):
        """Prefix of this Block's name and Parameters (``'dense0_'``)."""
        return self._prefix

    @property
    def name(self):
        """Name of this Block (the prefix without its trailing underscore)."""
        return self._name

    @property
    def params(self):
        """This Block's own ParameterDict (children's Parameters not included)."""
        return self._params

    def name_scope(self):
        """Scope in which created Blocks become children-named (``with self.name_scope():``)."""
        return self._scope

    # ------------------------------------------------------------------ structure
    def collect_params(self, select=None):
        """A ParameterDict of this Block's and all descendants' Parameters.

        ``select``: a regular expression; only Parameters whose names match are kept
        (``'.*weight|.*bias'``).
        """
        self._check_container_with_block()
        ret = ParameterDict(self._params.prefix)
        if not select:
            ret.update(self.params)
        else:
            pattern = re.compile(select)
            ret.update({name: value for name, value in self.params.items() if pattern.match(name)})
        for cld in self._children.values():
            ret.update(cld.collect_params(select=select))
        return ret

    def _collect_params_with_prefix(self, prefix=""):
        """{'0.weight': Parameter, ...}: Parameters keyed by their attribute path."""
        if prefix:
            prefix += "."
        ret = {prefix + key: val for key, val in self._reg_params.items()}
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def register_child(self, block, name=None):
        """Register ``block`` as a child (named ``name``, by default its index)."""
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def register_forward_pre_hook(self, hook):
        """Call ``hook(block, inputs)`` before every forward; returns a :class:`HookHandle`."""
        handle = HookHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle._id] = hook
        return handle

    def register_forward_hook(self, hook):
        """Call ``hook(block, inputs, outputs)`` after every forward; returns a :class:`HookHandle`."""
        handle = HookHandle(self._forward_hooks)
        self._forward_hooks[handle._id] = hook
        return handle

    def apply(self, fn):
        """Call ``fn(block)`` on every descendant and then on this Block; returns self."""
        for cld in self._children.values():
            cld.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ parameters
    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """Initialize all Parameters (see :meth:`ParameterDict.initialize`)."""
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def zero_grad(self):
        """Set the gradients of all Parameters to zero."""
        self.collect_params().zero_grad()

    def cast(self, dtype):
        """Cast this Block's and its descendants' Parameters to ``dtype``."""
        for child in self._children.values():
            child.cast(dtype)
        for param in self.params.values():
            param.cast(dtype)

    def hybridize(self, active=True, **kwargs):
        """Hybridize the HybridBlocks among the descendants (a plain Block itself stays imperative)."""
        for cld in self._children.values():
            cld.hybridize(active, **kwargs)

    def save_parameters(self, filename, deduplicate=False):
        """Save Parameters by attribute path (``'0.weight'``) with ``mx.nd.save``.

        ``deduplicate``: save a shared Parameter once, under its first path.
        """
        params = self._collect_params_with_prefix()
        if deduplicate:
            seen = {}
            for key, val in params.items():
                seen.setdefault(id(val), key)
            params = {key: val for key, val in params.items() if seen[id(val)] == key}
        _F.save(filename, {key: val._reduce() for key, val in params.items()})

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
                        cast_dtype=False, dtype_source="current"):
        """Load Parameters written by :meth:`save_parameters` (or by the older :meth:`save_params`).

        A Parameter missing from the file, an extra one in the file (unless
        ``allow_missing`` / ``ignore_extra``), a shape or dtype mismatch (unless
        ``cast_dtype``) are errors naming the Parameter.
        """
        loaded = _F.load(filename)
        params = self._collect_params_with_prefix()
        if not loaded and not params:
            return
        if not any("." in k for k in loaded):
            # file written by save_params / ParameterDict.save: names carry the prefix
            self.collect_params().load_dict(loaded, ctx, allow_missing, ignore_extra, self.prefix,
                                            filename, cast_dtype, dtype_source)
            return
        if not allow_missing:
            paths = {}
            for k, v in params.items():
                paths.setdefault(id(v), []).append(k)
            for name, param in params.items():
                if not any(p in loaded for p in paths[id(param)]):
                    raise _missing_error(name, filename, loaded)
        for name, value in loaded.items():
            if name not in params:
                if not ignore_extra:
                    raise _extra_error(name, filename, params)
                continue
            params[name]._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)

    def save_params(self, filename):
        """Older format: full Parameter names minus this Block's prefix (prefer save_parameters)."""
        self.collect_params().save(filename, strip_prefix=self.prefix)

    def load_params(self, filename, ctx=None, allow_missing=False, ignore_extra=False):
        """Older name of :meth:`load_parameters`."""
        self.load_parameters(filename, ctx, allow_missing, ignore_extra)

    # ------------------------------------------------------------------ running
    def __call__(self, *args):
        """Run forward hooks around :meth:`forward` (positional arguments only)."""
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                hook(self, args)
        out = self.forward(*args)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                hook(self, args, out)
        return out

    def forward(self, *args):
        """The computation; override in subclasses."""
        raise NotImplementedError("%s must implement forward()" % type(self).__name__)

    def summary(self, *inputs):
        """Print each layer's output shape and parameter count for one forward on ``inputs``."""
        rows = [("Input", _shape_str(inputs), 0, 0, 0)]
        seen = set()

        def hook(block, _, outputs):
            n = trainable = shared = 0
            for p in block.params.values():
                size = p.data().size
                n += size
                trainable += 0 if p.grad_req == "null" else size
                if id(p) in seen:
                    shared += size
                seen.add(id(p))
            rows.append(("%s-%d" % (type(block).__name__, len(rows)), _shape_str(outputs), n,
                         trainable, shared))

        def attach(block):
            if isinstance(block, HybridBlock) and block._active:
                raise MXNetError('"%s" must not be hybridized to print summary.' % block.name)
            if not getattr(block, "_is_container", False):
                handles.append(block.register_forward_hook(hook))

        handles = []
        try:
            self.apply(attach)
            self(*inputs)
        finally:
            for h in handles:
                h.detach()
        line = "{:>20}  {:>42} {:>15}"
        total = sum(r[2] for r in rows)
        trainable = sum(r[3] for r in rows)
        shared = sum(r[4] for r in rows)
        out = ["-" * 80, line.format("Layer (type)", "Output Shape", "Param #"), "=" * 80]
        out += [line.format(r[0], r[1], r[2]) for r in rows]
        out += ["=" * 80, "Parameters in forward computation graph, duplicate included",
                "   Total params: %d" % total, "   Trainable params: %d" % trainable,
                "   Non-trainable params: %d" % (total - trainable),
                "Shared params in forward computation graph: %d" % shared,
                "Unique parameters in model: %d" % (total - shared), "-" * 80]
        print("\n".join(out))


def _shapes(x):
    """Shapes of the NDArrays in a (nested) output, with the same nesting."""
    if isinstance(x, (list, tuple)):
        return [_shapes(i) for i in x]
    return x.shape if isinstance(x, NDArray) else x


def _shape_str(args):
    """MXNet's summary text of the shapes in ``args``: a bare shape for one array."""
    shapes = _shapes(args)
    return str(shapes)[1:-1] if isinstance(shapes, list) else str(shapes)


def _missing_error(name, filename, loaded):
    return MXKeyError("Parameter '%s' is missing in file '%s', which contains parameters: %s. "
                      "Set allow_missing=True to ignore missing parameters."
                      % (name, filename, _brief_print_list(loaded)))


def _extra_error(name, filename, params):
    return MXKeyError("Parameter '%s' loaded from file '%s' is not present in this Block, which "
                      "contains parameters %s. Set ignore_extra=True to ignore."
                      % (name, filename, _brief_print_list(params)))


class HybridBlock(Block):
    """A Block computing in ``hybrid_forward(self, F, x, *args, **params)``.

    Called on NDArrays, ``F`` is :mod:`psnet.ndarray` and ``params`` are this Block's own
    Parameters' arrays on the input's context, keyed by attribute name.  Parameters
    with unknown shape dimensions are initialized on the first call, after
    :meth:`infer_shape` has filled their shapes from the inputs.

    ``hybridize()`` records the flags (``static_alloc``, ``static_shape``) and sets
    ``_active``.  The traced, cached-graph execution (:mod:`psnet.gluon.hybrid`) plugs in
    at one seam, :meth:`_call_cached`, which :meth:`forward` uses while ``_active`` or when
    called with a Symbol.
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._active = False
        self._flags = []
        self._cached_graph = None

    def register_child(self, block, name=None):
        """Register a child; the children of a HybridBlock must be HybridBlocks."""
        if not isinstance(block, HybridBlock):
            raise MXNetError(
                "Children of HybridBlock must also be HybridBlock, but %s has type %s. If you are "
                "using Sequential, please try HybridSequential instead." % (str(block), str(type(block))))
        super().register_child(block, name)
        self._clear_cached_op()

    def _clear_cached_op(self):
        """Forget any traced graph (the structure or the flags changed)."""
        self._cached_graph = None

    def hybridize(self, active=True, static_alloc=False, static_shape=False, **kwargs):
        """Mark this Block and its descendants for cached-graph execution (see the class doc)."""
        self._active = active
        self._flags = [("static_alloc", static_alloc), ("static_shape", static_shape)] + list(kwargs.items())
        self._clear_cached_op()
        super().hybridize(active, static_alloc=static_alloc, static_shape=static_shape, **kwargs)

    def cast(self, dtype):
        """Cast Parameters to ``dtype`` (and drop any cached graph)."""
        self._clear_cached_op()
        super().cast(dtype)

    def forward(self, x, *args):
        """Run :meth:`hybrid_forward` with ``F = mx.nd`` (or the cached graph when hybridized)."""
        if self._active or (type(x) is not NDArray and _hybrid.is_symbol(x)):
            return self._call_cached(x, *args)
        return self._forward_imperative(x, *args)

    def _call_cached(self, x, *args):
        """The hybridized path: the traced, cached graph (or a Symbol for Symbol inputs)."""
        return _hybrid.call_cached(self, x, *args)

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write ``path-symbol.json`` and ``path-%04d.params`` of the hybridized graph."""
        return _hybrid.export(self, path, epoch, remove_amp_cast)

    def _forward_imperative(self, x, *args):
        ctx = x._ctx if type(x) is NDArray else None
        try:
            params = {k: p.data(ctx) for k, p in self._reg_params.items()}
        except DeferredInitializationError:
            self._deferred_infer_shape(x, *args)
            for p in self._reg_params.values():
                p._finish_deferred_init()
            params = {k: p.data(ctx) for k, p in self._reg_params.items()}
        return self.hybrid_forward(_F, x, *args, **params)

    def _deferred_infer_shape(self, *args):
        self.infer_shape(*args)
        unknown = [p.name for p in self._reg_params.values()
                   if p._deferred_init and not shape_is_known(p.shape)]
        if unknown:
            raise MXNetError("%s.infer_shape left the shapes of Parameters %s unknown"
                             % (type(self).__name__, ", ".join(unknown)))

    def infer_shape(self, *args):
        """Fill unknown Parameter shapes from the inputs by symbolic shape inference of the
        traced ``hybrid_forward`` (built-in layers may override this)."""
        _hybrid.infer_param_shapes(self, *args)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """The computation, written with ``F`` operators; override in subclasses."""
        raise NotImplementedError("%s must implement hybrid_forward()" % type(self).__name__)
