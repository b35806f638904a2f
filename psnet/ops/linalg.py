"""Matrix products: dot and batch_dot, with MXNet's ``transpose_a`` / ``transpose_b``.

For N-d inputs ``dot`` contracts the last axis of ``lhs`` with the first axis of ``rhs``.
``transpose_a`` contracts the *first* axis of ``lhs`` instead (its other axes keep their
order), ``transpose_b`` the *last* axis of ``rhs``: MXNet views an N-d operand as the
matrix (first axis) x (the rest) or (all but the last) x (last axis) and transposes that.
"""
from ..base import NotSupportedError, ShapeError
from .registry import register
from . import _grad_util as G


def _as_matrix(x, contract_first):
    """(2-d view, remaining shape) of ``x`` with the contracted axis first or last."""
    if contract_first:
        return x.reshape(x.shape[0], -1), x.shape[1:]
    return x.reshape(-1, x.shape[-1]), x.shape[:-1]


@register("dot")
def dot(xp, lhs, rhs, transpose_a=False, transpose_b=False, forward_stype=None):
    """Matrix product (see the module docstring for N-d inputs and the transposes)."""
    if lhs.ndim == 2 and rhs.ndim == 2:
        a = lhs.T if transpose_a else lhs
        b = rhs.T if transpose_b else rhs
        if a.shape[1] != b.shape[0]:
            raise ShapeError("dot: shapes %s and %s do not fit (transpose_a=%s, transpose_b=%s)"
                             % (lhs.shape, rhs.shape, transpose_a, transpose_b))
        return a @ b
    a, lead = _as_matrix(lhs, transpose_a)
    b, tail = _as_matrix(rhs, not transpose_b)
    a = a.T if transpose_a else a
    b = b.T if transpose_b else b
    if a.shape[1] != b.shape[0]:
        raise ShapeError("dot: shapes %s and %s do not fit (transpose_a=%s, transpose_b=%s)"
                         % (lhs.shape, rhs.shape, transpose_a, transpose_b))
    return (a @ b).reshape(lead + tail)


def _matmul_grads(prod, a, b, og, ta, tb):
    """Gradients of ``prod(a, b, transpose_a=ta, transpose_b=tb)`` for 2-d (or batched) operands."""
    ga = prod(og, b, transpose_b=not tb) if not ta else prod(b, og, transpose_a=tb, transpose_b=True)
    gb = prod(a, og, transpose_a=not ta) if not tb else prod(og, a, transpose_a=True, transpose_b=ta)
    return ga, gb


@dot.def_grad
def _dot_grad(i, o, g, attrs):
    nd = G.nd()
    lhs, rhs = i
    ta, tb = attrs["transpose_a"], attrs["transpose_b"]
    a2 = lhs.reshape((lhs.shape[0], -1)) if ta else lhs.reshape((-1, lhs.shape[-1]))
    b2 = rhs.reshape((-1, rhs.shape[-1])) if tb else rhs.reshape((rhs.shape[0], -1))
    m = a2.shape[1] if ta else a2.shape[0]
    n = b2.shape[0] if tb else b2.shape[1]
    ga, gb = _matmul_grads(nd.dot, a2, b2, g[0].reshape((m, n)), ta, tb)
    return [ga.reshape(lhs.shape), gb.reshape(rhs.shape)]


@register("batch_dot")
def batch_dot(xp, lhs, rhs, transpose_a=False, transpose_b=False, forward_stype=None):
    """Batched matrix product of (B, M, K) and (B, K, N) arrays (last two axes transposed
    by ``transpose_a/b``)."""
    if lhs.ndim != 3 or rhs.ndim != 3:
        raise ShapeError("batch_dot needs 3-d arrays, got shapes %s and %s" % (lhs.shape, rhs.shape))
    a = xp.swapaxes(lhs, 1, 2) if transpose_a else lhs
    b = xp.swapaxes(rhs, 1, 2) if transpose_b else rhs
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError("batch_dot: shapes %s and %s do not fit (transpose_a=%s, transpose_b=%s)"
                         % (lhs.shape, rhs.shape, transpose_a, transpose_b))
    return xp.matmul(a, b)


@batch_dot.def_grad
def _batch_dot_grad(i, o, g, attrs):
    ga, gb = _matmul_grads(G.nd().batch_dot, i[0], i[1], g[0], attrs["transpose_a"], attrs["transpose_b"])
    return [ga, gb]


@register("diag")
def diag(xp, data, k=0, axis1=0, axis2=1):
    """A 1-d input becomes a matrix with it on diagonal ``k``; an N-d input gives its
    diagonal ``k`` over ``axis1``/``axis2`` (appended as the last axis)."""
    if data.ndim == 1:
        return xp.diag(data, k)
    return xp.diagonal(data, k, axis1, axis2).copy()


@diag.def_grad
def _diag_grad(i, o, g, a):
    nd = G.nd()
    if i[0].ndim == 1:
        return [nd.diag(g[0], k=a["k"])]
    return [nd.invoke(nd.registry.get("_diag_adjoint"), [g[0]],
                      {"k": a["k"], "axis1": a["axis1"], "axis2": a["axis2"], "shape": i[0].shape})]


def _diag_index(xp, shape, k, axis1, axis2):
    n = min(shape[axis1] - max(-k, 0), shape[axis2] - max(k, 0))
    pos = xp.arange(max(n, 0))
    return pos + max(-k, 0), pos + max(k, 0)


@register("_diag_adjoint")
def _diag_adjoint(xp, data, k=0, axis1=0, axis2=1, shape=()):
    """Zeros of ``shape`` with ``data`` (diagonals in the last axis) placed on diagonal ``k``."""
    nd_ = len(shape)
    a1, a2 = axis1 % nd_, axis2 % nd_
    rest = [ax for ax in range(nd_) if ax not in (a1, a2)]
    perm = rest + [a1, a2]
    moved_shape = tuple(shape[ax] for ax in perm)
    out = xp.zeros(moved_shape, dtype=data.dtype)
    rows, cols = _diag_index(xp, shape, k, a1, a2)
    out[..., rows, cols] = data
    inv = [0] * nd_
    for pos, ax in enumerate(perm):
        inv[ax] = pos
    return xp.transpose(out, inv).copy()


@_diag_adjoint.def_grad
def _diag_adjoint_grad(i, o, g, a):
    return [G.nd().diag(g[0], k=a["k"], axis1=a["axis1"], axis2=a["axis2"])]


# ---------------------------------------------------------------- mx.nd.linalg_* (batched)
def _check_rows_axis(opname, axis):
    if axis not in (-2,):
        raise NotSupportedError("%s: only axis=-2 (matrices in the last two axes) is supported, got %r"
                                % (opname, axis))


def _mat(xp, x, transpose):
    return xp.swapaxes(x, -1, -2) if transpose else x


def _matmul(xp, opname, a, b):
    if a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2]:
        raise ShapeError("%s: matrices of shapes %s and %s do not fit" % (opname, a.shape, b.shape))
    return xp.matmul(a, b)


@register("linalg_gemm2", aliases=("_linalg_gemm2",))
def linalg_gemm2(xp, A, B, transpose_a=False, transpose_b=False, alpha=1.0, axis=-2):
    """alpha * op(A) @ op(B) over the last two axes (batched over the leading ones)."""
    _check_rows_axis("linalg_gemm2", axis)
    r = _matmul(xp, "linalg_gemm2", _mat(xp, A, transpose_a), _mat(xp, B, transpose_b))
    return r * A.dtype.type(alpha) if alpha != 1.0 else r


@linalg_gemm2.def_grad
def _gemm2_grad(i, o, g, a):
    ga, gb = _matmul_grads(G.nd().linalg_gemm2, i[0], i[1], g[0], a["transpose_a"], a["transpose_b"])
    return [ga * a["alpha"], gb * a["alpha"]]


@register("linalg_gemm", aliases=("_linalg_gemm",))
def linalg_gemm(xp, A, B, C, transpose_a=False, transpose_b=False, alpha=1.0, beta=1.0, axis=-2):
    """alpha * op(A) @ op(B) + beta * C over the last two axes."""
    _check_rows_axis("linalg_gemm", axis)
    r = _matmul(xp, "linalg_gemm", _mat(xp, A, transpose_a), _mat(xp, B, transpose_b))
    if r.shape != C.shape:
        raise ShapeError("linalg_gemm: the product has shape %s but C has shape %s" % (r.shape, C.shape))
    return r * A.dtype.type(alpha) + C * C.dtype.type(beta)


@linalg_gemm.def_grad
def _gemm_grad(i, o, g, a):
    ga, gb = _matmul_grads(G.nd().linalg_gemm2, i[0], i[1], g[0], a["transpose_a"], a["transpose_b"])
    return [ga * a["alpha"], gb * a["alpha"], g[0] * a["beta"]]


@register("linalg_inverse", aliases=("_linalg_inverse",))
def linalg_inverse(xp, A):
    """Inverse of each square matrix in the last two axes."""
    return xp.linalg.inv(A)


@linalg_inverse.def_grad
def _inverse_grad(i, o, g, a):
    nd = G.nd()
    inv = o[0]
    return [-nd.linalg_gemm2(nd.linalg_gemm2(inv, g[0], transpose_a=True), inv, transpose_b=True)]


def _inverse_transposed(A):
    nd = G.nd()
    return nd.swapaxes(nd.linalg_inverse(A), dim1=-1, dim2=-2)


def _per_matrix(v, A):
    """A per-matrix value (shape A.shape[:-2], or (1,) for one matrix) shaped to broadcast over A."""
    return v.reshape(A.shape[:-2] + (1, 1))


@register("linalg_det", aliases=("_linalg_det",))
def linalg_det(xp, A):
    """Determinant of each square matrix in the last two axes."""
    return xp.linalg.det(A)


@linalg_det.def_grad
def _det_grad(i, o, g, a):
    A = i[0]
    return [G.nd().broadcast_mul(_per_matrix(g[0] * o[0], A), _inverse_transposed(A))]


@register("linalg_slogdet", aliases=("_linalg_slogdet",), num_outputs=2, output_names=("sign", "logdet"))
def linalg_slogdet(xp, A):
    """(sign, log|det|) of each square matrix in the last two axes."""
    sign, logdet = xp.linalg.slogdet(A)
    return sign.astype(A.dtype), logdet.astype(A.dtype)


@linalg_slogdet.def_grad
def _slogdet_grad(i, o, g, a):
    A = i[0]
    return [G.nd().broadcast_mul(_per_matrix(g[1], A), _inverse_transposed(A))]


@register("linalg_extractdiag", aliases=("_linalg_extractdiag",))
def linalg_extractdiag(xp, A, offset=0):
    """Diagonal ``offset`` of each matrix in the last two axes."""
    return xp.diagonal(A, offset, -2, -1).copy()


@linalg_extractdiag.def_grad
def _extractdiag_grad(i, o, g, a):
    return [G.nd().linalg_makediag(g[0], offset=a["offset"])]


@register("linalg_makediag", aliases=("_linalg_makediag",))
def linalg_makediag(xp, A, offset=0):
    """Square matrices with the vectors in the last axis on diagonal ``offset``."""
    n = A.shape[-1] + abs(offset)
    out = xp.zeros(A.shape[:-1] + (n, n), dtype=A.dtype)
    rows, cols = _diag_index(xp, (n, n), offset, 0, 1)
    out[..., rows, cols] = A
    return out


@linalg_makediag.def_grad
def _makediag_grad(i, o, g, a):
    return [G.nd().linalg_extractdiag(g[0], offset=a["offset"])]


@register("linalg_sumlogdiag", aliases=("_linalg_sumlogdiag",))
def linalg_sumlogdiag(xp, A):
    """Sum of the logs of the diagonal of each square matrix in the last two axes."""
    return xp.log(xp.diagonal(A, 0, -2, -1)).sum(axis=-1)


@linalg_sumlogdiag.def_grad
def _sumlogdiag_grad(i, o, g, a):
    nd = G.nd()
    A = i[0]
    per = g[0].reshape(A.shape[:-2] + (1,))
    return [nd.linalg_makediag(nd.broadcast_div(per, nd.linalg_extractdiag(A)))]


@register("linalg_syrk", aliases=("_linalg_syrk",))
def linalg_syrk(xp, A, transpose=False, alpha=1.0):
    """alpha * A @ A^T (alpha * A^T @ A with ``transpose``) over the last two axes."""
    At = xp.swapaxes(A, -1, -2)
    r = xp.matmul(At, A) if transpose else xp.matmul(A, At)
    return r * A.dtype.type(alpha) if alpha != 1.0 else r


@linalg_syrk.def_grad
def _syrk_grad(i, o, g, a):
    nd = G.nd()
    sym = g[0] + nd.swapaxes(g[0], dim1=-1, dim2=-2)
    r = nd.linalg_gemm2(i[0], sym) if a["transpose"] else nd.linalg_gemm2(sym, i[0])
    return [r * a["alpha"]]
