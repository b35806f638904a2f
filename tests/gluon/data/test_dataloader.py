"""DataLoader in the main process and with threads: batching, dtypes, last_batch, arguments."""
import numpy as np
import pytest

import psnet as mx
from psnet.gluon.data import ArrayDataset, DataLoader, DataLoaderError, SimpleDataset, default_batchify_fn


def test_default_batchify_dtypes_and_nesting():
    # Python floats -> float64, ints -> int64 (numpy.asarray), as MXNet 1.9.1 does
    batch = default_batchify_fn([(1.5, 1), (2.5, 2)])
    assert isinstance(batch, list) and len(batch) == 2
    assert batch[0].dtype == np.float64 and batch[0].asnumpy().tolist() == [1.5, 2.5]
    assert batch[1].dtype == np.int64 and batch[1].asnumpy().tolist() == [1, 2]
    nd = default_batchify_fn([mx.nd.ones((2, 3)) * i for i in range(4)])
    assert nd.shape == (4, 2, 3) and nd.asnumpy()[:, 0, 0].tolist() == [0, 1, 2, 3]
    nested = default_batchify_fn([(i, (i, 2.0 * i)) for i in range(3)])
    assert nested[1][1].asnumpy().tolist() == [0.0, 2.0, 4.0]


def test_batches_in_order_with_keep():
    x = np.arange(14, dtype=np.float32).reshape(7, 2)
    loader = DataLoader(ArrayDataset(x, np.arange(7, dtype=np.int32)), batch_size=3)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    np.testing.assert_array_equal(batches[2][0].asnumpy(), x[6:])
    assert batches[1][1].dtype == np.int32 and batches[1][1].asnumpy().tolist() == [3, 4, 5]


def test_rollover_across_epochs_matches_mxnet():
    x = mx.nd.arange(12).reshape((6, 2))
    loader = DataLoader(ArrayDataset(x, np.arange(6, dtype=np.int32)), batch_size=4, last_batch="rollover")
    first = [b[1].asnumpy().tolist() for b in loader]
    second = [b[1].asnumpy().tolist() for b in loader]
    assert first == [[0, 1, 2, 3]]
    assert second == [[4, 5, 0, 1], [2, 3, 4, 5]]


def test_shuffle_covers_every_sample_once():
    loader = DataLoader(SimpleDataset(list(range(50))), batch_size=8, shuffle=True)
    seen = np.concatenate([b.asnumpy() for b in loader])
    assert sorted(seen.tolist()) == list(range(50)) and seen.tolist() != list(range(50))


def test_transform_first_per_sample():
    data = np.arange(6, dtype=np.uint8).reshape(3, 2)
    ds = ArrayDataset(mx.nd.array(data, dtype="uint8"), np.array([7, 8, 9], dtype=np.int32))
    loader = DataLoader(ds.transform_first(lambda d: d.astype("float32") / 2), batch_size=3)
    d, l = next(iter(loader))
    assert d.dtype == np.float32
    np.testing.assert_allclose(d.asnumpy(), data / 2.0)
    assert l.asnumpy().tolist() == [7, 8, 9]


def test_custom_batchify_and_batch_sampler():
    loader = DataLoader(SimpleDataset([1, 2, 3, 4]), batch_sampler=[[3, 0], [1]], batchify_fn=lambda s: sum(s))
    assert list(loader) == [5, 2]


def test_pin_memory_puts_batches_on_cpu_pinned():
    loader = DataLoader(SimpleDataset([1.0, 2.0]), batch_size=2, pin_memory=True)
    assert next(iter(loader)).context == mx.cpu_pinned(0)


def test_thread_pool_gives_same_batches():
    x = np.random.rand(20, 3).astype(np.float32)
    ds = ArrayDataset(x).transform(lambda v: v * 2)
    loader = DataLoader(ds, batch_size=6, num_workers=2, thread_pool=True)
    out = np.concatenate([b.asnumpy() for b in loader])
    np.testing.assert_allclose(out, x * 2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(), "batch_size must be specified"),
    (dict(batch_size=2, shuffle=True, sampler=[0, 1]), "shuffle must not be specified"),
    (dict(batch_size=2, batch_sampler=[[0, 1]]), "must not be specified if batch_sampler"),
    (dict(batch_size=2, num_workers=-1), "num_workers"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(DataLoaderError, match=message):
        DataLoader(SimpleDataset([1, 2, 3]), **kwargs)
