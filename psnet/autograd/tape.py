"""The autograd tape: nodes recorded by the dispatcher, and reverse-mode traversal.

Every NDArray has a slot ``_ag``:

* ``None``: a constant for autograd;
* a :class:`Leaf`: a variable (``attach_grad`` / ``mark_variables``) with its gradient
  buffer and ``grad_req``;
* a tuple ``(node, k)``: output ``k`` of a recorded :class:`Node`.

Gradients are computed by each op's ``grad`` function (see :mod:`psnet.ops.registry`),
which uses NDArray operators; with ``create_graph=True`` those are recorded too, which
gives higher-order gradients.
"""
from ..base import MXNetError
from ..ndarray.ndarray import ag_state, from_backend, zeros as _zeros

__all__ = ["Leaf", "Node", "record_op", "mark_leaf", "backward", "grad"]


class Leaf:
    """Autograd info of a variable: its gradient buffer and how to write it.

    ``fresh`` is set by :func:`backward` when it writes the gradient; ``gluon.Trainer``
    clears it after an update (MXNet's stale-gradient check).
    """

    __slots__ = ("grad", "grad_req", "fresh")

    def __init__(self, grad, grad_req):
        if grad_req not in ("write", "add", "null"):
            raise MXNetError("grad_req must be 'write', 'add' or 'null', got %r" % (grad_req,))
        self.grad = grad
        self.grad_req = grad_req
        self.fresh = False


class Node:
    """One recorded operator call: op, attributes, input arrays, outputs (detached views)."""

    __slots__ = ("op", "attrs", "inputs", "outputs")

    def __init__(self, op, attrs, inputs, outputs):
        self.op = op
        self.attrs = attrs
        self.inputs = inputs
        self.outputs = outputs


def record_op(op, attrs, inputs, outs):
    """Put a call on the tape (called by the dispatcher while recording)."""
    full = dict(op.params)
    full.update(attrs)
    node = Node(op, full, list(inputs), [from_backend(o._data, o._ctx) for o in outs])
    for k, o in enumerate(outs):
        o._ag = (node, k)


def mark_leaf(array, grad, grad_req="write"):
    """Make ``array`` a variable whose gradient goes into ``grad``."""
    array._ag = Leaf(grad, grad_req)


def _topo_nodes(heads):
    """Recorded nodes reachable from ``heads``, inputs before the nodes that use them."""
    order, seen = [], set()
    stack = []
    for h in heads:
        ag = h._ag
        if type(ag) is tuple:
            stack.append((ag[0], False))
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.inputs is None:
            raise MXNetError("this part of the graph was freed by an earlier backward(); "
                             "pass retain_graph=True to the first backward to differentiate twice")
        stack.append((node, True))
        for x in node.inputs:
            ag = x._ag
            if type(ag) is tuple and id(ag[0]) not in seen:
                stack.append((ag[0], False))
    return order


def _linked_outputs(node):
    """The node's outputs as arrays that point back at the node.

    Gradient formulas often use the outputs (exp: g * y; sigmoid: g * y * (1 - y)).  The
    tape stores them detached (no reference cycles); for ``create_graph`` they must stay
    connected to the node, or the second derivative would miss the path through them.
    """
    linked = []
    for k, o in enumerate(node.outputs):
        a = from_backend(o._data, o._ctx)
        a._ag = (node, k)
        linked.append(a)
    return linked


def _check_heads(heads, head_grads):
    """The head gradients (ones where None), checked against the heads."""
    if head_grads is None:
        head_grads = [None] * len(heads)
    if len(head_grads) != len(heads):
        raise MXNetError("backward got %d head gradients for %d heads" % (len(head_grads), len(heads)))
    out = []
    for h, hg in zip(heads, head_grads):
        if h._ag is None:
            raise MXNetError("cannot differentiate an array that was not computed from variables "
                             "under autograd.record(); call attach_grad() on the inputs first")
        if hg is None:
            hg = from_backend(h._ctx.backend.xp.ones(h.shape, dtype=h._data.dtype), h._ctx)
        elif hg.shape != h.shape:
            raise MXNetError("head gradient of shape %s does not match the head's shape %s"
                             % (hg.shape, h.shape))
        out.append(hg)
    return out


def _deliver(pairs, pending, leaf_grads):
    """Add each (array, gradient) pair where it belongs: a node output's pending slot, or a
    variable's total.  Runs once per recorded input, so it is kept tight."""
    for x, g in pairs:
        if g is None:
            continue
        ag = x._ag
        if ag is None:
            continue
        if type(ag) is tuple:
            src, k = ag
            slots = pending.get(id(src))
            if slots is None:
                slots = pending[id(src)] = [None] * len(src.outputs)
            slots[k] = g if slots[k] is None else slots[k] + g
        else:
            prev = leaf_grads.get(id(x))
            leaf_grads[id(x)] = (x, g if prev is None else prev[1] + g)


def _run(heads, head_grads, retain_graph, create_graph, train_mode):
    """Propagate gradients from ``heads``; returns {id(variable): (variable, gradient)}."""
    head_grads = _check_heads(heads, head_grads)
    pending = {}      # id(node) -> [gradient per output], filled as gradients arrive
    leaf_grads = {}   # id(array) -> (array, gradient)
    order = _topo_nodes(heads)
    _deliver(zip(heads, head_grads), pending, leaf_grads)
    saved = ag_state.recording, ag_state.training
    ag_state.recording, ag_state.training = create_graph, train_mode
    try:
        for node in reversed(order):
            slots = pending.pop(id(node), None)
            if slots is None:
                continue
            op, outputs, inputs = node.op, node.outputs, node.inputs
            nvis = op.n_visible(node.attrs)
            ograds = slots[:nvis]
            for k in range(nvis):
                if ograds[k] is None:
                    o = outputs[k]
                    ograds[k] = _zeros(o.shape, ctx=o._ctx, dtype=o._data.dtype)
            if create_graph:
                outputs = _linked_outputs(node)
            _deliver(zip(inputs, op.grad(inputs, outputs, ograds, node.attrs)), pending, leaf_grads)
            if not retain_graph:
                node.inputs = None
    finally:
        ag_state.recording, ag_state.training = saved
    return leaf_grads


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Accumulate d(heads)/d(variable) into every reached variable's ``.grad``.

    ``grad_req='write'`` overwrites the buffer, ``'add'`` adds to it, ``'null'`` skips.
    The buffer object stays the same (optimizers hold references to it).
    """
    leaf_grads = _run(heads, head_grads, retain_graph, False, train_mode)
    for x, g in leaf_grads.values():
        leaf = x._ag
        if leaf.grad_req == "write":
            leaf.grad._assign_data(g._data)
        elif leaf.grad_req == "add":
            leaf.grad._ctx.backend.activate()  # add on the leaf's device (GPUs: the current one)
            leaf.grad._assign_data(leaf.grad._data + g._data)
        leaf.fresh = True


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False, train_mode=True):
    """Gradients of ``heads`` w.r.t. ``variables``, returned instead of written to ``.grad``."""
    if retain_graph is None:
        retain_graph = create_graph
    for v in variables:
        if not isinstance(v._ag, Leaf):
            raise MXNetError("autograd.grad: every variable must be marked with attach_grad() "
                             "(or mark_variables) before recording")
    leaf_grads = _run(heads, head_grads, retain_graph, create_graph, train_mode)
    out = []
    for k, v in enumerate(variables):
        entry = leaf_grads.get(id(v))
        if entry is None:  # MXNet refuses too
            raise MXNetError("autograd.grad: variable #%d (shape %s) is not in the graph of the heads; "
                             "they do not depend on it" % (k, v.shape))
        out.append(entry[1])
    return out
