"""NDArrayIter: values, padding, shuffling and descriptors exactly as MXNet 1.9.1 gives them."""
import numpy as np
import pytest

import psnet as mx

D = np.arange(20).reshape(10, 2).astype("float32")
L = np.arange(10)


def _epochs(it, n=3):
    out = []
    for _ in range(n):
        out.append([(b.data[0].asnumpy()[:, 0].tolist(), b.label[0].asnumpy().tolist(), b.pad) for b in it])
        it.reset()
    return out


def test_pad():
    ep = _epochs(mx.io.NDArrayIter(D, L, batch_size=4, last_batch_handle="pad"))
    expected = [([0, 2, 4, 6], [0, 1, 2, 3], 0), ([8, 10, 12, 14], [4, 5, 6, 7], 0),
                ([16, 18, 0, 2], [8, 9, 0, 1], 2)]
    assert ep == [expected] * 3


def test_discard():
    ep = _epochs(mx.io.NDArrayIter(D, L, batch_size=4, last_batch_handle="discard"))
    assert ep == [[([0, 2, 4, 6], [0, 1, 2, 3], 0), ([8, 10, 12, 14], [4, 5, 6, 7], 0)]] * 3


def test_roll_over_carries_the_short_batch_into_the_next_epoch():
    ep = _epochs(mx.io.NDArrayIter(D, L, batch_size=4, last_batch_handle="roll_over"))
    assert ep[0] == [([0, 2, 4, 6], [0, 1, 2, 3], 0), ([8, 10, 12, 14], [4, 5, 6, 7], 0)]
    assert ep[1] == [([16, 18, 0, 2], [8, 9, 0, 1], 2), ([4, 6, 8, 10], [2, 3, 4, 5], 0),
                     ([12, 14, 16, 18], [6, 7, 8, 9], 0)]
    assert ep[2] == ep[0]


def test_shuffle_draws_from_numpy_random_like_mxnet():
    np.random.seed(0)
    it = mx.io.NDArrayIter(D, L, batch_size=4, shuffle=True)
    first = [b.label[0].asnumpy().tolist() for b in it]
    it.reset()
    second = [b.label[0].asnumpy().tolist() for b in it]
    assert first == [[2, 8, 4, 9], [1, 6, 7, 3], [0, 5, 2, 8]]
    assert second == [[5, 7, 0, 1], [6, 2, 4, 3], [9, 8, 5, 7]]
    b = mx.io.NDArrayIter(D, L, batch_size=10, shuffle=True).next()
    np.testing.assert_array_equal(b.data[0].asnumpy()[:, 0] / 2, b.label[0].asnumpy())  # rows stay paired


def test_names_and_descriptors():
    it = mx.io.NDArrayIter({"b": D, "a": D[:, :1]}, {"y": L}, batch_size=3)
    assert [(d.name, d.shape) for d in it.provide_data] == [("a", (3, 1)), ("b", (3, 2))]
    assert [(d.name, d.shape, d.dtype) for d in it.provide_label] == [("y", (3,), np.float32)]
    it = mx.io.NDArrayIter([D, D], batch_size=3)
    assert [d.name for d in it.provide_data] == ["_0_data", "_1_data"] and it.provide_label == []
    it = mx.io.NDArrayIter(D, batch_size=3, data_name="x", label_name="y")
    assert it.provide_data[0].name == "x" and it.next().label == []


def test_dtypes():
    assert mx.io.NDArrayIter(np.arange(4.0), batch_size=2).next().data[0].dtype == np.float32  # NumPy -> float32
    nd = mx.nd.arange(4, dtype="int32")
    assert mx.io.NDArrayIter(nd, batch_size=2).next().data[0].dtype == np.int32  # NDArrays keep theirs


def test_errors():
    with pytest.raises(mx.MXNetError, match="last_batch_handle"):
        mx.io.NDArrayIter(D, batch_size=2, last_batch_handle="keep")
    with pytest.raises(mx.MXNetError, match="has 10 samples but 'softmax_label' has 3"):
        mx.io.NDArrayIter(D, np.arange(3), batch_size=2)
    with pytest.raises(mx.MXNetError, match="must be an NDArray"):
        mx.io.NDArrayIter("not data", batch_size=2)
