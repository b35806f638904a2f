"""Matrix products."""
from .registry import register
from . import _grad_util as G


@register("dot")
def dot(xp, lhs, rhs, transpose_a=False, transpose_b=False, forward_stype=None):
    """Matrix product; for N-d inputs, contracts the last axis of lhs with the first of rhs
    (MXNet's rule).  ``transpose_a/b`` transpose (reverse all axes of) an input first."""
    a = lhs.T if transpose_a else lhs
    b = rhs.T if transpose_b else rhs
    if a.ndim <= 2 and b.ndim <= 2:
        return a @ b if a.ndim == 2 and b.ndim == 2 else xp.dot(a, b).reshape(-1)
    return xp.tensordot(a, b, axes=1)


@dot.def_grad
def _dot_grad(i, o, g, attrs):
    nd = G.nd()
    a, b = i
    ta, tb = attrs["transpose_a"], attrs["transpose_b"]
    og = g[0]
    if a.ndim == 2 and b.ndim == 2:
        if not ta:
            ga = nd.dot(og, b, transpose_b=not tb)
        else:
            ga = nd.dot(b, og, transpose_a=tb, transpose_b=True)
        if not tb:
            gb = nd.dot(a, og, transpose_a=not ta)
        else:
            gb = nd.dot(og, a, transpose_a=True, transpose_b=ta)
        return [ga, gb]
    # general N-d case: flatten to 2-d products
    a2 = (a.T if ta else a)
    b2 = (b.T if tb else b)
    A = a2.reshape((-1, a2.shape[-1]))
    B = b2.reshape((b2.shape[0], -1))
    O = og.reshape((A.shape[0], B.shape[1]))
    gA = nd.dot(O, B, transpose_b=True).reshape(a2.shape)
    gB = nd.dot(A, O, transpose_a=True).reshape(b2.shape)
    return [gA.T if ta else gA, gB.T if tb else gB]
