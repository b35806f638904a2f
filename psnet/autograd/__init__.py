"""``mx.autograd``: record imperative computation and differentiate it.

    x = mx.nd.array([1, 2, 3]); x.attach_grad()
    with mx.autograd.record():
        y = (x * x).sum()
    y.backward()
    x.grad            # [2, 4, 6]
"""
from contextlib import contextmanager

from ..base import MXNetError, NotSupportedError
from ..ndarray.ndarray import ag_state
from .tape import Leaf, backward as _backward, grad as _grad, mark_leaf

__all__ = ["record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
           "set_recording", "set_training", "backward", "grad", "mark_variables", "get_symbol",
           "Function"]


def set_recording(is_recording):
    """Turn recording on or off; returns the previous state."""
    prev = ag_state.recording
    ag_state.recording = bool(is_recording)
    return prev


def set_training(train_mode):
    """Turn training mode on or off (Dropout, BatchNorm); returns the previous state."""
    prev = ag_state.training
    ag_state.training = bool(train_mode)
    return prev


def is_recording():
    """Whether operations are being recorded for autograd."""
    return ag_state.recording


def is_training():
    """Whether layers behave as in training (Dropout active, BatchNorm batch statistics)."""
    return ag_state.training


@contextmanager
def _scope(recording, training):
    prev_r, prev_t = ag_state.recording, ag_state.training
    if recording is not None:
        ag_state.recording = recording
    if training is not None:
        ag_state.training = training
    try:
        yield
    finally:
        ag_state.recording, ag_state.training = prev_r, prev_t


def record(train_mode=True):  # pylint: disable=redefined-outer-name
    """Scope in which operations are recorded (and, by default, run in training mode)."""
    return _scope(True, train_mode)


def pause(train_mode=False):  # pylint: disable=redefined-outer-name
    """Scope in which recording is off (e.g. for metric updates inside ``record()``)."""
    return _scope(False, train_mode)


def train_mode():
    """Scope running layers in training mode without changing recording."""
    return _scope(None, True)


def predict_mode():
    """Scope running layers in prediction mode without changing recording."""
    return _scope(None, False)


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):  # pylint: disable=redefined-outer-name
    """Backpropagate from one array or a list of arrays into the variables' ``.grad``."""
    if not isinstance(heads, (list, tuple)):
        heads = [heads]
        head_grads = None if head_grads is None else [head_grads]
    _backward(list(heads), None if head_grads is None else list(head_grads), retain_graph, train_mode)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):  # pylint: disable=redefined-outer-name
    """Gradients of ``heads`` with respect to ``variables``, returned as a list (or one array).

    With ``create_graph=True`` the gradients are recorded, so they can be differentiated
    again (second-order gradients).
    """
    single = not isinstance(variables, (list, tuple))
    heads = list(heads) if isinstance(heads, (list, tuple)) else [heads]
    if head_grads is not None and not isinstance(head_grads, (list, tuple)):
        head_grads = [head_grads]
    res = _grad(heads, [variables] if single else list(variables), head_grads, retain_graph,
                create_graph, train_mode)
    return res[0] if single else res


def mark_variables(variables, gradients, grad_reqs="write"):
    """Mark arrays as variables with the given gradient buffers (``attach_grad`` for many)."""
    if not isinstance(variables, (list, tuple)):
        variables, gradients = [variables], [gradients]
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    if not len(variables) == len(gradients) == len(grad_reqs):
        raise MXNetError("mark_variables: %d variables, %d gradients and %d grad_reqs"
                         % (len(variables), len(gradients), len(grad_reqs)))
    for v, g, r in zip(variables, gradients, grad_reqs):
        mark_leaf(v, g, r)


_RUNTIME_ATTRS = ("is_train", "rng")  # filled by the dispatcher, not attributes of the call


class _SymbolBuilder:
    """Turns recorded tape nodes into graph nodes (see :func:`get_symbol`)."""

    def __init__(self):
        from ..symbol.graph import Node
        self.Node = Node
        self.built = {}  # id(tape node) -> [graph entry per output]
        self.variables = {}  # id(array) or input name -> graph variable node
        self.n_ops = 0

    def variable(self, array):
        """The variable of a leaf (``var<k>``) or of a constant input (``null<k>``)."""
        v = self.variables.get(id(array))
        if v is None:
            prefix = "var" if isinstance(array._ag, Leaf) else "null"
            v = self.variables[id(array)] = self.Node(None, "%s%d" % (prefix, len(self.variables)))
        return v

    def entry(self, array):
        """The graph entry ``(node, k)`` of an input array (its tape node must be built)."""
        ag = array._ag
        if type(ag) is tuple:
            return self.built[id(ag[0])][ag[1]]
        return (self.variable(array), 0)

    def op_node(self, op, attrs, inputs):
        """A graph node ``node_<k>`` calling registry ``op`` with the non-default ``attrs``."""
        given = {}
        for k, v in attrs.items():
            if k in _RUNTIME_ATTRS:
                continue
            if k in op.params:
                try:
                    if v is op.params[k] or bool(v == op.params[k]):
                        continue
                except (TypeError, ValueError):
                    pass
            given[k] = v
        if type(given.get("scalar")) is int:  # `x * 2` records an int; MXNet's attribute is a float
            given["scalar"] = float(given["scalar"])
        node = self.Node(op, "node_%d" % self.n_ops, given, inputs)
        self.n_ops += 1
        return node

    def build(self, tnode):
        """Graph entries of every output of recorded node ``tnode`` (its inputs built)."""
        op = tnode.op
        ins = [self.entry(a) for a in tnode.inputs]
        plan = getattr(op, "_plan", None)
        if plan is not None and hasattr(op, "_slots"):
            return self._inline_plan(plan, op._slots, ins)
        if not hasattr(op, "forward") or not hasattr(op, "def_grad"):
            raise NotSupportedError("autograd.get_symbol: the graph contains a call of %s (%s), which is "
                                    "not a registry operator (an autograd.Function?) and has no symbolic form"
                                    % (getattr(op, "name", "?"), type(op).__name__))
        node = self.op_node(op, tnode.attrs, ins)
        return [(node, k) for k in range(len(tnode.outputs))]

    def _inline_plan(self, plan, slots, ins):
        """The steps of a hybridized block's compiled graph, fed by the tape inputs; its
        other inputs (constants, Parameters without gradient) stay variables by name."""
        where = dict(zip(slots, ins))
        slot = {}
        for i, name in enumerate(plan.input_names):
            if i in where:
                slot[i] = where[i]
            else:
                v = self.variables.get(name)
                if v is None:
                    v = self.variables[name] = self.Node(None, name)
                slot[i] = (v, 0)
        for _fwd, in_slots, out_slots, _attrs, _flags, gnode in plan.steps:
            for s, e in zip(out_slots, self._unfused(gnode, [slot[s] for s in in_slots])):
                slot[s] = e
        return [slot[s] for s in plan.heads]

    def _unfused(self, gnode, ins):
        """Output entries of a plan step, the executor's fused pairs split back into the
        two MXNet ops (FullyConnected + relu Activation, log_softmax + pick)."""
        from ..ops import registry
        name = gnode.op.name
        if name == "_FullyConnected_relu":
            fc = self.op_node(registry.get("FullyConnected"), gnode.attrs, ins)
            return [(self.op_node(registry.get("Activation"), {"act_type": "relu"}, [(fc, 0)]), 0)]
        if name == "_log_softmax_pick":
            a = gnode.full_attrs()
            ls = self.op_node(registry.get("log_softmax"), {"axis": a["axis"]}, ins[:1])
            pick_attrs = {k: a[k] for k in ("axis", "keepdims", "mode")}
            return [(self.op_node(registry.get("pick"), pick_attrs, [(ls, 0), ins[1]]), 0)]
        node = self.op_node(gnode.op, gnode.attrs, ins)
        return [(node, k) for k in range(node.num_outputs())]


def get_symbol(x):
    """The recorded computation of ``x`` as a :class:`~psnet.symbol.Symbol` (MXNet's
    ``autograd.get_symbol``).

    Every recorded operator call becomes a node (``node_0``, ``node_1``...) of the same
    registry op with the same attributes; the arrays the computation starts from become
    variables, named as MXNet does in order of first use: ``var<k>`` for variables
    (``attach_grad``) and ``null<k>`` for constant inputs, with one counter.  Binding or
    ``eval``-uating the Symbol with those arrays reproduces ``x`` (in inference mode:
    a training-mode Dropout is the identity there).  A hybridized block's call is inlined
    (its constants and Parameters without gradient keep their names); a custom
    :class:`Function` has no symbolic form (NotSupportedError).
    """
    from ..symbol.symbol import Symbol
    ag = getattr(x, "_ag", None)
    b = _SymbolBuilder()
    if isinstance(ag, Leaf):
        return Symbol([(b.variable(x), 0)])
    if type(ag) is not tuple:
        raise MXNetError("autograd.get_symbol: the array (shape %s) was not computed under "
                         "autograd.record() from variables marked with attach_grad()" % (x.shape,))
    stack = [[ag[0], 0]]  # DFS post-order, inputs left to right (MXNet's node order)
    while stack:
        top = stack[-1]
        tnode, i = top
        if tnode.inputs is None:
            raise MXNetError("autograd.get_symbol: part of the graph was freed by backward(); "
                             "call get_symbol before backward or pass retain_graph=True")
        if i < len(tnode.inputs):
            top[1] = i + 1
            a = tnode.inputs[i]
            src = a._ag
            if type(src) is tuple:
                if id(src[0]) not in b.built:
                    stack.append([src[0], 0])
            else:
                b.variable(a)
            continue
        stack.pop()
        b.built[id(tnode)] = b.build(tnode)
    return Symbol([b.built[id(ag[0])][ag[1]]])


from .function import Function  # noqa: E402  (needs the names above)
