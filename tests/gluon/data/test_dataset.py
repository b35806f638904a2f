"""Datasets: ArrayDataset/SimpleDataset indexing, transforms, filter/take/shard/sample."""
import numpy as np
import pytest

import psnet as mx
from psnet.gluon.data import ArrayDataset, SimpleDataset


def test_array_dataset_zips_and_keeps_single_arrays_unwrapped():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = mx.nd.array([10, 11, 12, 13])
    ds = ArrayDataset(x, y)
    assert len(ds) == 4
    data, label = ds[2]
    np.testing.assert_array_equal(data, [6, 7, 8])
    assert isinstance(label, np.float32) and label == 12  # 1-D NDArrays become NumPy (scalars per sample)
    single = ArrayDataset(x)
    np.testing.assert_array_equal(single[1], [3, 4, 5])


def test_array_dataset_length_mismatch_names_arrays():
    with pytest.raises(mx.MXNetError, match="array 1 has length 3"):
        ArrayDataset(np.zeros(4), np.zeros(3))


def test_transform_and_transform_first():
    ds = ArrayDataset(np.arange(5), np.arange(5) * 10)
    t = ds.transform(lambda d, l: (d + 1, l - 1))
    assert t[2] == (3, 19)
    f = ds.transform_first(lambda d: d * 100)
    assert f[3] == (300, 30)
    eager = ds.transform_first(lambda d: -d, lazy=False)
    assert isinstance(eager, SimpleDataset) and eager[4] == (-4, 40)
    s = SimpleDataset([1, 2, 3]).transform(lambda v: v * v)
    assert [s[i] for i in range(3)] == [1, 4, 9]


def test_filter_take_shard_sample():
    ds = SimpleDataset(list(range(10)))
    assert list(ds.filter(lambda v: v % 3 == 0)[i] for i in range(4)) == [0, 3, 6, 9]
    assert len(ds.take(3)) == 3 and ds.take(3)[2] == 2
    assert len(ds.take(None)) == 10
    shards = [ds.shard(3, i) for i in range(3)]
    assert [[s[j] for j in range(len(s))] for s in shards] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    with pytest.raises(IndexError):
        ds.shard(3, 3)
    sampled = ds.sample([9, 0, 5])
    assert [sampled[i] for i in range(3)] == [9, 0, 5]
