"""linalg_gelqf, linalg_extracttrian, linalg_maketrian (appended to psnet/ops/linalg.py):
MXNet 1.9.1's packing order, LQ reconstruction and errors."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import ShapeError

A4 = mx.nd.array(np.arange(16, dtype=np.float32).reshape(4, 4))


def test_extracttrian_mxnet_doc_example():
    A = mx.nd.array([[1.0, 2.0], [3.0, 4.0]])
    assert mx.nd.linalg_extracttrian(A).asnumpy().tolist() == [1.0, 3.0, 4.0]
    assert mx.nd.linalg_extracttrian(A, lower=False).asnumpy().tolist() == [1.0, 2.0, 4.0]
    assert mx.nd.linalg_extracttrian(A, offset=1).asnumpy().tolist() == [2.0]
    assert mx.nd.linalg_extracttrian(A, offset=-1).asnumpy().tolist() == [3.0]


def test_extracttrian_order_matches_mxnet():
    # MXNet 1.9.1: lower triangles row by row, upper triangles column by column
    assert mx.nd.linalg_extracttrian(A4, lower=False).asnumpy().tolist() == \
        [0.0, 1.0, 5.0, 2.0, 6.0, 10.0, 3.0, 7.0, 11.0, 15.0]
    assert mx.nd.linalg_extracttrian(A4, offset=1).asnumpy().tolist() == [1.0, 2.0, 6.0, 3.0, 7.0, 11.0]
    assert mx.nd.linalg_extracttrian(A4, offset=-1).asnumpy().tolist() == [4.0, 8.0, 9.0, 12.0, 13.0, 14.0]


@pytest.mark.parametrize("offset,lower", [(0, True), (0, False), (1, True), (-2, True)])
def test_maketrian_inverts_extracttrian(offset, lower):
    v = mx.nd.linalg_extracttrian(A4, offset=offset, lower=lower)
    m = mx.nd.linalg_maketrian(v, offset=offset, lower=lower).asnumpy()
    a = A4.asnumpy()
    low = lower if offset == 0 else offset < 0
    ref = np.tril(a, offset) if low else np.triu(a, offset)
    np.testing.assert_array_equal(m, ref)


def test_maketrian_batched_and_errors():
    m = mx.nd.linalg_maketrian(mx.nd.array([[1.0, 2, 3], [4, 5, 6]]))
    assert m.shape == (2, 2, 2)
    assert m.asnumpy()[1].tolist() == [[4.0, 0.0], [5.0, 6.0]]
    with pytest.raises(ShapeError, match="triangular number"):
        mx.nd.linalg_maketrian(mx.nd.ones((4,)))
    with pytest.raises(ShapeError, match="square"):
        mx.nd.linalg_extracttrian(mx.nd.ones((2, 3)))


def test_gelqf_reconstructs_and_matches_mxnet_signs():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])
    q, l = mx.nd.linalg_gelqf(mx.nd.array(x, dtype="float64"))
    q, l = q.asnumpy(), l.asnumpy()
    np.testing.assert_allclose(l @ q, x, atol=1e-12)
    np.testing.assert_allclose(q @ q.T, np.eye(2), atol=1e-12)
    assert l[0, 1] == 0.0
    # LAPACK's gelqf (as MXNet 1.9.1 returns it) gives a negative first diagonal entry here
    np.testing.assert_allclose(l[0, 0], -np.sqrt(14.0))
    with pytest.raises(ShapeError, match=r"m <= n, got shape \(3, 2\)"):
        mx.nd.linalg_gelqf(mx.nd.ones((3, 2)))


def test_gelqf_symbol_shapes():
    _, outs, _ = mx.sym.linalg_gelqf(mx.sym.var("a")).infer_shape(a=(5, 2, 3))
    assert outs == [(5, 2, 3), (5, 2, 2)]
