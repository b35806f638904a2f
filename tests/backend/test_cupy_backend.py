"""psnet's GPU code paths (the real CupyBackend) on the fake CuPy of tests/backend/fake_cupy.py.

The double simulates two devices and is strict where CuPy is: implicit device-to-host
conversion, host arrays mixed into device ops and arrays used on a device other than
the current one all raise, so these tests catch host/device mix-ups without a GPU.
"""
import numpy as np
import pytest

import psnet as mx
from psnet.backend import cupy_backend
from psnet.base import ContextError


def _device_of(nd):
    """The fake device id holding an NDArray's data."""
    return nd._data._dev


# ---------------------------------------------------------------- availability and errors
def test_without_cupy_gpu_says_cupy_is_missing_and_how_to_install(no_cupy):
    assert mx.context.num_gpus() == 0
    with pytest.raises(ContextError, match=r"CuPy is not available.*pip install psnet\[gpu\]"):
        mx.nd.ones((2,), ctx=mx.gpu(0))


def test_with_cupy_but_no_device_says_there_is_no_device(fake_gpu_no_device):
    assert mx.context.num_gpus() == 0
    with pytest.raises(ContextError, match="no CUDA device is visible"):
        mx.nd.zeros((2,), ctx=mx.gpu(0))


def test_a_cuda_driver_error_is_part_of_the_message(fake_gpu_no_device, monkeypatch):
    import sys

    def insufficient_driver():
        raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")
    monkeypatch.setattr(sys.modules["cupy"].cuda.runtime, "getDeviceCount", insufficient_driver)
    assert mx.context.num_gpus() == 0
    with pytest.raises(ContextError, match="no CUDA device is visible.*InsufficientDriver"):
        mx.nd.zeros((2,), ctx=mx.gpu(0))


def test_a_device_beyond_the_count_names_how_many_exist(fake_gpu):
    assert mx.context.num_gpus() == 2
    with pytest.raises(ContextError, match=r"gpu\(2\).*only 2 GPU"):
        mx.nd.zeros((2,), ctx=mx.gpu(2))


def test_mixing_cpu_and_gpu_arrays_names_both_contexts(fake_gpu):
    a, b = mx.nd.ones((2,), ctx=mx.cpu()), mx.nd.ones((2,), ctx=mx.gpu(0))
    with pytest.raises(ContextError, match=r"cpu\(0\) and gpu\(0\)"):
        mx.nd.broadcast_add(a, b)
    with pytest.raises(ContextError, match=r"gpu\(0\) and gpu\(1\)"):
        mx.nd.dot(b, mx.nd.ones((2,), ctx=mx.gpu(1)))


def test_psnet_never_imports_cupy_on_its_own(no_cupy):
    x = mx.nd.ones((3,)) * 2
    assert cupy_backend._cupy is None and float(x.sum().asscalar()) == 6.0


# ---------------------------------------------------------------- placement and copies
def test_arrays_and_op_results_live_on_their_own_device(fake_gpu):
    a1 = mx.nd.array([[1, 2], [3, 4]], ctx=mx.gpu(1))
    a0 = mx.nd.ones((2, 2), ctx=mx.gpu(0))  # device 0 is now current
    for r in (a1 + a1, a1 * 2.0, -a1, mx.nd.dot(a1, a1), a1.exp(), mx.nd.zeros((2,), ctx=mx.gpu(1)),
              a1[0], a1[:, 1], a1.copy(), a1 > 2):
        assert r.context == mx.gpu(1) and _device_of(r) == 1
    assert _device_of(a0 + a0) == 0
    np.testing.assert_allclose((a1 * a1).asnumpy(), [[1, 4], [9, 16]])


def test_in_place_updates_and_assignment_on_a_non_current_device(fake_gpu):
    a1 = mx.nd.zeros((2, 3), ctx=mx.gpu(1))
    mx.nd.ones((1,), ctx=mx.gpu(0))
    a1 += 1
    a1 *= mx.nd.full((2, 3), 3.0, ctx=mx.gpu(1))
    a1[0] = 5
    a1[1, 1:] = np.array([7.0, 8.0])
    a1[:, 0] = mx.nd.array([-1, -2], ctx=mx.gpu(1))
    np.testing.assert_allclose(a1.asnumpy(), [[-1, 5, 5], [-2, 7, 8]])
    assert a1[[1, 0]].asnumpy()[0, 2] == 8
    assert _device_of(a1) == 1


def test_copies_between_cpu_and_gpus(fake_gpu, monkeypatch):
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    g0 = mx.nd.array(host, ctx=mx.gpu(0))
    assert _device_of(g0) == 0
    np.testing.assert_array_equal(g0.asnumpy(), host)

    def no_host_trip(self, array):
        raise AssertionError("a GPU-to-GPU copy went through host memory")
    monkeypatch.setattr(cupy_backend.CupyBackend, "asnumpy", no_host_trip)
    g1 = g0.copyto(mx.gpu(1))
    g1b = g0.as_in_context(mx.gpu(1))
    target = mx.nd.zeros((2, 3), ctx=mx.gpu(1))
    g0.copyto(target)
    monkeypatch.undo()
    for g in (g1, g1b, target):
        assert g.context == mx.gpu(1) and _device_of(g) == 1
        np.testing.assert_array_equal(g.asnumpy(), host)
    back = g1.as_in_context(mx.cpu())
    assert isinstance(back._data, np.ndarray)
    np.testing.assert_array_equal(back.asnumpy(), host)
    assert g0.as_in_context(mx.gpu(0)) is g0


def test_gradient_flows_back_across_a_device_copy(fake_gpu):
    x = mx.nd.array([1.0, 2.0, 3.0], ctx=mx.cpu())
    x.attach_grad()
    with mx.autograd.record():
        y = (x.as_in_context(mx.gpu(1)) ** 2).sum()
    y.backward()
    assert x.grad.context == mx.cpu()
    np.testing.assert_allclose(x.grad.asnumpy(), [2, 4, 6])


def test_numpy_conversions_of_device_arrays(fake_gpu):
    g = mx.nd.array([[1.5, 2.5]], ctx=mx.gpu(1))
    assert np.asarray(g).tolist() == [[1.5, 2.5]]  # NDArray.__array__ copies explicitly
    assert g.tolist() == [[1.5, 2.5]] and g[0, 1].asscalar() == 2.5
    assert bool(g.sum() > 3) and "gpu(1)" in repr(g)
    restored = mx.nd.array(np.array(g), ctx=mx.gpu(0))
    assert restored.context == mx.gpu(0)


# ---------------------------------------------------------------- random and synchronisation
def test_random_on_device_is_reproducible_under_seed(fake_gpu):
    def draw(ctx):
        mx.random.seed(42)
        return mx.nd.random.normal(shape=(4,), ctx=ctx).asnumpy()
    a, b = draw(mx.gpu(0)), draw(mx.gpu(0))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, draw(mx.gpu(1)))  # each device has its own stream
    mx.random.seed(3)
    u = mx.nd.random.uniform(-1, 1, shape=(50,), ctx=mx.gpu(1))
    assert u.context == mx.gpu(1) and -1 <= u.asnumpy().min() and u.asnumpy().max() < 1
    d = mx.nd.Dropout(mx.nd.ones((100,), ctx=mx.gpu(1)), p=0.5, mode="always")
    assert set(np.unique(d.asnumpy())) <= {0.0, 2.0}


def test_waitall_and_wait_to_read_synchronise_the_devices(fake_gpu):
    a = mx.nd.ones((2,), ctx=mx.gpu(0))
    b = mx.nd.ones((2,), ctx=mx.gpu(1))
    before = fake_gpu.synchronized
    a.wait_to_read()
    assert fake_gpu.synchronized == before + 1
    mx.nd.waitall()
    assert fake_gpu.synchronized >= before + 3  # both devices
    assert b.context == mx.gpu(1)


def test_memory_info_and_empty_cache(fake_gpu):
    free, total = mx.context.gpu_memory_info(1)
    assert 0 < free <= total
    mx.gpu(1).empty_cache()


def test_pinned_batches_from_the_dataloader_reach_the_gpu(fake_gpu):
    ds = mx.gluon.data.ArrayDataset(np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6, dtype=np.float32))
    loader = mx.gluon.data.DataLoader(ds, batch_size=3, pin_memory=True)
    before = fake_gpu.pinned_allocs
    batches = list(loader)
    assert fake_gpu.pinned_allocs >= before + 4  # data and label of two batches
    x, y = batches[1]
    assert x.context == mx.context.cpu_pinned(0) and isinstance(x._data, np.ndarray)
    g = x.as_in_context(mx.gpu(1))
    np.testing.assert_array_equal(g.asnumpy(), np.arange(6, 12, dtype=np.float32).reshape(3, 2))
    np.testing.assert_array_equal((x + 1).asnumpy(), g.asnumpy() + 1)  # pinned arrays compute with NumPy


def test_pin_memory_without_cupy_is_plain_host_memory(no_cupy):
    x = mx.nd.ones((2,)).as_in_context(mx.context.cpu_pinned(0))
    assert x.context == mx.context.cpu_pinned(0) and float(x.sum().asscalar()) == 2.0


def test_nccl_store_on_cpus_without_cupy_sums_like_the_device_store(no_cupy):
    kv = mx.kv.create("nccl")
    kv.init(1, mx.nd.zeros((2,)))
    out = mx.nd.zeros((2,), ctx=mx.cpu(1))
    kv.pushpull(1, [mx.nd.ones((2,), ctx=mx.cpu(i)) for i in range(3)], out=out)
    np.testing.assert_array_equal(out.asnumpy(), [3, 3])


def test_save_load_pickle_parameters_and_metrics_with_gpu_arrays(fake_gpu, tmp_path):
    import pickle
    a = mx.nd.array([[1, 2], [3, 4]], ctx=mx.gpu(1))
    mx.nd.save(str(tmp_path / "x.nd"), {"a": a, "b": a * 2})
    loaded = mx.nd.load(str(tmp_path / "x.nd"))
    np.testing.assert_array_equal(loaded["b"].asnumpy(), [[2, 4], [6, 8]])
    b = pickle.loads(pickle.dumps(a))
    assert b.context == mx.gpu(1) and b.asnumpy().tolist() == [[1, 2], [3, 4]]
    net = mx.gluon.nn.Dense(2)
    net.initialize(ctx=mx.gpu(1))
    net(a)
    net.save_parameters(str(tmp_path / "net.params"))
    net2 = mx.gluon.nn.Dense(2)
    net2.load_parameters(str(tmp_path / "net.params"), ctx=mx.gpu(0))
    assert net2.weight.data().context == mx.gpu(0)
    np.testing.assert_array_equal(net2.weight.data().asnumpy(), net.weight.data(mx.gpu(1)).asnumpy())
    metric = mx.metric.Accuracy()
    metric.update([mx.nd.array([1, 0], ctx=mx.gpu(1))], [mx.nd.array([[0.1, 0.9], [0.8, 0.2]], ctx=mx.gpu(1))])
    assert metric.get() == ("accuracy", 1.0)


def test_list_gpus(fake_gpu):
    assert mx.test_utils.list_gpus() == range(2)


def test_list_gpus_without_cupy(no_cupy):
    assert mx.test_utils.list_gpus() == range(0)
