"""``mx.io``: the data iterators of the classic (Module / Symbol) APIs.

:class:`DataIter` is the protocol user-written iterators follow; :class:`NDArrayIter`
iterates over in-memory arrays, :class:`CSVIter` and :class:`MNISTIter` over files,
:class:`ResizeIter` and :class:`PrefetchingIter` wrap other iterators.
"""
from .base import DataDesc, DataBatch, DataIter, IteratorError
from .ndarray_iter import NDArrayIter
from .wrappers import ResizeIter, PrefetchingIter
from .file_iters import CSVIter, MNISTIter
from .image_record_iter import ImageRecordIter

__all__ = ["DataDesc", "DataBatch", "DataIter", "IteratorError", "NDArrayIter", "ResizeIter",
           "PrefetchingIter", "CSVIter", "MNISTIter", "ImageRecordIter"]
