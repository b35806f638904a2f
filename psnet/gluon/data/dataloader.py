"""DataLoader: batches from a Dataset, in the main process, in threads or in worker processes."""
import collections
import concurrent.futures

import numpy as np

from ...context import cpu, cpu_pinned, current_context
from ...ndarray import NDArray, from_backend
from ...ndarray.ndarray import as_in_context_nested
from . import sampler as _sampler
from ._errors import DataLoaderError, WorkerTimeoutError
from ._worker import ProcessBatchIter

__all__ = ["DataLoader", "default_batchify_fn", "default_mp_batchify_fn"]


def _stack(data):
    """Stack samples into a tree of ``(backend array, ctx or None)`` leaves."""
    first = data[0]
    if isinstance(first, NDArray):
        return (first.context.backend.xp.stack([x._data for x in data]), first.context)
    if isinstance(first, tuple):
        return [_stack(list(column)) for column in zip(*data)]
    return (np.asarray(data), None)


def _to_nd(tree):
    if isinstance(tree, list):
        return [_to_nd(t) for t in tree]
    arr, ctx = tree
    if ctx is None:
        ctx = current_context()
        arr = ctx.backend.from_numpy(arr)
    return from_backend(arr, ctx)


def default_batchify_fn(data):
    """Stack a list of samples into a batch.

    NDArray samples are stacked on their context; tuples are batchified element-wise
    into a list; anything else goes through ``numpy.asarray`` and keeps its dtype
    (Python ints give int64, floats float64, as in MXNet).
    """
    return _to_nd(_stack(data))


def default_mp_batchify_fn(data):
    """The batchify function of worker processes: :func:`default_batchify_fn` on ``cpu(0)``.

    The workers hand the arrays to the main process through shared memory.
    """
    with cpu():
        return default_batchify_fn(data)


class _Fetcher:
    """Reads the samples at some indices and batchifies them (in this process or in a worker)."""

    def __init__(self, dataset, batchify_fn, default_fn):
        self._dataset = dataset
        self._batchify_fn = batchify_fn
        self._default_fn = default_fn

    def __call__(self, indices):
        if self._batchify_fn is None:
            fast = getattr(self._dataset, "_fetch_batch", None)
            batch = fast(indices) if fast is not None else None
            if batch is not None:
                return batch
            samples = [self._dataset[i] for i in indices]
            return self._default_fn(samples)
        return self._batchify_fn([self._dataset[i] for i in indices])


class _ThreadBatchIter:
    """Batches made by a thread pool, at most ``prefetch`` in flight, delivered in order."""

    def __init__(self, fetch, batch_sampler, num_workers, prefetch, timeout):
        self._fetch = fetch
        self._timeout = timeout
        self._batches = iter(batch_sampler)
        self._pool = concurrent.futures.ThreadPoolExecutor(num_workers, thread_name_prefix="psnet-data")
        self._pending = collections.deque()
        for _ in range(max(1, prefetch)):
            self._submit_next()

    def _submit_next(self):
        indices = next(self._batches, None)
        if indices is not None:
            self._pending.append(self._pool.submit(self._fetch, indices))

    def __iter__(self):
        return self

    def __next__(self):
        if not self._pending:
            self.shutdown()
            raise StopIteration
        future = self._pending.popleft()
        try:
            batch = future.result(self._timeout)
        except concurrent.futures.TimeoutError:
            self.shutdown()
            raise WorkerTimeoutError("DataLoader thread did not deliver a batch within timeout=%s seconds"
                                     % self._timeout) from None
        self._submit_next()
        return batch

    next = __next__

    def shutdown(self):
        """Cancel the batches in flight and stop the threads."""
        for f in self._pending:
            f.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=False)

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            self.shutdown()


class DataLoader:
    """Loads batches from a :class:`Dataset` (``mx.gluon.data.DataLoader``).

    Parameters
    ----------
    dataset : Dataset
        Samples are ``dataset[i]``.
    batch_size : int
        Samples per batch (required unless ``batch_sampler`` is given).
    shuffle : bool
        Visit the samples in a new random order each epoch.
    sampler : Sampler
        Where the indices come from (exclusive with ``shuffle``).
    last_batch : {'keep', 'discard', 'rollover'}
        What to do with a short last batch (default ``'keep'``).
    batch_sampler : Sampler
        Yields whole batches of indices (exclusive with the four arguments above).
    batchify_fn : callable
        Turns a list of samples into a batch; default :func:`default_batchify_fn`.
    num_workers : int
        0 reads in this process; more uses that many worker processes (or threads with
        ``thread_pool=True``) which hand batches back through shared memory.
    pin_memory : bool
        Put batches on ``cpu_pinned(pin_device_id)`` (for fast copies to a GPU).
    prefetch : int
        Batches in flight with workers; default ``2 * num_workers``.
    thread_pool : bool
        Use threads instead of processes.
    timeout : float
        Seconds to wait for one batch from a worker before raising
        :class:`~psnet.gluon.data.WorkerTimeoutError`.
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None,
                 batch_sampler=None, batchify_fn=None, num_workers=0, pin_memory=False,
                 pin_device_id=0, prefetch=None, thread_pool=False, timeout=120, try_nopython=None):
        self._dataset = dataset
        self._pin_memory = pin_memory
        self._pin_device_id = pin_device_id
        self._thread_pool = thread_pool
        self._timeout = timeout
        if batch_sampler is None:
            if batch_size is None:
                raise DataLoaderError("batch_size must be specified unless batch_sampler is specified")
            if sampler is None:
                sampler = (_sampler.RandomSampler if shuffle else _sampler.SequentialSampler)(len(dataset))
            elif shuffle:
                raise DataLoaderError("shuffle must not be specified if sampler is specified")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size, last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise DataLoaderError("batch_size, shuffle, sampler and last_batch must not be specified if "
                                  "batch_sampler is specified.")
        self._batch_sampler = batch_sampler
        if num_workers < 0:
            raise DataLoaderError("num_workers must be >= 0, got %r" % (num_workers,))
        self._num_workers = num_workers
        self._prefetch = max(0, int(prefetch) if prefetch is not None else 2 * num_workers)
        self._batchify_fn = batchify_fn

    def __iter__(self):
        if self._num_workers == 0:
            return self._same_process_iter()
        if self._thread_pool:
            fetch = _Fetcher(self._dataset, self._batchify_fn, default_batchify_fn)
            it = _ThreadBatchIter(fetch, self._batch_sampler, self._num_workers, self._prefetch, self._timeout)
            return self._pinned(it) if self._pin_memory else it
        ctx = cpu_pinned(self._pin_device_id) if self._pin_memory else None
        fetch = _Fetcher(self._dataset, self._batchify_fn, default_mp_batchify_fn)
        return ProcessBatchIter(fetch, self._batch_sampler, self._num_workers, self._prefetch, self._timeout, ctx)

    def _same_process_iter(self):
        fetch = _Fetcher(self._dataset, self._batchify_fn, default_batchify_fn)
        for indices in self._batch_sampler:
            batch = fetch(indices)
            yield as_in_context_nested(batch, cpu_pinned(self._pin_device_id)) if self._pin_memory else batch

    def _pinned(self, it):
        ctx = cpu_pinned(self._pin_device_id)
        for batch in it:
            yield as_in_context_nested(batch, ctx)

    def __len__(self):
        return len(self._batch_sampler)
