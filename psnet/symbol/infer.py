"""Shape and type inference over a Symbol's graph.

Each operator node is resolved by its op's ``infer_shape(attrs, in_shapes)`` when it
has one (returning ``(in_shapes, out_shapes)`` with None for unknowns, which is how
parameter shapes are inferred *backwards* from the data, see
:mod:`psnet.ops.shape_inference`), by the same-shape rule for ``elemwise_*`` calls, and
otherwise by running the op's forward on zero-strided placeholder arrays once all its
input shapes are known.  Passes repeat until nothing changes.
"""
import numpy as np

from ..base import MXNetError, ShapeError, normalize_dtype
from .graph import topo_order, str_to_attr
from .symbol import DTYPE_FROM_CODE

__all__ = ["infer_shape", "infer_type", "infer_graph_shapes", "infer_graph_types", "ELEMWISE_NAMES"]

# calls that MXNet resolves with "every input and the output have one shape"
ELEMWISE_NAMES = frozenset(("elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div"))
_MAX_PASSES = 8
_PLACEHOLDER_RNG = np.random.default_rng(0)


def _known(shape):
    return shape is not None and len(shape) > 0 and all(d > 0 for d in shape)


def _var_shape(node):
    text = node.uattrs.get("__shape__")
    if text is None:
        return None
    shape = tuple(str_to_attr(text))
    return shape if _known(shape) else None


def _var_dtype(node):
    code = node.uattrs.get("__dtype__")
    return None if code is None else np.dtype(DTYPE_FROM_CODE[int(code)])


def _gather(sym, args, kwargs, what):
    """Map variable node ids to the values given positionally (list_arguments order) or by name."""
    arg_nodes, aux_nodes = sym._input_nodes()
    if len(args) > len(arg_nodes):
        raise MXNetError("%s got %d positional values for %d arguments" % (what, len(args), len(arg_nodes)))
    given = {id(n): v for n, v in zip(arg_nodes, args) if v is not None}
    by_name = {}
    for n in arg_nodes + aux_nodes:
        by_name.setdefault(n.name, []).append(n)
    for k, v in kwargs.items():
        if k not in by_name:
            raise MXNetError("%s: %r is not an input of the symbol (inputs: %s)"
                             % (what, k, ", ".join(sym.list_inputs())))
        if v is not None:
            for n in by_name[k]:
                given[id(n)] = v
    return arg_nodes, aux_nodes, given


class _Table:
    """Known values per entry ``(node id, k)`` with consistency checks naming the op."""

    def __init__(self, what):
        self.vals = {}
        self.changed = False
        self.what = what

    def get(self, node, k):
        return self.vals.get((id(node), k))

    def put(self, node, k, value, user, slot):
        if value is None:
            return
        key = (id(node), k)
        old = self.vals.get(key)
        if old is None:
            self.vals[key] = value
            self.changed = True
        elif old != value:
            raise ShapeError("%s: inconsistent %s at %s of operator %s (node %s): %s vs %s"
                             % (self.what, self.what.split("_")[-1] + "s", slot, user.op_name,
                                user.name, _fmt(old), _fmt(value)))


def _fmt(v):
    return np.dtype(v).name if not isinstance(v, tuple) else str(v)


def _forward_placeholders(node, arrays, in_shapes, dts, attrs):
    """The op's forward on read-only placeholders, or on real zeros if it writes in place."""
    try:
        return node.op.forward(np, *arrays, **attrs)
    except ValueError as e:
        if "read-only" not in str(e):
            raise
        return node.op.forward(np, *[np.zeros(s, dt) for s, dt in zip(in_shapes, dts)], **attrs)


def _placeholder_outputs(node, in_shapes, in_types):
    """Output shapes of ``node`` from running its forward on placeholder arrays."""
    attrs = dict(node.full_attrs())
    if node.op.needs_train:
        attrs["is_train"] = False
    if node.op.needs_rng:
        attrs["rng"] = _PLACEHOLDER_RNG
    dts = [t if t is not None else np.dtype(np.float32) for t in in_types]
    arrays = [np.broadcast_to(np.zeros((), dt), s) for s, dt in zip(in_shapes, dts)]
    try:
        with np.errstate(all="ignore"):  # zeros in, so 0/0 and log(0) are expected here
            res = _forward_placeholders(node, arrays, in_shapes, dts, attrs)
    except MXNetError as e:
        raise ShapeError("infer_shape: operator %s (node %s) with input shapes %s: %s"
                         % (node.op_name, node.name, list(in_shapes), e)) from None
    except (ValueError, TypeError, IndexError) as e:
        raise ShapeError("infer_shape: operator %s (node %s) cannot take input shapes %s: %s"
                         % (node.op_name, node.name, list(in_shapes), e)) from None
    res = list(res) if isinstance(res, (tuple, list)) else [res]
    return [tuple(r.shape) if r.ndim else (1,) for r in res[:node.num_visible()]]


def _node_shapes(node, ins, types):
    """(in_shapes, out_shapes) learnt at one node, or None when nothing can be learnt yet."""
    if node.op_name in ELEMWISE_NAMES:
        known = [s for s in ins if s is not None]
        return (None if not known else ([known[0]] * len(ins), [known[0]]))
    fn = node.op.infer_shape
    if fn is not None:
        try:
            res = fn(node.full_attrs(), list(ins))
        except (MXNetError, ValueError, TypeError, IndexError, KeyError) as e:
            if any(s is None for s in ins):
                return None  # the rule needs more than is known yet
            raise ShapeError("infer_shape: operator %s (node %s) with input shapes %s: %s"
                             % (node.op_name, node.name, list(ins), e)) from None
        if res is None:
            return None
        if len(res) == 3:  # (arguments, outputs, auxiliary states)
            return list(res[0]) + list(res[2]), res[1]
        return res
    if all(s is not None for s in ins):
        return ins, _placeholder_outputs(node, ins, types)
    return None


def infer_graph_shapes(sym, given, types=None):
    """Shapes of every entry: ``{(node id, k): shape}`` from ``{var node id: shape}``."""
    nodes = topo_order(sym._outputs)
    table = _Table("infer_shape")
    types = types or {}
    for n in nodes:
        if n.op is None:
            s = given.get(id(n))
            s = tuple(s) if s is not None else _var_shape(n)
            if s is not None and _known(s):
                table.vals[(id(n), 0)] = s
    ops = [n for n in nodes if n.op is not None]
    for _ in range(_MAX_PASSES):
        table.changed = False
        for n in ops:
            ins = [table.get(c, k) for c, k in n.inputs]
            nvis = n.num_visible()
            if all(s is not None for s in ins) and all(table.get(n, k) is not None for k in range(nvis)):
                continue
            res = _node_shapes(n, ins, [types.get((id(c), k)) for c, k in n.inputs])
            if res is None:
                continue
            new_in, new_out = res
            for i, ((c, k), s) in enumerate(zip(n.inputs, new_in)):
                table.put(c, k, None if s is None else tuple(s), n, "input %d" % i)
            for k, s in enumerate(list(new_out)[:nvis]):
                table.put(n, k, None if s is None else tuple(s), n, "output %d" % k)
        if not table.changed:
            break
    return table.vals


def infer_shape(sym, args, kwargs, partial):
    """Symbol.infer_shape / infer_shape_partial."""
    arg_nodes, aux_nodes, given = _gather(sym, args, kwargs, "infer_shape")
    given = {k: tuple(v) for k, v in given.items()}
    types = infer_graph_types(sym, {})
    vals = infer_graph_shapes(sym, given, types)

    def look(entries):
        return [vals.get((id(n), k)) for n, k in entries]
    res = (look([(n, 0) for n in arg_nodes]), look(sym._outputs), look([(n, 0) for n in aux_nodes]))
    if partial:
        return tuple([s if s is not None else () for s in part] for part in res)
    if any(s is None for part in res for s in part):
        return None, None, None
    return res


# ---------------------------------------------------------------------- types
def _node_types(node, ins):
    fn = node.op.infer_type
    nvis = node.num_visible()
    if fn is not None:
        res = fn(node.full_attrs(), list(ins))
        return res if isinstance(res, tuple) and len(res) == 2 else (ins, res)
    attrs = node.full_attrs()
    known = [t for t in ins if t is not None]
    if attrs.get("dtype") is not None and "dtype" in node.op.params:
        out = normalize_dtype(attrs["dtype"])
    elif known:
        out = known[0]
    else:
        return None
    fill = known[0] if known else out
    return [t if t is not None else fill for t in ins], [out] * nvis


def infer_graph_types(sym, given):
    """dtypes of every entry: ``{(node id, k): numpy.dtype}`` from ``{var node id: dtype}``."""
    nodes = topo_order(sym._outputs)
    table = _Table("infer_type")
    for n in nodes:
        if n.op is None:
            t = given.get(id(n))
            t = normalize_dtype(t) if t is not None else _var_dtype(n)
            if t is not None:
                table.vals[(id(n), 0)] = t
    ops = [n for n in nodes if n.op is not None]
    for _ in range(_MAX_PASSES):
        table.changed = False
        for n in ops:
            res = _node_types(n, [table.get(c, k) for c, k in n.inputs])
            if res is None:
                continue
            for i, ((c, k), t) in enumerate(zip(n.inputs, res[0])):
                table.put(c, k, None if t is None else np.dtype(t), n, "input %d" % i)
            for k, t in enumerate(list(res[1])[:n.num_visible()]):
                table.put(n, k, None if t is None else np.dtype(t), n, "output %d" % k)
        if not table.changed:
            break
    return table.vals


def infer_type(sym, args, kwargs):
    """Symbol.infer_type: NumPy types, or (None, None, None) when some stay unknown."""
    arg_nodes, aux_nodes, given = _gather(sym, args, kwargs, "infer_type")
    vals = infer_graph_types(sym, given)
    parts = ([vals.get((id(n), 0)) for n in arg_nodes], [vals.get((id(n), k)) for n, k in sym._outputs],
             [vals.get((id(n), 0)) for n in aux_nodes])
    if any(t is None for part in parts for t in part):
        return None, None, None
    return tuple([t.type for t in part] for part in parts)
