"""``mx.sym.<op>`` functions, generated from the same registry as ``mx.nd.<op>``.

Call conventions mirror the NDArray functions: positional Symbols fill the inputs in
order, further positional values fill attributes in declaration order, inputs may be
named (``data=x``), ``name=`` names the node and ``attr=`` adds user attributes.
Inputs that are not given become variables named ``<name>_<input>``.
"""
from ..base import MXNetError
from ..ops import registry
from ..ndarray.op_functions import drop_absent_inputs
from .symbol import Symbol, create_op_symbol, op_hint

__all__ = ["make_function", "install_functions", "SYMBOL_OR_SCALAR"]


def _bind(op, args, kwargs):
    """Split a call into (inputs, attrs): inputs a list (variadic) or a name -> Symbol dict."""
    if op.variadic:
        inputs = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
        if "num_args" in op.params and "num_args" not in kwargs:
            kwargs["num_args"] = len(inputs)
        return inputs, kwargs
    k = 0
    while k < len(args) and (isinstance(args[k], Symbol) or args[k] is None):
        k += 1
    given, rest = list(args[:k]), args[k:]
    if rest:
        names = [n for n in op.params if n not in kwargs]
        if len(rest) > len(names):
            raise MXNetError("%s: too many positional arguments" % op.name)
        kwargs.update(zip(names, rest))
    drop_absent_inputs(op, kwargs)
    by_name = {k: kwargs.pop(k) for k in list(kwargs) if isinstance(kwargs[k], Symbol)}
    probe = {k: v for k, v in kwargs.items() if k in op.params or op.open_attrs}
    names = op.input_names(dict(op.params, **probe))
    if len(given) > len(names) and len(given) - given.count(None) <= len(names):
        given = [s for s in given if s is not None]   # None for inputs the attributes switch off
    if len(given) > len(names):
        raise MXNetError("%s takes %d input(s) (%s), got %d"
                         % (op.name, len(names), ", ".join(names), len(given)))
    inputs = {n: s for n, s in zip(names, given) if s is not None}   # a None input becomes a variable
    for n, s in by_name.items():
        if n in inputs:
            raise MXNetError("%s: input %r given twice" % (op.name, n))
        inputs[n] = s
    return inputs, kwargs


def make_function(op, public_name=None, hint=None):
    """The ``mx.sym`` function for ``op`` (called by ``public_name``, kept in the JSON);
    ``hint`` overrides the stem of automatic node names."""
    op_name = public_name or op.name
    stem = None if hint is None else op_hint(hint)

    def fn(*args, name=None, attr=None, out=None, **kwargs):
        inputs, attrs = _bind(op, args, kwargs)
        return create_op_symbol(op_name, inputs, attrs, name=name, attr=attr, hint=stem)
    fn.__name__ = op_name
    fn.__qualname__ = op_name
    fn.__doc__ = op.__doc__
    return fn


def _symbol_or_scalar(name, op_name, scalar_name, rscalar_name, py):
    def fn(left, right):
        if isinstance(left, Symbol):
            return left._binary(right, op_name, scalar_name, op_name)
        if isinstance(right, Symbol):
            return right._binary(left, op_name, rscalar_name, op_name, reflected=True)
        return py(left, right)
    fn.__name__ = name
    fn.__doc__ = "Elementwise %s of two Symbols or of a Symbol and a scalar (MXNet's mx.sym.%s)." % (name, name)
    return fn


# mx.sym functions taking Symbols or numbers on either side (MXNet's same-shape ops)
SYMBOL_OR_SCALAR = {name: _symbol_or_scalar(name, *spec) for name, spec in {
    "maximum": ("_maximum", "_maximum_scalar", "_maximum_scalar", max),
    "minimum": ("_minimum", "_minimum_scalar", "_minimum_scalar", min),
    "power": ("_power", "_power_scalar", "_rpower_scalar", pow),
    "pow": ("_power", "_power_scalar", "_rpower_scalar", pow),
}.items()}


def install_functions(namespace):
    """Add a Symbol function for every registered op to ``namespace``, plus fluent
    Symbol methods for the names NDArray has as methods.  Existing names are kept."""
    from ..ndarray.op_functions import FLUENT_METHODS, install_subnamespaces
    for name, fn in SYMBOL_OR_SCALAR.items():
        namespace.setdefault(name, fn)
    for name in registry.list_ops():
        if name not in namespace:
            namespace[name] = make_function(registry.get(name), name)
    for name in FLUENT_METHODS:
        if name in namespace and not hasattr(Symbol, name):
            setattr(Symbol, name, _method(namespace[name]))
    install_subnamespaces(namespace, lambda full, short: make_function(registry.get(full), full, hint=short))


def _method(fn):
    """``fn`` as a Symbol method taking the symbol as its first input."""
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method
