"""Iterators wrapping other iterators: ResizeIter (fixed epoch length), PrefetchingIter (a thread)."""
import threading

from .base import DataBatch, DataDesc, DataIter

__all__ = ["ResizeIter", "PrefetchingIter"]


class _CurrentBatchIter(DataIter):
    """A wrapper whose batch accessors read ``self.current_batch`` (set by ``iter_next``)."""

    def getdata(self):
        """Data of the current batch."""
        return self.current_batch.data

    def getlabel(self):
        """Label of the current batch."""
        return self.current_batch.label

    def getindex(self):
        """Index of the current batch."""
        return self.current_batch.index

    def getpad(self):
        """Padding of the current batch."""
        return self.current_batch.pad


class ResizeIter(_CurrentBatchIter):
    """``size`` batches per epoch from ``data_iter``, restarting it when it runs out.

    ``reset_internal=False`` keeps the wrapped iterator's position across resets.
    """

    def __init__(self, data_iter, size, reset_internal=True):
        super().__init__(data_iter.batch_size)
        self.data_iter = data_iter
        self.size = size
        self.reset_internal = reset_internal
        self.cur = 0
        self.current_batch = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key

    def reset(self):
        """Start a new epoch of ``size`` batches."""
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        """Fetch the next batch, restarting the wrapped iterator at its end."""
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True



class _Prefetcher:
    """One background thread per iterator, each keeping the next batch ready.

    Kept apart from :class:`PrefetchingIter` so the threads do not keep the iterator
    alive: dropping the iterator stops them.
    """

    def __init__(self, iters):
        self.iters = iters
        self.running = True
        self.batches = [None] * len(iters)
        self.ready = [threading.Event() for _ in iters]
        self.taken = [threading.Event() for _ in iters]
        for e in self.taken:
            e.set()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True, name="psnet-prefetch-%d" % i)
                        for i in range(len(iters))]
        for t in self.threads:
            t.start()

    def _run(self, i):
        while True:
            self.taken[i].wait()
            if not self.running:
                return
            try:
                self.batches[i] = self.iters[i].next()
            except StopIteration:
                self.batches[i] = None
            except Exception as e:  # handed to the consumer, which raises it
                self.batches[i] = e
            self.taken[i].clear()
            self.ready[i].set()

    def take(self):
        """The next batch of every iterator (None at the end); raises what an iterator raised."""
        for e in self.ready:
            e.wait()
        batches = list(self.batches)
        for e in batches:
            if isinstance(e, Exception):
                raise e
        return batches

    def release(self):
        """Let the threads fetch the following batches."""
        for r, t in zip(self.ready, self.taken):
            r.clear()
            t.set()

    def reset(self):
        """Wait for the batches in flight, reset every iterator and prefetch again."""
        for e in self.ready:
            e.wait()
        for it in self.iters:
            it.reset()
        self.release()

    def stop(self):
        """Stop and join the threads."""
        self.running = False
        for e in self.taken:
            e.set()
        for t in self.threads:
            t.join(5.0)


class PrefetchingIter(_CurrentBatchIter):
    """Reads the next batch of one or more iterators in background threads.

    With several iterators a batch joins their data and label lists.  ``rename_data``
    / ``rename_label`` (one ``{old: new}`` dict per iterator) rename the inputs.
    """

    def __init__(self, iters, rename_data=None, rename_label=None):
        super().__init__()
        if not isinstance(iters, list):
            iters = [iters]
        self.iters = iters
        self.n_iter = len(iters)
        self.rename_data = rename_data
        self.rename_label = rename_label
        self.batch_size = self.provide_data[0][1][0]
        self.current_batch = None
        self._prefetcher = _Prefetcher(iters)

    def _descs(self, attr, rename):
        if rename is None:
            return sum([getattr(i, attr) for i in self.iters], [])
        return [DataDesc(r[x.name], x.shape, x.dtype) if isinstance(x, DataDesc) else DataDesc(r[x[0]], x[1])
                for r, i in zip(rename, self.iters) for x in getattr(i, attr)]

    @property
    def provide_data(self):
        """DataDescs of the joined (and renamed) data."""
        return self._descs("provide_data", self.rename_data)

    @property
    def provide_label(self):
        """DataDescs of the joined (and renamed) labels."""
        return self._descs("provide_label", self.rename_label)

    def reset(self):
        """Reset every wrapped iterator."""
        self._prefetcher.reset()

    def iter_next(self):
        """Take the prefetched batches; False when the iterators are exhausted."""
        batches = self._prefetcher.take()
        if batches[0] is None:
            return False
        self.current_batch = DataBatch(sum([b.data for b in batches], []),
                                       sum([b.label or [] for b in batches], []),
                                       batches[0].pad, batches[0].index,
                                       provide_data=self.provide_data, provide_label=self.provide_label)
        self._prefetcher.release()
        return True

    def next(self):
        """The next joined DataBatch."""
        if self.iter_next():
            return self.current_batch
        raise StopIteration

    def close(self):
        """Stop the prefetching threads."""
        self._prefetcher.stop()

    def __del__(self):
        prefetcher = getattr(self, "_prefetcher", None)
        if prefetcher is not None:
            prefetcher.stop()
