"""DataLoader worker processes: shared-memory hand-over, ordering, errors, timeouts, no leaks."""
import gc
import glob
import mmap
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import psnet as mx
from psnet.gluon.data import ArrayDataset, DataLoader, Dataset, WorkerError, WorkerTimeoutError
from psnet.gluon.data._worker import decode_batch, encode_batch

pytestmark = pytest.mark.timeout(60)


def _alive(pid):
    """Whether a process with this pid exists and is not a zombie (read from /proc)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pids, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _our_shm_files():
    return glob.glob("/dev/shm/psnet_dl_%d_*" % os.getpid())


class _Slow(Dataset):
    def __init__(self, delay):
        self.delay = delay

    def __len__(self):
        return 8

    def __getitem__(self, i):
        time.sleep(self.delay)
        return np.float32(i)


class _Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError("sample 5 is broken")
        return np.float32(i)


def test_codec_round_trip_is_zero_copy(tmp_path):
    batch = [mx.nd.array(np.arange(6).reshape(2, 3), dtype="float32"), np.arange(3, dtype=np.int64),
             (mx.nd.array([1, 2], dtype="uint8"), "tag", mx.nd.zeros((0, 2)))]
    path = str(tmp_path / "batch")
    meta = encode_batch(batch, path)
    out = decode_batch(meta, mx.cpu())
    assert not os.path.exists(path)  # unlinked as soon as it is mapped
    assert isinstance(out[0], mx.nd.NDArray) and out[0].asnumpy().tolist() == [[0, 1, 2], [3, 4, 5]]
    assert isinstance(out[1], np.ndarray) and out[1].dtype == np.int64
    assert out[2][0].dtype == np.uint8 and out[2][1] == "tag" and out[2][2].shape == (0, 2)
    base = out[0].handle
    while getattr(base, "base", None) is not None:
        base = base.base
    assert isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)  # a view of the mapped file


def test_workers_match_single_process_and_exit_when_exhausted():
    x = np.random.rand(103, 4).astype(np.float32)
    ds = ArrayDataset(x, np.arange(103, dtype=np.int32)).transform_first(lambda v: v * 3)
    single = [b[0].asnumpy() for b in DataLoader(ds, batch_size=10)]
    it = iter(DataLoader(ds, batch_size=10, num_workers=2, prefetch=3))
    pids = it.worker_pids
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    multi = [(b[0].asnumpy(), b[1].asnumpy()) for b in it]
    assert len(multi) == 11
    for (d, l), s, start in zip(multi, single, range(0, 103, 10)):
        np.testing.assert_allclose(d, s)
        assert l.tolist() == list(range(start, min(start + 10, 103)))
    assert _wait_gone(pids) == []
    assert _our_shm_files() == []


def test_break_and_garbage_collection_stop_workers():
    ds = ArrayDataset(np.random.rand(400, 8).astype(np.float32))
    it = iter(DataLoader(ds, batch_size=4, num_workers=2))
    pids = it.worker_pids
    for _ in it:
        break
    del it
    gc.collect()
    assert _wait_gone(pids) == []
    assert _our_shm_files() == []


def test_worker_exception_is_raised_with_traceback():
    it = iter(DataLoader(_Failing(), batch_size=2, num_workers=2))
    pids = it.worker_pids
    with pytest.raises(WorkerError, match="sample 5 is broken"):
        list(it)
    assert _wait_gone(pids) == []


def test_timeout_gives_clear_error():
    it = iter(DataLoader(_Slow(2.0), batch_size=2, num_workers=1, timeout=0.3))
    pids = it.worker_pids
    with pytest.raises(WorkerTimeoutError, match="timeout=0.3"):
        next(it)
    assert _wait_gone(pids) == []


def test_killed_worker_is_reported():
    it = iter(DataLoader(_Slow(0.2), batch_size=2, num_workers=2, timeout=20))
    pids = it.worker_pids
    os.kill(pids[0], signal.SIGKILL)
    with pytest.raises(WorkerError, match="died"):
        list(it)
    assert _wait_gone(pids) == []


def test_no_worker_outlives_the_interpreter():
    script = textwrap.dedent("""
        import sys, numpy as np
        sys.path.insert(0, %r)
        import psnet as mx
        ds = mx.gluon.data.ArrayDataset(np.zeros((1000, 4), np.float32))
        it = iter(mx.gluon.data.DataLoader(ds, batch_size=2, num_workers=2))
        next(it)
        print(*it.worker_pids, flush=True)
        # exit with the iterator alive: the atexit hook must stop the workers
    """) % os.getcwd()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    pids = [int(p) for p in proc.stdout.split()]
    assert len(pids) == 2
    assert _wait_gone(pids) == []


class _Noise(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.float32(np.random.rand())


def test_workers_draw_different_random_numbers():
    batches = [b.asnumpy().tolist() for b in DataLoader(_Noise(), batch_size=4, num_workers=2)]
    assert len(batches) == 2 and batches[0] != batches[1]  # each worker has its own seed


def test_workers_read_mnist(mnist_dir):
    ds = mx.gluon.data.vision.MNIST(root=mnist_dir, train=False)
    tf = ds.transform_first(lambda d: d.astype("float32") / 255)
    single = next(iter(DataLoader(tf, batch_size=64)))
    multi = next(iter(DataLoader(tf, batch_size=64, num_workers=2)))
    np.testing.assert_array_equal(single[0].asnumpy(), multi[0].asnumpy())
    assert multi[0].shape == (64, 28, 28, 1) and multi[1].dtype == np.int32
