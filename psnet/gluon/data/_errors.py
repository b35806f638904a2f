"""Errors of the data pipeline (all :class:`psnet.base.MXNetError`)."""
from ...base import MXNetError

__all__ = ["DataLoaderError", "WorkerError", "WorkerTimeoutError"]


class DataLoaderError(MXNetError, ValueError):
    """Invalid arguments to a DataLoader, sampler or dataset."""


class WorkerError(MXNetError, RuntimeError):
    """A DataLoader worker failed: an exception in the dataset/batchify code, or it died."""


class WorkerTimeoutError(WorkerError, TimeoutError):
    """A DataLoader worker did not deliver a batch within ``timeout`` seconds."""
