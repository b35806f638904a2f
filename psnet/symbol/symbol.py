"""``mx.sym.Symbol``: a handle on outputs of the graph IR (see :mod:`psnet.symbol.graph`)."""
import numpy as np

from ..base import MXIndexError, MXNetError, NotSupportedError, numeric_types
from ..ops import registry
from .graph import Node, attr_to_str, current_name_manager, entry_name, topo_order

__all__ = ["Symbol", "Variable", "var", "Group", "create_op_symbol", "op_hint", "json_op_name"]

_DTYPE_CODES = {"float32": 0, "float64": 1, "float16": 2, "uint8": 3, "int32": 4, "int8": 5,
                "int64": 6, "bool": 7, "int16": 8, "uint16": 9, "uint32": 10, "uint64": 11}
DTYPE_FROM_CODE = {v: k for k, v in _DTYPE_CODES.items()}

_HYBRID_HINT = ("; a hybridized block's hybrid_forward receives Symbols, so it cannot use "
                "NDArray-only Python (values, shapes, `if x.sum() > 0`, .asnumpy()); use F.* "
                "operators, or call the block without hybridize()")


def op_hint(op_name):
    """MXNet's automatic-name stem of an op: ``fullyconnected``, ``_plusscalar``..."""
    hint = op_name.lower()
    if hint.startswith("_") and hint.endswith("_scalar"):
        hint = "_" + hint[1:].replace("_", "")
    return hint


def json_op_name(op, called):
    """The op name MXNet writes in JSON for a call by ``called``: its canonical name
    (``concat`` is written ``Concat``, ``random_uniform`` ``_random_uniform``), except
    where psnet serves two MXNet ops with one (``elemwise_add`` / ``_plus`` / ``_equal``
    are MXNet's same-shape ops, ``broadcast_*`` here) or names differ (``reverse``, ``_copy``)."""
    canonical = op.name
    if called == canonical or called in _OWN_MXNET_NAMES:
        return called
    if canonical.startswith("broadcast_") and not called.startswith("broadcast_"):
        return called
    if called.startswith("_") and not canonical.startswith("_"):
        return called
    return canonical


_OWN_MXNET_NAMES = frozenset(("reverse",))


def _aux_init(input_name):
    return '["one", {}]' if input_name.endswith("var") else '["zero", {}]'


def create_op_symbol(op_name, inputs, attrs, name=None, attr=None, hint=None):
    """A Symbol for one call of registry op ``op_name``.

    ``inputs`` maps input names to Symbols (single-output) or is a list in input order;
    inputs that are missing become new variables named ``<name>_<input>`` (``fc1_weight``),
    as MXNet does.  ``attrs`` are the op's attributes as Python values.
    """
    op = registry.get(op_name)
    attrs = {k: v for k, v in attrs.items() if v is not None or k in op.params}
    node_name = current_name_manager().get(name, hint or op_hint(op_name))
    try:
        full = op.full_attrs(attrs)
    except MXNetError as e:
        raise MXNetError("%s (node %s)" % (e, node_name)) from None
    names = op.input_names(full)
    if isinstance(inputs, dict):
        unknown = set(inputs) - set(names)
        if unknown:
            raise MXNetError("operator %s has no input(s) %s (inputs: %s)"
                             % (op_name, ", ".join(sorted(unknown)), ", ".join(names)))
        inputs = [inputs.get(n) for n in names]
    elif len(inputs) > len(names):
        raise MXNetError("operator %s takes %d input(s) (%s), got %d"
                         % (op_name, len(names), ", ".join(names), len(inputs)))
    node = Node(op, node_name, attrs, (), dict(attr or {}), json_op_name(op, op_name))
    entries = []
    n_args = len(names) - len(op.aux)
    for i, n in enumerate(names):
        s = inputs[i] if i < len(inputs) else None
        if s is None:
            uattrs = dict(node.sattrs)
            if i >= n_args:
                uattrs["__init__"] = _aux_init(n)
            entries.append((Node(None, "%s_%s" % (node_name, n), uattrs=uattrs), 0))
            continue
        if not isinstance(s, Symbol):
            raise MXNetError("operator %s: input %r must be a Symbol, got %s"
                             % (op_name, n, type(s).__name__))
        if len(s._outputs) != 1:
            raise MXNetError("operator %s: input %r is a group of %d outputs; pass one output"
                             % (op_name, n, len(s._outputs)))
        entries.append(s._outputs[0])
    node.inputs = entries
    node._full = full
    return Symbol([(node, k) for k in range(node.num_visible())])


class Symbol:
    """Symbolic outputs of a graph: compose ops on it, infer shapes, bind it to arrays."""

    __slots__ = ("_outputs", "__weakref__")

    def __init__(self, outputs):
        self._outputs = list(outputs)

    # ------------------------------------------------------------------ structure
    @property
    def name(self):
        """The node name of a single-output symbol (None for a group)."""
        return self._outputs[0][0].name if len(self._outputs) == 1 else None

    def _nodes(self):
        return topo_order(self._outputs)

    def _aux_ids(self, nodes):
        aux = set()
        for n in nodes:
            if n.op is not None and n.op.aux:
                for child, _ in n.inputs[n.n_args():]:
                    aux.add(id(child))
        return aux

    def _input_nodes(self):
        """(arguments, auxiliary states) variable nodes, in list_arguments order."""
        nodes = self._nodes()
        aux = self._aux_ids(nodes)
        vs = [n for n in nodes if n.op is None]
        return [n for n in vs if id(n) not in aux], [n for n in vs if id(n) in aux]

    def list_arguments(self):
        """Names of the arguments (inputs and parameters, not auxiliary states)."""
        return [n.name for n in self._input_nodes()[0]]

    def list_auxiliary_states(self):
        """Names of the auxiliary states (e.g. BatchNorm's moving statistics)."""
        return [n.name for n in self._input_nodes()[1]]

    def list_inputs(self):
        """Names of every variable, arguments and auxiliary states, in graph order."""
        return [n.name for n in self._nodes() if n.op is None]

    def list_outputs(self):
        """Names of the outputs (``fc1_output``...)."""
        return [entry_name(n, k) for n, k in self._outputs]

    def get_internals(self):
        """A group of every output of every node (variables included), in graph order."""
        return Symbol([(n, k) for n in self._nodes() for k in range(n.num_visible())])

    def get_children(self):
        """The inputs of this symbol's node as a group, or None for a variable."""
        ins = [e for n, _ in self._outputs for e in n.inputs]
        return Symbol(ins) if ins else None

    def __len__(self):
        return len(self._outputs)

    def __iter__(self):
        return (Symbol([e]) for e in self._outputs)

    def __getitem__(self, index):
        if isinstance(index, str):
            names = self.list_outputs()
            if index not in names:
                raise MXIndexError("symbol has no output named %r (outputs: %s)"
                                   % (index, ", ".join(names)))
            if names.count(index) > 1:
                raise MXNetError("more than one output is named %r" % index)
            index = names.index(index)
        if isinstance(index, slice):
            return Symbol(self._outputs[index])
        if not -len(self._outputs) <= index < len(self._outputs):
            raise MXIndexError("output index %d is out of range for a symbol with %d output(s)"
                               % (index, len(self._outputs)))
        return Symbol([self._outputs[index]])

    def __repr__(self):
        name = self.name
        if name is None:
            return "<Symbol group [%s]>" % ", ".join(n.name for n, _ in self._outputs)
        return "<Symbol %s>" % name

    def __copy__(self):
        return Symbol(self._outputs)

    def __deepcopy__(self, memo):
        return load_json_lazy(self.tojson())

    def __getstate__(self):
        return {"json": self.tojson()}

    def __setstate__(self, state):
        self._outputs = load_json_lazy(state["json"])._outputs

    # ------------------------------------------------------------------ attributes
    def attr(self, key):
        """The string value of attribute ``key`` of this symbol's node, or None."""
        node = self._single("attr")
        for d in (node.uattrs, node.sattrs):
            if key in d:
                return d[key]
        plain = "__%s__" % key
        return node.uattrs.get(plain)

    def list_attr(self, recursive=False):
        """This node's attributes as strings (``recursive``: every node's, keys ``name$key``)."""
        if recursive:
            return {"%s$%s" % (n, k): v for n, d in self.attr_dict().items() for k, v in d.items()}
        return _node_attr_view(self._single("list_attr"))

    def attr_dict(self):
        """``{node name: {key: value}}`` for every node of the graph that has attributes."""
        res = {}
        for n in self._nodes():
            d = _node_attr_view(n)
            if d:
                res[n.name] = d
        return res

    def _set_attr(self, **kwargs):
        """Set user attributes (strings) on this symbol's node."""
        node = self._single("_set_attr")
        for k, v in kwargs.items():
            node.uattrs[k] = attr_to_str(v)

    def _single(self, what):
        if len(self._outputs) != 1:
            raise MXNetError("%s needs a single-output symbol, this one has %d outputs"
                             % (what, len(self._outputs)))
        return self._outputs[0][0]

    # ------------------------------------------------------------------ composition
    def __call__(self, *args, **kwargs):
        """A copy of this graph with variables replaced by symbols (MXNet's composition)."""
        name = kwargs.pop("name", None)
        nodes = self._nodes()
        memo = {id(n): n.copy() for n in nodes}
        for n in memo.values():
            n.inputs = [(memo[id(c)], k) for c, k in n.inputs]
        res = Symbol([(memo[id(n)], k) for n, k in self._outputs])
        args_nodes = [memo[id(n)] for n in self._input_nodes()[0]]
        repl = {}
        if args:
            if len(args) > len(args_nodes):
                raise MXNetError("composition got %d positional symbols for %d arguments"
                                 % (len(args), len(args_nodes)))
            repl.update({id(n): s for n, s in zip(args_nodes, args)})
        by_name = {n.name: n for n in memo.values() if n.op is None}
        for k, s in kwargs.items():
            if k not in by_name:
                raise MXNetError("composition: the symbol has no argument %r (arguments: %s)"
                                 % (k, ", ".join(self.list_arguments())))
            repl[id(by_name[k])] = s
        for s in repl.values():
            if not isinstance(s, Symbol) or len(s._outputs) != 1:
                raise MXNetError("composition takes single-output Symbols as replacements")
        for n in memo.values():
            n.inputs = [repl[id(c)]._outputs[0] if id(c) in repl else (c, k) for c, k in n.inputs]
        res._outputs = [repl[id(n)]._outputs[0] if id(n) in repl else (n, k) for n, k in res._outputs]
        if name is not None and len(res._outputs) == 1:
            res._outputs[0][0].name = name
        return res

    # ------------------------------------------------------------------ arithmetic
    def _binary(self, other, op_name, scalar_name, hint, reflected=False):
        if isinstance(other, Symbol):
            ins = [other, self] if reflected else [self, other]
            return create_op_symbol(op_name, ins, {}, hint=hint)
        if isinstance(other, numeric_types):
            return create_op_symbol(scalar_name, [self], {"scalar": other})
        return NotImplemented

    def __neg__(self):
        return create_op_symbol("_mul_scalar", [self], {"scalar": -1.0})

    def __abs__(self):
        return create_op_symbol("abs", [self], {})

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ NDArray-only API
    def __bool__(self):
        raise NotSupportedError("a Symbol has no value, so it cannot be used as a Python bool "
                                "(e.g. `if x.sum() > 0`)" + _HYBRID_HINT)

    @property
    def shape(self):
        """Not available: a Symbol has no shape until inference; raises with the reason."""
        raise NotSupportedError("a Symbol has no .shape (use infer_shape)" + _HYBRID_HINT)

    def asnumpy(self):
        """Not available: a Symbol has no values; raises with the reason."""
        raise NotSupportedError("a Symbol has no values, .asnumpy() is an NDArray method" + _HYBRID_HINT)

    def asscalar(self):
        """Not available: a Symbol has no values; raises with the reason."""
        raise NotSupportedError("a Symbol has no values, .asscalar() is an NDArray method" + _HYBRID_HINT)

    # ------------------------------------------------------------------ fluent methods
    def reshape(self, *shape, **kwargs):
        """``Reshape`` of this symbol (``shape`` as a tuple or as separate ints)."""
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        if shape:
            kwargs["shape"] = tuple(shape)
        return create_op_symbol("Reshape", [self], kwargs, hint="reshape")

    def astype(self, dtype):
        """``Cast`` of this symbol to ``dtype``."""
        return create_op_symbol("Cast", [self], {"dtype": np.dtype(dtype).name if not isinstance(dtype, str) else dtype})

    # ------------------------------------------------------------------ inference
    def infer_shape(self, *args, **kwargs):
        """(arg_shapes, out_shapes, aux_shapes) from known input shapes (positional in
        list_arguments order, or by name); (None, None, None) when some stay unknown."""
        from .infer import infer_shape
        return infer_shape(self, args, kwargs, partial=False)

    def infer_shape_partial(self, *args, **kwargs):
        """Like :meth:`infer_shape`, with ``()`` for shapes that cannot be inferred."""
        from .infer import infer_shape
        return infer_shape(self, args, kwargs, partial=True)

    def infer_type(self, *args, **kwargs):
        """(arg_types, out_types, aux_types) as NumPy types from known input dtypes."""
        from .infer import infer_type
        return infer_type(self, args, kwargs)

    # ------------------------------------------------------------------ serialisation
    def tojson(self):
        """The graph as MXNet's JSON (nodes / arg_nodes / node_row_ptr / heads)."""
        from .json_io import to_json
        return to_json(self)

    def save(self, fname, remove_amp_cast=True):
        """Write :meth:`tojson` to ``fname``; with ``remove_amp_cast`` (MXNet's default) the
        saved graph leaves out the ``amp_cast`` / ``amp_multicast`` nodes."""
        from ..storage import open_uri
        from .graph import without_amp_casts
        sym = Symbol(without_amp_casts(self._outputs)) if remove_amp_cast else self
        with open_uri(fname, "w") as f:
            f.write(sym.tojson())

    # ------------------------------------------------------------------ execution
    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None,
             group2ctx=None, shared_exec=None):
        """An :class:`~psnet.symbol.executor.Executor` over the given arrays."""
        from .executor import Executor
        return Executor(self, ctx, args, args_grad, grad_req, aux_states)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None,
                    group2ctx=None, shared_arg_names=None, shared_exec=None,
                    shared_buffer=None, **kwargs):
        """An Executor with arrays allocated from the input shapes given as keywords."""
        from .executor import simple_bind
        return simple_bind(self, ctx, grad_req, type_dict, kwargs)

    def eval(self, ctx=None, **kwargs):
        """Bind to the NDArrays in ``kwargs``, run forward, return the outputs (a list)."""
        from ..context import current_context
        ctx = ctx if ctx is not None else current_context()
        return self.bind(ctx, kwargs, grad_req="null").forward()


# operator -> (op of two Symbols, op with a scalar, automatic-name stem, operands swapped)
_OPERATORS = {
    "__add__": ("elemwise_add", "_plus_scalar", "_plus", False),
    "__radd__": ("elemwise_add", "_plus_scalar", "_plus", False),
    "__sub__": ("elemwise_sub", "_minus_scalar", "_minus", False),
    "__rsub__": ("elemwise_sub", "_rminus_scalar", "_minus", True),
    "__mul__": ("elemwise_mul", "_mul_scalar", "_mul", False),
    "__rmul__": ("elemwise_mul", "_mul_scalar", "_mul", False),
    "__truediv__": ("elemwise_div", "_div_scalar", "_div", False),
    "__rtruediv__": ("elemwise_div", "_rdiv_scalar", "_div", True),
    "__mod__": ("_mod", "_mod_scalar", "_mod", False),
    "__rmod__": ("_mod", "_rmod_scalar", "_mod", True),
    "__pow__": ("_power", "_power_scalar", "_power", False),
    "__rpow__": ("_power", "_rpower_scalar", "_power", True),
    "__eq__": ("_equal", "_equal_scalar", "_equal", False),
    "__ne__": ("_not_equal", "_not_equal_scalar", "_not_equal", False),
    "__gt__": ("_greater", "_greater_scalar", "_greater", False),
    "__ge__": ("_greater_equal", "_greater_equal_scalar", "_greater_equal", False),
    "__lt__": ("_lesser", "_lesser_scalar", "_lesser", False),
    "__le__": ("_lesser_equal", "_lesser_equal_scalar", "_lesser_equal", False),
}


def _operator(name, op_name, scalar_name, hint, reflected):
    def method(self, other):
        return self._binary(other, op_name, scalar_name, hint, reflected)
    method.__name__ = name
    method.__doc__ = "``%s`` with another Symbol (%s) or a scalar (%s)." % (name, op_name, scalar_name)
    return method


for _name, _spec in _OPERATORS.items():
    setattr(Symbol, _name, _operator(_name, *_spec))


def _node_attr_view(node):
    d = dict(node.sattrs)
    d.update(node.uattrs)
    for k, v in node.uattrs.items():
        if k.startswith("__") and k.endswith("__") and k[2:-2] in ("lr_mult", "wd_mult"):
            d[k[2:-2]] = v
    return d


def load_json_lazy(text):
    """:func:`psnet.symbol.json_io.load_json` (imported on use to keep modules acyclic)."""
    from .json_io import load_json
    return load_json(text)


def Variable(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None,
             stype=None, **kwargs):
    """A symbolic variable (an input or a parameter) with optional shape, dtype and
    optimizer attributes stored as MXNet's ``__shape__``, ``__dtype__``... strings."""
    if not isinstance(name, str):
        raise MXNetError("Variable name must be a string, got %s" % type(name).__name__)
    uattrs = {k: attr_to_str(v) for k, v in (attr or {}).items()}
    if shape is not None:
        uattrs["__shape__"] = str(tuple(shape))
    if lr_mult is not None:
        uattrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        uattrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        uattrs["__dtype__"] = str(_DTYPE_CODES[np.dtype(dtype).name])
    if init is not None:
        uattrs["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        uattrs["__storage_type__"] = str(stype)
    for k, v in kwargs.items():
        if not (k.startswith("__") and k.endswith("__")):
            raise MXNetError("Variable %s: unknown keyword %r (extra attributes are written "
                             "__name__)" % (name, k))
        uattrs[k] = attr_to_str(v)
    return Symbol([(Node(None, name, uattrs=uattrs), 0)])


var = Variable


def Group(symbols):
    """One symbol whose outputs are the outputs of ``symbols``, in order."""
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise MXNetError("Group takes a non-empty list of Symbols")
    return Symbol([e for s in symbols for e in s._outputs])
