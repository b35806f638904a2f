"""Running a graph: a precompiled flat schedule (:class:`GraphPlan`) and MXNet's
:class:`Executor` API (``bind`` / ``simple_bind``) on top of it.

The plan numbers every graph entry with a *slot*: the variables first (arguments then
auxiliary states), then each node's outputs.  Forward is one loop over
``(forward, input slots, output slots, attrs)`` tuples calling the ops' forward on raw
backend arrays, with no autograd bookkeeping.  Backward walks the schedule in reverse,
calls each op's registry gradient (wrapping raw arrays as NDArrays with
``from_backend``, which costs one object) and accumulates per-slot gradients; only the
nodes on a path from a differentiated input to an output are visited.  Memory plan:
in inference mode every intermediate buffer is released right after its last reader,
so NumPy/CuPy reuse the memory for later nodes; gradients are released once consumed.
"""
import numpy as np

from ..base import MXNetError, ShapeError, normalize_dtype
from ..ndarray.ndarray import NDArray, ag_state, array as nd_array, from_backend, zeros
from ..ops.registry import get as _get_op
from .graph import Node, topo_order
from .grad_trace import GradProgram, call_op, trace_grad

__all__ = ["GraphPlan", "Executor", "simple_bind"]

_LOG_SOFTMAX_PICK = _get_op("_log_softmax_pick")
_FC_RELU = _get_op("_FullyConnected_relu")


def _sum2(xp, a, b):
    """``a + b`` (two gradients reaching one slot)."""
    return a + b


def _ones_like(xp, a):
    """The default head gradient."""
    return xp.ones_like(a)


def _zeros_like(xp, a):
    """The gradient of an output nothing reached."""
    return xp.zeros_like(a)


def _fusable_log_softmax(node, readers, heads):
    """The log_softmax node that ``node``, a pick, reads along the same axis when nothing
    else reads it (so the pair can run as one ``_log_softmax_pick``), else None."""
    if node.op.name != "pick" or node.inputs[0][1] != 0:
        return None
    src, a = node.inputs[0][0], node.full_attrs()
    if src.op is None or src.op.name != "log_softmax" or readers.get(id(src)) != 1 or id(src) in heads:
        return None
    b = src.full_attrs()
    if b["temperature"] is not None or b["dtype"] is not None or b["use_length"] \
            or a["axis"] is None or int(a["axis"]) != int(b["axis"]):
        return None
    return src


def _fusable_fully_connected(node, readers, heads):
    """The FullyConnected node that ``node``, a ReLU Activation, reads when nothing else
    reads it (so the pair can run as one ``_FullyConnected_relu``), else None."""
    if node.op.name != "Activation" or node.full_attrs()["act_type"] != "relu":
        return None
    src = node.inputs[0][0]
    if src.op is None or src.op.name != "FullyConnected" or readers.get(id(src)) != 1 or id(src) in heads:
        return None
    return src


def _fused_node(node, readers, heads):
    """(folded input node, replacement node) when ``node`` ends a fusable pair, else None."""
    src = _fusable_log_softmax(node, readers, heads)
    if src is not None:
        a = node.full_attrs()
        return src, Node(_LOG_SOFTMAX_PICK, node.name, {"axis": a["axis"], "keepdims": a["keepdims"],
                                                         "mode": a["mode"]}, [src.inputs[0], node.inputs[1]])
    src = _fusable_fully_connected(node, readers, heads)
    if src is not None:
        a = src.full_attrs()
        keys = ("num_hidden", "no_bias", "flatten")
        return src, Node(_FC_RELU, node.name, {k: a[k] for k in keys}, src.inputs)
    return None


def _fusions(order, outputs):
    """``{id(node): replacement}`` for the nodes of ``order`` (topological) that run fused,
    the first node of a pair mapping to None (folded into its reader): a ``pick`` of a
    ``log_softmax`` that nothing else reads (the cross-entropy losses) becomes one
    ``_log_softmax_pick`` (one forward and one replayed gradient step instead of about
    ten), a ReLU ``Activation`` of a ``FullyConnected`` one ``_FullyConnected_relu`` (its
    gradient one step instead of three).  Values and gradients equal the pairs' up to
    float rounding."""
    readers = {}
    for n in order:
        for c, _ in n.inputs:
            readers[id(c)] = readers.get(id(c), 0) + 1
    heads = {id(n) for n, _ in outputs}
    res = {}
    for n in order:
        pair = None if n.op is None else _fused_node(n, readers, heads)
        if pair is not None:
            res[id(pair[0])], res[id(n)] = None, pair[1]
    return res


class GraphPlan:
    """The compiled schedule of a Symbol (independent of shapes, dtypes and context).

    ``input_names`` are the variables in slot order (``list_arguments()`` then
    ``list_auxiliary_states()``); ``heads`` the slots of the symbol's outputs.
    """

    def __init__(self, sym):
        arg_nodes, aux_nodes = sym._input_nodes()
        inputs = arg_nodes + aux_nodes
        self.num_args = len(arg_nodes)
        self.input_names = [n.name for n in inputs]
        self.num_inputs = len(inputs)
        slot = {(id(n), 0): i for i, n in enumerate(inputs)}
        nxt = len(inputs)
        steps = []
        order = topo_order(sym._outputs)
        fusions = _fusions(order, sym._outputs)
        for n in order:
            f = fusions.get(id(n), n)
            if n.op is None or f is None:
                continue
            outs = tuple(range(nxt, nxt + f.num_outputs()))
            nxt += len(outs)
            for k, s in enumerate(outs):
                slot[(id(n), k)] = s
            ins = tuple(slot[(id(c), k)] for c, k in f.inputs)
            flags = (1 if f.op.needs_train else 0) | (2 if f.op.needs_rng else 0)
            steps.append((f.op.forward, ins, outs, f.full_attrs(), flags, f))
        self.num_slots = nxt
        self.steps = steps
        self.n_visible = [n.num_visible() for *_, n in steps]
        self.heads = [slot[(id(n), k)] for n, k in sym._outputs]
        self.frees = self._plan_frees()
        self._back = {}
        self._programs = {}  # input signature -> per backward step: GradProgram, False (plain) or None

    def _plan_frees(self):
        """Per step, the intermediate slots whose last reader it is (inference memory plan)."""
        last = {}
        for i, (_, ins, _, _, _, _) in enumerate(self.steps):
            for s in ins:
                last[s] = i
        keep = set(self.heads) | set(range(len(self.input_names)))
        frees = [[] for _ in self.steps]
        for s, i in last.items():
            if s not in keep:
                frees[i].append(s)
        for i, (_, _, outs, _, _, _) in enumerate(self.steps):
            frees[i].extend(s for s in outs if s not in last and s not in keep)
        return [tuple(f) for f in frees]

    def forward(self, vals, ctx, is_train, keep):
        """Run every step on ``vals`` (a list of slots with the inputs filled in).

        ``keep=False`` releases intermediates as soon as they are read for the last time.
        """
        xp = ctx.backend.xp
        rng = None
        frees = self.frees
        for i, (fwd, ins, outs, attrs, flags, node) in enumerate(self.steps):
            if flags:
                attrs = dict(attrs)
                if flags & 1:
                    attrs["is_train"] = is_train
                if flags & 2:
                    if rng is None:
                        rng = ctx.backend.rng(ctx)
                    attrs["rng"] = rng
            try:
                res = call_op(fwd, xp, vals, ins, attrs)
            except MXNetError:
                raise
            except (ValueError, TypeError, IndexError) as e:
                raise ShapeError("operator %s (node %s) failed on input shapes %s: %s"
                                 % (node.op_name, node.name, [vals[s].shape for s in ins], e)) from None
            if type(res) is tuple or type(res) is list:
                for s, r in zip(outs, res):
                    vals[s] = r if r.ndim else r.reshape(1)
            else:
                vals[outs[0]] = res if res.ndim else res.reshape(1)
            if not keep:
                for s in frees[i]:
                    vals[s] = None
        return [vals[h] for h in self.heads]

    def backward_steps(self, wanted):
        """(steps to differentiate in reverse order, slots that need gradients) for the input
        slots ``wanted``; a step is ``(ins, visible outs, outs, attrs, flags, node, keep)``
        with ``keep`` flagging the inputs whose gradient is needed."""
        key = tuple(wanted)
        hit = self._back.get(key)
        if hit is None:
            live = set(key)
            steps = []
            for i, (_, ins, outs, attrs, flags, node) in enumerate(self.steps):
                if node.op.grad is not None and any(s in live for s in ins):
                    live.update(outs)
                    steps.append((ins, outs[:self.n_visible[i]], outs, attrs, flags, node))
            steps = [st + (tuple(s in live for s in st[0]),) for st in steps[::-1]]
            hit = self._back[key] = (steps, live)
        return hit

    def backward(self, vals, head_grads, ctx, wanted, is_train=True):
        """Gradients ``{input slot: raw array}`` for the input slots ``wanted``.

        ``head_grads`` holds one raw array (or None for ones) per head.  Each node's
        gradient is traced once per input signature into a raw-array program
        (:mod:`psnet.symbol.grad_trace`), pruned to the gradients that are needed; once
        every node has one, they are linked into a single :class:`GradProgram` for the
        whole graph (gradient sums included) that later steps replay in one loop.
        """
        steps, live = self.backward_steps(wanted)
        xp = ctx.backend.xp
        given = tuple([g is not None for g in head_grads])
        sig = (is_train, tuple(wanted), given, *[(v.shape, v.dtype) for v in vals[:self.num_inputs]])
        programs = self._programs.get(sig)
        if programs is None:
            programs = self._programs[sig] = [None] * len(steps)
        elif type(programs) is tuple:  # the linked program of the whole graph
            flat, results = programs
            regs = flat.execute(xp, vals + list(head_grads))
            return {s: regs[r] for s, r in results}
        grads = {}
        for h, g in zip(self.heads, head_grads):
            if h in live:
                g = xp.ones_like(vals[h]) if g is None else g
                grads[h] = g if h not in grads else grads[h] + g
        for j, (ins, vis, outs, attrs, flags, node, keep) in enumerate(steps):
            og = [grads.pop(s, None) for s in vis]
            if all(g is None for g in og):
                continue
            og = [g if g is not None else xp.zeros_like(vals[s]) for g, s in zip(og, outs)]
            prog = programs[j]
            if prog is None or prog is False:
                if flags & 1:
                    attrs = dict(attrs, is_train=is_train)
                if prog is None:
                    igrads, prog = trace_grad(node.op, attrs, [vals[s] for s in ins],
                                              [vals[s] for s in outs], og, ctx, is_train)
                    programs[j] = prog.pruned(keep) if prog is not None else False
                else:
                    igrads = self._plain_grad(node, attrs, ins, outs, og, vals, ctx, is_train)
            else:
                igrads = prog.run(xp, [vals[s] for s in ins] + [vals[s] for s in outs] + og)
            for s, g, k in zip(ins, igrads, keep):
                if k and g is not None:
                    prev = grads.get(s)
                    grads[s] = g if prev is None else prev + g
        if all(p is not None and p is not False for p in programs):
            self._programs[sig] = self._link(steps, programs, live, given, wanted)
        return {s: grads[s] for s in wanted if s in grads}

    def _link(self, steps, programs, live, given, wanted):
        """(One GradProgram for the whole backward pass, [(input slot, its register)]).

        Registers: the forward slots, then the head gradients, then every value the node
        programs compute; the bookkeeping of :meth:`backward` (ones for missing head
        gradients, zeros for missing output gradients, sums of gradients reaching a slot
        twice) becomes steps too, so nothing is left to do per node when it replays.
        """
        code = []
        n_regs = [self.num_slots + len(self.heads)]

        def emit(fwd, ins, attrs=None):
            r = n_regs[0]
            n_regs[0] += 1
            code.append((fwd, tuple(ins), r, attrs or {}, 1))
            return r

        grads = {}

        def accumulate(slot, r):
            prev = grads.get(slot)
            grads[slot] = r if prev is None else emit(_sum2, (prev, r))

        for k, (h, g) in enumerate(zip(self.heads, given)):
            if h in live:
                accumulate(h, self.num_slots + k if g else emit(_ones_like, (h,)))
        for (ins, vis, outs, _, _, _, keep), prog in zip(steps, programs):
            og = [grads.pop(s, None) for s in vis]
            if all(r is None for r in og):
                continue
            og = [r if r is not None else emit(_zeros_like, (s,)) for r, s in zip(og, outs)]
            where = list(ins) + list(outs) + og
            where.extend([None] * (prog.n_regs - len(where)))
            for fwd, pins, base, attrs, n_out in prog.steps:
                code.append((fwd, tuple(where[i] for i in pins), n_regs[0], attrs, n_out))
                where[base:base + n_out] = range(n_regs[0], n_regs[0] + n_out)
                n_regs[0] += n_out
            for s, r, k in zip(ins, prog.results, keep):
                if k and r is not None:
                    accumulate(s, where[r])
        return GradProgram(code, [], n_regs[0]), [(s, grads[s]) for s in wanted if s in grads]

    @staticmethod
    def _plain_grad(node, attrs, ins, outs, og, vals, ctx, is_train):
        """One call of the op's registry gradient on wrapped raw arrays."""
        saved = ag_state.recording, ag_state.training
        ag_state.recording, ag_state.training = False, is_train
        try:
            res = node.op.grad([from_backend(vals[s], ctx) for s in ins],
                               [from_backend(vals[s], ctx) for s in outs],
                               [from_backend(g, ctx) for g in og], attrs)
        finally:
            ag_state.recording, ag_state.training = saved
        return [None if g is None else g._data for g in res]


def _as_list(values, names, what, required):
    """Arrays for ``names`` from a list or a dict; a missing required one is an error naming it."""
    if values is None:
        values = {}
    if isinstance(values, dict):
        res = []
        for n in names:
            v = values.get(n)
            if v is None and required:
                raise MXNetError("bind: %s %r is missing from %s (needed: %s)"
                                 % ("argument" if what == "args" else "auxiliary state", n, what,
                                    ", ".join(names)))
            res.append(v)
        return res
    values = list(values)
    if len(values) != len(names) and (required or values):
        raise MXNetError("bind: %s has %d arrays but the symbol has %d (%s)"
                         % (what, len(values), len(names), ", ".join(names)))
    return values or [None] * len(names)


def _grad_reqs(grad_req, names):
    if isinstance(grad_req, str):
        return [grad_req] * len(names)
    if isinstance(grad_req, dict):
        return [grad_req.get(n, "null") for n in names]
    return list(grad_req)


class Executor:
    """A Symbol bound to arrays: ``forward``, ``backward``, ``outputs`` and the array dicts."""

    def __init__(self, sym, ctx, args, args_grad=None, grad_req="write", aux_states=None, plan=None):
        self._symbol = sym
        self._ctx = ctx
        self._arg_names = sym.list_arguments()
        self._aux_names = sym.list_auxiliary_states()
        self.arg_arrays = _as_list(args, self._arg_names, "args", True)
        self.aux_arrays = _as_list(aux_states, self._aux_names, "aux_states", True)
        self.grad_arrays = _as_list(args_grad, self._arg_names, "args_grad", False)
        for n, a in zip(self._arg_names + self._aux_names, self.arg_arrays + self.aux_arrays):
            if not isinstance(a, NDArray):
                raise MXNetError("bind: %r must be an NDArray, got %s" % (n, type(a).__name__))
        reqs = _grad_reqs(grad_req, self._arg_names)
        for n, r in zip(self._arg_names, reqs):
            if r not in ("write", "add", "null"):
                raise MXNetError("bind: grad_req of %r must be write, add or null, got %r" % (n, r))
        self._reqs = [r if g is not None else "null" for r, g in zip(reqs, self.grad_arrays)]
        self._plan = plan if plan is not None else GraphPlan(sym)
        self._wanted = [i for i, r in enumerate(self._reqs) if r != "null"]
        self._vals = None
        self.outputs = []

    @property
    def arg_dict(self):
        """``{argument name: NDArray}``."""
        return dict(zip(self._arg_names, self.arg_arrays))

    @property
    def grad_dict(self):
        """``{argument name: gradient NDArray}`` for the arguments that have one."""
        return {n: g for n, g in zip(self._arg_names, self.grad_arrays) if g is not None}

    @property
    def aux_dict(self):
        """``{auxiliary state name: NDArray}``."""
        return dict(zip(self._aux_names, self.aux_arrays))

    @property
    def output_dict(self):
        """``{output name: NDArray}`` of the last forward."""
        return dict(zip(self._symbol.list_outputs(), self.outputs))

    def forward(self, is_train=False, **kwargs):
        """Run the graph (after copying ``kwargs`` into the named arguments); returns outputs."""
        args = self.arg_dict
        for k, v in kwargs.items():
            if k not in args:
                raise MXNetError("forward: %r is not an argument (arguments: %s)"
                                 % (k, ", ".join(self._arg_names)))
            args[k][:] = v if isinstance(v, NDArray) else nd_array(v, ctx=self._ctx)
        vals = [None] * self._plan.num_slots
        vals[:len(self.arg_arrays) + len(self.aux_arrays)] = [a._data for a in self.arg_arrays + self.aux_arrays]
        keep = bool(is_train)
        outs = self._plan.forward(vals, self._ctx, bool(is_train), keep)
        self._vals = vals if keep else None
        self.outputs = [from_backend(o, self._ctx) for o in outs]
        return self.outputs

    def backward(self, out_grads=None, is_train=True):
        """Gradients of the outputs (weighted by ``out_grads``, ones by default) into grad_arrays."""
        if self._vals is None:
            raise MXNetError("backward needs a forward(is_train=True) first")
        if out_grads is None:
            out_grads = [None] * len(self.outputs)
        elif isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        if len(out_grads) != len(self.outputs):
            raise MXNetError("backward got %d out_grads for %d outputs" % (len(out_grads), len(self.outputs)))
        raw = [None if g is None else g._data for g in out_grads]
        grads = self._plan.backward(self._vals, raw, self._ctx, self._wanted, is_train)
        for i in self._wanted:
            buf = self.grad_arrays[i]
            g = grads.get(i)
            if self._reqs[i] == "write":
                buf._data[...] = 0 if g is None else g
            elif g is not None:
                buf._data += g

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copy values from ``{name: NDArray}`` dicts into the bound arrays."""
        for params, table in ((arg_params, self.arg_dict), (aux_params or {}, self.aux_dict)):
            for k, v in params.items():
                if k in table:
                    v.copyto(table[k]) if isinstance(v, NDArray) else table[k].__setitem__(slice(None), v)
                elif not allow_extra_params:
                    raise MXNetError("copy_params_from: %r is not an input of the symbol" % k)

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new Executor for new input shapes, sharing arrays whose shapes did not change."""
        arg_shapes, _, aux_shapes = self._symbol.infer_shape(**kwargs)
        if arg_shapes is None:
            raise ShapeError("reshape: shapes %s do not determine every argument" % kwargs)

        def fit(arrays, shapes, names):
            res = []
            for a, s, n in zip(arrays, shapes, names):
                if a is None or a.shape == tuple(s):
                    res.append(a)
                elif n not in kwargs and not partial_shaping:
                    raise ShapeError("reshape: %r would change shape from %s to %s; pass "
                                     "partial_shaping=True" % (n, a.shape, tuple(s)))
                else:
                    res.append(zeros(s, ctx=self._ctx, dtype=a._data.dtype))
            return res
        return Executor(self._symbol, self._ctx, fit(self.arg_arrays, arg_shapes, self._arg_names),
                        fit(self.grad_arrays, arg_shapes, self._arg_names), self._reqs,
                        fit(self.aux_arrays, aux_shapes, self._aux_names), plan=self._plan)


def simple_bind(sym, ctx, grad_req, type_dict, shapes):
    """Executor with zero-filled arrays whose shapes and dtypes are inferred from ``shapes``."""
    arg_shapes, _, aux_shapes = sym.infer_shape_partial(**shapes)
    names = sym.list_arguments() + sym.list_auxiliary_states()
    missing = [n for n, s in zip(names, arg_shapes + aux_shapes) if not s]
    if missing:
        raise ShapeError("simple_bind: cannot infer the shape of %s from %s; give their shapes"
                         % (", ".join(missing), shapes))
    arg_types, _, aux_types = sym.infer_type(**(type_dict or {}))
    if arg_types is None:
        arg_types = [np.float32] * len(arg_shapes)
        aux_types = [np.float32] * len(aux_shapes)
    reqs = _grad_reqs(grad_req, sym.list_arguments())
    args = [zeros(s, ctx=ctx, dtype=normalize_dtype(t)) for s, t in zip(arg_shapes, arg_types)]
    grads = [None if r == "null" else zeros(s, ctx=ctx, dtype=normalize_dtype(t))
             for s, t, r in zip(arg_shapes, arg_types, reqs)]
    aux = [zeros(s, ctx=ctx, dtype=normalize_dtype(t)) for s, t in zip(aux_shapes, aux_types)]
    return Executor(sym, ctx, args, grads, reqs, aux)
