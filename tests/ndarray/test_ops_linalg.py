"""mx.nd.linalg_* (and the mx.nd.linalg namespace) vs NumPy on batches of matrices."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import ShapeError


def _batch(*shape):
    rs = np.random.RandomState(1)
    return rs.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])  # well conditioned


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linalg_ops_vs_numpy(dtype):
    tol = 1e-4 if dtype == "float32" else 1e-10
    a, b = _batch(2, 3, 3).astype(dtype), _batch(2, 3, 3).astype(dtype)
    A, B = mx.nd.array(a, dtype=dtype), mx.nd.array(b, dtype=dtype)
    np.testing.assert_allclose(mx.nd.linalg.gemm2(A, B, transpose_a=True, alpha=0.5).asnumpy(),
                               0.5 * a.transpose(0, 2, 1) @ b, rtol=tol)
    np.testing.assert_allclose(mx.nd.linalg_gemm(A, B, A, transpose_b=True, alpha=2.0, beta=-1.0).asnumpy(),
                               2 * a @ b.transpose(0, 2, 1) - a, rtol=tol, atol=tol)
    np.testing.assert_allclose(mx.nd.linalg.inverse(A).asnumpy(), np.linalg.inv(a), rtol=tol, atol=tol)
    np.testing.assert_allclose(mx.nd.linalg.det(A).asnumpy(), np.linalg.det(a), rtol=tol)
    sign, logdet = mx.nd.linalg.slogdet(A)
    np.testing.assert_allclose(sign.asnumpy(), np.linalg.slogdet(a)[0])
    np.testing.assert_allclose(logdet.asnumpy(), np.linalg.slogdet(a)[1], rtol=tol)
    np.testing.assert_allclose(mx.nd.linalg.sumlogdiag(A).asnumpy(),
                               np.log(np.diagonal(a, 0, -2, -1)).sum(-1), rtol=tol)
    np.testing.assert_allclose(mx.nd.linalg.extractdiag(A, offset=1).asnumpy(), np.diagonal(a, 1, -2, -1))
    d = mx.nd.linalg.makediag(mx.nd.array([[1, 2], [3, 4]], dtype=dtype), offset=-1).asnumpy()
    assert d.shape == (2, 3, 3) and d[1].tolist() == np.diag([3, 4], -1).tolist()
    np.testing.assert_allclose(mx.nd.linalg.syrk(A, alpha=2.0).asnumpy(), 2 * a @ a.transpose(0, 2, 1), rtol=tol)
    np.testing.assert_allclose(mx.nd.linalg_syrk(A, transpose=True).asnumpy(), a.transpose(0, 2, 1) @ a, rtol=tol)


def test_linalg_gradients_by_formula():
    a = _batch(3, 3)
    A = mx.nd.array(a, dtype="float64")
    A.attach_grad()
    with mx.autograd.record():
        y = mx.nd.linalg.det(A)
    y.backward()
    np.testing.assert_allclose(A.grad.asnumpy(), np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)
    w = np.arange(9.0).reshape(3, 3)
    with mx.autograd.record():
        y = (mx.nd.linalg.inverse(A) * mx.nd.array(w, dtype="float64")).sum()
    y.backward()
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(A.grad.asnumpy(), -inv.T @ w @ inv.T, rtol=1e-10)


def test_linalg_shape_errors():
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(2, 3\)"):
        mx.nd.linalg.gemm2(mx.nd.ones((2, 3)), mx.nd.ones((2, 3)))
    with pytest.raises(mx.MXNetError, match="axis"):
        mx.nd.linalg.gemm2(mx.nd.ones((2, 2)), mx.nd.ones((2, 2)), axis=0)
