"""Reductions over axes, with MXNet's ``axis``, ``keepdims`` and ``exclude``."""
from .registry import register
from . import _grad_util as G


def norm_axes(ndim, axis, exclude=False):
    """The tuple of axes an MXNet reduction covers (all when ``axis`` is None or ())."""
    if axis is None or axis == ():
        axes = tuple(range(ndim))
    else:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        axes = tuple(sorted(a % ndim for a in axes))
    if exclude:
        axes = tuple(a for a in range(ndim) if a not in axes)
    return axes


def kept_shape(shape, axes):
    """``shape`` with reduced ``axes`` set to 1 (for broadcasting a gradient back)."""
    return tuple(1 if k in axes else d for k, d in enumerate(shape))


@register("sum", aliases=("sum_axis",))
def sum_(xp, data, axis=None, keepdims=False, exclude=False):
    """Sum over ``axis`` (all axes by default)."""
    return xp.sum(data, axis=norm_axes(data.ndim, axis, exclude), keepdims=keepdims)


@sum_.def_grad
def _sum_grad(i, o, g, a):
    x = i[0]
    axes = norm_axes(x.ndim, a["axis"], a["exclude"])
    return [G.nd().broadcast_to(g[0].reshape(kept_shape(x.shape, axes)), shape=x.shape)]
