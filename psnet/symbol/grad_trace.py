"""Replayable gradients: record once what an op's gradient function computes, then rerun
it on raw arrays.

Registry gradients are written with ``mx.nd`` operators (so they are differentiable),
which costs one trip through the NDArray dispatcher per operator.  A cached graph runs
the same gradients with the same shapes on every step, so :func:`trace_grad` calls the
gradient once under ``autograd.record()`` with its inputs marked as variables; the
autograd tape then holds exactly the operators it ran and how they connect.  That
becomes a :class:`GradProgram`: a flat list of ``(forward, input registers, attrs)``
replayed on raw backend arrays.  A gradient that computes anything off the tape (raw
``xp`` code, arrays built from values, ops without a gradient) cannot be replayed and
returns None; the caller then calls the gradient function every time.
"""
from ..autograd.tape import Leaf
from ..base import MXNetError
from ..ndarray.ndarray import ag_state, from_backend

__all__ = ["GradProgram", "call_op", "trace_grad"]


class _Untraceable(Exception):
    """The gradient used a value that is not on the tape."""


def call_op(fwd, xp, regs, ins, attrs):
    """``fwd(xp, *[regs[i] for i in ins], **attrs)``, with up to three inputs spelled out
    (building the argument list costs as much as a small op's own work)."""
    n = len(ins)
    if n == 1:
        return fwd(xp, regs[ins[0]], **attrs)
    if n == 2:
        return fwd(xp, regs[ins[0]], regs[ins[1]], **attrs)
    if n == 3:
        return fwd(xp, regs[ins[0]], regs[ins[1]], regs[ins[2]], **attrs)
    return fwd(xp, *[regs[i] for i in ins], **attrs)


class GradProgram:
    """A gradient as a flat list of raw-array op calls over numbered registers."""

    __slots__ = ("steps", "results", "n_regs")

    def __init__(self, steps, results, n_regs):
        self.steps = steps        # (forward, input registers, first output register, attrs, n_out)
        self.results = results    # register of each input gradient, or None
        self.n_regs = n_regs

    def pruned(self, keep):
        """The program computing only the gradients whose ``keep`` flag is true (the
        steps that serve only dropped gradients go: no data gradient for a first layer).
        A multi-output step whose forward has a ``prune_outputs(attrs, used)`` hook gets
        the attributes it returns for the outputs still used (the op may then give None
        for the others)."""
        results = [r if k else None for r, k in zip(self.results, keep)]
        needed = {r for r in results if r is not None}
        steps = []
        for step in reversed(self.steps):
            fwd, ins, base, attrs, n_out = step
            used = [base + k in needed for k in range(n_out)]
            if any(used):
                prune = getattr(fwd, "prune_outputs", None)
                if prune is not None and not all(used):
                    step = (fwd, ins, base, prune(attrs, used), n_out)
                steps.append(step)
                needed.update(ins)
        return GradProgram(steps[::-1], results, self.n_regs)

    def execute(self, xp, leaves):
        """Every register after running the steps on leaf values ``leaves`` (a list)."""
        regs = leaves + [None] * (self.n_regs - len(leaves))
        for fwd, ins, base, attrs, _ in self.steps:
            res = call_op(fwd, xp, regs, ins, attrs)
            if type(res) is tuple or type(res) is list:
                for k, r in enumerate(res):
                    regs[base + k] = r if r is None or r.ndim else r.reshape(1)
            else:
                regs[base] = res if res.ndim else res.reshape(1)
        return regs

    def run(self, xp, leaves):
        """The input gradients (raw arrays or None) for leaf values ``leaves`` (a list)."""
        regs = self.execute(xp, leaves)
        return [None if r is None else regs[r] for r in self.results]


def _reshape_to(xp, data, shape):
    """A reshape whose target was resolved when the program was traced."""
    return data.reshape(shape)


# ops whose output is their (first) input's values in a new shape
_RESHAPES = frozenset(("Reshape", "expand_dims", "squeeze", "Flatten", "reshape_like"))
_NEUTRAL_SCALAR = {"_mul_scalar": 1, "_div_scalar": 1, "_plus_scalar": 0, "_minus_scalar": 0}


def _is_identity(node):
    """Whether a traced call returned its input's values unchanged (same shape and dtype):
    a reshape or broadcast_to to the same shape, a product with 1 or sum with 0.  Replays
    never write into registers, so such a step can hand on its input instead of a copy."""
    name, x, y = node.op.name, node.inputs[0], node.outputs[0]
    if len(node.inputs) != 1 or len(node.outputs) != 1 or x.shape != y.shape \
            or x._data.dtype != y._data.dtype:
        return False
    if name in _RESHAPES or name == "broadcast_to":
        return True
    neutral = _NEUTRAL_SCALAR.get(name)
    return neutral is not None and node.attrs.get("scalar") == neutral


def _compile(results, leaf_index, n_leaves):
    """Steps computing the tape arrays ``results`` from the leaves, in dependency order.

    Shapes are fixed for a program, so a ``Reshape`` (or expand_dims, squeeze, Flatten,
    reshape_like) becomes a plain reshape to the traced shape, and identity steps disappear (gradients often reshape or broadcast to be safe).
    """
    steps, reg_of_node, next_reg = [], {}, [n_leaves]

    def reg(arr):
        ag = arr._ag
        if type(ag) is Leaf:
            idx = leaf_index.get(id(ag))
            if idx is None:
                raise _Untraceable()
            return idx
        if type(ag) is not tuple:
            raise _Untraceable()
        node, k = ag
        base = reg_of_node.get(id(node))
        if base is None:
            ins = tuple(reg(x) for x in node.inputs)
            fwd, attrs = getattr(node.op, "forward", None), node.attrs
            if fwd is None:
                raise _Untraceable()
            if _is_identity(node):
                reg_of_node[id(node)] = ins[0]
                return ins[0]
            if node.op.name in _RESHAPES:
                fwd, attrs, ins = _reshape_to, {"shape": node.outputs[0].shape}, ins[:1]
            base = reg_of_node[id(node)] = next_reg[0]
            next_reg[0] += len(node.outputs)
            steps.append((fwd, ins, base, attrs, len(node.outputs)))
        return base + k

    refs = [None if g is None else reg(g) for g in results]
    return GradProgram(steps, refs, next_reg[0])


def trace_grad(op, attrs, ins, outs, ograds, ctx, is_train):
    """Run ``op.grad`` on raw arrays; returns (raw input gradients, GradProgram or None)."""
    leaves, leaf_index = [], {}
    for raw in list(ins) + list(outs) + list(ograds):
        a = from_backend(raw, ctx)
        a._ag = Leaf(None, "null")
        leaf_index[id(a._ag)] = len(leaves)
        leaves.append(a)
    n_in, n_out = len(ins), len(outs)
    saved = ag_state.recording, ag_state.training
    ag_state.recording, ag_state.training = True, is_train
    try:
        igrads = op.grad(leaves[:n_in], leaves[n_in:n_in + n_out], leaves[n_in + n_out:], attrs)
    except MXNetError:  # e.g. an in-place update, refused while recording: run it plainly
        ag_state.recording = False
        for a in leaves:
            a._ag = None
        igrads = op.grad(leaves[:n_in], leaves[n_in:n_in + n_out], leaves[n_in + n_out:], attrs)
    finally:
        ag_state.recording, ag_state.training = saved
    raw = [None if g is None else g._data for g in igrads]
    try:
        program = _compile(igrads, leaf_index, len(leaves))
    except (_Untraceable, RecursionError):
        program = None
    return raw, program
