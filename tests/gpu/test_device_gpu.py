"""Placement, copies, random streams, synchronisation and memory on real GPUs."""
import numpy as np
import pytest

import psnet as mx


def test_arrays_live_on_the_requested_device(n_gpus):
    import cupy
    for i in range(n_gpus):
        a = mx.nd.ones((3, 4), ctx=mx.gpu(i))
        b = (a * 2 + 1).sum(axis=0)
        assert isinstance(b._data, cupy.ndarray) and b._data.device.id == i
        np.testing.assert_array_equal(b.asnumpy(), np.full(4, 9.0))


def test_copies_between_cpu_and_gpus(n_gpus):
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    g = mx.nd.array(host, ctx=mx.gpu(0))
    np.testing.assert_array_equal(g.asnumpy(), host)
    np.testing.assert_array_equal(g.as_in_context(mx.cpu()).asnumpy(), host)
    if n_gpus > 1:
        g1 = g.copyto(mx.gpu(1))
        assert g1._data.device.id == 1
        np.testing.assert_array_equal(g1.asnumpy(), host)


def test_mixing_contexts_is_a_clear_error():
    with pytest.raises(mx.base.ContextError, match=r"cpu\(0\) and gpu\(0\)"):
        mx.nd.ones((2,)) + mx.nd.ones((2,), ctx=mx.gpu(0))


def test_random_is_reproducible_on_device():
    def draw():
        mx.random.seed(123)
        return mx.nd.random.normal(shape=(1000,), ctx=mx.gpu(0)).asnumpy()
    a, b = draw(), draw()
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 0.15 and abs(a.std() - 1) < 0.1


def test_waitall_and_wait_to_read_finish_pending_kernels():
    import cupy
    x = mx.nd.ones((2048, 2048), ctx=mx.gpu(0))
    y = mx.nd.dot(x, x)
    y.wait_to_read()
    assert cupy.cuda.get_current_stream().done
    z = mx.nd.dot(y, x)
    mx.nd.waitall()
    assert cupy.cuda.get_current_stream().done
    assert z[0, 0].asscalar() == 2048.0 * 2048.0


def test_memory_info():
    free, total = mx.context.gpu_memory_info(0)
    assert 0 < free <= total
    mx.gpu(0).empty_cache()
