"""``mx.gluon.data``: datasets, samplers and the DataLoader.

``mx.gluon.data.vision`` (MNIST, FashionMNIST, CIFAR10/100, ImageFolderDataset and the
transforms) loads on first use.
"""
import importlib as _importlib

from .dataset import Dataset, SimpleDataset, ArrayDataset
from .sampler import Sampler, SequentialSampler, RandomSampler, BatchSampler, FilterSampler
from .dataloader import DataLoader, default_batchify_fn, default_mp_batchify_fn
from ._errors import DataLoaderError, WorkerError, WorkerTimeoutError
from .record import RecordFileDataset

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset", "Sampler", "SequentialSampler", "RandomSampler",
           "BatchSampler", "FilterSampler", "DataLoader", "default_batchify_fn",
           "default_mp_batchify_fn", "DataLoaderError", "WorkerError", "WorkerTimeoutError", "vision",
           "RecordFileDataset"]


def __getattr__(name):
    if name == "vision":
        mod = _importlib.import_module(".vision", __name__)
        globals()[name] = mod
        return mod
    raise AttributeError("module 'psnet.gluon.data' has no attribute %r" % (name,))
