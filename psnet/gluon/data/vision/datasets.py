"""Vision datasets: MNIST, FashionMNIST, CIFAR10, CIFAR100 and ImageFolderDataset.

Where the files live: the ``root=`` argument, else ``$PSNET_DATA/<name>`` (``name`` is
``mnist``, ``fashion-mnist``, ``cifar10`` or ``cifar100``), else
``~/.psnet/datasets/<name>``.  Missing or corrupt files are downloaded from the
standard mirrors (``$PSNET_GLUON_REPO`` / ``$MXNET_GLUON_REPO`` first) and verified
by checksum; offline, the error names the files, the directory and the URLs tried.

A file is accepted when its SHA-1 matches the published archive or, for MNIST, when
the SHA-256 of its decompressed content matches (a re-compressed file is still the
same data).  Images are uint8 NDArrays ``(28, 28, 1)`` / ``(32, 32, 3)`` and labels
int32 NumPy scalars, as in MXNet.
"""
import gzip
import hashlib
import os
import tarfile
import warnings

import numpy as np

from .... import storage
from ....base import MXNetError, NotSupportedError, env_str
from ....io.idx import parse_idx
from ....ndarray import array
from ...utils import DownloadError, download, get_repo_file_url
from ..dataset import Dataset

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolderDataset", "ImageRecordDataset",
           "default_root"]


class DatasetFileError(MXNetError, ValueError):
    """A dataset file that exists but is not in the expected format."""


def default_root(name):
    """``$PSNET_DATA/<name>`` when $PSNET_DATA is set, else ``~/.psnet/datasets/<name>``."""
    base = env_str("PSNET_DATA")
    if base:
        return storage.join(storage.expanduser(base), name)
    return os.path.join(os.path.expanduser("~"), ".psnet", "datasets", name)


def _sha(data, algorithm):
    return hashlib.new(algorithm, data).hexdigest()


def _read_verified(path, sha1, content_sha256):
    """The content of ``path`` (gunzipped when it ends in .gz), or None when missing or not verified."""
    if not storage.exists(path):
        return None
    with storage.open_uri(path, "rb") as f:
        raw = f.read()
    if _sha(raw, "sha1") == sha1:
        return gzip.decompress(raw) if path.endswith(".gz") else raw
    if content_sha256 is None:
        return None
    try:
        content = gzip.decompress(raw) if path.endswith(".gz") else raw
    except (OSError, EOFError):
        return None
    return content if _sha(content, "sha256") == content_sha256 else None


def _obtain(root, fname, sha1, urls, dataset, content_sha256=None):
    """The verified content of ``root/fname``, downloading it from the first working URL if needed."""
    path = storage.join(root, fname)
    content = _read_verified(path, sha1, content_sha256)
    if content is not None:
        return content
    errors = []
    for url in urls if not storage.is_url(path) else ():  # no download into remote storage
        try:
            download(url, path=path, overwrite=True, sha1_hash=sha1, retries=1)
        except DownloadError as e:
            errors.append(str(e))
            continue
        return _read_verified(path, sha1, content_sha256)
    state = "is corrupt" if storage.exists(path) else "is missing"
    raise DownloadError("%s: %s %s and could not be downloaded (tried %s).\n%s\nPut the standard file in %s "
                        "(or pass root=, or set $PSNET_DATA to a directory containing %s/)"
                        % (dataset, path, state, ", ".join(urls), "\n".join(errors), root,
                           os.path.basename(os.path.normpath(root))))


def _root(root, name):
    return storage.expanduser(root) if root is not None else default_root(name)


class _DownloadedDataset(Dataset):
    """An in-memory dataset of ``(image NDArray, int32 label)`` pairs with an optional transform."""

    def __init__(self, root, transform):
        self._root = root
        self._transform = transform
        self._data, self._label = self._get_data()

    def _get_data(self):
        raise NotImplementedError("%s must implement _get_data() -> (images, labels)" % type(self).__name__)

    def __getitem__(self, idx):
        if self._transform is not None:
            return self._transform(self._data[idx], self._label[idx])
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label)

    def _fetch_batch(self, indices):
        """``[images, labels]`` of a batch by one gather (the DataLoader's fast path), or None with a transform."""
        if self._transform is not None:
            return None
        idx = np.asarray(indices, dtype=np.int64)
        return [self._data[array(idx, dtype="int64")], array(self._label[idx], dtype=np.int32)]


class MNIST(_DownloadedDataset):
    """The MNIST handwritten digits: images ``(28, 28, 1)`` uint8, labels int32 (0-9).

    Parameters
    ----------
    root : str
        Directory of the four IDX gzip files; default ``$PSNET_DATA/mnist`` or
        ``~/.psnet/datasets/mnist``.
    train : bool
        The 60,000 training samples, or the 10,000 test samples.
    transform : callable
        ``transform(data, label) -> sample`` applied on access, e.g.
        ``lambda data, label: (data.astype(np.float32) / 255, label)``.
    """

    _name = "mnist"
    # (file, SHA-1 of the published archive, SHA-256 of its decompressed content)
    _files = {
        "train": (("train-images-idx3-ubyte.gz", "6c95f4b05d2bf285e1bfb0e7960c31bd3b3f8a7d",
                   "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
                  ("train-labels-idx1-ubyte.gz", "2a80914081dc54586dbdf242f9805a6b8d2a15fc",
                   "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5")),
        "test": (("t10k-images-idx3-ubyte.gz", "c3a25af1f52dad7f726cce8cacb138654b760d48",
                  "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
                 ("t10k-labels-idx1-ubyte.gz", "763e7fa3757d93b0cdec073cef058b2004252c17",
                  "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")),
    }
    _mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")

    def __init__(self, root=None, train=True, transform=None):
        self._train = train
        super().__init__(_root(root, self._name), transform)

    def _urls(self, fname):
        return [get_repo_file_url("gluon/dataset/" + self._name, fname)] + [m + fname for m in self._mirrors]

    def _get_data(self):
        images, labels = self._files["train" if self._train else "test"]
        contents = [_obtain(self._root, f[0], f[1], self._urls(f[0]), type(self).__name__, f[2])
                    for f in (images, labels)]
        label = parse_idx(contents[1], storage.join(self._root, labels[0])).astype(np.int32)
        data = parse_idx(contents[0], storage.join(self._root, images[0]))
        if data.ndim != 3 or label.ndim != 1:
            raise DatasetFileError("%s: %s must hold images (N, H, W) and %s labels (N,), got shapes %s and %s"
                                   % (type(self).__name__, images[0], labels[0], data.shape, label.shape))
        if data.shape[0] != label.shape[0]:
            raise DatasetFileError("%s: %d images but %d labels in %s" % (type(self).__name__, data.shape[0],
                                                                         label.shape[0], self._root))
        return array(data.reshape(data.shape + (1,)), dtype=np.uint8), label


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (10 kinds of clothing), a drop-in replacement of :class:`MNIST`.

    Default root ``$PSNET_DATA/fashion-mnist`` or ``~/.psnet/datasets/fashion-mnist``.
    """

    _name = "fashion-mnist"
    _files = {
        "train": (("train-images-idx3-ubyte.gz", "0cf37b0d40ed5169c6b3aba31069a9770ac9043d", None),
                  ("train-labels-idx1-ubyte.gz", "236021d52f1e40852b06a4c3008d8de8aef1e40b", None)),
        "test": (("t10k-images-idx3-ubyte.gz", "626ed6a7c06dd17c0eec72fa3be1740f146a2863", None),
                 ("t10k-labels-idx1-ubyte.gz", "17f9ab60e7257a1620f4ad76bbbaf857c3920701", None)),
    }
    _mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)


class CIFAR10(_DownloadedDataset):
    """CIFAR-10: images ``(32, 32, 3)`` uint8, labels int32 (0-9), from the binary version.

    The ``.bin`` batch files are read from ``root`` or ``root/cifar-10-batches-bin``;
    when missing, ``cifar-10-binary.tar.gz`` is downloaded, verified and extracted.
    """

    _name = "cifar10"
    _archive = ("cifar-10-binary.tar.gz", "fab780a1e191a7eda0f345501ccd62d20f7ed891")
    _subdir = "cifar-10-batches-bin"
    _train_files = (("data_batch_1.bin", "aadd24acce27caa71bf4b10992e9e7b2d74c2540"),
                    ("data_batch_2.bin", "c0ba65cce70568cd57b4e03e9ac8d2a5367c1795"),
                    ("data_batch_3.bin", "1dd00a74ab1d17a6e7d73e185b69dbf31242f295"),
                    ("data_batch_4.bin", "aab85764eb3584312d3c7f65fd2fd016e36a258e"),
                    ("data_batch_5.bin", "26e2849e66a845b7f1e4614ae70f4889ae604628"))
    _test_files = (("test_batch.bin", "67eb016db431130d61cd03c7ad570b013799c88c"),)
    _mirrors = ("https://www.cs.toronto.edu/~kriz/",)
    _label_bytes = 1

    def __init__(self, root=None, train=True, transform=None):
        self._train = train
        super().__init__(_root(root, self._name), transform)

    def _label_column(self):
        return 0

    def _find(self, fname):
        for d in (self._root, storage.join(self._root, self._subdir)):
            if storage.exists(storage.join(d, fname)):
                return storage.join(d, fname)
        return None

    def _files_present(self, files):
        return all(self._find(f) is not None for f, _ in files)

    def _fetch_archive(self):
        urls = [get_repo_file_url("gluon/dataset/" + self._name, self._archive[0])]
        urls += [m + self._archive[0] for m in self._mirrors]
        path = os.path.join(self._root, self._archive[0])
        _obtain(self._root, self._archive[0], self._archive[1], urls, type(self).__name__)
        with tarfile.open(path) as tar:
            tar.extractall(self._root, filter="data")

    def _get_data(self):
        files = self._train_files if self._train else self._test_files
        if not self._files_present(files):
            self._fetch_archive()
        record = self._label_bytes + 3072
        data, label = [], []
        for fname, _ in files:
            path = self._find(fname)
            with storage.open_uri(path, "rb") as f:
                raw = np.frombuffer(f.read(), dtype=np.uint8)
            if raw.size % record:
                raise DatasetFileError("%s: %s holds %d bytes, not a multiple of the %d-byte record"
                                       % (type(self).__name__, path, raw.size, record))
            raw = raw.reshape(-1, record)
            data.append(raw[:, self._label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            label.append(raw[:, self._label_column()].astype(np.int32))
        return array(np.concatenate(data), dtype=np.uint8), np.concatenate(label)


class CIFAR100(CIFAR10):
    """CIFAR-100, read like :class:`CIFAR10`.

    ``fine_label=True`` gives the 100 fine classes, else the 20 coarse ones.
    """

    _name = "cifar100"
    _archive = ("cifar-100-binary.tar.gz", "a0bb982c76b83111308126cc779a992fa506b90b")
    _subdir = "cifar-100-binary"
    _train_files = (("train.bin", "e207cd2e05b73b1393c74c7f5e7bea451d63e08e"),)
    _test_files = (("test.bin", "8fb6623e830365ff53cf14adec797474f5478006"),)
    _label_bytes = 2

    def __init__(self, root=None, fine_label=False, train=True, transform=None):
        self._fine_label = fine_label
        super().__init__(root, train, transform)

    def _label_column(self):
        return 1 if self._fine_label else 0


class ImageFolderDataset(Dataset):
    """Images in ``root/<class name>/*.jpg|jpeg|png``; labels are class indices in sorted order.

    ``flag=1`` loads 3-channel RGB ``(H, W, 3)``, ``flag=0`` greyscale ``(H, W, 1)``
    uint8 NDArrays.  ``synsets`` lists the class names; ``items`` the ``(path, label)``
    pairs.  Decoding uses Pillow (an optional dependency, imported on first use).
    """

    _exts = (".jpg", ".jpeg", ".png")

    def __init__(self, root, flag=1, transform=None):
        self._root = storage.expanduser(root)
        self._flag = flag
        self._transform = transform
        self.synsets = []
        self.items = []
        for folder in sorted(storage.listdir(self._root)):
            path = storage.join(self._root, folder)
            if not storage.isdir(path):
                warnings.warn("Ignoring %s, which is not a directory." % path, stacklevel=2)
                continue
            label = len(self.synsets)
            self.synsets.append(folder)
            for filename in sorted(storage.listdir(path)):
                if os.path.splitext(filename)[1].lower() not in self._exts:
                    warnings.warn("Ignoring %s of type %s. Only support %s"
                                  % (filename, os.path.splitext(filename)[1], ", ".join(self._exts)))
                    continue
                self.items.append((storage.join(path, filename), label))

    def __getitem__(self, idx):
        path, label = self.items[idx]
        img = _load_image(path, self._flag)
        if self._transform is not None:
            return self._transform(img, label)
        return img, label

    def __len__(self):
        return len(self.items)


def _load_image(path, flag):
    """An image file as a uint8 NDArray (H, W, 3) for flag=1 or (H, W, 1) for flag=0."""
    try:
        from PIL import Image
    except ImportError:
        raise NotSupportedError("reading %s needs Pillow, an optional dependency of psnet: "
                                "pip install Pillow" % path) from None
    with storage.open_uri(path, "rb") as f, Image.open(f) as im:
        pixels = np.asarray(im.convert("RGB" if flag else "L"), dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return array(pixels, dtype=np.uint8)


from .record import ImageRecordDataset  # noqa: E402  (MXNet lists it among the datasets too)
