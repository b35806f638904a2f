"""linalg_potrf / potri / trsm / trmm, khatri_rao and histogram: values vs NumPy (batched,
every attribute), against constants computed with MXNet 1.9.1, the Symbol forms and the
errors.  Their gradients are checked by finite differences in tests/ops/test_gradients.py."""
import warnings

import numpy as np
import pytest

import psnet as mx
from psnet.base import DTypeError, MXNetError, ShapeError


def _spd(rs, *shape):
    b = rs.uniform(-1, 1, shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def _tri(rs, *shape):
    """Well-conditioned random matrices (diagonal in [1, 2)) with junk in both triangles."""
    a = rs.uniform(-1, 1, shape)
    n = shape[-1]
    idx = np.arange(n)
    a[..., idx, idx] = rs.uniform(1, 2, shape[:-2] + (n,))
    return a


def _nd(x, dtype="float64"):
    return mx.nd.array(x, dtype=dtype)


def _close(got, want, tol=1e-10):
    np.testing.assert_allclose(got.asnumpy(), want, rtol=tol, atol=tol)


# ------------------------------------------------------------------------ values vs NumPy
@pytest.mark.parametrize("dtype,tol", [("float32", 1e-4), ("float64", 1e-10)])
def test_potrf_potri_batched_vs_numpy(dtype, tol):
    rs = np.random.RandomState(0)
    a = _spd(rs, 2, 3, 4, 4)
    A = _nd(a, dtype)
    L = mx.nd.linalg.potrf(A)
    assert L.shape == (2, 3, 4, 4) and L.dtype == np.dtype(dtype)
    _close(L, np.linalg.cholesky(a), tol)
    U = mx.nd.linalg_potrf(A, lower=False)
    _close(U, np.swapaxes(np.linalg.cholesky(a), -1, -2), tol)
    _close(mx.nd.linalg.potri(L), np.linalg.inv(a), tol)
    _close(mx.nd.linalg_potri(U, lower=False), np.linalg.inv(a), tol)


def test_potrf_potri_read_one_triangle():
    """potrf reads the lower (upper with lower=False) triangle as a symmetric matrix; potri
    and the triangular ops ignore the other triangle, as MXNet's LAPACK calls do."""
    rs = np.random.RandomState(1)
    a = _spd(rs, 3, 3)
    junk = a + np.triu(rs.uniform(5, 6, (3, 3)), 1)     # garbage above the diagonal
    _close(mx.nd.linalg.potrf(_nd(junk)), np.linalg.cholesky(a))
    _close(mx.nd.linalg.potrf(_nd(junk.T), lower=False), np.linalg.cholesky(a).T)
    low = np.linalg.cholesky(a)
    _close(mx.nd.linalg.potri(_nd(low + np.triu(junk, 1))), np.linalg.inv(a))


@pytest.mark.parametrize("rightside", [False, True])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("lower", [True, False])
def test_trsm_trmm_vs_numpy(rightside, transpose, lower):
    rs = np.random.RandomState(2)
    a = _tri(rs, 2, 3, 3)
    b = rs.uniform(-1, 1, (2, 4, 3) if rightside else (2, 3, 4))
    t = np.tril(a) if lower else np.triu(a)
    op = np.swapaxes(t, -1, -2) if transpose else t
    attrs = dict(rightside=rightside, transpose=transpose, lower=lower, alpha=-1.5)
    want_mm = -1.5 * (b @ op if rightside else op @ b)
    want_sm = -1.5 * (b @ np.linalg.inv(op) if rightside else np.linalg.inv(op) @ b)
    got_mm = mx.nd.linalg.trmm(_nd(a), _nd(b), **attrs)
    got_sm = mx.nd.linalg_trsm(_nd(a), _nd(b), **attrs)
    assert got_mm.shape == b.shape and got_sm.shape == b.shape
    _close(got_mm, want_mm)
    _close(got_sm, want_sm)
    # trsm undoes trmm
    _close(mx.nd.linalg.trsm(_nd(a), got_mm, **dict(attrs, alpha=1.0 / -1.5 / -1.5)), b * (1 / -1.5))


def test_trsm_defaults_and_float32():
    rs = np.random.RandomState(3)
    a, b = _tri(rs, 3, 3).astype("float32"), rs.uniform(-1, 1, (3, 2)).astype("float32")
    x = mx.nd.linalg.trsm(_nd(a, "float32"), _nd(b, "float32"))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x.asnumpy(), np.linalg.solve(np.tril(a), b), rtol=1e-5, atol=1e-5)
    y = mx.nd.linalg.trmm(_nd(a, "float32"), _nd(b, "float32"))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.asnumpy(), np.tril(a) @ b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------- constants from MXNet 1.9.1
A3 = np.array([[4.0, 2.0, 0.4], [2.0, 5.0, 1.0], [0.4, 1.0, 3.0]])
L3 = np.array([[2.0, 0.0, 0.0], [0.5, 1.5, 0.0], [0.3, -0.2, 1.2]])
B32 = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.25]])
W33 = np.array([[1.0, 0.5, -0.5], [2.0, 1.0, 0.3], [0.1, -1.0, 1.5]])


def test_values_match_mxnet():
    """Outputs computed with MXNet 1.9.1 (float64) on the same inputs."""
    _close(mx.nd.linalg.potrf(_nd(A3)), [[2.0, 0, 0], [1.0, 2.0, 0], [0.2, 0.4, 1.6733200531]])
    _close(mx.nd.linalg.potrf(_nd(A3), lower=False), [[2.0, 1.0, 0.2], [0, 2.0, 0.4], [0, 0, 1.6733200531]])
    _close(mx.nd.linalg.potri(_nd(L3)), [[0.3011188272, -0.1280864198, -0.1273148148],
                                         [-0.1280864198, 0.4567901235, 0.0925925926],
                                         [-0.1273148148, 0.0925925926, 0.6944444444]])
    _close(mx.nd.linalg.trsm(_nd(L3), _nd(B32), transpose=True, alpha=2.0),
           [[1.1388888889, -3.0763888889], [0.4444444444, 4.0555555556], [-1.6666666667, 0.4166666667]])
    _close(mx.nd.linalg.trsm(_nd(L3), _nd(B32.T), rightside=True, lower=False),
           [[0.5, 0.3333333333, -0.8333333333], [-1.0, 2.0, 0.2083333333]])
    _close(mx.nd.linalg.trmm(_nd(L3), _nd(B32), transpose=True, alpha=-0.5),
           [[-0.975, 1.2125], [-0.475, -2.225], [0.6, -0.15]])
    _close(mx.nd.linalg.trmm(_nd(L3.T), _nd(B32.T), rightside=True, lower=False),
           [[2.0, 1.25, -1.0], [-4.0, 3.5, -0.9]])
    # the documented examples
    _close(mx.nd.linalg.potrf(_nd([[[4.0, 1.0], [1.0, 4.25]], [[16.0, 4.0], [4.0, 17.0]]])),
           [[[2.0, 0], [0.5, 2.0]], [[4.0, 0], [1.0, 4.0]]])
    _close(mx.nd.linalg.trsm(_nd([[1.0, 0], [1.0, 1.0]]), _nd([[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]]), alpha=0.5),
           np.ones((2, 3)))


def test_gradients_match_mxnet():
    """MXNet's potrf gradient is the symmetric one; potri's is lower triangular."""
    x = _nd(A3)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.linalg.potrf(x)
    y.backward(_nd(W33))
    _close(x.grad, [[0.0475, 0.375, 0.15], [0.375, 0.3179284291, -0.3396421457],
                    [0.15, -0.3396421457, 0.4482107285]])
    x = _nd(L3)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.linalg.potri(x)
    y.backward(_nd(W33))
    _close(x.grad, [[-0.1664737654, 0, 0], [-0.424382716, -0.2109053498, 0],
                    [0.150462963, 0.362654321, -1.7017103909]])


def test_potrf_second_order_gradient_runs():
    """Gradients are written in mx.nd ops, so they can be differentiated again."""
    x = _nd(A3)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.linalg.potrf(x)
        (g,) = mx.autograd.grad(y, [x], head_grads=_nd(W33), create_graph=True)
        z = (g * g).sum()
    z.backward()
    assert x.grad.shape == (3, 3) and np.isfinite(x.grad.asnumpy()).all()
    assert np.abs(x.grad.asnumpy()).sum() > 0


# ------------------------------------------------------------------------------ khatri_rao
def test_khatri_rao_values():
    got = mx.nd.khatri_rao(_nd([[1, -1], [2, -3]], "float32"), _nd([[1, 4], [2, 5], [3, 6]], "float32"))
    want = [[1, -4], [2, -5], [3, -6], [2, -12], [4, -15], [6, -18]]   # MXNet's documented example
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.asnumpy(), want)
    rs = np.random.RandomState(4)
    a, b, c = rs.uniform(-1, 1, (2, 3)), rs.uniform(-1, 1, (4, 3)), rs.uniform(-1, 1, (3, 3))
    got = mx.nd.khatri_rao(_nd(a), _nd(b), _nd(c))
    want = np.stack([np.kron(np.kron(a[:, j], b[:, j]), c[:, j]) for j in range(3)], axis=1)
    _close(got, want)
    _close(mx.nd.khatri_rao(*[_nd(a)]), a)
    _close(mx.nd.khatri_rao([_nd(a), _nd(b)]), np.stack([np.kron(a[:, j], b[:, j]) for j in range(3)], 1))


def test_khatri_rao_symbol():
    s = mx.sym.khatri_rao(mx.sym.var("a"), mx.sym.var("b"))
    assert s.list_arguments() == ["a", "b"]
    assert s.infer_shape(a=(2, 3), b=(4, 3))[1] == [(8, 3)]


# ------------------------------------------------------------------------------- histogram
def test_histogram_counts_and_edges():
    x = mx.nd.array([[0, 1], [2, 2], [3, 4]])
    h, e = mx.nd.histogram(x, bins=5, range=(0, 5))          # MXNet's documented example
    assert h.dtype == np.int64 and e.dtype == np.float32
    np.testing.assert_array_equal(h.asnumpy(), [1, 1, 2, 1, 1])
    np.testing.assert_array_equal(e.asnumpy(), [0, 1, 2, 3, 4, 5])
    h, e = mx.nd.histogram(x, bins=mx.nd.array([0., 2.1, 3.]))
    np.testing.assert_array_equal(h.asnumpy(), [4, 1])
    np.testing.assert_allclose(e.asnumpy(), [0, 2.1, 3])
    # values outside the edges are ignored, the last edge is included (MXNet 1.9.1 output)
    v = mx.nd.array([0.5, 1.5, 2.5, 5.0, -1, 7.5])
    np.testing.assert_array_equal(mx.nd.histogram(v, bins=mx.nd.array([0, 1, 2.5, 5]))[0].asnumpy(), [1, 1, 2])
    # integer data: edges in the data's dtype (MXNet 1.9.1 output)
    h, e = mx.nd.histogram(mx.nd.array([1, 2, 3, 7], dtype="int32"), bins=3, range=(0, 7))
    np.testing.assert_array_equal(h.asnumpy(), [1, 2, 1])
    assert e.dtype == np.int32
    np.testing.assert_array_equal(e.asnumpy(), [0, 2, 4, 7])
    # registry form and positional attributes
    h, e = mx.nd._histogram(x, bin_cnt=2, range=(0, 4))
    np.testing.assert_array_equal(h.asnumpy(), [2, 4])
    np.testing.assert_array_equal(mx.nd.histogram(x, 4, (1, 3))[0].asnumpy(), [1, 0, 2, 1])


def test_histogram_without_range_is_numpys():
    rs = np.random.RandomState(5)
    r = rs.randn(100).astype("float32")
    for bins in (10, 7):
        h, e = mx.nd.histogram(mx.nd.array(r), bins=bins)
        nh, ne = np.histogram(r, bins=bins)
        assert h.dtype == np.float32 and e.dtype == np.float32      # as MXNet's NumPy path
        np.testing.assert_array_equal(h.asnumpy(), nh)
        # edges within an ulp: MXNet's NumPy (1.x) computes them in float64, NumPy 2 in float32
        np.testing.assert_allclose(e.asnumpy(), ne, rtol=1e-5, atol=1e-6)
    h, e = mx.nd.histogram(mx.nd.array([0.5, 1.5, 2.5, 5.0, -1, 7.5]), bins=4)   # MXNet 1.9.1 output
    np.testing.assert_array_equal(h.asnumpy(), [2, 2, 1, 1])
    np.testing.assert_allclose(e.asnumpy(), [-1, 1.125, 3.25, 5.375, 7.5])
    h, e = mx.nd.histogram(mx.nd.array([2, 2, 2]))                # default 10 bins, constant data
    assert h.shape == (10,) and h.asnumpy().sum() == 3
    np.testing.assert_allclose(e.asnumpy()[[0, -1]], [1.5, 2.5])


def test_histogram_symbol():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    h = mx.sym.histogram(a, bins=b)
    assert h.list_arguments() == ["a", "b"] and len(h.list_outputs()) == 2
    assert h.infer_shape(a=(4,), b=(3,))[1] == [(2,), (3,)]
    h2 = mx.sym.histogram(a, bins=3, range=(0, 3))
    assert h2.list_arguments() == ["a"]
    out = h2.bind(mx.cpu(), {"a": mx.nd.array([1, 2, 3, 4])}).forward()
    np.testing.assert_array_equal(out[0].asnumpy(), [0, 1, 2])


# ---------------------------------------------------------------------------------- errors
def test_errors_name_the_shapes():
    rs = np.random.RandomState(6)
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        mx.nd.linalg.potrf(_nd(np.ones((2, 3))))
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        mx.nd.linalg.potri(_nd(np.ones(3)))
    with pytest.raises(ShapeError, match=r"\(2, 3, 3\).*\(2, 2, 3\)"):
        mx.nd.linalg.trsm(_nd(_tri(rs, 2, 3, 3)), _nd(np.ones((2, 2, 3))))
    with pytest.raises(ShapeError, match=r"\(3, 3\).*\(2, 3, 2\)"):
        mx.nd.linalg.trmm(_nd(_tri(rs, 3, 3)), _nd(np.ones((2, 3, 2))))
    with pytest.raises(ShapeError, match=r"rightside=True"):
        mx.nd.linalg.trmm(_nd(_tri(rs, 3, 3)), _nd(np.ones((3, 2))), rightside=True)
    with pytest.raises(ShapeError, match=r"\(2, 3\), \(2, 2\)"):
        mx.nd.khatri_rao(_nd(np.ones((2, 3))), _nd(np.ones((2, 2))))
    with pytest.raises(ShapeError, match=r"\(2,\)"):
        mx.nd.khatri_rao(_nd(np.ones(2)), _nd(np.ones(2)))
    with pytest.raises(MXNetError, match="at least one"):
        mx.nd.khatri_rao()
    with pytest.raises(MXNetError, match="positive definite"):
        mx.nd.linalg.potrf(_nd(-np.eye(2)))
    with pytest.raises(DTypeError, match="int32"):
        mx.nd.linalg.potrf(mx.nd.array(np.eye(2), dtype="int32"))
    with pytest.raises(ShapeError, match=r"\(2, 5\)"):
        mx.sym.linalg.potrf(mx.sym.var("a")).infer_shape(a=(2, 5))


def test_histogram_errors():
    x = mx.nd.array([1.0, 2.0])
    with pytest.raises(DTypeError, match="float64.*float32"):
        mx.nd.histogram(x, bins=mx.nd.array([0, 1, 2], dtype="float64"))
    with pytest.raises(ShapeError, match=r"\(1,\)"):
        mx.nd.histogram(x, bins=mx.nd.array([0]))
    with pytest.raises(MXNetError, match="range"):
        mx.nd._histogram(x, bin_cnt=3)
    with pytest.raises(MXNetError, match="lo <= hi"):
        mx.nd.histogram(x, bins=3, range=(2, 1))
    with pytest.raises(MXNetError, match="positive integer"):
        mx.nd.histogram(x, bins=0, range=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mx.nd.histogram(x, bins=2, range=(0, 2))     # no warning on the normal path
