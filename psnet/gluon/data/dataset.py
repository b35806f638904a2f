"""Datasets: indexable collections of samples (``mx.gluon.data.Dataset`` and friends).

A dataset needs only ``__getitem__`` and ``__len__``.  ``transform`` /
``transform_first`` wrap it with a per-sample function, lazily (applied on access) or
eagerly; ``filter``, ``take``, ``shard`` and ``sample`` give views on a subset.
"""
import numpy as np

from ...base import MXIndexError, ShapeError
from ...ndarray import NDArray, array

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset"]


class Dataset:
    """Abstract dataset: subclasses implement ``__getitem__(idx)`` and ``__len__()``."""

    def __getitem__(self, idx):
        raise NotImplementedError("%s must implement __getitem__" % type(self).__name__)

    def __len__(self):
        raise NotImplementedError("%s must implement __len__" % type(self).__name__)

    def filter(self, fn):
        """A dataset of the samples for which ``fn(sample)`` is true."""
        from .sampler import FilterSampler
        return _SampledDataset(self, FilterSampler(fn, self))

    def shard(self, num_shards, index):
        """Shard ``index`` of ``num_shards`` contiguous, near-equal parts (the first ones one longer)."""
        if not 0 <= index < num_shards:
            raise MXIndexError("shard index %d out of range for %d shards" % (index, num_shards))
        length = len(self)
        base, extra = divmod(length, num_shards)
        start = index * base + min(index, extra)
        end = start + base + (1 if index < extra else 0)
        return _SampledDataset(self, range(start, end))

    def take(self, count):
        """The first ``count`` samples (all of them when ``count`` is None or too large)."""
        if count is None or count > len(self):
            count = len(self)
        return _SampledDataset(self, range(count))

    def sample(self, sampler):
        """The samples at the indices ``sampler`` yields, in that order."""
        return _SampledDataset(self, sampler)

    def transform(self, fn, lazy=True):
        """A dataset whose samples are ``fn(*sample)`` (``fn(sample)`` for non-tuple samples).

        ``lazy=False`` applies ``fn`` to every sample now and keeps the results.
        """
        trans = _LazyTransformDataset(self, fn)
        if lazy:
            return trans
        return SimpleDataset([trans[i] for i in range(len(trans))])

    def transform_first(self, fn, lazy=True):
        """Like :meth:`transform`, applied to the first element of each sample only (the data)."""
        return self.transform(_TransformFirstClosure(fn), lazy)


class SimpleDataset(Dataset):
    """A dataset wrapping any object with ``__getitem__`` and ``__len__`` (a list, an array)."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class _SampledDataset(Dataset):
    """The samples of ``dataset`` at the indices of ``sampler`` (materialised once)."""

    def __init__(self, dataset, sampler):
        self._dataset = dataset
        self._indices = list(sampler)

    def __len__(self):
        return len(self._indices)

    def __getitem__(self, idx):
        return self._dataset[self._indices[idx]]


class _LazyTransformDataset(Dataset):
    """``fn`` applied to each sample of ``data`` when it is read."""

    def __init__(self, data, fn):
        self._data = data
        self._fn = fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)


class _TransformFirstClosure:
    """``fn`` applied to the first element of a sample (a picklable callable, for workers)."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        if args:
            return (self._fn(x),) + args
        return self._fn(x)


class ArrayDataset(Dataset):
    """Samples zipped from arrays of equal length: ``dataset[i] = (a[i], b[i], ...)``.

    With one array a sample is that array's element, not a 1-tuple.  1-D NDArrays are
    kept as NumPy arrays, so their elements are scalars (as in MXNet).
    """

    def __init__(self, *args):
        if not args:
            raise ShapeError("ArrayDataset needs at least one array")
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            if len(data) != self._length:
                raise ShapeError("ArrayDataset: all arrays must have the same length; array 0 has "
                                 "length %d but array %d has length %d" % (self._length, i, len(data)))
            if isinstance(data, NDArray) and data.ndim == 1:
                data = data.asnumpy()
            self._data.append(data)

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)

    def __len__(self):
        return self._length

    def _fetch_batch(self, indices):
        """The batch ``default_batchify_fn`` would make of these samples, by one gather per array.

        Returns None when an array is not a NumPy array or NDArray (then samples are read
        one by one).  :class:`~psnet.gluon.data.DataLoader` uses this fast path.
        """
        if not all(isinstance(d, (NDArray, np.ndarray)) for d in self._data):
            return None
        idx = np.asarray(indices, dtype=np.int64)
        out = [_gather(d, idx) for d in self._data]
        return out[0] if len(out) == 1 else out


def _gather(data, idx):
    """``data[idx]`` as a new NDArray (``data`` a NumPy array or NDArray, ``idx`` int64)."""
    if isinstance(data, NDArray):
        return data[idx]
    return array(data[idx], dtype=data.dtype)
