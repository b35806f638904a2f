"""mx.test_utils comparison and data helpers (the symbolic checks are tested in tests/symbol)."""
import numpy as np
import pytest

import psnet as mx
from psnet import test_utils as tu


def test_almost_equal_uses_dtype_tolerances():
    a = mx.nd.array([1.0, 2.0])
    assert tu.almost_equal(a, np.array([1.00005, 2.0], dtype=np.float32))
    assert not tu.almost_equal(a, np.array([1.01, 2.0], dtype=np.float32))
    assert tu.get_tolerance(np.float64(1), np.float64(1)) == (1e-5, 1e-20)


def test_assert_almost_equal_reports_mismatch():
    with pytest.raises(AssertionError, match="not equal"):
        tu.assert_almost_equal(mx.nd.array([1.0]), mx.nd.array([2.0]))
    tu.assert_almost_equal(mx.nd.array([1.0]), [1.0 + 1e-6])


def test_same_and_assert_exception():
    assert tu.same(mx.nd.array([1, 2]), np.array([1, 2], dtype=np.float32))
    assert not tu.same(mx.nd.array([1, 2]), np.array([1, 3]))
    tu.assert_exception(lambda: 1 / 0, ZeroDivisionError)
    with pytest.raises(AssertionError):
        tu.assert_exception(lambda: None, ValueError)


def test_random_shapes_and_arrays():
    for _ in range(20):
        s2, s3 = tu.rand_shape_2d(3, 4), tu.rand_shape_3d()
        assert 1 <= s2[0] <= 3 and 1 <= s2[1] <= 4 and len(s3) == 3
    assert len(tu.rand_shape_nd(5)) == 5
    r = tu.rand_ndarray((3, 4))
    assert r.shape == (3, 4) and r.dtype == np.float32
    assert ((r.asnumpy() >= 0) & (r.asnumpy() < 1)).all()


def test_default_context_can_be_set():
    old = tu.default_context()
    tu.set_default_context(mx.cpu(2))
    try:
        assert tu.default_context() == mx.cpu(2)
    finally:
        tu.set_default_context(old)


def test_numeric_grad_matches_analytic():
    x = np.array([1.0, -2.0, 3.0])
    (g,) = tu.numeric_grad(lambda arrs: float((arrs[0] ** 3).sum()), [x])
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-6)


def _fc():
    data = mx.sym.Variable("data")
    return mx.sym.FullyConnected(data=data, num_hidden=3, name="fc")


def test_check_symbolic_forward_and_backward():
    x = np.random.randn(4, 5).astype(np.float32)
    w = np.random.randn(3, 5).astype(np.float32)
    b = np.random.randn(3).astype(np.float32)
    loc = {"data": x, "fc_weight": w, "fc_bias": b}
    tu.check_symbolic_forward(_fc(), loc, [x @ w.T + b])
    og = np.random.randn(4, 3).astype(np.float32)
    tu.check_symbolic_backward(_fc(), loc, [og], {"data": og @ w, "fc_weight": og.T @ x,
                                                 "fc_bias": og.sum(0)})
    with pytest.raises(AssertionError):
        tu.check_symbolic_forward(_fc(), loc, [x @ w.T])


def test_check_numeric_gradient_passes_and_catches_a_wrong_gradient():
    loc = {"data": np.random.randn(2, 4), "fc_weight": np.random.randn(3, 4), "fc_bias": np.random.randn(3)}
    tu.check_numeric_gradient(_fc(), loc)
    tu.check_numeric_gradient(mx.sym.tanh(mx.sym.Variable("x")), [np.random.randn(3, 2)])
    wrong = mx.sym.Custom(mx.sym.Variable("data"), op_type="tu_wrong_square")
    with pytest.raises(AssertionError):
        tu.check_numeric_gradient(wrong, [np.random.randn(3, 2) + 3])


class _WrongSquare(mx.operator.CustomOp):
    """x**2 with the gradient off by a factor of two."""

    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] * in_data[0])

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], out_grad[0] * in_data[0])


@mx.operator.register("tu_wrong_square")
class _WrongSquareProp(mx.operator.CustomOpProp):
    def create_operator(self, ctx, shapes, dtypes):
        return _WrongSquare()
