"""The data iterator protocol of the classic APIs: DataDesc, DataBatch, DataIter."""
from collections import namedtuple

import numpy as np

from ..base import MXNetError

__all__ = ["DataDesc", "DataBatch", "DataIter", "IteratorError"]


class IteratorError(MXNetError, ValueError):
    """Invalid arguments or input data for a data iterator."""


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """Name, shape, dtype and layout of one input: ``DataDesc('data', (128, 784))``.

    It is a ``(name, shape)`` tuple, so code that unpacks ``provide_data`` as pairs
    keeps working.
    """

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        ret = super().__new__(cls, name, shape)
        ret.dtype = dtype
        ret.layout = layout
        return ret

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, self.dtype, self.layout)

    @staticmethod
    def get_batch_axis(layout):
        """The position of 'N' in ``layout`` (0 when the layout is None)."""
        if layout is None:
            return 0
        return layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        """DataDescs from ``[(name, shape)]`` and an optional ``[(name, dtype)]``."""
        if types is not None:
            type_dict = dict(types)
            return [DataDesc(x[0], x[1], type_dict[x[0]]) for x in shapes]
        return [DataDesc(x[0], x[1]) for x in shapes]


class DataBatch:
    """One batch: lists of data and label NDArrays, the padding count and optional index."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None,
                 provide_data=None, provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise IteratorError("DataBatch: data must be a list of NDArrays, got %s" % type(data).__name__)
        if label is not None and not isinstance(label, (list, tuple)):
            raise IteratorError("DataBatch: label must be a list of NDArrays, got %s" % type(label).__name__)
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [l.shape for l in self.label] if self.label else None
        return "%s: data shapes: %s label shapes: %s" % (type(self).__name__, data_shapes, label_shapes)


class DataIter:
    """Base class of data iterators.

    Subclasses implement ``reset`` and either ``next`` or the quartet ``iter_next`` /
    ``getdata`` / ``getlabel`` / ``getpad``; ``provide_data`` and ``provide_label`` list
    the :class:`DataDesc` of the batches.
    """

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        """Go back to the beginning of the data."""

    def next(self):
        """The next :class:`DataBatch`; raises StopIteration at the end."""
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(),
                             index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self):
        """Move to the next batch; False at the end."""
        raise NotImplementedError("%s must implement iter_next or next" % type(self).__name__)

    def getdata(self):
        """The data NDArrays of the current batch."""
        raise NotImplementedError("%s must implement getdata or next" % type(self).__name__)

    def getlabel(self):
        """The label NDArrays of the current batch."""
        raise NotImplementedError("%s must implement getlabel or next" % type(self).__name__)

    def getindex(self):
        """The sample indices of the current batch, or None."""
        return None

    def getpad(self):
        """How many samples at the end of the current batch are padding."""
        raise NotImplementedError("%s must implement getpad or next" % type(self).__name__)
