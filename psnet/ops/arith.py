"""Arithmetic: broadcasting binary ops, their scalar forms, and the reflected forms.

MXNet semantics kept here: ``a + b`` broadcasts; comparisons return 0/1 in the input
dtype; a scalar is cast to the array's dtype before the op (``int32 * 2.7`` multiplies
by 2, as MXNet 1.9.1 does); the result keeps the array's dtype.
"""
import numpy as np

from ..base import DTypeError, MXNetError, ShapeError
from .registry import register
from . import _grad_util as G


def _same_dtype(r, like):
    return r if r.dtype == like.dtype else r.astype(like.dtype)


def _binary(name, fn, grad=None, aliases=()):
    def forward(xp, lhs, rhs):
        if lhs.dtype != rhs.dtype:
            raise DTypeError("%s: the operands have different dtypes %s and %s; cast one with "
                             ".astype() first (MXNet does not mix dtypes)" % (name, lhs.dtype, rhs.dtype))
        try:
            r = fn(xp, lhs, rhs)
        except ValueError:
            raise ShapeError("%s: shapes %s and %s cannot be broadcast together"
                             % (name, lhs.shape, rhs.shape)) from None
        return _same_dtype(r, lhs)
    forward.__doc__ = "Elementwise %s of two arrays with broadcasting." % name
    op = register(name, aliases=aliases)(forward)
    if grad is not None:
        op.def_grad(grad)
    return op


def _cast_scalar(dtype, scalar):
    """``scalar`` in ``dtype`` as MXNet casts it (2.7 -> 2 for int32; wrapping out-of-range ints)."""
    try:
        return dtype.type(scalar)
    except OverflowError:
        return np.array(scalar).astype(dtype)[()]


def _scalar(name, fn, grad=None, aliases=()):
    def forward(xp, data, scalar=0.0):
        return _same_dtype(fn(xp, data, _cast_scalar(data.dtype, scalar)), data)
    forward.__doc__ = "Elementwise %s of an array and a scalar." % name
    op = register(name, aliases=aliases)(forward)
    if grad is not None:
        op.def_grad(grad)
    return op


def _cmp(xp_fn):
    return lambda xp, a, b: xp_fn(a, b)


# ---------------------------------------------------------------- gradients
def _add_grad(i, o, g, a):
    return [G.unbroadcast(g[0], i[0].shape), G.unbroadcast(g[0], i[1].shape)]


def _sub_grad(i, o, g, a):
    return [G.unbroadcast(g[0], i[0].shape), G.unbroadcast(-g[0], i[1].shape)]


def _mul_grad(i, o, g, a):
    return [G.unbroadcast(g[0] * i[1], i[0].shape), G.unbroadcast(g[0] * i[0], i[1].shape)]


def _div_grad(i, o, g, a):
    x, y = i
    return [G.unbroadcast(g[0] / y, x.shape), G.unbroadcast(-g[0] * x / (y * y), y.shape)]


def _pow_grad(i, o, g, a):
    x, y = i
    gx = g[0] * y * x ** (y - 1)
    gy = g[0] * o[0] * G.nd().log(G.nd().abs(x) + (x == 0))
    return [G.unbroadcast(gx, x.shape), G.unbroadcast(gy, y.shape)]


def _max_grad(i, o, g, a):
    x, y = i
    mask = x >= y
    return [G.unbroadcast(g[0] * mask, x.shape), G.unbroadcast(g[0] * (1 - mask), y.shape)]


def _min_grad(i, o, g, a):
    x, y = i
    mask = x <= y
    return [G.unbroadcast(g[0] * mask, x.shape), G.unbroadcast(g[0] * (1 - mask), y.shape)]


def _no_grad(i, o, g, a):
    return [None] * len(i)


_binary("broadcast_add", lambda xp, a, b: a + b, _add_grad, aliases=("elemwise_add", "_plus", "_add", "broadcast_plus"))
_binary("broadcast_sub", lambda xp, a, b: a - b, _sub_grad, aliases=("elemwise_sub", "_minus", "_sub", "broadcast_minus"))
_binary("broadcast_mul", lambda xp, a, b: a * b, _mul_grad, aliases=("elemwise_mul", "_mul"))
_binary("broadcast_div", lambda xp, a, b: a / b, _div_grad, aliases=("elemwise_div", "_div"))
_binary("broadcast_mod", lambda xp, a, b: xp.mod(a, b), None, aliases=("_mod",))
_binary("broadcast_floor_div", lambda xp, a, b: xp.floor_divide(a, b), None)
_binary("broadcast_power", lambda xp, a, b: xp.power(a, b), _pow_grad, aliases=("_power", "_Power"))
_binary("broadcast_maximum", lambda xp, a, b: xp.maximum(a, b), _max_grad, aliases=("_maximum", "maximum_array"))
_binary("broadcast_minimum", lambda xp, a, b: xp.minimum(a, b), _min_grad, aliases=("_minimum", "minimum_array"))
_binary("broadcast_hypot", lambda xp, a, b: xp.hypot(a, b), lambda i, o, g, a: [
    G.unbroadcast(g[0] * i[0] / o[0], i[0].shape), G.unbroadcast(g[0] * i[1] / o[0], i[1].shape)],
    aliases=("_hypot",))
for _name, _fn in (("equal", lambda xp, a, b: a == b), ("not_equal", lambda xp, a, b: a != b),
                   ("greater", lambda xp, a, b: a > b), ("greater_equal", lambda xp, a, b: a >= b),
                   ("lesser", lambda xp, a, b: a < b), ("lesser_equal", lambda xp, a, b: a <= b),
                   ("logical_and", lambda xp, a, b: xp.logical_and(a, b)),
                   ("logical_or", lambda xp, a, b: xp.logical_or(a, b)),
                   ("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))):
    _binary("broadcast_" + _name, _fn, _no_grad, aliases=("_" + _name,))
    _scalar("_%s_scalar" % _name, _fn, _no_grad)

# reflected array forms, used by NDArray.__rsub__ etc. when both sides are arrays
_binary("_rsub_array", lambda xp, a, b: b - a, lambda i, o, g, a: [
    G.unbroadcast(-g[0], i[0].shape), G.unbroadcast(g[0], i[1].shape)])
_binary("_rdiv_array", lambda xp, a, b: b / a, lambda i, o, g, a: [
    G.unbroadcast(-g[0] * i[1] / (i[0] * i[0]), i[0].shape), G.unbroadcast(g[0] / i[0], i[1].shape)])
_binary("_rfloor_div_array", lambda xp, a, b: xp.floor_divide(b, a), None)
_binary("_rmod_array", lambda xp, a, b: xp.mod(b, a), None)
_binary("_rpower_array", lambda xp, a, b: xp.power(b, a), None)

# scalar forms
_scalar("_plus_scalar", lambda xp, a, s: a + s, lambda i, o, g, a: [g[0]])
_scalar("_minus_scalar", lambda xp, a, s: a - s, lambda i, o, g, a: [g[0]])
_scalar("_rminus_scalar", lambda xp, a, s: s - a, lambda i, o, g, a: [-g[0]])
_scalar("_mul_scalar", lambda xp, a, s: a * s, lambda i, o, g, a: [g[0] * a["scalar"]])
_scalar("_div_scalar", lambda xp, a, s: a / s, lambda i, o, g, a: [g[0] / a["scalar"]])
_scalar("_rdiv_scalar", lambda xp, a, s: s / a,
        lambda i, o, g, a: [-g[0] * a["scalar"] / (i[0] * i[0])])
_scalar("_mod_scalar", lambda xp, a, s: xp.mod(a, s), lambda i, o, g, a: [g[0]])
_scalar("_rmod_scalar", lambda xp, a, s: xp.mod(s, a), None)
_scalar("_floor_div_scalar", lambda xp, a, s: xp.floor_divide(a, s), _no_grad)
_scalar("_rfloor_div_scalar", lambda xp, a, s: xp.floor_divide(s, a), _no_grad)
_scalar("_power_scalar", lambda xp, a, s: a ** s,
        lambda i, o, g, a: [g[0] * a["scalar"] * i[0] ** (a["scalar"] - 1)])
_scalar("_rpower_scalar", lambda xp, a, s: xp.power(s, a),
        lambda i, o, g, a: [g[0] * o[0] * float(G.np_log(a["scalar"]))])
_scalar("_maximum_scalar", lambda xp, a, s: xp.maximum(a, s), lambda i, o, g, a: [g[0] * (i[0] >= a["scalar"])])
_scalar("_minimum_scalar", lambda xp, a, s: xp.minimum(a, s), lambda i, o, g, a: [g[0] * (i[0] <= a["scalar"])])



@register("add_n", aliases=("ElementWiseSum", "_sum"))
def add_n(xp, *args, num_args=0):
    """Elementwise sum of arrays of one shape and dtype."""
    if not args:
        raise MXNetError("add_n needs at least one array")
    for x in args[1:]:
        if x.shape != args[0].shape or x.dtype != args[0].dtype:
            raise ShapeError("add_n: every array needs shape %s and dtype %s, got %s %s"
                             % (args[0].shape, args[0].dtype, x.shape, x.dtype))
    out = args[0].copy()
    for x in args[1:]:
        out += x
    return out


@add_n.def_grad
def _add_n_grad(i, o, g, a):
    return [g[0]] * len(i)
