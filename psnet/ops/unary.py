"""Elementwise math on one array (MXNet's unary operators).

Results keep the input's dtype, as in MXNet 1.9.1: ``sqrt`` of an int32 array is int32
(the value truncated).  Gradients are written with ``mx.nd`` operators, so they can be
differentiated again.
"""
import math

from .registry import register
from . import _grad_util as G
from . import _special


def _keep(r, like):
    return r if r.dtype == like.dtype else r.astype(like.dtype)


def _unary(name, fn, grad, aliases=(), doc=None):
    """Register ``name`` computing ``fn(xp, x)`` (cast back to x's dtype) with ``grad(x, out, g)``."""
    def forward(xp, data):
        return _keep(fn(xp, data), data)
    forward.__doc__ = doc
    op = register(name, aliases=aliases)(forward)
    if grad is not None:
        op.def_grad(lambda i, o, g, a: [grad(i[0], o[0], g[0])])
    return op


def _zero(x, o, g):
    return G.nd().zeros_like(x)


def _nd():
    return G.nd()


def _rint(xp, x):
    lo, hi = xp.floor(x), xp.ceil(x)
    return xp.where(x - lo <= hi - x, lo, hi)


def _round_half_away(xp, x):
    return xp.sign(x) * xp.floor(xp.abs(x) + 0.5)


_LN10, _LN2 = math.log(10.0), math.log(2.0)
_ERF_C = 2.0 / math.sqrt(math.pi)

_UNARY = [
    # name, forward, grad(x, out, ograd), doc, aliases
    ("negative", lambda xp, x: -x, lambda x, o, g: -g, "Numerical negative, -x.", ()),
    ("abs", lambda xp, x: xp.abs(x), lambda x, o, g: g * _nd().sign(x), "Absolute value |x|.", ()),
    ("sign", lambda xp, x: xp.sign(x), _zero, "Sign of x: -1, 0 or 1.", ()),
    ("round", _round_half_away, _zero, "Round to the nearest integer, halves away from zero.", ()),
    ("rint", _rint, _zero, "Round to the nearest integer, halves toward the lower integer (MXNet's rint).", ()),
    ("ceil", lambda xp, x: xp.ceil(x), _zero, "Ceiling.", ()),
    ("floor", lambda xp, x: xp.floor(x), _zero, "Floor.", ()),
    ("trunc", lambda xp, x: xp.trunc(x), _zero, "Round toward zero.", ()),
    ("fix", lambda xp, x: xp.trunc(x), _zero, "Round toward zero (MXNet's fix).", ()),
    ("square", lambda xp, x: x * x, lambda x, o, g: g * x * 2, "x squared.", ()),
    ("sqrt", lambda xp, x: xp.sqrt(x), lambda x, o, g: g / (o * 2), "Square root.", ()),
    ("rsqrt", lambda xp, x: 1.0 / xp.sqrt(x), lambda x, o, g: g * o * o * o * -0.5,
     "Reciprocal square root, 1/sqrt(x).", ()),
    ("cbrt", lambda xp, x: xp.cbrt(x), lambda x, o, g: g / (o * o * 3), "Cube root.", ()),
    ("rcbrt", lambda xp, x: 1.0 / xp.cbrt(x), lambda x, o, g: g * o / x * (-1.0 / 3),
     "Reciprocal cube root.", ()),
    ("reciprocal", lambda xp, x: 1.0 / x, lambda x, o, g: -g * o * o, "1/x.", ()),
    ("exp", lambda xp, x: xp.exp(x), lambda x, o, g: g * o, "Exponential e**x.", ()),
    ("expm1", lambda xp, x: xp.expm1(x), lambda x, o, g: g * (o + 1), "exp(x) - 1, accurate near 0.", ()),
    ("log", lambda xp, x: xp.log(x), lambda x, o, g: g / x, "Natural logarithm.", ()),
    ("log10", lambda xp, x: xp.log10(x), lambda x, o, g: g / (x * _LN10), "Base-10 logarithm.", ()),
    ("log2", lambda xp, x: xp.log2(x), lambda x, o, g: g / (x * _LN2), "Base-2 logarithm.", ()),
    ("log1p", lambda xp, x: xp.log1p(x), lambda x, o, g: g / (x + 1), "log(1 + x), accurate near 0.", ()),
    ("sin", lambda xp, x: xp.sin(x), lambda x, o, g: g * _nd().cos(x), "Sine.", ()),
    ("cos", lambda xp, x: xp.cos(x), lambda x, o, g: -g * _nd().sin(x), "Cosine.", ()),
    ("tan", lambda xp, x: xp.tan(x), lambda x, o, g: g * (o * o + 1), "Tangent.", ()),
    ("arcsin", lambda xp, x: xp.arcsin(x), lambda x, o, g: g * _nd().rsqrt(1 - x * x), "Inverse sine.", ()),
    ("arccos", lambda xp, x: xp.arccos(x), lambda x, o, g: -g * _nd().rsqrt(1 - x * x), "Inverse cosine.", ()),
    ("arctan", lambda xp, x: xp.arctan(x), lambda x, o, g: g / (x * x + 1), "Inverse tangent.", ()),
    ("sinh", lambda xp, x: xp.sinh(x), lambda x, o, g: g * _nd().cosh(x), "Hyperbolic sine.", ()),
    ("cosh", lambda xp, x: xp.cosh(x), lambda x, o, g: g * _nd().sinh(x), "Hyperbolic cosine.", ()),
    ("tanh", lambda xp, x: xp.tanh(x), lambda x, o, g: g * (1 - o * o), "Hyperbolic tangent.", ()),
    ("arcsinh", lambda xp, x: xp.arcsinh(x), lambda x, o, g: g * _nd().rsqrt(x * x + 1),
     "Inverse hyperbolic sine.", ()),
    ("arccosh", lambda xp, x: xp.arccosh(x), lambda x, o, g: g * _nd().rsqrt(x * x - 1),
     "Inverse hyperbolic cosine.", ()),
    ("arctanh", lambda xp, x: xp.arctanh(x), lambda x, o, g: g / (1 - x * x), "Inverse hyperbolic tangent.", ()),
    ("degrees", lambda xp, x: xp.degrees(x), lambda x, o, g: g * (180.0 / math.pi), "Radians to degrees.", ()),
    ("radians", lambda xp, x: xp.radians(x), lambda x, o, g: g * (math.pi / 180.0), "Degrees to radians.", ()),
    ("relu", lambda xp, x: xp.maximum(x, 0), lambda x, o, g: g * (x > 0), "Rectified linear unit, max(x, 0).", ()),
    ("sigmoid", lambda xp, x: 1.0 / (1.0 + xp.exp(-x)), lambda x, o, g: g * o * (1 - o),
     "Logistic sigmoid 1 / (1 + exp(-x)).", ()),
    ("softsign", lambda xp, x: x / (1 + xp.abs(x)), lambda x, o, g: g / _nd().square(_nd().abs(x) + 1),
     "x / (1 + |x|).", ()),
    ("erf", _special.erf, lambda x, o, g: g * _nd().exp(-x * x) * _ERF_C, "Gauss error function.", ()),
    ("erfinv", _special.erfinv, lambda x, o, g: g * _nd().exp(o * o) * (1.0 / _ERF_C),
     "Inverse Gauss error function.", ()),
    ("gamma", _special.gamma, lambda x, o, g: g * o * _nd().digamma(x), "The gamma function.", ()),
    ("gammaln", _special.gammaln, lambda x, o, g: g * _nd().digamma(x), "log|gamma(x)|.", ()),
    ("digamma", _special.digamma, lambda x, o, g: g * _nd().trigamma(x),
     "The digamma function, d/dx gammaln(x).", ()),
    ("trigamma", _special.trigamma, None, "The trigamma function, d/dx digamma(x).", ()),
    ("logical_not", lambda xp, x: x == 0, _zero, "1 where x is 0, else 0 (in x's dtype).", ()),
    ("identity", lambda xp, x: x.copy(), lambda x, o, g: g, "A copy of x.", ("_copy",)),
    ("BlockGrad", lambda xp, x: x.copy(), _zero, "The identity whose gradient is zero.",
     ("stop_gradient",)),
]

for _name, _fwd, _grad, _doc, _aliases in _UNARY:
    _unary(_name, _fwd, _grad, _aliases, _doc)


@register("hard_sigmoid")
def hard_sigmoid(xp, data, alpha=0.2, beta=0.5):
    """clip(alpha * x + beta, 0, 1)."""
    return _keep(xp.clip(data * alpha + beta, 0, 1), data)


@hard_sigmoid.def_grad
def _hard_sigmoid_grad(i, o, g, a):
    lin = i[0] * a["alpha"] + a["beta"]
    return [g[0] * a["alpha"] * (lin > 0) * (lin < 1)]


@register("clip")
def clip(xp, data, a_min=None, a_max=None):
    """Limit values to [a_min, a_max] (bounds cast to the array's dtype first, as in MXNet)."""
    lo = None if a_min is None else data.dtype.type(a_min)
    hi = None if a_max is None else data.dtype.type(a_max)
    return xp.clip(data, lo, hi)


@clip.def_grad
def _clip_grad(i, o, g, a):
    x = i[0]
    mask = x == x  # ones (zero where x is NaN)
    if a["a_min"] is not None:
        mask = mask * (x >= a["a_min"])
    if a["a_max"] is not None:
        mask = mask * (x <= a["a_max"])
    return [g[0] * mask]
