"""Indexing ops (slice, take, pick, gather/scatter, one_hot, where), sorting and products."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXIndexError, ShapeError


def _rand(*shape, dtype="float32"):
    return np.random.uniform(-2, 2, shape).astype(dtype)


def test_slice_family_vs_numpy():
    x = _rand(3, 4, 5)
    a = mx.nd.array(x)
    np.testing.assert_array_equal(mx.nd.slice(a, begin=(1, None, 0), end=(3, None, 5), step=(1, 2, 2)).asnumpy(),
                                  x[1:3, ::2, 0:5:2])
    np.testing.assert_array_equal(mx.nd.slice(a, begin=(0, -1), end=(3, -4), step=(1, -1)).asnumpy(), x[0:3, -1:-4:-1])
    np.testing.assert_array_equal(mx.nd.slice(a, begin=(1,), end=(2,)).asnumpy(), x[1:2])
    np.testing.assert_array_equal(mx.nd.slice_axis(a, axis=1, begin=-2, end=None).asnumpy(), x[:, -2:])
    np.testing.assert_array_equal(mx.nd.slice_axis(a, axis=-1, begin=1, end=3).asnumpy(), x[..., 1:3])
    np.testing.assert_array_equal(mx.nd.slice_like(a, mx.nd.ones((2, 2))).asnumpy(), x[:2, :2])
    np.testing.assert_array_equal(mx.nd.slice_like(a, mx.nd.ones((2, 2, 2)), axes=(2,)).asnumpy(), x[:, :, :2])
    s = mx.nd.slice(a, begin=(0,), end=(1,))
    s[:] = 0  # slice returns a new array
    assert a.asnumpy().tolist() == x.tolist()


def test_slice_gradients():
    x = mx.nd.arange(12).reshape((3, 4))
    x.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.slice(x, begin=(1, 0), end=(3, 4), step=(1, 2)) * 2).sum() + \
            mx.nd.slice_axis(x, axis=0, begin=0, end=1).sum() + mx.nd.slice_like(x, mx.nd.ones((1, 2))).sum() * 10
    y.backward()
    want = np.zeros((3, 4))
    want[1:3, ::2] += 2
    want[0:1] += 1
    want[:1, :2] += 10
    np.testing.assert_array_equal(x.grad.asnumpy(), want)


@pytest.mark.parametrize("mode", ["clip", "wrap"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_take_vs_numpy(mode, axis):
    x = _rand(3, 4)
    idx = np.array([[0, 5], [-1, 2]])
    r = mx.nd.take(mx.nd.array(x), mx.nd.array(idx), axis=axis, mode=mode)
    np.testing.assert_array_equal(r.asnumpy(), np.take(x, idx, axis=axis, mode=mode))


def test_take_raise_mode_and_gradient():
    with pytest.raises(MXIndexError, match="out of range"):
        mx.nd.take(mx.nd.ones((3,)), mx.nd.array([3]), mode="raise")
    w = mx.nd.arange(8).reshape((4, 2))
    w.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.take(w, mx.nd.array([[0, 3], [3, 3]])) * mx.nd.array([[[1, 1], [2, 2]], [[3, 3], [4, 4]]])).sum()
    y.backward()
    assert w.grad.asnumpy().tolist() == [[1, 1], [0, 0], [0, 0], [9, 9]]  # repeated indices accumulate


def test_pick_values_modes_and_gradient():
    x = np.array([[1.5, -2, 3], [4, 5, -6]], dtype=np.float32)
    a = mx.nd.array(x)
    assert mx.nd.pick(a, mx.nd.array([0, 2])).asnumpy().tolist() == [1.5, -6]
    assert mx.nd.pick(a, mx.nd.array([0, 7]), keepdims=True).asnumpy().tolist() == [[1.5], [-6]]  # clipped
    assert mx.nd.pick(a, mx.nd.array([0, 4]), mode="wrap").asnumpy().tolist() == [1.5, 5]
    assert mx.nd.pick(a, mx.nd.array([1, 0, 1]), axis=0).asnumpy().tolist() == [4, -2, -6]
    assert mx.nd.batch_take(a, mx.nd.array([2, 1])).asnumpy().tolist() == [3, 5]
    a.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.pick(a, mx.nd.array([2, 0]), axis=1) * mx.nd.array([10, 20])).sum()
    y.backward()
    assert a.grad.asnumpy().tolist() == [[0, 0, 10], [20, 0, 0]]


def test_gather_scatter_nd():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    idx = np.array([[1, 0, 2], [2, 0, 3]])
    g = mx.nd.gather_nd(mx.nd.array(x), mx.nd.array(idx))
    np.testing.assert_array_equal(g.asnumpy(), x[idx[0], idx[1]])
    s = mx.nd.scatter_nd(mx.nd.array([1.0, 2.0]), mx.nd.array([[1, 0], [2, 0]]), shape=(2, 3))
    assert s.asnumpy().tolist() == [[2, 0, 0], [0, 0, 1]]
    rows = mx.nd.gather_nd(mx.nd.array(x), mx.nd.array([[2, 0]]))
    np.testing.assert_array_equal(rows.asnumpy(), x[[2, 0]])
    a = mx.nd.array(x)
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.gather_nd(a, mx.nd.array([[0, 0], [1, 1]])).sum()
    y.backward()
    assert a.grad.asnumpy()[0, 1] == 2 and a.grad.asnumpy().sum() == 2


def test_one_hot():
    r = mx.nd.one_hot(mx.nd.array([0, 2, 5]), 3)
    assert r.dtype == np.float32 and r.asnumpy().tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    r = mx.nd.one_hot(mx.nd.array([[1], [0]]), depth=2, on_value=5, off_value=-1, dtype="int32")
    assert r.dtype == np.int32 and r.asnumpy().tolist() == [[[-1, 5]], [[5, -1]]]


def test_where_forms_and_gradient():
    x, y = mx.nd.array([[1.0, 2.0], [3.0, 4.0]]), mx.nd.array([[-1.0, -2.0], [-3.0, -4.0]])
    assert mx.nd.where(mx.nd.array([[1, 0], [0, 1]]), x, y).asnumpy().tolist() == [[1, -2], [-3, 4]]
    assert mx.nd.where(mx.nd.array([0, 1]), x, y).asnumpy().tolist() == [[-1, -2], [3, 4]]
    x.attach_grad(); y.attach_grad()
    with mx.autograd.record():
        z = (mx.nd.where(mx.nd.array([[1, 0], [0, 1]]), x, y) * mx.nd.array([[1, 2], [3, 4]])).sum()
    z.backward()
    assert x.grad.asnumpy().tolist() == [[1, 0], [0, 4]]
    assert y.grad.asnumpy().tolist() == [[0, 2], [3, 0]]
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        mx.nd.where(mx.nd.ones((3,)), x, y)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_sort_argsort_vs_numpy(dtype):
    x = np.random.permutation(24).reshape(2, 3, 4).astype(dtype)
    a = mx.nd.array(x, dtype=dtype)
    for axis in (-1, 0, 1):
        np.testing.assert_array_equal(mx.nd.sort(a, axis=axis).asnumpy(), np.sort(x, axis=axis))
        np.testing.assert_array_equal(mx.nd.sort(a, axis=axis, is_ascend=False).asnumpy(),
                                      np.flip(np.sort(x, axis=axis), axis=axis))
        r = mx.nd.argsort(a, axis=axis)
        assert r.dtype == np.float32
        np.testing.assert_array_equal(r.asnumpy(), np.argsort(x, axis=axis))
    np.testing.assert_array_equal(mx.nd.sort(a, axis=None).asnumpy(), np.sort(x, axis=None))
    assert mx.nd.argsort(a, dtype="int32").dtype == np.int32


def test_topk_return_types():
    x = np.array([[1.5, -2, 3], [4, 5, -6]], dtype=np.float32)
    a = mx.nd.array(x)
    assert mx.nd.topk(a, k=2).asnumpy().tolist() == [[2, 0], [1, 0]]
    v, i = mx.nd.topk(a, k=2, ret_typ="both")
    assert v.asnumpy().tolist() == [[3, 1.5], [5, 4]] and i.asnumpy().tolist() == [[2, 0], [1, 0]]
    assert mx.nd.topk(a, k=2, ret_typ="mask").asnumpy().tolist() == [[1, 0, 1], [1, 1, 0]]
    assert mx.nd.topk(a, k=1, axis=0, ret_typ="value", is_ascend=True).asnumpy().tolist() == [[1.5, -2, -6]]
    assert mx.nd.topk(a, k=3, axis=None, dtype="int32").asnumpy().tolist() == [4, 3, 2]
    i = mx.nd.array([[1, 4, 9], [16, 5, 2]], dtype="int32")
    assert mx.nd.topk(i, k=2, ret_typ="value", axis=0).asnumpy().tolist() == [[16, 5, 9], [1, 4, 2]]
    with pytest.raises(mx.MXNetError, match="k=4"):
        mx.nd.topk(a, k=4)


def test_topk_and_sort_gradients():
    a = mx.nd.array([[1.5, -2.0, 3.0], [4.0, 5.0, -6.0]])
    a.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.topk(a, k=2, ret_typ="value") * mx.nd.array([[1, 2], [3, 4]])).sum()
    y.backward()
    assert a.grad.asnumpy().tolist() == [[2, 0, 1], [4, 3, 0]]
    with mx.autograd.record():
        y = (mx.nd.sort(a, axis=0, is_ascend=False) * mx.nd.array([[1, 2, 3], [4, 5, 6]])).sum()
    y.backward()
    assert a.grad.asnumpy().tolist() == [[4, 5, 3], [1, 2, 6]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_forms_vs_numpy(dtype):
    tol = 1e-5 if dtype == "float32" else 1e-12
    a, b = _rand(3, 4, dtype=dtype), _rand(4, 5, dtype=dtype)
    A, B = mx.nd.array(a, dtype=dtype), mx.nd.array(b, dtype=dtype)
    np.testing.assert_allclose(mx.nd.dot(A, B).asnumpy(), a @ b, rtol=tol)
    np.testing.assert_allclose(mx.nd.dot(mx.nd.array(a.T, dtype=dtype), B, transpose_a=True).asnumpy(), a @ b, rtol=tol)
    np.testing.assert_allclose(mx.nd.dot(A, mx.nd.array(b.T, dtype=dtype), transpose_b=True).asnumpy(), a @ b, rtol=tol)
    v = _rand(4, dtype=dtype)
    r = mx.nd.dot(mx.nd.array(v, dtype=dtype), mx.nd.array(v, dtype=dtype))
    assert r.shape == (1,)
    np.testing.assert_allclose(r.asnumpy(), [v @ v], rtol=tol)
    x3 = _rand(2, 3, 4, dtype=dtype)
    np.testing.assert_allclose(mx.nd.dot(mx.nd.array(x3, dtype=dtype), B).asnumpy(), x3 @ b, rtol=tol)
    # N-d transposes follow MXNet: transpose_a contracts lhs's first axis, the rest keep their order
    y3 = _rand(2, 3, 5, dtype=dtype)
    r = mx.nd.dot(mx.nd.array(x3, dtype=dtype), mx.nd.array(y3, dtype=dtype), transpose_a=True)
    assert r.shape == (3, 4, 3, 5)
    np.testing.assert_allclose(r.asnumpy(), np.tensordot(x3, y3, axes=([0], [0])), rtol=tol)
    c = _rand(6, 4, dtype=dtype)
    r = mx.nd.dot(mx.nd.array(x3, dtype=dtype), mx.nd.array(c, dtype=dtype), transpose_b=True)
    assert r.shape == (2, 3, 6)
    np.testing.assert_allclose(r.asnumpy(), np.tensordot(x3, c, axes=([2], [1])), rtol=tol)


def test_batch_dot_and_gradients():
    a, b = _rand(2, 3, 4), _rand(2, 5, 4)
    A, B = mx.nd.array(a), mx.nd.array(b)
    np.testing.assert_allclose(mx.nd.batch_dot(A, B, transpose_b=True).asnumpy(), a @ b.transpose(0, 2, 1), rtol=1e-5)
    A.attach_grad(); B.attach_grad()
    w = _rand(2, 3, 5)
    with mx.autograd.record():
        y = (mx.nd.batch_dot(A, B, transpose_b=True) * mx.nd.array(w)).sum()
    y.backward()
    np.testing.assert_allclose(A.grad.asnumpy(), w @ b, rtol=1e-4)
    np.testing.assert_allclose(B.grad.asnumpy(), w.transpose(0, 2, 1) @ a, rtol=1e-4)
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\).*\(2, 5, 4\)"):
        mx.nd.batch_dot(A, B)


def test_dot_shape_error_names_both():
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4, 5\)"):
        mx.nd.dot(mx.nd.ones((2, 3)), mx.nd.ones((4, 5)))


def test_diag_and_shape_queries():
    x = _rand(3, 4)
    np.testing.assert_array_equal(mx.nd.diag(mx.nd.array(x)).asnumpy(), np.diag(x))
    np.testing.assert_array_equal(mx.nd.diag(mx.nd.array(x), k=-1).asnumpy(), np.diag(x, -1))
    np.testing.assert_array_equal(mx.nd.diag(mx.nd.array([1.0, 2.0]), k=1).asnumpy(), np.diag([1.0, 2.0], 1))
    assert mx.nd.shape_array(mx.nd.ones((2, 3))).asnumpy().tolist() == [2, 3]
    assert mx.nd.size_array(mx.nd.ones((2, 3))).asnumpy().tolist() == [6]


def test_ravel_unravel_and_choose_element():
    r = mx.nd.ravel_multi_index(mx.nd.array([[3, 6, 6], [4, 5, 1]]), shape=(7, 6))
    assert r.asnumpy().tolist() == [22, 41, 37]
    u = mx.nd.unravel_index(mx.nd.array([22, 41, 37]), shape=(7, 6))
    assert u.asnumpy().tolist() == [[3, 6, 6], [4, 5, 1]]
    x = mx.nd.array([[1, 2, 3], [4, 5, 7]])
    assert mx.nd.choose_element_0index(x, mx.nd.array([0, 2])).asnumpy().tolist() == [1, 7]
