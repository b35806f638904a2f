"""``HybridBlock.hybridize()``: trace ``hybrid_forward`` into the graph IR, run it cached.

Tracing calls the block with :mod:`psnet.symbol` as ``F``: inputs become variables
(``data``, or ``data0``, ``data1``... for several), Parameters become variables named
like the Parameters (one node per Parameter per trace, so shared Parameters stay
shared).  The resulting Symbol is compiled once into a
:class:`~psnet.symbol.executor.GraphPlan` (a flat schedule, independent of shapes) and
each call runs it on the raw arrays of the inputs and Parameters.  While
``autograd.record()`` is on, the whole graph is *one* node on the autograd tape whose
gradient runs the plan's backward, so ``backward()`` and ``Trainer`` work unchanged.
Deferred Parameter shapes are inferred symbolically from the traced graph.
"""
import threading

from ..autograd.tape import Node as _TapeNode
from ..base import MXNetError, NotSupportedError
from ..ndarray.ndarray import NDArray, ag_state, from_backend
from .. import symbol as _sym
from ..symbol.executor import GraphPlan
from ..symbol.symbol import Symbol

__all__ = ["is_symbol", "call_symbolic", "call_cached", "trace", "infer_param_shapes", "export",
           "CachedGraph"]

_trace_state = threading.local()


def is_symbol(x):
    """Whether ``x`` is a Symbol (a block called with one returns a Symbol)."""
    return isinstance(x, Symbol)


def _param_var(param):
    """The variable of ``param`` in the current trace (created once per trace)."""
    memo = _trace_state.memo
    v = memo.get(param.name)
    if v is None:
        shape = param.shape
        init = param.init
        v = memo[param.name] = _sym.var(
            param.name, shape=None if shape is None else tuple(max(d, 0) for d in shape),
            dtype=param.dtype, lr_mult=param.lr_mult, wd_mult=param.wd_mult,
            init=init if isinstance(init, str) or hasattr(init, "dumps") else None)
    return v


def call_symbolic(block, x, *args):
    """Run ``block.hybrid_forward`` with ``F = mx.sym`` on Symbol inputs; returns Symbol(s)."""
    outer = getattr(_trace_state, "memo", None)
    if outer is None:
        _trace_state.memo = {}
    try:
        params = {k: _param_var(p) for k, p in block._reg_params.items()}
        with _sym.Prefix(block.prefix):  # node names as MXNet: dense0_fullyconnected0
            return block.hybrid_forward(_sym, x, *args, **params)
    finally:
        if outer is None:
            _trace_state.memo = None


def _flatten(out):
    if isinstance(out, Symbol):
        return [out], True
    if isinstance(out, (list, tuple)) and all(isinstance(o, Symbol) for o in out):
        return list(out), False
    raise MXNetError("hybrid_forward must return a Symbol or a list/tuple of Symbols when "
                     "hybridized, got %s" % type(out).__name__)


def trace(block, present):
    """(Symbol of the outputs, input names, single-output flag) of ``block`` on new variables.

    ``present`` flags the call's inputs that are arrays; the others are passed to
    ``hybrid_forward`` as None (an optional input left out).  As in MXNet, the variables
    are ``data`` for one array input, else ``data0``, ``data1``... over the arrays only.
    """
    n_real = sum(present)
    if n_real == 0:
        raise MXNetError("%s was called without any array input (every input is None)" % block.name)
    names = iter(["data"] if n_real == 1 else ["data%d" % i for i in range(n_real)])
    variables = [_sym.var(next(names)) if p else None for p in present]
    outs, single = _flatten(call_symbolic(block, *variables))
    return (_sym.Group(outs) if len(outs) > 1 else outs[0],
            [v.name for v in variables if v is not None], single)


class _GraphOp:
    """Duck-typed op for the autograd tape: the gradient of a whole cached graph."""

    params = {}
    name = "_CachedGraph"

    def __init__(self, plan, vals, ctx, slots, is_train):
        self._plan = plan
        self._vals = vals
        self._ctx = ctx
        self._slots = slots  # the plan input slot of each tape input
        self._train = is_train

    def n_visible(self, attrs=None):
        """Every graph output is visible."""
        return len(self._plan.heads)

    def grad(self, inputs, outputs, ograds, attrs):
        """Run the plan's backward; one gradient (or None) per tape input."""
        if ag_state.recording:
            raise NotSupportedError("higher-order gradients (create_graph=True) through a hybridized "
                                    "block are not supported; call hybridize(active=False) first")
        grads = self._plan.backward(self._vals, [g._data for g in ograds], self._ctx, self._slots,
                                    self._train)
        ctx = self._ctx
        return [None if grads.get(s) is None else from_backend(grads[s], ctx) for s in self._slots]


class CachedGraph:
    """A graph compiled for execution, fed by call inputs and Parameters.

    ``symbol``'s variables named in ``input_names`` take the call's arrays in order;
    every other variable must be a Parameter of ``params`` (``{name: Parameter}``).
    ``single``: return one array instead of a list.
    """

    def __init__(self, symbol, input_names, single, params, owner, present=None):
        self.symbol, self.input_names, self.single = symbol, list(input_names), single
        self.present = present  # which of the traced call's inputs were arrays (not None)
        self.plan = GraphPlan(symbol)
        where = {n: i for i, n in enumerate(self.input_names)}
        self.sources = []  # per plan input slot: int (call input) or Parameter
        self._deferred_done = False
        for n in self.plan.input_names:
            if n in where:
                self.sources.append(where[n])
            elif n in params:
                self.sources.append(params[n])
            else:
                raise MXNetError("the graph of %s uses a variable %r that is neither an input (%s) "
                                 "nor one of its Parameters" % (owner, n, ", ".join(self.input_names)))

    def _finish_deferred(self, inputs):
        """Infer and initialise Parameters whose shapes were left to the first call."""
        if self._deferred_done:
            return
        pending = [p for p in self.sources if not isinstance(p, int) and p._deferred_init]
        if not pending:
            self._deferred_done = True
            return
        shapes = {n: x.shape for n, x in zip(self.input_names, inputs)}
        arg_shapes, _, aux_shapes = self.symbol.infer_shape_partial(**shapes)
        known = dict(zip(self.symbol.list_arguments() + self.symbol.list_auxiliary_states(),
                         arg_shapes + aux_shapes))
        for p in pending:
            if known.get(p.name):
                p.shape = known[p.name]
            p._finish_deferred_init()

    def __call__(self, *inputs):
        """Run the graph on NDArrays ``inputs``; one tape node when recording."""
        if len(inputs) != len(self.input_names):
            raise MXNetError("the graph takes %d input(s) (%s), got %d"
                             % (len(self.input_names), ", ".join(self.input_names), len(inputs)))
        ctx = inputs[0]._ctx
        self._finish_deferred(inputs)
        arrays = [inputs[s] if type(s) is int else s.data(ctx) for s in self.sources]
        vals = [None] * self.plan.num_slots
        vals[:len(arrays)] = [a._data for a in arrays]
        recording, is_train = ag_state.recording, ag_state.training
        outs = [from_backend(o, ctx) for o in self.plan.forward(vals, ctx, is_train, recording)]
        if recording:
            live = [(i, a) for i, a in enumerate(arrays) if a._ag is not None]
            if live:
                op = _GraphOp(self.plan, vals, ctx, [i for i, _ in live], is_train)
                node = _TapeNode(op, {}, [a for _, a in live], [from_backend(o._data, ctx) for o in outs])
                for k, o in enumerate(outs):
                    o._ag = (node, k)
        return outs[0] if self.single else outs


def call_cached(block, x, *args):
    """HybridBlock's hybridized path: a Symbol call composes, an NDArray call runs the cache."""
    if isinstance(x, Symbol):
        return call_symbolic(block, x, *args)
    inputs = (x,) + args
    for a in inputs:
        if a is not None and not isinstance(a, NDArray):
            raise MXNetError("a hybridized block takes NDArrays (or Symbols, or None for an optional "
                             "input) as inputs, got %s; pass other values as constructor arguments"
                             % type(a).__name__)
    present = tuple(a is not None for a in inputs)
    cache = block._cached_graph
    if cache is None or cache.present != present:   # traced again when other inputs are left out
        sym, names, single = trace(block, present)
        params = {p.name: p for p in block.collect_params().values()}
        cache = block._cached_graph = CachedGraph(sym, names, single, params, block.name, present)
    return cache(*[a for a in inputs if a is not None])


def infer_param_shapes(block, *args):
    """Set the shapes of ``block``'s Parameters from input arrays by symbolic inference."""
    sym, names, _ = trace(block, tuple(a is not None for a in args))
    arg_shapes, _, aux_shapes = sym.infer_shape_partial(
        **{n: a.shape for n, a in zip(names, [a for a in args if a is not None])})
    known = dict(zip(sym.list_arguments() + sym.list_auxiliary_states(), arg_shapes + aux_shapes))
    for p in block.collect_params().values():
        if known.get(p.name):
            p.shape = known[p.name]


def export(block, path, epoch=0, remove_amp_cast=True):
    """Write ``path-symbol.json`` and ``path-%04d.params`` (``arg:``/``aux:`` keys, as MXNet)."""
    from .. import ndarray as nd
    cache = block._cached_graph
    if cache is None:
        raise MXNetError("export: %s has no traced graph; call hybridize() and run a forward "
                         "pass first" % block.name)
    sym = cache.symbol
    sym.save("%s-symbol.json" % path, remove_amp_cast=remove_amp_cast)
    params = {p.name: p for p in block.collect_params().values()}
    arg_names = set(sym.list_arguments())
    payload = {}
    for name in sym.list_inputs():
        if name in params:
            prefix = "arg:" if name in arg_names else "aux:"
            payload[prefix + name] = params[name]._reduce()
    nd.save("%s-%04d.params" % (path, epoch), payload)
    return "%s-symbol.json" % path, "%s-%04d.params" % (path, epoch)
