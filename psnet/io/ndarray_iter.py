"""NDArrayIter: batches from in-memory arrays, with MXNet 1.x's shuffling and last-batch rules."""
from collections import OrderedDict

import numpy as np

from ..ndarray import NDArray, array, from_backend
from .base import DataBatch, DataDesc, DataIter, IteratorError

__all__ = ["NDArrayIter"]


def _init_data(data, allow_empty, default_name):
    """Inputs as a name-sorted list of ``(name, NDArray)`` (NumPy input becomes float32 by default)."""
    if data is None:
        data = []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, list):
        if not allow_empty and not data:
            raise IteratorError("NDArrayIter needs at least one data array")
        if len(data) == 1:
            data = OrderedDict([(default_name, data[0])])
        else:
            data = OrderedDict([("_%d_%s" % (i, default_name), d) for i, d in enumerate(data)])
    if not isinstance(data, dict):
        raise IteratorError("NDArrayIter input must be an NDArray, numpy.ndarray, a list of them or a dict "
                            "with them as values, got %s" % type(data).__name__)
    out = []
    for name, value in data.items():
        if not isinstance(value, NDArray):
            try:
                value = array(value, dtype=np.float32)
            except Exception as e:
                raise IteratorError("NDArrayIter input %r (a %s) cannot be turned into an NDArray: %s"
                                    % (name, type(value).__name__, e)) from None
        out.append((name, value))
    return sorted(out, key=lambda kv: kv[0])


def _concat(first, second):
    return [from_backend(a.context.backend.xp.concatenate([a._data, b._data]), a.context)
            for a, b in zip(first, second)]


class NDArrayIter(DataIter):
    """Iterate over NDArrays / NumPy arrays (or lists or dicts of them) in batches.

    ``last_batch_handle``: ``'pad'`` fills the last batch from the start of the data
    (``pad`` says how many), ``'discard'`` drops it, ``'roll_over'`` carries its samples
    into the first batch of the next epoch.  ``shuffle`` draws a new order from
    ``numpy.random`` at construction and at every ``reset()``.
    """

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad",
                 data_name="data", label_name="softmax_label"):
        super().__init__(batch_size)
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise IteratorError("last_batch_handle must be 'pad', 'discard' or 'roll_over', got %r"
                                % (last_batch_handle,))
        self.data = _init_data(data, allow_empty=False, default_name=data_name)
        self.label = _init_data(label, allow_empty=True, default_name=label_name)
        n = self.data[0][1].shape[0]
        for name, arr in self.data + self.label:
            if arr.shape[0] != n:
                raise IteratorError("NDArrayIter: %r has %d samples but %r has %d"
                                    % (self.data[0][0], n, name, arr.shape[0]))
        if batch_size > n and last_batch_handle == "discard":
            raise IteratorError("NDArrayIter: batch_size %d is larger than the %d samples with "
                                "last_batch_handle='discard'" % (batch_size, n))
        self.idx = np.arange(n)
        if last_batch_handle == "discard":
            self.idx = self.idx[:n - n % batch_size]
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.num_data = self.idx.shape[0]
        self.cursor = -batch_size
        self._cache_data = self._cache_label = None
        self.reset()
        self.data_list = [x[1] for x in self.data] + [x[1] for x in self.label]
        self.num_source = len(self.data_list)

    @property
    def provide_data(self):
        """DataDescs of the data arrays (batch_size first)."""
        return [DataDesc(k, (self.batch_size,) + tuple(v.shape[1:]), v.dtype) for k, v in self.data]

    @property
    def provide_label(self):
        """DataDescs of the label arrays (batch_size first)."""
        return [DataDesc(k, (self.batch_size,) + tuple(v.shape[1:]), v.dtype) for k, v in self.label]

    def _shuffle_data(self):
        np.random.shuffle(self.idx)
        take = self.idx
        self.data = [(k, from_backend(v._data[v.context.backend.from_numpy(take)], v.context))
                     for k, v in self.data]
        self.label = [(k, from_backend(v._data[v.context.backend.from_numpy(take)], v.context))
                      for k, v in self.label]

    def hard_reset(self):
        """Start over, dropping any rolled-over samples."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = self._cache_label = None

    def reset(self):
        """Start the next epoch (keeping the rolled-over samples with ``'roll_over'``)."""
        if self.shuffle:
            self._shuffle_data()
        if (self.last_batch_handle == "roll_over"
                and self.num_data - self.batch_size < self.cursor < self.num_data):
            self.cursor = self.cursor - self.num_data - self.batch_size
        else:
            self.cursor = -self.batch_size

    def iter_next(self):
        """Advance the cursor; False past the end."""
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self):
        """The next DataBatch (the short last batch of ``'roll_over'`` is kept for the next epoch)."""
        if not self.iter_next():
            raise StopIteration
        data = self.getdata()
        label = self.getlabel()
        if data[0].shape[0] != self.batch_size:
            self._cache_data, self._cache_label = data, label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    def _slice(self, source, start=0, end=None):
        return [v[start:(v.shape[0] if end is None else end)] for _, v in source]

    def _batchify(self, source, is_label):
        if self.cursor >= self.num_data:
            raise IteratorError("NDArrayIter needs reset(): the epoch is over")
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            cache = self._cache_label if is_label else self._cache_data
            if cache is None:
                raise IteratorError("NDArrayIter: no rolled-over samples cached for the first batch")
            if is_label:
                self._cache_label = None
            else:
                self._cache_data = None
            return _concat(cache, self._slice(source, end=self.cursor + self.batch_size))
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            pad = self.batch_size - self.num_data + self.cursor
            return _concat(self._slice(source, start=self.cursor), self._slice(source, end=pad))
        return self._slice(source, self.cursor, min(self.cursor + self.batch_size, self.num_data))

    def getdata(self):
        """The data NDArrays of the current batch."""
        return self._batchify(self.data, False)

    def getlabel(self):
        """The label NDArrays of the current batch."""
        return self._batchify(self.label, True)

    def getpad(self):
        """Padding samples in the current batch (``'pad'``), or rolled-over ones (``'roll_over'``)."""
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            return -self.cursor
        return 0
