"""NDArray creation, attributes, conversion, Python protocol, indexing and aliasing."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXIndexError, ShapeError

DTYPES = ["float32", "float64", "float16", "int32", "int64", "uint8", "int8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_creation_functions_take_dtype_and_ctx(dtype):
    ctx = mx.cpu(1)
    for a, want in [(mx.nd.zeros((2, 3), ctx=ctx, dtype=dtype), np.zeros((2, 3))),
                    (mx.nd.ones((2, 3), ctx=ctx, dtype=dtype), np.ones((2, 3))),
                    (mx.nd.full((2, 3), 1, ctx=ctx, dtype=dtype), np.ones((2, 3))),
                    (mx.nd.empty((2, 3), ctx=ctx, dtype=dtype), None),
                    (mx.nd.array([[1, 0, 1]], ctx=ctx, dtype=dtype), np.array([[1, 0, 1]])),
                    (mx.nd.eye(3, ctx=ctx, dtype=dtype), np.eye(3)),
                    (mx.nd.arange(4, ctx=ctx, dtype=dtype) if dtype != "bool" else
                     mx.nd.ones((4,), ctx=ctx, dtype=dtype), None)]:
        assert a.dtype == np.dtype(dtype) and a.context == ctx
        if want is not None:
            np.testing.assert_array_equal(a.asnumpy(), want.astype(dtype))


def test_default_dtypes_follow_mxnet():
    assert mx.nd.array([1, 2]).dtype == np.float32
    assert mx.nd.array(np.arange(3)).dtype == np.float32  # NumPy sources become float32 too
    assert mx.nd.array(np.ones(2, dtype=np.float64)).dtype == np.float32
    i = mx.nd.array([1, 2], dtype="int32")
    assert mx.nd.array(i).dtype == np.int32  # an NDArray source keeps its dtype
    assert mx.nd.zeros((2,)).dtype == np.float32 and mx.nd.arange(3).dtype == np.float32
    assert mx.nd.zeros_like(i).dtype == np.int32 and mx.nd.ones_like(i).asnumpy().tolist() == [1, 1]
    assert mx.nd.full((2,), 3.7, dtype="int32").asnumpy().tolist() == [3, 3]
    assert mx.nd.array(5).shape == (1,)  # psnet has no 0-d arrays


def test_arange_linspace_eye_values():
    np.testing.assert_allclose(mx.nd.arange(2, 8, 1.5, repeat=2).asnumpy(), [2, 2, 3.5, 3.5, 5, 5, 6.5, 6.5])
    np.testing.assert_allclose(mx.nd.arange(0, 1, 0.25).asnumpy(), [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(mx.nd.linspace(0, 1, 5).asnumpy(), np.linspace(0, 1, 5))
    np.testing.assert_allclose(mx.nd.linspace(0, 1, 4, endpoint=False).asnumpy(), [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(mx.nd.eye(3, 4, k=1).asnumpy(), np.eye(3, 4, k=1))


def test_context_manager_sets_default_context():
    with mx.Context(mx.cpu(2)):
        a = mx.nd.ones((2,))
        b = mx.nd.arange(3)
    assert a.context == mx.cpu(2) and b.context == mx.cpu(2)
    assert mx.nd.ones((2,)).context == mx.cpu(0)


def test_attributes():
    a = mx.nd.ones((2, 3, 4), dtype="float16")
    assert a.shape == (2, 3, 4) and a.size == 24 and a.ndim == 3 and len(a) == 2
    assert a.dtype is np.float16 and a.context == a.ctx == mx.cpu()
    assert a.stype == "default"
    assert a.T.shape == (4, 3, 2)


def test_conversion():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    a = mx.nd.array(x)
    n = a.asnumpy()
    n[0, 0] = 100  # asnumpy is a copy
    assert a.asnumpy()[0, 0] == 0
    assert a[1, 2].asscalar() == 5 and isinstance(a[1, 2].asscalar(), np.float32)
    np.testing.assert_array_equal(np.asarray(a), x)
    assert a.astype("int32").dtype == np.int32
    assert a.astype("float32", copy=False) is a
    c = a.copy()
    c += 1
    assert a.asnumpy()[0, 0] == 0
    target = mx.nd.zeros((2, 3))
    assert a.copyto(target) is target and target.asnumpy().tolist() == x.tolist()
    other = a.copyto(mx.cpu(1))
    assert other.context == mx.cpu(1) and other.asnumpy().tolist() == x.tolist()
    assert a.as_in_context(mx.cpu(0)) is a
    assert a.as_in_context(mx.cpu(3)).context == mx.cpu(3)
    assert a.tolist() == x.tolist()
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(3, 2\)"):
        a.copyto(mx.nd.zeros((3, 2)))
    with pytest.raises(ValueError, match="one element"):
        a.asscalar()


def test_repr_matches_mxnet_style():
    assert repr(mx.nd.array([[1, 2], [3, 4]])) == "\n[[1. 2.]\n [3. 4.]]\n<NDArray 2x2 @cpu(0)>"
    assert repr(mx.nd.array([1, 2], dtype="int64", ctx=mx.cpu(1))) == "\n[1 2]\n<NDArray 2 @cpu(1)>"


def test_bool_iter_len():
    assert not bool(mx.nd.array([0.0])) and bool(mx.nd.array([2.0]))
    assert not bool(mx.nd.zeros((0,)))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mx.nd.ones((2,)))
    rows = list(mx.nd.array([[1, 2], [3, 4]]))
    assert [r.asnumpy().tolist() for r in rows] == [[1, 2], [3, 4]]
    items = list(mx.nd.array([1, 2]))
    assert [i.shape for i in items] == [(1,), (1,)]


BASIC_KEYS = [1, -1, slice(0, 1), (1, 2), (1, 2, 3), (slice(None), slice(1, 3)), (slice(None, None, -1), slice(None, None, 2)),
              (-1, slice(None), -2), (Ellipsis, 1), (None, 0), (0, None, slice(1, 3))]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_indexing_vs_numpy(key):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    r = mx.nd.array(x)[key]
    want = np.asarray(x[key])
    np.testing.assert_array_equal(r.asnumpy(), want.reshape(r.shape))
    assert r.shape == (want.shape or (1,))


def test_advanced_indexing():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    a = mx.nd.array(x)
    np.testing.assert_array_equal(a[[1, 0, 1]].asnumpy(), x[[1, 0, 1]])
    np.testing.assert_array_equal(a[mx.nd.array([1, 0])].asnumpy(), x[[1, 0]])
    np.testing.assert_array_equal(a[mx.nd.array([1, 0]), :, mx.nd.array([0, 3])].asnumpy(), x[[1, 0], :, [0, 3]])
    np.testing.assert_array_equal(a[:, [0, 2]].asnumpy(), x[:, [0, 2]])
    np.testing.assert_array_equal(a[1, [0, 2], 1:3].asnumpy(), x[1, [0, 2], 1:3])
    # a boolean mask needs a bool array; a 0/1 float array indexes rows 0 and 1, as in MXNet
    np.testing.assert_array_equal(a[(a > 20).astype("bool")].asnumpy(), x[x > 20])
    np.testing.assert_array_equal(a[a > 20].asnumpy(), x[(x > 20).astype(np.int64)])
    np.testing.assert_array_equal(a[np.array([True, False])].asnumpy(), x[[True, False]])


def test_indexing_gradient_scatters_back():
    x = mx.nd.arange(12).reshape((3, 4))
    x.attach_grad()
    with mx.autograd.record():
        y = x[[0, 2, 0]].sum() + (x[1, 1:3] * 5).sum() + x[(x > 10).astype("bool")].sum()
    y.backward()
    want = np.zeros((3, 4))
    want[0] += 2
    want[2] += 1
    want[1, 1:3] += 5
    want[2, 3] += 1
    np.testing.assert_array_equal(x.grad.asnumpy(), want)


def test_setitem_forms():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    a = mx.nd.array(x)
    a[1] = 0
    a[:, 1] = mx.nd.array([7, 8, 9, 10])
    a[0, 1:3, 2] = np.array([5.0, 6.0])
    a[[0, 1], 0, 0] = -1
    a[(a > 20).astype("bool")] = 99
    x[1] = 0
    x[:, 1] = [7, 8, 9, 10]
    x[0, 1:3, 2] = [5, 6]
    x[[0, 1], 0, 0] = -1
    x[x > 20] = 99
    np.testing.assert_array_equal(a.asnumpy(), x)
    a[:] = 3
    assert (a.asnumpy() == 3).all()
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\)"):
        a[0] = mx.nd.ones((4, 4))
    with pytest.raises(MXIndexError, match=r"\(2, 3, 4\)"):
        a[5] = 1


def test_views_follow_mxnet():
    """A contiguous part of the first axis shares memory (as MXNet's x[i], x[a:b]); other
    indexing results are copies."""
    a = mx.nd.arange(24).reshape((2, 3, 4))
    v = a[1]
    v[:] = -5
    assert (a.asnumpy()[1] == -5).all()
    s = a[0:1]
    s += 100
    assert (a.asnumpy()[0] >= 100).all()
    c = a[:, 1]
    c[:] = 0
    assert (a.asnumpy()[:, 1] != 0).all()


def test_index_errors_name_index_and_shape():
    a = mx.nd.ones((2, 3))
    with pytest.raises(IndexError, match=r"5.*\(2, 3\)"):
        a[5]
    with pytest.raises(MXIndexError, match=r"\(2, 3\)"):
        a[0, 7]


def test_waitall_and_wait_to_read():
    a = mx.nd.ones((2,)) * 2
    a.wait_to_read()
    mx.nd.waitall()
    assert a.asnumpy().tolist() == [2, 2]


def test_fluent_methods_exist_for_mxnet_names():
    a = mx.nd.array([[3.0, 1.0, 2.0]])
    for name in ("sum", "mean", "max", "min", "prod", "nansum", "norm", "argmax", "argmin", "topk", "sort", "argsort",
                 "clip", "one_hot", "pick", "take", "transpose", "swapaxes", "expand_dims", "squeeze", "flatten",
                 "flip", "tile", "repeat", "split", "slice", "slice_axis", "broadcast_to", "broadcast_like",
                 "reshape_like", "zeros_like", "ones_like", "exp", "log", "sqrt", "relu", "sigmoid", "abs", "sign"):
        assert callable(getattr(a, name)), name
    assert a.sort().asnumpy().tolist() == [[1, 2, 3]]
    assert a.topk(k=2).asnumpy().tolist() == [[0, 2]]
    assert a.expand_dims(axis=0).shape == (1, 1, 3)


def test_slice_assign_and_storage_type():
    a = mx.nd.zeros((3, 4))
    assert a.slice_assign(mx.nd.ones((2, 2)), (0, 1), (2, 3), ()) is a
    assert a.asnumpy().tolist() == [[0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    b = mx.nd.zeros((3, 4))
    b.slice_assign_scalar(5, (None, 1), (None, None), (None, 2))
    assert b.asnumpy().tolist() == [[0, 5, 0, 5]] * 3
    assert b.tostype("default") is b and b.writable
    with pytest.raises(NotImplementedError, match="csr"):
        b.tostype("csr")


def test_from_numpy_shares_memory():
    a = np.ones((2, 2), dtype=np.float32)
    n = mx.nd.from_numpy(a)
    n[0, 0] = 5
    assert a[0, 0] == 5 and not a.flags.writeable  # MXNet makes the source read-only
    b = np.ones((2, 2), dtype=np.float32)
    c = mx.nd.from_numpy(b, zero_copy=False)
    b[0, 0] = 7
    assert c.asnumpy()[0, 0] == 1 and c.context == mx.cpu()
