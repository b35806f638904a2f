"""``mx.nd.<op>`` functions and fluent ``NDArray.<op>`` methods, generated from the registry.

Call conventions follow MXNet's generated functions: positional NDArrays fill the op's
inputs in order, further positional values fill its attributes in declaration order,
inputs may also be given by name (``data=x``), and ``out=``/``name=``/``ctx=`` are
accepted everywhere.
"""
import sys
import types

from ..base import MXNetError
from ..ops import registry
from ..ops.shape import infer_reshape
from .ndarray import NDArray, ag_state, from_backend, invoke

__all__ = ["make_function", "install_functions", "install_linalg", "install_subnamespace",
           "install_subnamespaces", "SUB_NAMESPACES", "FLUENT_METHODS", "ARRAY_OR_SCALAR",
           "drop_absent_inputs"]


def _bind(op, args, kwargs):
    """Split a call into (inputs, attrs) following MXNet's calling convention."""
    if op.variadic:
        inputs = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
        for x in inputs:
            if not isinstance(x, NDArray):
                raise MXNetError("%s takes NDArrays, got %s" % (op.name, type(x).__name__))
        if "num_args" in op.params and "num_args" not in kwargs:
            kwargs["num_args"] = len(inputs)
        return inputs, kwargs
    k = 0
    given = []
    while k < len(args) and (isinstance(args[k], NDArray) or args[k] is None):
        given.append(args[k])
        k += 1
    rest = args[k:]
    if rest:
        names = [n for n in op.params if n not in kwargs]
        if len(rest) > len(names):
            raise MXNetError("%s: too many positional arguments" % op.name)
        for n, v in zip(names, rest):
            kwargs[n] = v
    drop_absent_inputs(op, kwargs)
    input_names = op.input_names(kwargs)
    by_name = {}
    for n in input_names:
        if n in kwargs:
            by_name[n] = kwargs.pop(n)
    if len(given) > len(input_names) and len(given) - given.count(None) <= len(input_names):
        # None for inputs the attributes switch off, as MXNet allows anywhere:
        # FullyConnected(x, w, None, no_bias=True) (Gluon's Dense), CTCLoss(d, l, None, lengths, ...)
        given = [x for x in given if x is not None]
    if len(given) > len(input_names):
        raise MXNetError("%s takes %d array input(s) (%s), got %d"
                         % (op.name, len(input_names), ", ".join(input_names), len(given)))
    inputs = []
    for i, n in enumerate(input_names):
        x = given[i] if i < len(given) else by_name.get(n)
        if x is None:
            if i < len(given) or n in by_name:
                continue
            raise MXNetError("%s takes %d array input(s) (%s), got %d: missing input %r"
                             % (op.name, len(input_names), ", ".join(input_names), len(given), n))
        if not isinstance(x, NDArray):
            raise MXNetError("%s: input %r must be an NDArray, got %s" % (op.name, n, type(x).__name__))
        inputs.append(x)
    return inputs, kwargs


def drop_absent_inputs(op, kwargs):
    """Remove keyword arguments set to None that are not attributes of ``op``: inputs left
    out by name (``FullyConnected(..., bias=None, no_bias=True)``), as MXNet accepts."""
    if op.open_attrs:
        return
    for k in [k for k, v in kwargs.items() if v is None and k not in op.params]:
        del kwargs[k]


def _static_inputs(op):
    """The fixed input names of ``op``, or None when they depend on the attributes."""
    if op.variadic or callable(op._inputs):
        return None
    return tuple(op.input_names())


def make_function(op, public_name=None):
    """The ``mx.nd`` function for ``op``.

    Calls passing exactly the op's array inputs positionally (the common case) go straight
    to :func:`invoke`; everything else is bound by MXNet's full calling convention.
    """
    names = _static_inputs(op)
    n_in = -1 if names is None else len(names)
    name_set = frozenset(names or ())

    def fn(*args, out=None, name=None, ctx=None, **kwargs):
        if len(args) == n_in and (not kwargs or name_set.isdisjoint(kwargs)):
            for x in args:
                if type(x) is not NDArray:
                    break
            else:
                return invoke(op, args, kwargs, out=out, ctx=ctx)
        inputs, attrs = _bind(op, args, kwargs)
        return invoke(op, inputs, attrs, out=out, ctx=ctx)
    fn.__name__ = public_name or op.name
    fn.__qualname__ = fn.__name__
    fn.__doc__ = op.__doc__
    return fn


def _array_or_scalar(name, array_op, scalar_op, rscalar_op, py_fn):
    """``mx.nd.<name>(lhs, rhs)`` taking NDArrays or scalars on either side (MXNet's ufunc helper)."""
    def fn(lhs, rhs, out=None):
        if isinstance(lhs, NDArray):
            if isinstance(rhs, NDArray):
                return invoke(registry.get(array_op), [lhs, rhs], {}, out=out)
            return invoke(registry.get(scalar_op), [lhs], {"scalar": rhs}, out=out)
        if isinstance(rhs, NDArray):
            return invoke(registry.get(rscalar_op), [rhs], {"scalar": lhs}, out=out)
        return py_fn(lhs, rhs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = ("Elementwise %s of two NDArrays (with broadcasting) or of an NDArray and a scalar."
                  % name.replace("_", " "))
    return fn


def _cmp(py):
    return lambda a, b: float(py(a, b))


ARRAY_OR_SCALAR = {name: _array_or_scalar(name, *spec) for name, spec in {
    "add": ("broadcast_add", "_plus_scalar", "_plus_scalar", lambda a, b: a + b),
    "subtract": ("broadcast_sub", "_minus_scalar", "_rminus_scalar", lambda a, b: a - b),
    "multiply": ("broadcast_mul", "_mul_scalar", "_mul_scalar", lambda a, b: a * b),
    "divide": ("broadcast_div", "_div_scalar", "_rdiv_scalar", lambda a, b: a / b),
    "true_divide": ("broadcast_div", "_div_scalar", "_rdiv_scalar", lambda a, b: a / b),
    "modulo": ("broadcast_mod", "_mod_scalar", "_rmod_scalar", lambda a, b: a % b),
    "power": ("broadcast_power", "_power_scalar", "_rpower_scalar", lambda a, b: a ** b),
    "maximum": ("broadcast_maximum", "_maximum_scalar", "_maximum_scalar", max),
    "minimum": ("broadcast_minimum", "_minimum_scalar", "_minimum_scalar", min),
    "equal": ("broadcast_equal", "_equal_scalar", "_equal_scalar", _cmp(lambda a, b: a == b)),
    "not_equal": ("broadcast_not_equal", "_not_equal_scalar", "_not_equal_scalar", _cmp(lambda a, b: a != b)),
    "greater": ("broadcast_greater", "_greater_scalar", "_lesser_scalar", _cmp(lambda a, b: a > b)),
    "greater_equal": ("broadcast_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar",
                      _cmp(lambda a, b: a >= b)),
    "lesser": ("broadcast_lesser", "_lesser_scalar", "_greater_scalar", _cmp(lambda a, b: a < b)),
    "lesser_equal": ("broadcast_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar",
                     _cmp(lambda a, b: a <= b)),
    "logical_and": ("broadcast_logical_and", "_logical_and_scalar", "_logical_and_scalar",
                    _cmp(lambda a, b: a and b)),
    "logical_or": ("broadcast_logical_or", "_logical_or_scalar", "_logical_or_scalar", _cmp(lambda a, b: a or b)),
    "logical_xor": ("broadcast_logical_xor", "_logical_xor_scalar", "_logical_xor_scalar",
                    _cmp(lambda a, b: bool(a) != bool(b))),
}.items()}


# NDArray methods that forward to the op of the same name with self as first input.
FLUENT_METHODS = (
    "sum", "mean", "max", "min", "prod", "nansum", "nanprod", "norm", "argmax", "argmin",
    "argmax_channel", "exp", "expm1", "log", "log10", "log2", "log1p", "sqrt", "rsqrt", "cbrt",
    "rcbrt", "square", "reciprocal", "abs", "sign", "round", "rint", "fix", "floor", "ceil",
    "trunc", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "degrees", "radians", "relu", "sigmoid", "softmax",
    "log_softmax", "softmin", "transpose", "swapaxes", "expand_dims", "squeeze", "flatten",
    "flip", "tile", "repeat", "pad", "clip", "one_hot", "pick", "take", "topk", "sort",
    "argsort", "split", "slice", "slice_axis", "slice_like", "broadcast_to", "broadcast_axes",
    "broadcast_like", "reshape_like", "zeros_like", "ones_like", "diag", "shape_array",
    "size_array", "depth_to_space", "space_to_depth", "dot", "split_v2",
)


_CALL_KEYWORDS = frozenset(("out", "name", "ctx"))


def _fluent(fn, op):
    """The NDArray method for ``fn``; a call with attributes only goes straight to invoke."""
    direct = _static_inputs(op) is not None and len(op.input_names()) == 1

    def method(self, *args, **kwargs):
        if direct and not args and (not kwargs or _CALL_KEYWORDS.isdisjoint(kwargs)):
            return invoke(op, (self,), kwargs)
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _reshape_method(self, *shape, **kwargs):
    """``a.reshape((2, 3))``, ``a.reshape(2, 3)`` or ``a.reshape(shape=(2, 3), reverse=False)``.

    The result shares memory with ``a`` (as in MXNet, unlike the ``mx.nd.reshape`` operator);
    while recording for autograd it is a recorded copy."""
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    if shape:
        kwargs["shape"] = tuple(shape)
    if ag_state.recording and self._ag is not None:
        return invoke(registry.get("Reshape"), [self], kwargs)
    unknown = set(kwargs) - {"shape", "reverse"}
    if unknown:
        raise MXNetError("reshape() got unexpected argument(s) %s" % ", ".join(sorted(unknown)))
    target = infer_reshape(self.shape, kwargs.get("shape", ()), kwargs.get("reverse", False))
    return from_backend(self._data.reshape(target), self._ctx)


def install_functions(namespace):
    """Add a function for every registered op to ``namespace`` (a module's globals) and
    the fluent methods to NDArray.  Names already defined in the namespace are kept."""
    for name, fn in ARRAY_OR_SCALAR.items():
        namespace.setdefault(name, fn)
    for name in registry.list_ops():
        if name not in namespace:
            namespace[name] = make_function(registry.get(name), name)
    registered = set(registry.list_ops())
    for name in FLUENT_METHODS:
        if name in namespace and not hasattr(NDArray, name):
            fn = namespace[name]
            setattr(NDArray, name, _fluent(fn, registry.get(name)) if name in registered else fn)
    NDArray.reshape = _reshape_method
    install_subnamespaces(namespace)


# MXNet's sub-namespaces: attribute name -> registry prefix of the ops it lists
SUB_NAMESPACES = {"linalg": "linalg_", "contrib": "_contrib_", "image": "_image_"}


def install_subnamespace(namespace, sub, prefix, make=None):
    """``<namespace>.<sub>.<name>`` for every registered op (or alias) ``<prefix><name>``
    (``mx.nd.linalg.potrf`` is ``linalg_potrf``, ``mx.sym.contrib.CTCLoss`` is
    ``_contrib_CTCLoss``): a module registered in ``sys.modules`` holding the functions
    of ``namespace`` under MXNet's names, or ``make(full name, short name)`` when given
    (Symbol nodes made through a sub-namespace are named after the short name, as in
    MXNet).  An existing ``<sub>`` attribute is kept."""
    mod = types.ModuleType(namespace["__name__"] + "." + sub,
                           "The ``%s*`` operators without their prefix." % prefix)
    for name in registry.list_ops():
        if name.startswith(prefix) and name in namespace:
            short = name[len(prefix):]
            setattr(mod, short, namespace[name] if make is None else make(name, short))
    sys.modules[mod.__name__] = mod
    namespace.setdefault(sub, mod)
    return mod


def install_subnamespaces(namespace, make=None):
    """Every sub-namespace of :data:`SUB_NAMESPACES` (``linalg``, ``contrib``) on ``namespace``
    (``make`` as in :func:`install_subnamespace`)."""
    for sub, prefix in SUB_NAMESPACES.items():
        install_subnamespace(namespace, sub, prefix, make)


def install_linalg(namespace):
    """``<namespace>.linalg.<name>`` (``mx.nd.linalg``, ``mx.sym.linalg``): the ``linalg_<name>``
    functions of ``namespace`` under MXNet's sub-namespace."""
    return install_subnamespace(namespace, "linalg", "linalg_")
