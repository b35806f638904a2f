"""Custom operators written in Python (the machinery behind ``mx.operator``).

A custom op is used as ``mx.nd.Custom(*inputs, op_type='name', **kwargs)`` (and
``mx.sym.Custom`` in graphs and hybridized blocks).  It is one registry op, ``Custom``,
so NDArray calls, autograd, Symbol executors and ``hybridize()`` all run it the same way,
on any context — GPU included, which MXNet could not do for Python ops.

The operator instance that ran ``forward`` must also run ``backward`` (users keep state
on ``self``).  The registry op therefore returns one hidden output, a handle naming the
live instance; the gradient looks the instance up by it.  Handles of the most recent
calls are kept (``_LIVE_LIMIT``), which bounds memory however many calls are recorded.
"""
import itertools
from collections import OrderedDict

import numpy as np

from ..base import MXKeyError, MXNetError, ShapeError
from ..context import Context
from . import registry

__all__ = ["CustomOp", "CustomOpProp", "register", "get_all_registered_operators"]

_PROPS = {}
_LIVE = OrderedDict()
_LIVE_LIMIT = 65536
_ids = itertools.count(1)


class CustomOp:
    """Base class of a custom operator's computation: override forward and backward."""

    def forward(self, is_train, req, in_data, out_data, aux):
        """Compute ``out_data`` from ``in_data`` (write results with :meth:`assign`)."""
        raise MXNetError("%s must define forward()" % type(self).__name__)

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        """Compute ``in_grad`` from ``out_grad`` (write results with :meth:`assign`)."""
        raise MXNetError("%s must define backward() to be differentiated" % type(self).__name__)

    @staticmethod
    def assign(dst, req, src):
        """Write ``src`` into ``dst`` according to ``req`` ('write', 'inplace', 'add', 'null')."""
        if req == "null":
            return
        if req in ("write", "inplace"):
            dst[:] = src
        elif req == "add":
            dst[:] = dst + src
        else:
            raise MXNetError("unknown req %r (expected write, inplace, add or null)" % (req,))


class CustomOpProp:
    """Describes a custom operator: its inputs, outputs, shapes and types, and makes instances."""

    def __init__(self, need_top_grad=True):
        self.need_top_grad_ = need_top_grad

    def list_arguments(self):
        """Names of the array inputs."""
        return ["data"]

    def list_outputs(self):
        """Names of the outputs."""
        return ["output"]

    def list_auxiliary_states(self):
        """Names of the auxiliary states."""
        return []

    def infer_shape(self, in_shape):
        """(input shapes, output shapes, aux shapes); by default outputs take the first input's shape."""
        return in_shape, [in_shape[0]] * len(self.list_outputs()), []

    def infer_type(self, in_type):
        """(input types, output types, aux types); by default everything takes the first input's type."""
        t = in_type[0]
        return in_type, [t] * len(self.list_outputs()), [t] * len(self.list_auxiliary_states())

    def declare_backward_dependency(self, out_grad, in_data, out_data):
        """Arrays the backward pass reads (kept for MXNet compatibility; psnet keeps all)."""
        deps = list(in_data) + list(out_data)
        return deps + list(out_grad) if self.need_top_grad_ else deps

    def create_operator(self, ctx, in_shapes, in_dtypes):
        """Return the :class:`CustomOp` instance that computes this op."""
        raise MXNetError("%s must define create_operator()" % type(self).__name__)


def register(reg_name):
    """Class decorator registering a :class:`CustomOpProp` subclass under ``reg_name``."""
    def deco(prop_cls):
        if not (isinstance(prop_cls, type) and issubclass(prop_cls, CustomOpProp)):
            raise MXNetError("mx.operator.register(%r) decorates a CustomOpProp subclass" % reg_name)
        _PROPS[reg_name] = prop_cls
        return prop_cls
    return deco


def get_all_registered_operators():
    """Names of the registered custom operators."""
    return sorted(_PROPS)


def _make_prop(attrs):
    op_type = attrs.get("op_type")
    if op_type is None:
        raise MXNetError("Custom needs op_type='<name registered with mx.operator.register>'")
    cls = _PROPS.get(op_type)
    if cls is None:
        raise MXKeyError("custom operator %r is not registered (known: %s)"
                         % (op_type, ", ".join(sorted(_PROPS)) or "none"))
    # MXNet hands every keyword to the prop's constructor as a string
    kwargs = {k: str(v) for k, v in attrs.items()
              if k not in ("op_type", "is_train", "rng") and not k.startswith("__")}
    return cls(**kwargs)


def _ctx_of(array):
    dev = getattr(array, "device", None)
    if type(array).__module__.startswith("cupy"):
        return Context("gpu", dev.id)
    return Context("cpu", 0)


def _wrap(arrays, ctx):
    from ..ndarray import from_backend
    return [from_backend(a, ctx) for a in arrays]


def _custom_forward(xp, *data, is_train=False, **attrs):
    """Run the registered CustomOp's forward; the last output is the instance's handle."""
    from ..ndarray import zeros
    prop = _make_prop(attrs)
    nargs = len(prop.list_arguments())
    if len(data) != nargs + len(prop.list_auxiliary_states()):
        raise MXNetError("custom operator %s takes %d input(s) (%s) and %d auxiliary state(s), got %d arrays"
                         % (attrs["op_type"], nargs, ", ".join(prop.list_arguments()),
                            len(prop.list_auxiliary_states()), len(data)))
    ctx = _ctx_of(data[0]) if data else Context("cpu", 0)
    in_shapes = [list(a.shape) for a in data[:nargs]]
    _, out_shapes, _ = prop.infer_shape(in_shapes)
    in_types = [a.dtype for a in data[:nargs]]
    _, out_types, _ = prop.infer_type(in_types)
    inputs = _wrap(data, ctx)
    outputs = [zeros(tuple(s), ctx=ctx, dtype=t) for s, t in zip(out_shapes, out_types)]
    op = prop.create_operator(ctx, [tuple(s) for s in in_shapes], in_types)
    op.forward(is_train, ["write"] * len(outputs), inputs[:nargs], outputs, inputs[nargs:])
    handle = next(_ids)
    _LIVE[handle] = (op, nargs)
    while len(_LIVE) > _LIVE_LIMIT:
        _LIVE.popitem(last=False)
    return tuple(o._data for o in outputs) + (xp.asarray(np.array([handle], dtype=np.int64)),)


def _custom_grad(inputs, outputs, ograds, attrs):
    from ..ndarray import zeros_like
    handle = int(outputs[-1].asnumpy()[0])
    entry = _LIVE.get(handle)
    if entry is None:
        raise MXNetError("custom operator %s: the forward state is gone (more than %d custom calls "
                         "since); differentiate sooner" % (attrs.get("op_type"), _LIVE_LIMIT))
    op, nargs = entry
    in_grad = [zeros_like(x) for x in inputs[:nargs]]
    op.backward(["write"] * nargs, list(ograds), list(inputs[:nargs]), list(outputs[:-1]),
                in_grad, list(inputs[nargs:]))
    return in_grad + [None] * (len(inputs) - nargs)


def _n_outputs(attrs):
    return len(_make_prop(attrs).list_outputs()) + 1


def _n_visible(attrs):
    return len(_make_prop(attrs).list_outputs())


def _input_names(attrs):
    prop = _make_prop(attrs)
    return list(prop.list_arguments()) + list(prop.list_auxiliary_states())


def _infer_shape(attrs, in_shapes):
    prop = _make_prop(attrs)
    nargs = len(prop.list_arguments())
    if any(s is None for s in in_shapes[:nargs]):
        raise ShapeError("custom operator %s needs the shapes of all its inputs" % attrs.get("op_type"))
    ins, outs, aux = prop.infer_shape([list(s) for s in in_shapes[:nargs]])
    return [tuple(s) for s in ins] + [tuple(s) for s in aux], [tuple(s) for s in outs] + [(1,)], []


def _output_names(attrs):
    return _make_prop(attrs).list_outputs()


registry.add(registry.Op(
    "Custom", _custom_forward, inputs=_input_names, num_outputs=_n_outputs,
    num_visible_outputs=_n_visible, grad=_custom_grad, infer_shape=_infer_shape,
    output_names=_output_names,
    doc="Apply the Python custom operator registered as ``op_type`` (see mx.operator)."))
