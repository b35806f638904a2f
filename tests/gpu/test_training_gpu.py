"""Gluon training, data parallelism, optimizers and the KVStores on real GPUs."""
import numpy as np
import pytest

import psnet as mx
from psnet import autograd, gluon
from tests.backend.test_training_on_device import train_params


def _close(got, want):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4, err_msg="parameter %d" % k)


@pytest.mark.parametrize("hybrid", [False, True], ids=["imperative", "hybridized"])
def test_training_on_one_gpu_matches_cpu(hybrid):
    _close(train_params([mx.gpu(0)], hybrid=hybrid), train_params([mx.cpu()], hybrid=hybrid))


@pytest.mark.parametrize("kvstore,on_kv", [("device", None), ("local", None), ("device", False)])
def test_split_and_load_over_all_gpus_matches_cpus(n_gpus, kvstore, on_kv):
    if n_gpus < 2:
        pytest.skip("needs two GPUs or more (found %d)" % n_gpus)
    gpus = [mx.gpu(i) for i in range(min(n_gpus, 4))]
    cpus = [mx.cpu(i) for i in range(len(gpus))]
    _close(train_params(gpus, kvstore=kvstore, optimizer="adam", update_on_kvstore=on_kv),
           train_params(cpus, kvstore=kvstore, optimizer="adam", update_on_kvstore=on_kv))


def test_device_kvstore_sums_on_the_gpus(n_gpus):
    ctxs = [mx.gpu(i % n_gpus) for i in range(4)]
    kv = mx.kv.create("device")
    kv.init(0, mx.nd.zeros((64, 64), ctx=ctxs[0]))
    kv.push(0, [mx.nd.full((64, 64), i + 1.0, ctx=c) for i, c in enumerate(ctxs)])
    outs = [mx.nd.zeros((64, 64), ctx=c) for c in ctxs]
    kv.pull(0, out=outs)
    for o, c in zip(outs, ctxs):
        assert o._data.device.id == c.device_id
        np.testing.assert_array_equal(o.asnumpy(), np.full((64, 64), 10.0))


def test_mnist_mlp_learns_on_gpu(mnist_dir):
    train = gluon.data.vision.MNIST(root=mnist_dir, train=True)
    x = mx.nd.array(train._data[:6000].reshape(6000, -1).astype(np.float32) / 255, ctx=mx.gpu(0))
    y = mx.nd.array(train._label[:6000].astype(np.float32), ctx=mx.gpu(0))
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Dense(128, activation="relu"), gluon.nn.Dense(10))
    net.initialize(mx.init.Xavier(), ctx=mx.gpu(0))
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 1e-3})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for epoch in range(3):
        for i in range(0, 6000, 100):
            with autograd.record():
                loss = loss_fn(net(x[i:i + 100]), y[i:i + 100])
            loss.backward()
            trainer.step(100)
    acc = (net(x).argmax(axis=1) == y).mean().asscalar()
    assert acc > 0.9


def test_nccl_store_sums_over_all_gpus(n_gpus):
    import cupy
    if n_gpus < 2 or not getattr(cupy.cuda.nccl, "available", False):
        pytest.skip("needs two GPUs and CuPy's NCCL (pip install nvidia-nccl-cu12)")
    kv = mx.kv.create("nccl")
    kv.init(0, mx.nd.zeros((1000,), ctx=mx.gpu(0)))
    kv.push(0, [mx.nd.full((1000,), i + 1.0, ctx=mx.gpu(i)) for i in range(n_gpus)])
    outs = [mx.nd.zeros((1000,), ctx=mx.gpu(i)) for i in range(n_gpus)]
    kv.pull(0, out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full(1000, n_gpus * (n_gpus + 1) / 2))
