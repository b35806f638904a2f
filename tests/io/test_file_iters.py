"""CSVIter and MNISTIter against the values MXNet 1.9.1 produces."""
import gzip
import os

import numpy as np
import pytest

import psnet as mx


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "d.csv"
    np.savetxt(path, np.arange(20).reshape(10, 2), delimiter=",")
    return str(path)


def test_csv_round_batch_wraps_and_next_epoch_skips_wrapped_rows(csv_path):
    it = mx.io.CSVIter(data_csv=csv_path, data_shape=(2,), batch_size=3)
    epochs = []
    for _ in range(4):
        epochs.append([(b.data[0].asnumpy()[:, 0].tolist(), b.pad) for b in it])
        it.reset()
    assert epochs[0] == [([0, 2, 4], 0), ([6, 8, 10], 0), ([12, 14, 16], 0), ([18, 0, 2], 2)]
    assert epochs[1] == [([4, 6, 8], 0), ([10, 12, 14], 0), ([16, 18, 0], 1)]
    assert epochs[2] == [([2, 4, 6], 0), ([8, 10, 12], 0), ([14, 16, 18], 0)]
    assert epochs[3] == epochs[0]


def test_csv_no_round_batch_and_labels(csv_path, tmp_path):
    it = mx.io.CSVIter(data_csv=csv_path, data_shape=(2,), batch_size=12, round_batch=False)
    (b,) = list(it)
    assert b.pad == 2 and b.data[0].asnumpy()[10:].tolist() == [[0, 0], [0, 0]]
    assert b.label[0].shape == (12,) and float(b.label[0].asnumpy().sum()) == 0
    it = mx.io.CSVIter(data_csv=csv_path, data_shape=(1, 2), batch_size=4, label_csv=csv_path, label_shape=(2,))
    b = next(it)
    assert b.data[0].shape == (4, 1, 2) and b.label[0].shape == (4, 2)
    assert repr(it.provide_label) == "[DataDesc[softmax_label,(4, 2),<class 'numpy.float32'>,NCHW]]"
    with pytest.raises(mx.MXNetError, match="have 2 values but data_shape"):
        mx.io.CSVIter(data_csv=csv_path, data_shape=(3,), batch_size=2)


def test_mnist_iter(mnist_dir, tmp_path):
    images = os.path.join(mnist_dir, "t10k-images-idx3-ubyte.gz")
    labels = os.path.join(mnist_dir, "t10k-labels-idx1-ubyte.gz")
    it = mx.io.MNISTIter(image=images, label=labels, batch_size=128, shuffle=False)
    batches = list(it)
    assert len(batches) == 78 and all(b.pad == 0 for b in batches)  # only full batches, as MXNet
    first = batches[0]
    assert first.data[0].shape == (128, 1, 28, 28) and first.data[0].dtype == np.float32
    assert repr(it.provide_label) == "[DataDesc[softmax_label,(128,),<class 'numpy.float32'>,NCHW]]"
    last = batches[-1]
    assert last.label[0].asnumpy()[:5].tolist() == [9, 8, 6, 7, 3]
    # MXNet's MNISTIter scales pixels by 1/256
    assert last.data[0].asnumpy()[0, 0, 10, 10:14].tolist() == [0.0, 0.01953125, 0.46484375, 0.9609375]
    raw = tmp_path / "labels"
    raw.write_bytes(gzip.decompress(open(labels, "rb").read()))
    flat = mx.io.MNISTIter(image=images, label=str(raw), batch_size=100, flat=True, shuffle=False).next()
    assert flat.data[0].shape == (100, 784) and flat.label[0].asnumpy()[:5].tolist() == [7, 2, 1, 0, 4]
    shuffled = mx.io.MNISTIter(image=images, label=labels, batch_size=10000, seed=3).next().label[0].asnumpy()
    original = mx.io.MNISTIter(image=images, label=labels, batch_size=10000, shuffle=False)
    original = original.next().label[0].asnumpy()
    assert sorted(shuffled.tolist()) == sorted(original.tolist()) and shuffled.tolist() != original.tolist()
    half = mx.io.MNISTIter(image=images, label=labels, batch_size=5000, shuffle=False, num_parts=2, part_index=1)
    assert half.next().label[0].asnumpy()[:3].tolist() == [3, 9, 9]


def test_prefetching_iter_joins_and_renames():
    d = np.arange(20).reshape(10, 2).astype("float32")
    it = mx.io.PrefetchingIter([mx.io.NDArrayIter(d, np.arange(10), batch_size=4),
                                mx.io.NDArrayIter(d * 2, batch_size=4, data_name="d2")],
                               rename_data=[{"data": "a"}, {"d2": "b"}])
    assert [x.name for x in it.provide_data] == ["a", "b"]
    assert [x.name for x in it.provide_label] == ["softmax_label"]
    batches = list(it)
    assert [b.pad for b in batches] == [0, 0, 2] and len(batches[0].data) == 2 and len(batches[0].label) == 1
    np.testing.assert_array_equal(batches[2].data[1].asnumpy()[:, 0], [32, 36, 0, 4])
    it.reset()
    assert [b.label[0].asnumpy().tolist()[0] for b in it] == [0, 4, 8]
    threads = it._prefetcher.threads
    it.close()
    assert not any(t.is_alive() for t in threads)
