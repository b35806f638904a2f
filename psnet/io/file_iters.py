"""Iterators over files: CSVIter (comma-separated values) and MNISTIter (IDX files)."""
import numpy as np

from ..base import normalize_dtype
from ..ndarray import array
from .base import DataBatch, DataDesc, DataIter, IteratorError
from .idx import read_idx

__all__ = ["CSVIter", "MNISTIter"]


def _read_csv(path, dtype, shape, what):
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as e:
        raise IteratorError("CSVIter: cannot read %s %s: %s" % (what, path, e)) from None
    width = int(np.prod(shape))
    if table.shape[1] != width:
        raise IteratorError("CSVIter: rows of %s %s have %d values but %s_shape %s needs %d"
                            % (what, path, table.shape[1], what, tuple(shape), width))
    return table.astype(dtype).reshape((-1,) + tuple(shape))


class _BatchedArrays(DataIter):
    """Batches of in-memory data/label arrays with a fixed batch shape (the C++ iterators' behaviour)."""

    def __init__(self, data, label, batch_size, data_name, label_name):
        super().__init__(batch_size)
        self._data, self._label = data, label
        self._data_name, self._label_name = data_name, label_name
        self._cursor = 0

    @property
    def provide_data(self):
        """DataDesc of the data batches."""
        return [DataDesc(self._data_name, (self.batch_size,) + self._data.shape[1:], self._data.dtype.type)]

    @property
    def provide_label(self):
        """DataDesc of the label batches."""
        return [DataDesc(self._label_name, (self.batch_size,) + self._label.shape[1:], self._label.dtype.type)]

    def _batch(self, data, label, pad):
        return DataBatch([array(data, dtype=data.dtype)], [array(label, dtype=label.dtype)], pad=pad)


class CSVIter(_BatchedArrays):
    """Batches read from CSV files: each row of ``data_csv`` is one sample of ``data_shape``.

    Labels come from ``label_csv`` (one row per sample, ``label_shape``) or are zeros.
    ``round_batch=True`` completes the last batch with samples from the beginning (and
    the next epoch starts after them); ``round_batch=False`` reports the missing
    samples in ``pad`` and leaves the previous batch's values in those rows.
    """

    def __init__(self, data_csv, data_shape, label_csv=None, label_shape=(1,), batch_size=1,
                 round_batch=True, dtype="float32", data_name="data", label_name="softmax_label",
                 prefetch_buffer=4, **kwargs):
        dt = normalize_dtype(dtype)
        data = _read_csv(data_csv, dt, data_shape, "data")
        if label_csv is None:
            label = np.zeros((data.shape[0],) + tuple(label_shape), dtype=dt)
        else:
            label = _read_csv(label_csv, dt, label_shape, "label")
            if label.shape[0] != data.shape[0]:
                raise IteratorError("CSVIter: %s has %d rows but %s has %d"
                                    % (data_csv, data.shape[0], label_csv, label.shape[0]))
        if tuple(label_shape) == (1,):
            label = label.reshape(-1)
        super().__init__(data, label, batch_size, data_name, label_name)
        self._round_batch = round_batch
        self._start = 0
        self._buffers = (np.zeros((batch_size,) + data.shape[1:], dt),
                         np.zeros((batch_size,) + label.shape[1:], dt))

    def reset(self):
        """Start the next epoch (after the samples that completed the last batch, with round_batch)."""
        self._cursor = self._start
        self._start = 0

    def next(self):
        """The next DataBatch."""
        n, bs = self._data.shape[0], self.batch_size
        if self._cursor >= n:
            raise StopIteration
        take = min(bs, n - self._cursor)
        rows = slice(self._cursor, self._cursor + take)
        self._cursor += take
        pad = bs - take
        if pad and self._round_batch:
            wrap = np.arange(pad) % n
            self._start = pad % n
            return self._batch(np.concatenate([self._data[rows], self._data[wrap]]),
                               np.concatenate([self._label[rows], self._label[wrap]]), pad)
        data_buf, label_buf = self._buffers
        data_buf[:take] = self._data[rows]
        label_buf[:take] = self._label[rows]
        return self._batch(data_buf.copy(), label_buf.copy(), pad)


class MNISTIter(_BatchedArrays):
    """Batches of MNIST from the IDX files ``image`` and ``label`` (gzip-compressed or raw).

    Images are float32 scaled by 1/256 (as MXNet's MNISTIter), shaped
    ``(batch, 1, 28, 28)`` or ``(batch, 784)`` with ``flat=True``; labels are float32.
    Only full batches are produced.  ``shuffle`` permutes the samples once, with a
    generator seeded by ``seed`` (the order differs from MXNet's C++ generator).
    ``num_parts`` / ``part_index`` select one contiguous part (for distributed training).
    """

    def __init__(self, image, label, batch_size=128, shuffle=True, flat=False, seed=0, silent=False,
                 num_parts=1, part_index=0, data_name="data", label_name="softmax_label", **kwargs):
        images = read_idx(image)
        labels = read_idx(label)
        if images.shape[0] != labels.shape[0]:
            raise IteratorError("MNISTIter: %s has %d images but %s has %d labels"
                                % (image, images.shape[0], label, labels.shape[0]))
        if not 0 <= part_index < num_parts:
            raise IteratorError("MNISTIter: part_index %d out of range for num_parts %d" % (part_index, num_parts))
        n = images.shape[0]
        lo, hi = n * part_index // num_parts, n * (part_index + 1) // num_parts
        images, labels = images[lo:hi], labels[lo:hi]
        if shuffle:
            order = np.random.RandomState(seed).permutation(images.shape[0])
            images, labels = images[order], labels[order]
        shape = (-1, int(np.prod(images.shape[1:]))) if flat else (-1, 1) + images.shape[1:]
        data = images.reshape(shape).astype(np.float32) * np.float32(1.0 / 256)
        super().__init__(data, labels.astype(np.float32), batch_size, data_name, label_name)

    def reset(self):
        """Go back to the first batch."""
        self._cursor = 0

    def next(self):
        """The next full DataBatch."""
        end = self._cursor + self.batch_size
        if end > self._data.shape[0]:
            raise StopIteration
        rows = slice(self._cursor, end)
        self._cursor = end
        return self._batch(self._data[rows], self._label[rows], 0)
