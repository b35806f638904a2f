"""Elementwise math vs NumPy (and the Python math module for the special functions)."""
import math

import numpy as np
import pytest

import psnet as mx

# name -> (numpy reference, low, high) of the input domain
UNARY = {
    "negative": (np.negative, -2, 2), "abs": (np.abs, -2, 2), "sign": (np.sign, -2, 2),
    "ceil": (np.ceil, -3, 3), "floor": (np.floor, -3, 3), "trunc": (np.trunc, -3, 3), "fix": (np.trunc, -3, 3),
    "square": (np.square, -2, 2), "sqrt": (np.sqrt, 0.1, 4), "rsqrt": (lambda x: 1 / np.sqrt(x), 0.1, 4),
    "cbrt": (np.cbrt, -4, 4), "rcbrt": (lambda x: 1 / np.cbrt(x), 0.1, 4), "reciprocal": (np.reciprocal, 0.5, 3),
    "exp": (np.exp, -2, 2), "expm1": (np.expm1, -1, 1), "log": (np.log, 0.1, 4), "log10": (np.log10, 0.1, 4),
    "log2": (np.log2, 0.1, 4), "log1p": (np.log1p, -0.5, 3), "sin": (np.sin, -3, 3), "cos": (np.cos, -3, 3),
    "tan": (np.tan, -1, 1), "arcsin": (np.arcsin, -0.9, 0.9), "arccos": (np.arccos, -0.9, 0.9),
    "arctan": (np.arctan, -3, 3), "sinh": (np.sinh, -2, 2), "cosh": (np.cosh, -2, 2), "tanh": (np.tanh, -2, 2),
    "arcsinh": (np.arcsinh, -3, 3), "arccosh": (np.arccosh, 1.1, 4), "arctanh": (np.arctanh, -0.9, 0.9),
    "degrees": (np.degrees, -3, 3), "radians": (np.radians, -180, 180), "relu": (lambda x: np.maximum(x, 0), -2, 2),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), -4, 4), "softsign": (lambda x: x / (1 + np.abs(x)), -3, 3),
    "erf": (np.vectorize(math.erf), -3, 3), "gamma": (np.vectorize(math.gamma), 0.2, 5),
    "gammaln": (np.vectorize(math.lgamma), 0.2, 20), "logical_not": (lambda x: (x == 0).astype(x.dtype), -1, 1),
    "identity": (lambda x: x, -1, 1), "BlockGrad": (lambda x: x, -1, 1),
}


@pytest.mark.parametrize("shape", [(7,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_vs_numpy(name, dtype, shape):
    ref, lo, hi = UNARY[name]
    x = np.random.uniform(lo, hi, shape).astype(dtype)
    r = getattr(mx.nd, name)(mx.nd.array(x, dtype=dtype))
    assert r.dtype == np.dtype(dtype) and r.shape == shape
    np.testing.assert_allclose(r.asnumpy(), ref(x.astype(np.float64)), rtol=1e-5 if dtype == "float32" else 1e-12,
                               atol=1e-6 if dtype == "float32" else 1e-12)


def test_fluent_methods_match_functions():
    x = np.random.uniform(0.5, 2, (2, 3)).astype(np.float32)
    a = mx.nd.array(x)
    for name in ("exp", "log", "sqrt", "square", "sin", "tanh", "sigmoid", "relu", "abs", "floor", "reciprocal"):
        np.testing.assert_array_equal(getattr(a, name)().asnumpy(), getattr(mx.nd, name)(a).asnumpy())


def test_integer_inputs_keep_their_dtype():
    """MXNet 1.9.1 computes unary math on int arrays in their dtype (results truncated)."""
    i = mx.nd.array([[1, 4, 9], [16, 5, 2]], dtype="int32")
    assert mx.nd.sqrt(i).asnumpy().tolist() == [[1, 2, 3], [4, 2, 1]]
    assert mx.nd.exp(i).asnumpy()[0].tolist() == [2, 54, 8103]
    assert mx.nd.log(i).asnumpy().tolist() == [[0, 1, 2], [2, 1, 0]]
    assert mx.nd.sign(i - 5).asnumpy().tolist() == [[-1, -1, 1], [1, 0, -1]]
    assert mx.nd.reciprocal(i).dtype == np.int32


def test_rounding_rules_match_mxnet():
    x = mx.nd.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    assert mx.nd.round(x).asnumpy().tolist() == [-3, -2, -1, 1, 2, 3]  # halves away from zero
    assert mx.nd.rint(x).asnumpy().tolist() == [-3, -2, -1, 0, 1, 2]  # halves toward the lower integer
    assert mx.nd.fix(x).asnumpy().tolist() == [-2, -1, 0, 0, 1, 2]


def test_special_functions_vs_math_in_float64():
    x = np.array([-3.5, -2.5, -1.5, -0.5, 0.3, 0.5, 1.0, 1.5, 2.5, 10.0, 30.0, 150.0])
    got = mx.nd.gamma(mx.nd.array(x, dtype="float64")).asnumpy()
    np.testing.assert_allclose(got, [math.gamma(v) for v in x], rtol=1e-12)
    got = mx.nd.gammaln(mx.nd.array(x, dtype="float64")).asnumpy()
    np.testing.assert_allclose(got, [math.lgamma(v) for v in x], rtol=1e-12, atol=1e-13)
    e = np.array([-6, -3.2, -3.0, -2.9, -1, -1e-3, 0, 0.4, 2.5, 3.5, 5.9])
    np.testing.assert_allclose(mx.nd.erf(mx.nd.array(e, dtype="float64")).asnumpy(), [math.erf(v) for v in e],
                               rtol=1e-14, atol=1e-15)
    y = np.array([-0.999999, -0.7, -0.01, 0.0, 0.2, 0.95, 0.9999999])
    inv = mx.nd.erfinv(mx.nd.array(y, dtype="float64")).asnumpy()
    np.testing.assert_allclose([math.erf(v) for v in inv], y, rtol=1e-13, atol=1e-15)
    edge = mx.nd.erfinv(mx.nd.array([-1.0, 1.0, 1.5])).asnumpy()
    assert edge[0] == -np.inf and edge[1] == np.inf and np.isnan(edge[2])


def test_digamma_is_the_derivative_of_gammaln():
    x = np.array([-2.5, -0.3, 0.2, 0.7, 1.0, 3.3, 12.0])
    h = 1e-6
    fd = (np.array([math.lgamma(v + h) for v in x]) - np.array([math.lgamma(v - h) for v in x])) / (2 * h)
    np.testing.assert_allclose(mx.nd.digamma(mx.nd.array(x, dtype="float64")).asnumpy(), fd, rtol=1e-6)
    np.testing.assert_allclose(mx.nd.digamma(mx.nd.array([1.0], dtype="float64")).asnumpy(), [-0.5772156649015329],
                               rtol=1e-13)


def test_clip_values_dtypes_and_gradient():
    x = mx.nd.array([-2.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    assert mx.nd.clip(x, -0.5, 1.0).asnumpy().tolist() == [-0.5, -0.5, 0, 0.5, 1, 1]
    i = mx.nd.array([[1, 4, 9], [16, 5, 2]], dtype="int32")
    assert mx.nd.clip(i, 2.5, 8.7).asnumpy().tolist() == [[2, 4, 8], [8, 5, 2]]
    x.attach_grad()
    with mx.autograd.record():
        y = (x.clip(a_min=-0.5, a_max=1.0) * mx.nd.array([1, 2, 3, 4, 5, 6])).sum()
    y.backward()
    assert x.grad.asnumpy().tolist() == [0, 2, 3, 4, 5, 0]  # the bounds themselves pass the gradient


@pytest.mark.parametrize("name,lo,hi", [("sqrt", 0.5, 2), ("erf", -1, 1), ("gammaln", 0.5, 3), ("gamma", 0.5, 3),
                                        ("arcsin", -0.8, 0.8), ("softsign", -2, 2), ("rcbrt", 0.5, 2)])
def test_second_order_gradients(name, lo, hi):
    """Gradients are written with NDArray ops, so they differentiate again."""
    x0 = np.random.uniform(lo, hi, (5,))
    x = mx.nd.array(x0, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = getattr(mx.nd, name)(x)
        g = mx.autograd.grad(y, x, create_graph=True)
        s = g.sum()
    s.backward()
    h = 1e-5

    def first(v):
        xv = mx.nd.array(v, dtype="float64")
        xv.attach_grad()
        with mx.autograd.record():
            yv = getattr(mx.nd, name)(xv)
        yv.backward()
        return xv.grad.asnumpy()
    np.testing.assert_allclose(x.grad.asnumpy(), (first(x0 + h) - first(x0 - h)) / (2 * h), rtol=1e-5, atol=1e-7)


def test_single_precision_erf_is_accurate_to_float32():
    x = np.concatenate([np.random.uniform(-6, 6, 2000), [0.0, 1e-6, -1e-3, 0.4999, 0.5, -0.5]]).astype(np.float32)
    want = np.array([math.erf(float(v)) for v in x])
    got = mx.nd.erf(mx.nd.array(x)).asnumpy().astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=3e-7, atol=1e-30)
    y = np.random.uniform(-0.99, 0.99, 200).astype(np.float32)
    back = np.array([math.erf(float(v)) for v in mx.nd.erfinv(mx.nd.array(y)).asnumpy()])
    np.testing.assert_allclose(back, y, rtol=1e-6, atol=1e-7)
