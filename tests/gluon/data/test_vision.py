"""Vision datasets: real MNIST, IDX parsing, verified download, offline errors, CIFAR, image folders."""
import gzip
import hashlib
import os

import numpy as np
import pytest

import psnet as mx
from psnet.gluon.data.vision import CIFAR10, CIFAR100, MNIST, FashionMNIST, ImageFolderDataset
from psnet.gluon.utils import DownloadError

from ._http import serve_directory


def _idx_bytes(array):
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_real_mnist(mnist_dir):
    test = MNIST(root=mnist_dir, train=False)
    assert len(test) == 10000
    img, label = test[0]
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8
    assert isinstance(label, np.int32) and label == 7
    assert int(img.asnumpy().sum()) == 18454  # first test digit (a 7), as MXNet reads it
    labels = np.array([test[i][1] for i in range(100)])
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_mnist_default_root_comes_from_psnet_data(mnist_dir, monkeypatch):
    monkeypatch.setenv("PSNET_DATA", os.path.dirname(mnist_dir))
    ds = MNIST(train=False, transform=lambda d, l: (d.astype("float32") / 255, l + 1))
    img, label = ds[1]
    assert img.dtype == np.float32 and float(img.asnumpy().max()) == 1.0 and label == 3


def _fake_mnist_dir(directory, n=5):
    rng = np.random.RandomState(0)
    images, labels = rng.randint(0, 256, (n, 28, 28)), rng.randint(0, 10, n)
    files = {}
    for name, arr in (("t10k-images-idx3-ubyte.gz", images), ("t10k-labels-idx1-ubyte.gz", labels)):
        raw = gzip.compress(_idx_bytes(arr))
        (directory / name).write_bytes(raw)
        files[name] = hashlib.sha1(raw).hexdigest()
    return images, labels, files


def test_download_verifies_and_parses(tmp_path, monkeypatch):
    served = tmp_path / "mirror" / "gluon" / "dataset" / "tinymnist"
    served.mkdir(parents=True)
    images, labels, sha1 = _fake_mnist_dir(served)

    class TinyMNIST(MNIST):
        _name = "tinymnist"
        _files = {"test": tuple((f, sha1[f], None) for f in sorted(sha1))}  # images, then labels
        _mirrors = ()

    root = tmp_path / "root"
    with serve_directory(tmp_path / "mirror") as url:
        monkeypatch.setenv("PSNET_GLUON_REPO", url)
        ds = TinyMNIST(root=str(root), train=False)
        assert sorted(os.listdir(root)) == sorted(sha1)
        assert len(ds) == 5 and ds[3][1] == labels[3]
        np.testing.assert_array_equal(ds[3][0].asnumpy()[:, :, 0], images[3])
        # a corrupt local file is detected and replaced from the mirror
        (root / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
        assert TinyMNIST(root=str(root), train=False)[4][1] == labels[4]


def test_offline_error_names_file_and_urls(tmp_path, monkeypatch):
    monkeypatch.setenv("PSNET_GLUON_REPO", "http://127.0.0.1:9/")  # nothing listens on the discard port
    monkeypatch.setattr(FashionMNIST, "_mirrors", ())
    with pytest.raises(DownloadError) as err:
        FashionMNIST(root=str(tmp_path), train=False)
    msg = str(err.value)
    assert "t10k-images-idx3-ubyte.gz is missing" in msg and "127.0.0.1:9" in msg and "PSNET_DATA" in msg


def test_bad_idx_content_is_named(tmp_path, monkeypatch):
    raw = gzip.compress(b"not an idx file")
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(raw)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(raw)
    sha = hashlib.sha1(raw).hexdigest()
    monkeypatch.setattr(MNIST, "_files", {"test": (("t10k-images-idx3-ubyte.gz", sha, None),
                                                   ("t10k-labels-idx1-ubyte.gz", sha, None))})
    with pytest.raises(mx.MXNetError, match="t10k-labels-idx1-ubyte.gz is not an IDX file"):
        MNIST(root=str(tmp_path), train=False)


def _cifar_records(labels, n, label_bytes):
    rng = np.random.RandomState(1)
    pixels = rng.randint(0, 256, (n, 3, 32, 32)).astype(np.uint8)
    rec = np.concatenate([labels.astype(np.uint8).reshape(n, label_bytes), pixels.reshape(n, -1)], axis=1)
    return rec.tobytes(), pixels


def test_cifar10_binary_format(tmp_path):
    sub = tmp_path / "cifar-10-batches-bin"
    sub.mkdir()
    raw, pixels = _cifar_records(np.array([3, 1, 4]), 3, 1)
    (sub / "test_batch.bin").write_bytes(raw)
    ds = CIFAR10(root=str(tmp_path), train=False)
    img, label = ds[2]
    assert len(ds) == 3 and img.shape == (32, 32, 3) and img.dtype == np.uint8
    assert isinstance(label, np.int32) and label == 4
    np.testing.assert_array_equal(img.asnumpy(), pixels[2].transpose(1, 2, 0))


def test_cifar100_fine_and_coarse_labels(tmp_path):
    raw, _ = _cifar_records(np.array([[1, 71], [2, 42]]), 2, 2)
    (tmp_path / "test.bin").write_bytes(raw)
    assert [CIFAR100(root=str(tmp_path), train=False)[i][1] for i in range(2)] == [1, 2]
    assert [CIFAR100(root=str(tmp_path), fine_label=True, train=False)[i][1] for i in range(2)] == [71, 42]


def test_image_folder_dataset(tmp_path):
    Image = pytest.importorskip("PIL.Image", reason="Pillow (optional) is not installed")
    for cls, value in (("cat", 10), ("dog", 200)):
        (tmp_path / cls).mkdir()
        Image.fromarray(np.full((4, 5, 3), value, np.uint8)).save(tmp_path / cls / "a.png")
    (tmp_path / "dog" / "notes.txt").write_text("skip me")
    with pytest.warns(UserWarning, match="notes.txt"):
        ds = ImageFolderDataset(str(tmp_path))
    assert ds.synsets == ["cat", "dog"] and len(ds) == 2
    img, label = ds[1]
    assert img.shape == (4, 5, 3) and img.dtype == np.uint8 and label == 1 and int(img.asnumpy()[0, 0, 0]) == 200
    with pytest.warns(UserWarning):
        grey, _ = ImageFolderDataset(str(tmp_path), flag=0)[0]
    assert grey.shape == (4, 5, 1) and int(grey.asnumpy()[0, 0, 0]) == 10
