"""The one operator registry.

Each operator is defined once, as an :class:`Op`:

* ``forward(xp, *arrays, **attrs)`` computes on raw backend arrays (NumPy or CuPy; ``xp``
  is the array module).  Its signature *is* the op's interface: positional parameters
  without defaults are the array inputs (``*data`` for a variable number), keyword
  parameters are the attributes with their defaults.  Two keyword names are special and
  are filled by the dispatcher, not the user: ``is_train`` (autograd's training flag) and
  ``rng`` (the context's random generator).  It returns one array or a tuple of arrays;
  arrays must have ``ndim >= 1`` (MXNet 1.x has no 0-d arrays).
* ``grad(inputs, outputs, ograds, attrs)`` returns one gradient (or None) per input.  It
  works on NDArrays with ``mx.nd`` operators, so gradients are themselves differentiable
  (``autograd.grad(..., create_graph=True)``) and every backend gets them for free.
  ``ograds`` has one NDArray per *visible* output; ``outputs`` holds all outputs, hidden
  ones included (a Dropout mask, BatchNorm's batch statistics).
* ``infer_shape(attrs, in_shapes)`` / ``infer_type`` are optional: the Symbol layer uses
  them for parameters whose shapes come from the data; otherwise it evaluates ``forward``
  on placeholder arrays.

``mx.nd.<name>``, ``mx.sym.<name>``, autograd and ``hybridize()`` all dispatch through
:func:`get`.  Define ops with the :func:`register` decorator in a module of this package
and import that module in ``psnet/ops/__init__.py``.
"""
import inspect

from ..base import MXKeyError, MXNetError

__all__ = ["Op", "register", "get", "list_ops", "REQUIRED"]

_OPS = {}


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()
_SPECIAL = ("is_train", "rng")


class Op:
    """An operator: forward on arrays, gradient on NDArrays, optional shape/type inference.

    Parameters
    ----------
    name : str
        The MXNet name (``'FullyConnected'``, ``'broadcast_add'``...).
    forward : callable
        ``forward(xp, *arrays, **attrs)``; see the module docstring.
    inputs : sequence of str or callable, optional
        Input names; by default taken from ``forward``'s signature.  A callable
        ``inputs(attrs) -> list`` serves ops whose inputs depend on attributes
        (``no_bias``) or vary in number (``num_args``).
    num_outputs, num_visible_outputs : int or callable(attrs)
        All outputs, and how many of the first ones the user sees (the rest are state
        saved for the gradient).
    aux : sequence of str
        Auxiliary states (e.g. BatchNorm's moving_mean, moving_var): trailing inputs that
        ``forward`` may update in place and that get no gradient.
    grad : callable, optional
        ``grad(inputs, outputs, ograds, attrs)``; None marks the op as not differentiable.
    output_names : sequence of str or callable(attrs), optional
        Names of the visible outputs (Symbol's ``list_outputs``); default ``['output']``.
    """

    def __init__(self, name, forward, inputs=None, num_outputs=1, num_visible_outputs=None,
                 aux=(), grad=None, infer_shape=None, infer_type=None, output_names=None,
                 aliases=(), doc=None):
        self.name = name
        self.forward = forward
        sig = inspect.signature(forward)
        names, params, variadic, open_attrs = [], {}, False, False
        for i, (pname, p) in enumerate(sig.parameters.items()):
            if i == 0:
                continue  # xp
            if p.kind is p.VAR_POSITIONAL:
                variadic = True
            elif p.kind is p.VAR_KEYWORD:
                open_attrs = True
            elif p.default is p.empty and p.kind is not p.KEYWORD_ONLY:
                names.append(pname)
            elif pname not in _SPECIAL:
                params[pname] = REQUIRED if p.default is p.empty else p.default
        self.params = params
        # forward takes **attrs: any attribute is accepted (Custom passes them to the user's op)
        self.open_attrs = open_attrs
        # a callable ``inputs`` names the inputs itself; ``*arrays`` then only receives them
        self.variadic = variadic and not callable(inputs)
        self.needs_train = "is_train" in sig.parameters
        self.needs_rng = "rng" in sig.parameters
        self._inputs = inputs if inputs is not None else tuple(names)
        self.aux = tuple(aux)
        self.num_outputs = num_outputs
        self.num_visible_outputs = num_outputs if num_visible_outputs is None else num_visible_outputs
        self.grad = grad
        self.infer_shape = infer_shape
        self.infer_type = infer_type
        self._output_names = output_names
        self.aliases = tuple(aliases)
        self.__doc__ = doc or forward.__doc__ or ""

    # ---- interface queries (used by mx.nd / mx.sym wrappers and the Symbol layer)
    def input_names(self, attrs=None):
        """Names of the array inputs (arguments then auxiliary states) for these attrs."""
        if callable(self._inputs):
            return list(self._inputs(attrs or {}))
        if self.variadic:
            n = int((attrs or {}).get("num_args", 0))
            return ["arg%d" % i for i in range(n)]
        return list(self._inputs) + list(self.aux)

    def arg_names(self, attrs=None):
        """Input names without the auxiliary states."""
        names = self.input_names(attrs)
        return names[:len(names) - len(self.aux)] if self.aux else names

    def n_outputs(self, attrs=None):
        """Total number of outputs for these attrs."""
        n = self.num_outputs
        return n(attrs or {}) if callable(n) else n

    def n_visible(self, attrs=None):
        """Number of outputs the user sees for these attrs."""
        n = self.num_visible_outputs
        return n(attrs or {}) if callable(n) else n

    def output_names(self, attrs=None):
        """Names of the visible outputs (``['output']`` for a single-output op)."""
        names = self._output_names
        if names is None:
            n = self.n_visible(attrs)
            return ["output"] if n == 1 else ["output%d" % i for i in range(n)]
        return list(names(attrs or {})) if callable(names) else list(names)

    def full_attrs(self, attrs):
        """``attrs`` with every default filled in; unknown or missing attributes are errors."""
        full = dict(self.params)
        for k, v in attrs.items():
            if k not in full and not k.startswith("__") and not self.open_attrs:
                raise MXNetError("operator %s has no attribute %r (it takes: %s)"
                                 % (self.name, k, ", ".join(sorted(self.params)) or "none"))
            full[k] = v
        missing = [k for k, v in full.items() if v is REQUIRED]
        if missing:
            raise MXNetError("operator %s needs attribute(s) %s" % (self.name, ", ".join(missing)))
        return full

    def __repr__(self):
        return "<Op %s>" % self.name


def register(name=None, **kwargs):
    """Decorator registering ``forward`` as an op; returns the :class:`Op`.

    ``@register('dot')`` or ``@register()`` (the function's name is used).  Keyword
    arguments go to :class:`Op`.  The returned Op has ``.def_grad`` to attach the
    gradient below the forward::

        @register('square')
        def square(xp, data):
            return data * data

        @square.def_grad
        def _(inputs, outputs, ograds, attrs):
            return [ograds[0] * inputs[0] * 2]
    """
    def deco(forward):
        op = Op(name or forward.__name__, forward, **kwargs)
        add(op)
        return op
    return deco


def _def_grad(self, fn):
    self.grad = fn
    return fn


Op.def_grad = _def_grad


def add(op):
    """Add ``op`` (and its aliases) to the registry; a name used twice is an error."""
    for n in (op.name,) + op.aliases:
        if n in _OPS:
            raise MXNetError("operator %s is registered twice" % n)
        _OPS[n] = op


def get(name):
    """The Op registered under ``name``; MXKeyError naming it otherwise."""
    try:
        return _OPS[name]
    except KeyError:
        raise MXKeyError("unknown operator %r" % (name,)) from None


def list_ops():
    """Every registered name (aliases included), sorted."""
    return sorted(_OPS)
