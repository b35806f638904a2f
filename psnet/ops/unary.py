"""Elementwise math on one array."""
from .registry import register


@register("negative")
def negative(xp, data):
    """-x."""
    return -data


@negative.def_grad
def _negative_grad(i, o, g, a):
    return [-g[0]]


@register("abs")
def abs_(xp, data):
    """|x|."""
    return xp.abs(data)


@abs_.def_grad
def _abs_grad(i, o, g, a):
    return [g[0] * ((i[0] > 0) - (i[0] < 0))]


@register("relu")
def relu(xp, data):
    """max(x, 0)."""
    return xp.maximum(data, 0)


@relu.def_grad
def _relu_grad(i, o, g, a):
    return [g[0] * (o[0] > 0)]


@register("exp")
def exp(xp, data):
    """e**x."""
    return xp.exp(data)


@exp.def_grad
def _exp_grad(i, o, g, a):
    return [g[0] * o[0]]


@register("log")
def log(xp, data):
    """Natural logarithm."""
    return xp.log(data)


@log.def_grad
def _log_grad(i, o, g, a):
    return [g[0] / i[0]]
