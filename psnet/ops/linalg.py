"""Matrix products and MXNet's ``linalg_*`` operators.

``dot`` and ``batch_dot`` take MXNet's ``transpose_a`` / ``transpose_b``; the ``linalg_*``
ops work on the last two axes and are batched over the leading ones (``linalg_potrf``,
``linalg_potri``, ``linalg_trsm``, ``linalg_trmm`` read only the triangle they are told
to); ``khatri_rao`` is the column-wise Kronecker product of any number of matrices.

For N-d inputs ``dot`` contracts the last axis of ``lhs`` with the first axis of ``rhs``.
``transpose_a`` contracts the *first* axis of ``lhs`` instead (its other axes keep their
order), ``transpose_b`` the *last* axis of ``rhs``: MXNet views an N-d operand as the
matrix (first axis) x (the rest) or (all but the last) x (last axis) and transposes that.
"""
import numpy as _np

from ..base import DTypeError, MXNetError, NotSupportedError, ShapeError
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


def _same_square_shape(opname):
    """Symbol shape rule of an op mapping square matrices to matrices of the same shape."""
    def infer(attrs, in_shapes):
        A = in_shapes[0]
        if A is None:
            return None
        A = tuple(A)
        if len(A) < 2 or A[-1] != A[-2]:
            raise ShapeError("%s: A must hold square matrices in its last two axes, got shape %s"
                             % (opname, A))
        return [A], [A]
    return infer


@register("linalg_inverse", aliases=("_linalg_inverse",), infer_shape=_same_square_shape("linalg_inverse"))
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


# ------------------------------------------- triangular factorizations, solves and products
def _check_float(opname, *arrays):
    for x in arrays:
        if x.dtype not in (_np.float32, _np.float64):
            raise DTypeError("%s supports float32 and float64 only, got %s" % (opname, x.dtype))


def _check_square(opname, A, what="A"):
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError("%s: %s must hold square matrices in its last two axes, got shape %s"
                         % (opname, what, A.shape))


def _swap(xp, x):
    return xp.swapaxes(x, -1, -2)


def _triangle(xp, A, lower, offset=0):
    """``A`` with everything outside its lower (upper) triangle, from diagonal ``offset``, zeroed."""
    n, m = A.shape[-2], A.shape[-1]
    mask = xp.tri(n, m, offset, dtype=bool) if lower else ~xp.tri(n, m, offset - 1, dtype=bool)
    return xp.where(mask, A, A.dtype.type(0))


def _solve(xp, opname, A, B):
    """A^-1 B for stacks of (triangular) matrices; a singular matrix is an MXNetError."""
    try:
        return xp.linalg.solve(A, B)
    except _np.linalg.LinAlgError as e:
        raise MXNetError("%s: singular triangular matrix (%s)" % (opname, e)) from None


@register("_linalg_triangle")
def _linalg_triangle(xp, A, lower=True, offset=0):
    """The lower (``lower=True``) or upper triangle of each matrix in the last two axes, from
    diagonal ``offset``; the other entries become zero (used by the triangular ops' gradients)."""
    if A.ndim < 2:
        raise ShapeError("_linalg_triangle needs matrices in the last two axes, got shape %s" % (A.shape,))
    return _triangle(xp, A, lower, offset)


@_linalg_triangle.def_grad
def _linalg_triangle_grad(i, o, g, a):
    return [G.nd()._linalg_triangle(g[0], lower=a["lower"], offset=a["offset"])]


def _tri_nd(x, lower, offset=0):
    return G.nd()._linalg_triangle(x, lower=lower, offset=offset)


def _swap_nd(x):
    return G.nd().swapaxes(x, dim1=-1, dim2=-2)


def _tri_operands_shape(opname):
    """Symbol shape rule of trsm/trmm: the output has B's shape."""
    def infer(attrs, in_shapes):
        A, B = in_shapes
        if A is None or B is None:
            return None
        A, B = tuple(A), tuple(B)
        if len(A) < 2 or A[-1] != A[-2]:
            raise ShapeError("%s: A must hold square matrices in its last two axes, got shape %s"
                             % (opname, A))
        right = attrs.get("rightside", False)
        if len(B) != len(A) or B[:-2] != A[:-2] or (B[-1] if right else B[-2]) != A[-1]:
            raise ShapeError("%s: the triangular matrices A of shape %s do not fit the matrices B "
                             "of shape %s (rightside=%s)" % (opname, A, B, right))
        return [A, B], [B]
    return infer


@register("linalg_potrf", aliases=("_linalg_potrf",), infer_shape=_same_square_shape("linalg_potrf"))
def linalg_potrf(xp, A, lower=True):
    """Cholesky factor of each symmetric positive-definite matrix in the last two axes:
    lower ``L`` with ``A = L L^T`` (``lower=True``, reads A's lower triangle) or upper ``U``
    with ``A = U^T U`` (``lower=False``, reads A's upper triangle).

    The gradient follows MXNet: it is the symmetric matrix ``dA`` whose inner product with a
    symmetric perturbation of A gives the change of the loss (both triangles of A are treated
    as one symmetric matrix)."""
    _check_float("linalg_potrf", A)
    _check_square("linalg_potrf", A)
    S = A if lower else _swap(xp, A)  # the triangle to read, as a lower triangle
    low = _triangle(xp, S, True)
    sym = low + _swap(xp, _triangle(xp, S, True, -1))
    try:
        L = xp.linalg.cholesky(sym)
    except _np.linalg.LinAlgError:
        raise MXNetError("linalg_potrf: a matrix of the input (shape %s) is not positive definite"
                         % (A.shape,)) from None
    return L if lower else _swap(xp, L).copy()


@linalg_potrf.def_grad
def _potrf_grad(i, o, g, a):
    # With A = L L^T: dA = 1/2 L^-T copyLTU(L^T dL) L^-1 (symmetric); copyLTU mirrors the lower
    # triangle (diagonal included) onto the upper one.  The upper case transposes everything.
    nd = G.nd()
    L, gL = (o[0], g[0]) if a["lower"] else (_swap_nd(o[0]), _swap_nd(g[0]))
    P = nd.linalg_gemm2(L, gL, transpose_a=True)
    C = _tri_nd(P, True) + _swap_nd(_tri_nd(P, True, -1))
    Y = nd.linalg_trsm(L, C, transpose=True)
    return [nd.linalg_trsm(L, Y, rightside=True) * 0.5]


@register("linalg_potri", aliases=("_linalg_potri",), infer_shape=_same_square_shape("linalg_potri"))
def linalg_potri(xp, A, lower=True):
    """Inverse of ``B = A A^T`` (``lower=True``; A's lower triangle is read) or of
    ``B = A^T A`` (``lower=False``; its upper triangle), given the Cholesky factor A of B
    (from ``linalg_potrf``), for each matrix in the last two axes."""
    _check_float("linalg_potri", A)
    _check_square("linalg_potri", A)
    T = _triangle(xp, A, lower)
    eye = xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape)
    Tinv = _solve(xp, "linalg_potri", T, eye)
    return xp.matmul(_swap(xp, Tinv), Tinv) if lower else xp.matmul(Tinv, _swap(xp, Tinv))


@linalg_potri.def_grad
def _potri_grad(i, o, g, a):
    # out = (L L^T)^-1: dL = -tril(out (G + G^T) L^-T); upper: dU = -triu(U^-T (G + G^T) out).
    nd = G.nd()
    A, out = i[0], o[0]
    S = g[0] + _swap_nd(g[0])
    if a["lower"]:
        N = nd.linalg_trsm(A, nd.linalg_gemm2(out, S), rightside=True, transpose=True)
    else:
        N = nd.linalg_trsm(A, nd.linalg_gemm2(S, out), transpose=True, lower=False)
    return [-_tri_nd(N, a["lower"])]


def _check_tri_operands(opname, A, B, rightside):
    _check_float(opname, A, B)
    _check_square(opname, A)
    n = A.shape[-1]
    if (B.ndim != A.ndim or B.shape[:-2] != A.shape[:-2]
            or (B.shape[-1] if rightside else B.shape[-2]) != n):
        raise ShapeError("%s: the triangular matrices A of shape %s do not fit the matrices B of "
                         "shape %s (rightside=%s: B needs shape %s)"
                         % (opname, A.shape, B.shape, rightside,
                            A.shape[:-2] + (("m", n) if rightside else (n, "m"))))


@register("linalg_trsm", aliases=("_linalg_trsm",), infer_shape=_tri_operands_shape("linalg_trsm"))
def linalg_trsm(xp, A, B, transpose=False, rightside=False, lower=True, alpha=1.0):
    """Solves ``op(A) X = alpha B`` (``X op(A) = alpha B`` with ``rightside``) for X, with A
    triangular (only its lower, or with ``lower=False`` upper, triangle is read) and
    ``op(A) = A^T`` when ``transpose``; batched over the leading axes."""
    _check_tri_operands("linalg_trsm", A, B, rightside)
    T = _triangle(xp, A, lower)
    opT = _swap(xp, T) if transpose else T
    if rightside:
        X = _swap(xp, _solve(xp, "linalg_trsm", _swap(xp, opT), _swap(xp, B)))
    else:
        X = _solve(xp, "linalg_trsm", opT, B)
    X = X * A.dtype.type(alpha) if alpha != 1.0 else X
    return xp.ascontiguousarray(X)


@linalg_trsm.def_grad
def _trsm_grad(i, o, g, a):
    nd = G.nd()
    A, X, gX = i[0], o[0], g[0]
    t, right, low, alpha = a["transpose"], a["rightside"], a["lower"], a["alpha"]
    # Y = op(A)^-T gX (left) or gX op(A)^-T (right); dB = alpha Y
    Y = nd.linalg_trsm(A, gX, transpose=not t, rightside=right, lower=low)
    if right:
        gop = -nd.linalg_gemm2(X, Y, transpose_a=True)      # d op(A) = -X^T Y
    else:
        gop = -nd.linalg_gemm2(Y, X, transpose_b=True)      # d op(A) = -Y X^T
    gA = _swap_nd(gop) if t else gop
    return [_tri_nd(gA, low), Y * alpha]


@register("linalg_trmm", aliases=("_linalg_trmm",), infer_shape=_tri_operands_shape("linalg_trmm"))
def linalg_trmm(xp, A, B, transpose=False, rightside=False, lower=True, alpha=1.0):
    """``alpha op(A) B`` (``alpha B op(A)`` with ``rightside``) with A triangular (only its
    lower, or with ``lower=False`` upper, triangle is read) and ``op(A) = A^T`` when
    ``transpose``; batched over the leading axes."""
    _check_tri_operands("linalg_trmm", A, B, rightside)
    T = _triangle(xp, A, lower)
    opT = _swap(xp, T) if transpose else T
    X = xp.matmul(B, opT) if rightside else xp.matmul(opT, B)
    return X * A.dtype.type(alpha) if alpha != 1.0 else X


@linalg_trmm.def_grad
def _trmm_grad(i, o, g, a):
    nd = G.nd()
    A, B, gX = i[0], i[1], g[0]
    t, right, low, alpha = a["transpose"], a["rightside"], a["lower"], a["alpha"]
    gB = nd.linalg_trmm(A, gX, transpose=not t, rightside=right, lower=low, alpha=alpha)
    if right:
        gop = nd.linalg_gemm2(B, gX, transpose_a=True, alpha=alpha)   # X = alpha B op(A)
    else:
        gop = nd.linalg_gemm2(gX, B, transpose_b=True, alpha=alpha)   # X = alpha op(A) B
    gA = _swap_nd(gop) if t else gop
    return [_tri_nd(gA, low), gB]


# ------------------------------------------------------------------------------ khatri_rao
@register("khatri_rao")
def khatri_rao(xp, *args, num_args=0):
    """Column-wise Kronecker product of matrices ``(M_1, N), ..., (M_k, N)``: the
    ``(M_1 * ... * M_k, N)`` matrix whose column j is the Kronecker product of the inputs'
    columns j (the first matrix's row index varies slowest)."""
    if not args:
        raise MXNetError("khatri_rao needs at least one matrix")
    n = args[0].shape[-1] if args[0].ndim else None
    for x in args:
        if x.ndim != 2 or x.shape[1] != n:
            raise ShapeError("khatri_rao needs 2-d matrices with the same number of columns, got shapes %s"
                             % ", ".join(str(y.shape) for y in args))
    out = args[0]
    for x in args[1:]:
        out = (out[:, None, :] * x[None, :, :]).reshape(-1, n)
    return out.copy() if out is args[0] else out


@khatri_rao.def_grad
def _khatri_rao_grad(i, o, g, a):
    nd = G.nd()
    k = len(i)
    if k == 1:
        return [g[0]]
    rows = tuple(x.shape[0] for x in i)
    n = i[0].shape[1]
    full = g[0].reshape(rows + (n,))
    grads = []
    for j in range(k):
        others = [x for m, x in enumerate(i) if m != j]
        P = others[0] if len(others) == 1 else nd.khatri_rao(*others)
        axes = (j,) + tuple(m for m in range(k) if m != j) + (k,)
        gj = nd.transpose(full, axes=axes).reshape((rows[j], -1, n))
        grads.append(nd.sum(nd.broadcast_mul(gj, P.reshape((1,) + P.shape)), axis=1))
    return grads


# ------------------------------------------- LQ factorization, packed triangles
def _trian_index(xp, n, offset, lower):
    """(rows, cols) of the triangle of an n x n matrix that extracttrian packs, in MXNet's
    order: from diagonal ``offset``, the upper triangle when offset > 0, the lower one when
    offset < 0, and the one ``lower`` names when offset == 0; a lower triangle row by row,
    an upper one column by column."""
    low = lower if offset == 0 else offset < 0
    if low:
        rows, cols = _np.nonzero(_np.tri(n, n, offset, dtype=bool))
    else:  # MXNet packs an upper triangle column by column
        cols, rows = _np.nonzero(~_np.tri(n, n, offset - 1, dtype=bool).T)
    return xp.asarray(rows), xp.asarray(cols)


@register("linalg_extracttrian", aliases=("_linalg_extracttrian",))
def linalg_extracttrian(xp, A, offset=0, lower=True):
    """The triangle of each square matrix in the last two axes as a vector (a lower
    triangle row by row, an upper one column by column, as MXNet packs them):
    the upper triangle from diagonal ``offset`` > 0, the lower one from ``offset`` < 0, and
    at ``offset`` 0 the lower (``lower=True``) or upper triangle, diagonal included."""
    _check_square("linalg_extracttrian", A)
    n = A.shape[-1]
    if abs(int(offset)) >= n:
        raise ShapeError("linalg_extracttrian: offset %d is out of range for %dx%d matrices"
                         % (offset, n, n))
    rows, cols = _trian_index(xp, n, int(offset), lower)
    return A[..., rows, cols].copy()


@linalg_extracttrian.def_grad
def _extracttrian_grad(i, o, g, a):
    return [G.nd().linalg_maketrian(g[0], offset=a["offset"], lower=a["lower"])]


def _maketrian_size(k, offset):
    """Matrix size n for a packed triangle of k entries at ``offset``."""
    m = int(round((_np.sqrt(8 * k + 1) - 1) / 2))
    if m * (m + 1) // 2 != k or k == 0:
        raise ShapeError("linalg_maketrian: the last axis (%d entries) is not a triangular number "
                         "m*(m+1)/2" % k)
    return m + abs(int(offset))


@register("linalg_maketrian", aliases=("_linalg_maketrian",))
def linalg_maketrian(xp, A, offset=0, lower=True):
    """Square matrices holding the vectors in the last axis of ``A`` in their triangle (the
    inverse of :func:`linalg_extracttrian` with the same ``offset`` / ``lower``); zeros
    elsewhere.  m*(m+1)/2 entries give an (m + |offset|) x (m + |offset|) matrix."""
    n = _maketrian_size(A.shape[-1], offset)
    rows, cols = _trian_index(xp, n, int(offset), lower)
    out = xp.zeros(A.shape[:-1] + (n, n), dtype=A.dtype)
    out[..., rows, cols] = A
    return out


@linalg_maketrian.def_grad
def _maketrian_grad(i, o, g, a):
    return [G.nd().linalg_extracttrian(g[0], offset=a["offset"], lower=a["lower"])]


def _gelqf_shape(attrs, in_shapes):
    A = in_shapes[0]
    if A is None:
        return None
    A = tuple(A)
    if len(A) < 2 or A[-2] > A[-1]:
        raise ShapeError("linalg_gelqf: A must hold m x n matrices with m <= n, got shape %s" % (A,))
    return [A], [A, A[:-1] + (A[-2],)]


@register("linalg_gelqf", aliases=("_linalg_gelqf",), num_outputs=2, infer_shape=_gelqf_shape)
def linalg_gelqf(xp, A):
    """LQ factorization ``A = L Q`` of each m x n matrix (m <= n) in the last two axes:
    returns ``(Q, L)``, Q (m x n) with orthonormal rows and L (m x m) lower triangular
    (LAPACK's gelqf signs: the Householder LQ, i.e. the QR factorization of A^T)."""
    _check_float("linalg_gelqf", A)
    if A.ndim < 2 or A.shape[-2] > A.shape[-1]:
        raise ShapeError("linalg_gelqf: A must hold m x n matrices with m <= n, got shape %s"
                         % (tuple(A.shape),))
    q, r = xp.linalg.qr(_swap(xp, A))
    return xp.ascontiguousarray(_swap(xp, q)), xp.ascontiguousarray(_swap(xp, r))


@linalg_gelqf.def_grad
def _gelqf_grad(i, o, g, a):
    # A^T = Q^T L^T is a QR factorization; transposing its backward rule gives
    # dA = L^-T (dQ + copyltu(M) Q),  M = L^T dL - dQ Q^T,  copyltu(M) = tril(M) + tril(M, -1)^T
    nd = G.nd()
    Q, L = o[0], o[1]
    dQ, dL = g[0], g[1]
    M = nd.linalg_gemm2(L, dL, transpose_a=True) - nd.linalg_gemm2(dQ, Q, transpose_b=True)
    sym = _tri_nd(M, True) + _swap_nd(_tri_nd(M, True, -1))
    rhs = dQ + nd.linalg_gemm2(sym, Q)
    return [nd.linalg_trsm(L, rhs, transpose=True, lower=True)]
