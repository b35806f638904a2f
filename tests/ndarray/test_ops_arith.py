"""Arithmetic and comparisons: values vs NumPy, and MXNet 1.9.1's dtype rules."""
import operator

import numpy as np
import pytest

import psnet as mx
from psnet.base import DTypeError, ShapeError

SHAPES = [((2, 3), (2, 3)), ((2, 3), (1, 3)), ((4, 1, 3), (2, 1)), ((5,), (1,))]
OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.mod]


def _pos(shape, dtype="float32"):
    return np.random.uniform(0.5, 2.0, shape).astype(dtype)


@pytest.mark.parametrize("lshape,rshape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("fn", OPS, ids=lambda f: f.__name__)
def test_binary_broadcasting_vs_numpy(fn, dtype, lshape, rshape):
    x, y = _pos(lshape, dtype), _pos(rshape, dtype)
    a, b = mx.nd.array(x, dtype=dtype), mx.nd.array(y, dtype=dtype)
    tol = 1e-2 if dtype == "float16" else 1e-5
    for got, want in ((fn(a, b), fn(x, y)), (fn(b, a), fn(y, x)), (fn(a, 1.5), fn(x, np.dtype(dtype).type(1.5))),
                      (fn(1.5, a), fn(np.dtype(dtype).type(1.5), x)), (fn(a, y), fn(x, y))):
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(got.asnumpy(), want, rtol=tol, atol=tol)


def test_explicit_broadcast_ops_and_functions():
    x, y = _pos((2, 3)), _pos((1, 3))
    a, b = mx.nd.array(x), mx.nd.array(y)
    pairs = {"broadcast_add": x + y, "broadcast_plus": x + y, "broadcast_sub": x - y, "broadcast_minus": x - y,
             "broadcast_mul": x * y, "broadcast_div": x / y, "broadcast_power": x ** y,
             "broadcast_maximum": np.maximum(x, y), "broadcast_minimum": np.minimum(x, y),
             "broadcast_hypot": np.hypot(x, y), "broadcast_mod": np.mod(x, y)}
    for name, want in pairs.items():
        np.testing.assert_allclose(getattr(mx.nd, name)(a, b).asnumpy(), want, rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(mx.nd.elemwise_add(a, a).asnumpy(), 2 * x)
    np.testing.assert_allclose(mx.nd.add(a, 2).asnumpy(), x + 2)
    np.testing.assert_allclose(mx.nd.subtract(2, a).asnumpy(), 2 - x, rtol=1e-6)
    np.testing.assert_allclose(mx.nd.divide(a, b).asnumpy(), x / y, rtol=1e-6)
    np.testing.assert_allclose(mx.nd.maximum(a, 1.0).asnumpy(), np.maximum(x, 1.0))
    np.testing.assert_allclose(mx.nd.minimum(1.0, a).asnumpy(), np.minimum(x, 1.0))
    assert mx.nd.lesser(1.0, a).asnumpy().tolist() == (x > 1.0).astype(np.float32).tolist()
    assert mx.nd.power(2, 3) == 8


@pytest.mark.parametrize("name,fn", [("equal", np.equal), ("not_equal", np.not_equal), ("greater", np.greater),
                                     ("greater_equal", np.greater_equal), ("lesser", np.less),
                                     ("lesser_equal", np.less_equal), ("logical_and", np.logical_and),
                                     ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_comparisons_return_input_dtype(name, fn, dtype):
    x = np.array([[0, 1, 2], [3, 2, 0]], dtype=dtype)
    y = np.array([[1, 1, 0]], dtype=dtype)
    a, b = mx.nd.array(x, dtype=dtype), mx.nd.array(y, dtype=dtype)
    r = getattr(mx.nd, "broadcast_" + name)(a, b)
    assert r.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(r.asnumpy(), fn(x, y).astype(dtype))
    s = getattr(mx.nd, "_%s_scalar" % name)(a, scalar=1)
    np.testing.assert_array_equal(s.asnumpy(), fn(x, 1).astype(dtype))


def test_comparison_operators():
    a = mx.nd.array([1.0, 2.0, 3.0])
    assert (a > 2).asnumpy().tolist() == [0, 0, 1]
    assert (a >= 2).asnumpy().tolist() == [0, 1, 1]
    assert (a < 2).asnumpy().tolist() == [1, 0, 0]
    assert (a <= 2).asnumpy().tolist() == [1, 1, 0]
    assert (a == 2).asnumpy().tolist() == [0, 1, 0]
    assert (a != 2).asnumpy().tolist() == [1, 0, 1]
    assert (a == a).dtype == np.float32
    assert (2 < a).asnumpy().tolist() == [0, 0, 1]
    assert (a == None) is False and (a != None) is True  # noqa: E711


def test_integer_arrays_cast_the_scalar_first():
    """MXNet 1.9.1 casts a scalar to the array's dtype: int32 * 2.7 multiplies by 2."""
    i = mx.nd.array([[1, -2, 3], [4, 5, -6]], dtype="int32")
    assert (i * 2.7).asnumpy().tolist() == [[2, -4, 6], [8, 10, -12]]
    assert (i + 2.7).asnumpy().tolist() == [[3, 0, 5], [6, 7, -4]]
    assert (i * 2.7).dtype == np.int32
    assert (2.5 - i).asnumpy().tolist() == [[1, 4, -1], [-2, -3, 8]]
    assert (i > 2.5).asnumpy().tolist() == [[0, 0, 1], [1, 1, 0]]  # compares with 2
    assert (mx.nd.array([-7, 7], dtype="int32") / 2).asnumpy().tolist() == [-3, 3]  # truncates
    assert (i / 4).dtype == np.int32
    assert (7 / i).asnumpy().tolist() == [[7, -3, 2], [1, 1, -1]]
    assert (mx.nd.array([-7, 7], dtype="int32") % 3).asnumpy().tolist() == [2, 1]
    assert (mx.nd.array([-7.0, 7.0]) % -3).asnumpy().tolist() == [-1, -2]
    assert (mx.nd.array([250, 3], dtype="uint8") + 10).asnumpy().tolist() == [4, 13]
    f16 = mx.nd.array([1, 2], dtype="float16") * 0.1
    assert f16.dtype == np.float16
    np.testing.assert_allclose(f16.asnumpy(), [0.1, 0.2], rtol=1e-3)


def test_floor_division():
    a = mx.nd.array([[1.5, -2.0, 3.0]])
    assert (a // 2).asnumpy().tolist() == [[0, -1, 1]]
    assert (2 // a).asnumpy().tolist() == [[1, -1, 0]]
    assert (mx.nd.array([7, -7], dtype="int32") // mx.nd.array([2, 2], dtype="int32")).asnumpy().tolist() == [3, -4]


def test_mixed_dtypes_are_an_error_naming_both():
    with pytest.raises(DTypeError, match="int32.*float32|float32.*int32"):
        mx.nd.ones((2,), dtype="int32") + mx.nd.ones((2,))
    with pytest.raises(mx.MXNetError, match="float64"):
        mx.nd.ones((2,)) > mx.nd.ones((2,), dtype="float64")


def test_incompatible_broadcast_names_both_shapes():
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4,\)"):
        mx.nd.ones((2, 3)) + mx.nd.ones((4,))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2,\)"):
        mx.nd.broadcast_mul(mx.nd.ones((2, 3)), mx.nd.ones((2,)))


def test_unary_operators():
    a = mx.nd.array([[1.0, -2.0]])
    assert (-a).asnumpy().tolist() == [[-1, 2]]
    assert abs(a).asnumpy().tolist() == [[1, 2]]
    assert (+a) is a


def test_inplace_ops_mutate_the_same_buffer():
    a = mx.nd.ones((2, 3))
    alias = a
    view = a[1:]
    buf = a.handle
    a += 1
    a *= mx.nd.full((1, 3), 3.0)
    a -= 0.5
    a /= 2
    a %= 2
    assert a is alias and a.handle is buf
    np.testing.assert_allclose(alias.asnumpy(), np.full((2, 3), 0.75))
    np.testing.assert_allclose(view.asnumpy(), np.full((1, 3), 0.75))
    i = mx.nd.array([5, 7], dtype="int32")
    j = i
    i /= 2
    i += 1.9  # the scalar is cast to int32 first
    assert j.asnumpy().tolist() == [3, 4] and j.dtype == np.int32
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        b = mx.nd.ones((1, 3))
        b += mx.nd.ones((2, 3))


def test_inplace_on_recorded_variable_is_refused():
    x = mx.nd.ones((2,))
    x.attach_grad()
    with mx.autograd.record():
        with pytest.raises(mx.MXNetError, match="in-place"):
            x += 1


def test_arithmetic_gradients():
    x = mx.nd.array([[1.0, 2.0, 4.0]])
    y = mx.nd.array([[2.0], [0.5]])
    x.attach_grad(); y.attach_grad()
    with mx.autograd.record():
        z = ((x * y + x / y - y ** 2) * 1.0 + 3 - x).sum() + (2 ** x).sum() + (1 / x).sum()
    z.backward()
    xs, ys = x.asnumpy(), y.asnumpy()
    gx = (ys + 1 / ys - 1).sum(axis=0, keepdims=True) + 2 ** xs * np.log(2) - 1 / xs ** 2
    gy = (xs - xs / ys ** 2 - 2 * ys).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad.asnumpy(), gx, rtol=1e-5)
    np.testing.assert_allclose(y.grad.asnumpy(), gy, rtol=1e-5)


def test_add_n_and_elementwise_sum():
    xs = [np.random.uniform(size=(2, 3)).astype(np.float32) for _ in range(3)]
    arrs = [mx.nd.array(x) for x in xs]
    np.testing.assert_allclose(mx.nd.add_n(*arrs).asnumpy(), sum(xs), rtol=1e-6)
    np.testing.assert_allclose(mx.nd.ElementWiseSum(*arrs).asnumpy(), sum(xs), rtol=1e-6)
    assert arrs[0].asnumpy().tolist() == xs[0].tolist()  # inputs untouched
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        mx.nd.add_n(arrs[0], mx.nd.ones((3, 2)))


def test_maximum_minimum_gradients_split_by_mask():
    a, b = mx.nd.array([1.0, 5.0, 3.0]), mx.nd.array([2.0, 4.0, 6.0])
    a.attach_grad(); b.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.maximum(a, b) * mx.nd.array([1, 2, 3])).sum() + mx.nd.minimum(a, 2.5).sum()
    y.backward()
    assert a.grad.asnumpy().tolist() == [1, 2, 0]
    assert b.grad.asnumpy().tolist() == [1, 0, 3]
