"""``gluon.SymbolBlock``: a Block made from a Symbol graph (e.g. one exported by ``export``)."""
import numpy as np

from ..base import MXNetError
from ..symbol import Symbol, Group, load as _load_symbol, var as _var
from ..symbol.symbol import DTYPE_FROM_CODE
from ..symbol.graph import str_to_attr
from .block import HybridBlock
from .hybrid import CachedGraph, is_symbol
from .parameter import ParameterDict

__all__ = ["SymbolBlock"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class SymbolBlock(HybridBlock):
    """Run the graph ``outputs`` with ``inputs`` (variables) fed by the call's arrays.

    Every other variable of the graph becomes a Parameter of the same name (auxiliary
    states with ``grad_req='null'``); pass ``params`` (a ParameterDict) to share existing
    ones.  Parameter shapes not known from the graph are inferred on the first call.
    """

    def __init__(self, outputs, inputs, params=None):
        super().__init__(prefix="")
        self._params = ParameterDict("", params)  # graph names are the Parameter names
        outs = _as_list(outputs)
        ins = _as_list(inputs)
        for s in outs + ins:
            if not isinstance(s, Symbol):
                raise MXNetError("SymbolBlock takes Symbols as outputs and inputs, got %s" % type(s).__name__)
        self._symbol = outs[0] if len(outs) == 1 else Group(outs)
        self._single = len(self._symbol.list_outputs()) == 1
        self._input_names = [s.name for s in ins]
        known = set(self._symbol.list_inputs())
        missing = [n for n in self._input_names if n not in known]
        if missing:
            raise MXNetError("SymbolBlock: inputs %s are not variables of the graph (its variables: %s)"
                             % (", ".join(missing), ", ".join(sorted(known))))
        arg_nodes, aux_nodes = self._symbol._input_nodes()
        for nodes, req in ((arg_nodes, "write"), (aux_nodes, "null")):
            for node in nodes:
                if node.name not in self._input_names:
                    self.params.get(node.name, grad_req=req, allow_deferred_init=True,
                                    **_param_attrs(node))

    def forward(self, x, *args):
        """Compose with Symbol inputs, or run the cached graph on NDArrays."""
        if is_symbol(x):
            return self._symbol(**dict(zip(self._input_names, (x,) + args)))
        if self._cached_graph is None:
            params = {p.name: p for p in self.collect_params().values()}
            self._cached_graph = CachedGraph(self._symbol, self._input_names, self._single, params, "SymbolBlock")
        return self._cached_graph(x, *args)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """Not used: a SymbolBlock runs its graph directly (see :meth:`forward`)."""
        raise MXNetError("SymbolBlock runs its Symbol graph; hybrid_forward is not used")

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None, allow_missing=False,
                ignore_extra=False):
        """A SymbolBlock from ``export``'s files: ``symbol_file`` (JSON), the input variable
        names, and optionally the ``.params`` file loaded onto ``ctx``."""
        sym = _load_symbol(symbol_file)
        block = SymbolBlock(sym, [_var(n) for n in _as_list(input_names)])
        if param_file is not None:
            block.collect_params().load(param_file, ctx=ctx, allow_missing=allow_missing,
                                        ignore_extra=ignore_extra, cast_dtype=True, dtype_source="saved")
        return block


def _param_attrs(node):
    """Parameter keywords from a variable's ``__shape__`` / ``__dtype__`` / multipliers."""
    u = node.uattrs
    kw = {}
    if "__shape__" in u:
        kw["shape"] = tuple(str_to_attr(u["__shape__"]))
    if "__dtype__" in u:
        kw["dtype"] = np.dtype(DTYPE_FROM_CODE[int(u["__dtype__"])]).type
    for key in ("lr_mult", "wd_mult"):
        if "__%s__" % key in u:
            kw[key] = float(u["__%s__" % key])
    return kw
