"""Reductions: values vs NumPy, MXNet's axis/keepdims/exclude and shape-(1,) full reductions."""
import numpy as np
import pytest

import psnet as mx

REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
              "nansum": np.nansum, "nanprod": np.nanprod}
AXES = [None, 0, 1, -1, (0, 2), ()]


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_vs_numpy(name, keepdims, axis):
    x = np.random.uniform(0.5, 1.5, (2, 3, 4)).astype(np.float64)
    r = getattr(mx.nd, name)(mx.nd.array(x, dtype="float64"), axis=axis, keepdims=keepdims)
    np_axis = None if axis == () else axis
    want = np.asarray(REDUCTIONS[name](x, axis=np_axis, keepdims=keepdims))
    if want.ndim == 0:
        want = want.reshape(1)  # MXNet 1.x has no 0-d arrays
    assert r.shape == want.shape
    np.testing.assert_allclose(r.asnumpy(), want, rtol=1e-12)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "prod"])
def test_exclude_reduces_the_other_axes(name):
    x = np.random.uniform(0.5, 1.5, (2, 3, 4)).astype(np.float32)
    r = getattr(mx.nd, name)(mx.nd.array(x), axis=1, exclude=True)
    np.testing.assert_allclose(r.asnumpy(), REDUCTIONS[name](x, axis=(0, 2)), rtol=1e-5)
    r = getattr(mx.nd, name)(mx.nd.array(x), axis=(0, 2), exclude=True, keepdims=True)
    np.testing.assert_allclose(r.asnumpy(), REDUCTIONS[name](x, axis=1, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_over_length_one_axes_keeps_values_in_a_new_array(name, keepdims):
    """A Gluon loss's mean over (batch, 1): the values as they are (NaN-aware ones still
    map NaN), in a fresh array, with its gradient spread back."""
    x = np.array([[0.5], [np.nan], [-2.0]], dtype=np.float32)
    a = mx.nd.array(x)
    r = getattr(mx.nd, name)(a, axis=0, exclude=True, keepdims=keepdims)
    want = REDUCTIONS[name](x, axis=1, keepdims=keepdims)
    assert r.shape == want.shape
    np.testing.assert_array_equal(r.asnumpy(), want)
    r[:] = 7
    np.testing.assert_array_equal(a.asnumpy(), x)
    b = mx.nd.array([[1.0], [2.0]])
    b.attach_grad()
    with mx.autograd.record():
        y = mx.nd.mean(b, axis=0, exclude=True) * mx.nd.array([3.0, 4.0])
    y.backward()
    assert b.grad.asnumpy().tolist() == [[3.0], [4.0]]


def test_full_reduction_has_shape_one_and_dtype_is_kept():
    a = mx.nd.array([[1, 4, 9], [16, 5, 2]], dtype="int32")
    s = a.sum()
    assert s.shape == (1,) and s.dtype == np.int32 and s.asscalar() == 37
    assert mx.nd.mean(a, axis=1).asnumpy().tolist() == [4, 7]  # truncated, as MXNet does
    assert mx.nd.max(a, axis=(), keepdims=True).shape == (1, 1)
    assert mx.nd.sum_axis(a, axis=0).asnumpy().tolist() == [17, 9, 11]
    assert mx.nd.max_axis(a, axis=1).asnumpy().tolist() == [9, 16]
    assert mx.nd.min_axis(a, axis=1).asnumpy().tolist() == [1, 2]


def test_nan_reductions_skip_nan():
    a = mx.nd.array([1.0, float("nan"), 2.0])
    assert mx.nd.nansum(a).asscalar() == 3.0
    assert mx.nd.nanprod(a).asscalar() == 2.0


@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), ((0, 1), True), (-1, True)])
def test_norm_values(axis, keepdims):
    x = np.random.uniform(-2, 2, (3, 4)).astype(np.float32)
    r = mx.nd.norm(mx.nd.array(x), axis=axis, keepdims=keepdims)
    want = np.sqrt((x * x).sum(axis=axis, keepdims=keepdims)).reshape(r.shape)
    np.testing.assert_allclose(r.asnumpy(), want, rtol=1e-5)
    r1 = mx.nd.norm(mx.nd.array(x), ord=1, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(r1.asnumpy(), np.abs(x).sum(axis=axis, keepdims=keepdims).reshape(r1.shape), rtol=1e-5)
    assert mx.nd.norm(mx.nd.array(x)).shape == (1,)


def test_norm_gradient_including_zero_rows():
    x = mx.nd.array([[3.0, 4.0], [0.0, 0.0]])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.norm(x, axis=1).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    with mx.autograd.record():
        y = mx.nd.norm(x, ord=1)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [[1, 1], [0, 0]])


def test_reduction_gradients():
    x0 = np.array([[1.0, 3.0, 2.0], [4.0, 0.5, 4.0]])
    x = mx.nd.array(x0, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.max(x, axis=1).sum()
    y.backward()
    assert x.grad.asnumpy().tolist() == [[0, 1, 0], [1, 0, 1]]  # ties all get the gradient
    with mx.autograd.record():
        y = (mx.nd.mean(x, axis=0) * mx.nd.array([1.0, 2.0, 3.0], dtype="float64")).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [[0.5, 1, 1.5], [0.5, 1, 1.5]])
    with mx.autograd.record():
        y = mx.nd.prod(x, axis=1, keepdims=True).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), x0.prod(axis=1, keepdims=True) / x0)


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_argmax_argmin_dtype_and_values(dtype):
    x = np.array([[1, 5, 3], [7, 2, 9]], dtype=dtype)
    a = mx.nd.array(x, dtype=dtype)
    r = mx.nd.argmax(a, axis=1)
    assert r.dtype == np.dtype(dtype) and r.asnumpy().tolist() == [1, 2]
    assert mx.nd.argmin(a, axis=0).asnumpy().tolist() == [0, 1, 0]
    assert mx.nd.argmax(a).asnumpy().tolist() == [5]  # flattened, shape (1,)
    assert mx.nd.argmax(a, axis=1, keepdims=True).shape == (2, 1)
    assert mx.nd.argmax_channel(a).asnumpy().tolist() == [1, 2]
    assert a.argmin(axis=1).asnumpy().tolist() == [0, 1]


def test_cumsum():
    x = np.random.uniform(size=(2, 3)).astype(np.float32)
    np.testing.assert_allclose(mx.nd.cumsum(mx.nd.array(x), axis=1).asnumpy(), np.cumsum(x, axis=1), rtol=1e-6)
    np.testing.assert_allclose(mx.nd.cumsum(mx.nd.array(x)).asnumpy(), np.cumsum(x), rtol=1e-6)


def test_bad_axis_is_named():
    with pytest.raises(mx.MXNetError, match="axis 3"):
        mx.nd.sum(mx.nd.ones((2, 3)), axis=3)


def test_moments_values_and_gradient():
    x0 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])
    x = mx.nd.array(x0, dtype="float64")
    m, v = mx.nd.moments(x, axes=(1,))
    np.testing.assert_allclose(m.asnumpy(), x0.mean(axis=1))
    np.testing.assert_allclose(v.asnumpy(), x0.var(axis=1))
    m, v = mx.nd.moments(x, axes=(0, 1), keepdims=True)
    assert m.shape == (1, 1) and abs(v.asscalar() - x0.var()) < 1e-12
    i = mx.nd.moments(mx.nd.array([1, 2, 4], dtype="int32"), axes=(0,))
    assert [r.asnumpy().tolist() for r in i] == [[2], [1]]  # the input dtype, as MXNet
    x.attach_grad()
    with mx.autograd.record():
        m, v = mx.nd.moments(x, axes=(1,))
        y = (m * mx.nd.array([1.0, 2.0], dtype="float64")).sum() + v.sum()
    y.backward()
    want = np.array([[1.0], [2.0]]) / 3 + 2 * (x0 - x0.mean(axis=1, keepdims=True)) / 3
    np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-12)
