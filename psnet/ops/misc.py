"""Type casts, device copies and shape queries."""
from ..base import normalize_dtype
from .registry import register


@register("Cast", aliases=("cast",))
def cast(xp, data, dtype="float32"):
    """Convert to ``dtype``."""
    return data.astype(normalize_dtype(dtype))


@cast.def_grad
def _cast_grad(i, o, g, a):
    return [g[0].astype(i[0].dtype)]


def _copyto(xp, data, ctx=None):
    """A copy on context ``ctx`` (recorded by NDArray.as_in_context; never dispatched)."""
    return data.copy()


_copyto = register("_copyto")(_copyto)


@_copyto.def_grad
def _copyto_grad(i, o, g, a):
    return [g[0].as_in_context(i[0].context)]


@register("shape_array")
def shape_array(xp, data):
    """The shape as a 1-d int64 array."""
    return xp.asarray(data.shape, dtype=xp.int64)


@register("size_array")
def size_array(xp, data):
    """The number of elements as a (1,) int64 array."""
    return xp.asarray([data.size], dtype=xp.int64)
