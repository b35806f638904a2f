"""A real dist_sync job (scheduler, servers, workers on loopback) whose workers hold their
gradients and weights on two fake GPUs (the CuPy double of fake_cupy.py, installed by the
worker program itself): sums are right, big keys are sliced, and every transfer between
device and wire went through page-locked host memory with no cross-device access."""
from tests.launcher.jobs import run_job, worker_lines

GPU_WORKER = """
import sys
from tests.backend import fake_cupy
cupy, cupyx, state = fake_cupy.install(n_devices=2, peer_access=True)
sys.modules["cupy"], sys.modules["cupyx"] = cupy, cupyx
import numpy as np, psnet as mx
from psnet import autograd, gluon

kv = mx.kv.create("dist_sync")
r, W = kv.rank, kv.num_workers
gpus = [mx.gpu(0), mx.gpu(1)]
shapes = {0: (3, 4), 1: (5,), 2: (40, 30)}           # key 2 is sliced over the servers
keys = sorted(shapes)
kv.init(keys, [mx.nd.zeros(shapes[k], ctx=gpus[1]) for k in keys])
for step in range(2):
    kv.push(keys, [[mx.nd.full(shapes[k], r + 1 + i, ctx=g) for i, g in enumerate(gpus)] for k in keys])
    outs = [[mx.nd.zeros(shapes[k], ctx=g) for g in gpus] for k in keys]
    kv.pull(keys, out=outs)
    want = sum(2 * (w + 1) + 1 for w in range(W))     # per worker: (r + 1) + (r + 2)
    for k, os_ in zip(keys, outs):
        for o, g in zip(os_, gpus):
            assert o._data._dev == g.device_id and (o.asnumpy() == want).all(), (k, o.asnumpy().ravel()[:3])
x = mx.nd.ones(shapes[2], ctx=gpus[1]) * (r + 1)
kv.pushpull(2, x)
assert (x.asnumpy() == W * (W + 1) / 2).all()

net = gluon.nn.Dense(2, in_units=3)
net.initialize(mx.init.Constant(0.5), ctx=gpus)
trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}, kvstore=kv)
data = gluon.utils.split_and_load(mx.nd.array(np.arange(12.0).reshape(4, 3) * (r + 1)), gpus)
with autograd.record():
    losses = [net(d).sum() for d in data]
for loss in losses:
    loss.backward()
trainer.step(4)
w0, w1 = (net.weight.data(g).asnumpy() for g in gpus)
assert np.allclose(w0, w1), (w0, w1)
assert not state.peer_accesses, state.peer_accesses
assert state.pinned_allocs > 0
print("OK", r, float(w0.sum()), flush=True)
"""


def test_dist_sync_with_gradients_on_two_gpus_per_worker(tmp_path):
    rc, out = run_job(tmp_path, GPU_WORKER, 2, 2, env={"MXNET_KVSTORE_BIGARRAY_BOUND": "500"})
    assert rc == 0, out
    lines = worker_lines(out, "OK")
    assert set(lines) == {0, 1}, out
    # w = 0.5 - 0.1 * (column sums of both workers' data) / batch 4, on every device of every worker
    for rank, text in lines.items():
        assert abs(float(text.split()[1]) - 2 * (1.5 - 0.1 * 3 * (18 + 22 + 26) / 4)) < 1e-5, lines
