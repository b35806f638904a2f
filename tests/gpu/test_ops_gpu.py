"""Every op's sample cases on mx.gpu(0) under real CuPy: forward and gradient against the
CPU (NumPy), and gradients against finite differences computed on the GPU."""
import numpy as np
import pytest

import psnet as mx
from psnet.ops import registry
from tests.backend.test_ops_on_device import CASES, check_case_matches_cpu
from tests.ops.test_gradients import GRAD_CASES, SKIP, _check_case, _differentiable


@pytest.mark.parametrize("name,i", CASES, ids=["%s-%d" % c for c in CASES])
def test_op_on_gpu_matches_numpy(name, i):
    """float64 on the GPU: cuBLAS/CUDA may sum in another order than NumPy."""
    check_case_matches_cpu(name, i, mx.gpu(0), rtol=1e-5, atol=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("name", [op.name for op in _differentiable() if op.name not in SKIP])
def test_gradient_on_gpu_matches_finite_differences(name):
    """The finite-difference check of tests/ops/test_gradients.py, every array on gpu(0)."""
    rs = np.random.RandomState(0)
    with mx.Context(mx.gpu(0)):
        for c in GRAD_CASES[name]:
            _check_case(registry.get(name), c, rs)


def test_large_matmul_and_elementwise_match_numpy():
    rs = np.random.RandomState(0)
    a, b = rs.randn(512, 256).astype(np.float32), rs.randn(256, 128).astype(np.float32)
    ga, gb = mx.nd.array(a, ctx=mx.gpu(0)), mx.nd.array(b, ctx=mx.gpu(0))
    np.testing.assert_allclose(mx.nd.dot(ga, gb).asnumpy(), a @ b, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose((mx.nd.exp(ga) * 2 + ga).asnumpy(), np.exp(a) * 2 + a, rtol=1e-5)


def test_conv_and_pooling_match_numpy():
    rs = np.random.RandomState(1)
    x, w = rs.randn(2, 3, 9, 9).astype(np.float32), rs.randn(4, 3, 3, 3).astype(np.float32)
    for ctx_out in (mx.gpu(0),):
        args = dict(kernel=(3, 3), num_filter=4, stride=(2, 2), pad=(1, 1), no_bias=True)
        got = mx.nd.Convolution(mx.nd.array(x, ctx=ctx_out), mx.nd.array(w, ctx=ctx_out), **args)
        want = mx.nd.Convolution(mx.nd.array(x), mx.nd.array(w), **args)
        np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-4, atol=1e-4)
        p = mx.nd.Pooling(mx.nd.array(x, ctx=ctx_out), kernel=(3, 3), stride=(2, 2), pool_type="max")
        np.testing.assert_allclose(p.asnumpy(), mx.nd.Pooling(mx.nd.array(x), kernel=(3, 3), stride=(2, 2),
                                                            pool_type="max").asnumpy())


def test_every_registered_op_with_a_case_ran():
    """Guard: the GPU sweep covers the registry's differentiable ops (as the CPU check does)."""
    names = {n for n, _ in CASES}
    missing = [op.name for op in map(registry.get, registry.list_ops())
               if op.grad is not None and op.name not in names and op.name not in SKIP]
    assert not missing, missing
