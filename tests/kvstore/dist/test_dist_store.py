"""dist_sync / dist_async stores with real scheduler, server and worker processes on loopback."""
import socket

import pytest

from tests.launcher.jobs import run_job, worker_lines

SUMS = """
import numpy as np, psnet as mx
kv = mx.kv.create('dist_sync')
r, W = kv.rank, kv.num_workers
shapes = {k: (k % 5 + 1, 3) for k in range(12)}
shapes[100] = (50, 40)                      # 2000 elements > the bound: sliced over the servers
shapes[300] = (400, 100)                    # whole or sliced, it travels in its own frames (>= 64 KB)
keys = sorted(shapes)
kv.init(keys, [mx.nd.full(shapes[k], k * (r + 1)) for k in keys])
out = [mx.nd.zeros(shapes[k]) for k in keys]
kv.pull(keys, out=out)
assert all((o.asnumpy() == k).all() for k, o in zip(keys, out)), "rank 0's init value must win"
for step in range(3):
    base = {k: np.arange(np.prod(shapes[k]), dtype=np.float32).reshape(shapes[k]) for k in keys}
    kv.push(keys, [mx.nd.array(base[k] * (r + 1) + step) for k in keys], priority=-step)
    kv.pull(keys, out=out)
    for k, o in zip(keys, out):
        np.testing.assert_allclose(o.asnumpy(), base[k] * W * (W + 1) / 2 + W * step)
a, b = mx.nd.zeros(shapes[3]), mx.nd.zeros(shapes[3])
kv.push(3, [mx.nd.ones(shapes[3]), mx.nd.ones(shapes[3]) * 2])      # summed over "devices" first
kv.pull(3, out=[a, b])
assert (a.asnumpy() == 3 * W).all() and (b.asnumpy() == 3 * W).all()
x = mx.nd.ones(shapes[100]) * (r + 1)
kv.pushpull(100, x)
assert (x.asnumpy() == W * (W + 1) / 2).all()
o = mx.nd.zeros((2, 2))
kv.broadcast(200, mx.nd.full((2, 2), r + 7), out=o)
assert (o.asnumpy() == 7).all()
assert kv.num_dead_node(6, timeout=60) == 0
print("RANK", r, "of", W, "type", kv.type, flush=True)
"""


@pytest.mark.parametrize("workers, servers", [(1, 1), (3, 2)])
def test_sync_sums_many_keys_sliced_and_device_lists(tmp_path, workers, servers):
    rc, out = run_job(tmp_path, SUMS, workers, servers, env={"MXNET_KVSTORE_BIGARRAY_BOUND": "1000"})
    assert rc == 0, out
    ranks = worker_lines(out, "RANK")
    assert ranks == {i: "%d of %d type dist_sync" % (i, workers) for i in range(workers)}, out


REUSED_BUFFERS = """
import numpy as np, psnet as mx
kv = mx.kv.create('dist_sync')
r, W = kv.rank, kv.num_workers
g = {0: mx.nd.zeros((200, 100)), 1: mx.nd.zeros((400, 100))}   # 80 KB; 160 KB sliced (bound 30000)
kv.init([0, 1], [mx.nd.zeros(g[0].shape), mx.nd.zeros(g[1].shape)])
out = {k: mx.nd.zeros(v.shape) for k, v in g.items()}
frames = None
for step in range(4):
    for k in g:
        g[k][:] = (r + 1) * (step + 1) + k        # written in place: the same buffers every step
    kv.push([0, 1], [g[0], g[1]])
    kv.pull([0, 1], out=[out[0], out[1]])
    for k in g:
        expect = sum((q + 1) * (step + 1) + k for q in range(W))
        assert (out[k].asnumpy() == expect).all(), (step, k, out[k].asnumpy().ravel()[:3], expect)
    now = {sk: id(v[1]) for sk, v in kv._frames.items()}
    assert frames is None or now == frames, "a buffer pushed again must keep its frame"
    frames = now
fresh = mx.nd.full(g[0].shape, 10 * (r + 1))     # another array for key 0: its own values are sent
kv.pushpull(0, fresh, out=out[0])
assert (out[0].asnumpy() == 10 * W * (W + 1) / 2).all(), out[0].asnumpy().ravel()[:3]
print("OK", r, sorted(frames), flush=True)
"""


def test_pushes_of_reused_buffers_send_their_current_values(tmp_path):
    """A gradient buffer pushed every step keeps one frame (no new zero-copy frame per push),
    and each push still carries what the buffer holds then; another array for the key is sent."""
    rc, out = run_job(tmp_path, REUSED_BUFFERS, 2, 2, env={"MXNET_KVSTORE_BIGARRAY_BOUND": "30000"})
    assert rc == 0, out
    assert worker_lines(out, "OK") == {r: "%d [(0, -1), (1, 0), (1, 1)]" % r for r in (0, 1)}, out


STR_KEYS = """
import numpy as np, psnet as mx
kv = mx.kv.create('dist_device_sync')
r = kv.rank
names = ['conv0_weight', 'conv0_bias', 'dense0_weight', 'emb']
shapes = [(4, 3), (4,), (10, 6), (300, 20)]
kv.init(names, [mx.nd.zeros(s) for s in shapes])
for step in range(2):
    kv.push(names, [[mx.nd.ones(s) * (r + 1), mx.nd.ones(s)] for s in shapes])
outs = [mx.nd.zeros(s) for s in shapes]
kv.pull(names, out=outs)
W = kv.num_workers
assert all((o.asnumpy() == W * (W + 1) / 2 + W).all() for o in outs), [o.asnumpy().ravel()[:3] for o in outs]
try:
    kv.push(3, mx.nd.ones((4,)))
except KeyError as e:
    print("MIXED", e, flush=True)
print("OK", r, flush=True)
"""


def test_str_keys_device_lists_and_back_to_back_pushes(tmp_path):
    rc, out = run_job(tmp_path, STR_KEYS, 2, 2, env={"MXNET_KVSTORE_BIGARRAY_BOUND": "5000"})
    assert rc == 0, out
    assert set(worker_lines(out, "OK")) == {0, 1}
    assert "cannot mix int and str keys" in worker_lines(out, "MIXED")[0]


OPTIMIZER = """
import numpy as np, psnet as mx
kv = mx.kv.create('dist_sync')
r, W = kv.rank, kv.num_workers
shapes = {0: (5, 4), 1: (4,), 2: (40, 30)}          # key 2 is sliced (bound 500)
init = {k: np.linspace(-1, 1, int(np.prod(s)), dtype=np.float32).reshape(s) for k, s in shapes.items()}
make = lambda: mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5)
kv.set_optimizer(make())
kv.init(list(shapes), [mx.nd.array(init[k]) for k in shapes])
ref = mx.optimizer.Updater(make())
ref_w = {k: mx.nd.array(init[k]) for k in shapes}
outs = {k: mx.nd.zeros(s) for k, s in shapes.items()}
def grad(k, rank, step):
    return np.cos(np.arange(int(np.prod(shapes[k]))) * (rank + 1) + step).reshape(shapes[k]).astype(np.float32)
def step(n):
    for k in shapes:
        kv.push(k, mx.nd.array(grad(k, r, n)))
        ref(k, mx.nd.array(sum(grad(k, q, n) for q in range(W))), ref_w[k])
    kv.pull(list(shapes), out=[outs[k] for k in shapes])
    for k in shapes:
        np.testing.assert_allclose(outs[k].asnumpy(), ref_w[k].asnumpy(), rtol=1e-5, atol=1e-6)
for n in range(4):
    step(n)
if r == 0:
    kv.save_optimizer_states(STATES)
kv.barrier()
kv.load_optimizer_states(STATES)
step(4)
print("OK", r, float(np.abs(outs[2].asnumpy() - init[2]).max()), flush=True)
"""


def test_set_optimizer_on_servers_matches_local_updater(tmp_path):
    states = tmp_path / "opt.states"
    rc, out = run_job(tmp_path, "STATES = %r\n" % str(states) + OPTIMIZER, 2, 2,
                      env={"MXNET_KVSTORE_BIGARRAY_BOUND": "500"})
    assert rc == 0, out
    moved = worker_lines(out, "OK")
    assert set(moved) == {0, 1} and float(moved[0].split()[-1]) > 0.01, out
    assert states.stat().st_size > 1000


ASYNC = """
import numpy as np, psnet as mx
kv = mx.kv.create('dist_async')
kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.2))
target = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
kv.init(7, mx.nd.zeros((3, 4)))
w = mx.nd.zeros((3, 4))
for i in range(60):
    kv.pull(7, out=w)
    kv.push(7, w - mx.nd.array(target))
kv.barrier()
kv.pull(7, out=w)
print("ERR", float(np.abs(w.asnumpy() - target).max()), flush=True)
"""


def test_async_converges(tmp_path):
    rc, out = run_job(tmp_path, ASYNC, 2, 1)
    assert rc == 0, out
    errs = worker_lines(out, "ERR")
    assert set(errs) == {0, 1} and all(float(e) < 1e-3 for e in errs.values()), out


BARRIER = """
import time, psnet as mx
kv = mx.kv.create('dist_sync')
if kv.rank == 1:
    time.sleep(0.6)
    print("BEFORE", repr(time.time()), flush=True)
kv.barrier()
print("AFTER", repr(time.time()), flush=True)
"""


def test_barrier_waits_for_every_worker(tmp_path):
    rc, out = run_job(tmp_path, BARRIER, 3, 1)
    assert rc == 0, out
    before = float(worker_lines(out, "BEFORE")[1])
    after = worker_lines(out, "AFTER")
    assert len(after) == 3 and min(float(t) for t in after.values()) >= before, out


ERRORS = """
import psnet as mx
from psnet.kvstore.dist.client import ServerError
kv = mx.kv.create('dist_sync')
kv.init(3, mx.nd.zeros((2, 3)))
def report(tag, fn):
    try:
        fn()
        print(tag, "no error", flush=True)
    except Exception as e:
        print(tag, type(e).__name__, str(e).replace("\\n", " "), flush=True)
def push_pull(key, shape):
    kv.push(key, mx.nd.ones(shape))
    kv.pull(key, out=mx.nd.zeros(shape))
report("UNINIT", lambda: push_pull(99, (2,)))
report("SHAPE", lambda: push_pull(3, (3, 2)))
@mx.optimizer.register
class OnlyOnWorkers(mx.optimizer.SGD):
    pass
report("OPT", lambda: kv.set_optimizer(OnlyOnWorkers()))
report("UPD", lambda: kv.set_updater("nosuch.module:fn"))
report("PYUPD", lambda: kv.set_updater(lambda k, a, b: None))
kv.set_updater("tests.kvstore.dist.updaters:add_half")
out = mx.nd.zeros((2, 3))
kv.push(3, mx.nd.ones((2, 3)) * 2)
kv.pull(3, out=out)
print("STILL", out.asnumpy().ravel().tolist(), flush=True)
"""


def test_server_errors_are_raised_in_the_worker_naming_the_key(tmp_path):
    rc, out = run_job(tmp_path, ERRORS, 1, 1,
                      env={"PSNET_SERVER_UPDATERS": "tests.kvstore.dist.updaters:add_half"})
    assert rc == 0, out
    got = {tag: worker_lines(out, tag)[0] for tag in ("UNINIT", "SHAPE", "OPT", "UPD", "PYUPD", "STILL")}
    assert got["UNINIT"].startswith("ServerError") and "key 99 has not been initialised" in got["UNINIT"]
    assert got["SHAPE"].startswith("ServerError") and "key 3: shape (3, 2)" in got["SHAPE"]
    assert "onlyonworkers" in got["OPT"]
    assert got["UPD"].startswith("ServerError") and "unknown updater 'nosuch.module:fn'" in got["UPD"]
    assert got["PYUPD"].startswith("NotSupportedError") and "--updater" in got["PYUPD"]
    assert got["STILL"] == str([1.0] * 6)     # the store kept serving: 0 + 2 * 0.5


def test_unreachable_scheduler_names_host_and_port(monkeypatch):
    import time
    import psnet as mx
    from psnet.kvstore.dist.node import RendezvousError
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for k, v in dict(DMLC_ROLE="worker", DMLC_PS_ROOT_URI="127.0.0.1", DMLC_PS_ROOT_PORT=str(port),
                     DMLC_NUM_SERVER="1", DMLC_NUM_WORKER="1", PSNET_CONNECT_TIMEOUT="0.3").items():
        monkeypatch.setenv(k, v)
    t0 = time.monotonic()
    with pytest.raises(RendezvousError, match="127.0.0.1:%d" % port):
        mx.kv.create("dist_sync")
    assert time.monotonic() - t0 < 3


COMPRESSED = """
import numpy as np, psnet as mx
kv = mx.kv.create('dist_sync')
kv.set_gradient_compression({'type': '2bit', 'threshold': 0.5})
shapes = {0: (3, 5), 1: (40, 30)}                   # key 1 is sliced (bound 500)
kv.init(list(shapes), [mx.nd.zeros(s) for s in shapes.values()])
res = {k: np.zeros(s, np.float32) for k, s in shapes.items()}
for step in range(4):
    grads = {k: np.sin(np.arange(np.prod(s)) * 0.7 + step).reshape(s).astype(np.float32) * (kv.rank + 1)
             for k, s in shapes.items()}
    kv.push(list(shapes), [mx.nd.array(grads[k]) for k in shapes])
    outs = [mx.nd.zeros(s) for s in shapes.values()]
    kv.pull(list(shapes), out=outs)
    for k, o in zip(shapes, outs):
        total = 0
        for rank in range(kv.num_workers):     # every worker's error-feedback quantiser, in NumPy
            r = res.setdefault((k, rank), np.zeros(shapes[k], np.float32))
            r += grads[k] / (kv.rank + 1) * (rank + 1)
            q = np.where(r >= 0.5, 0.5, np.where(r <= -0.5, -0.5, 0)).astype(np.float32)
            r -= q
            total = total + q
        np.testing.assert_array_equal(o.asnumpy(), total)
print("OK", kv.rank, flush=True)
"""


def test_2bit_compressed_pushes_match_the_error_feedback_reference(tmp_path):
    rc, out = run_job(tmp_path, COMPRESSED, 2, 2, env={"MXNET_KVSTORE_BIGARRAY_BOUND": "500"})
    assert rc == 0, out
    assert set(worker_lines(out, "OK")) == {0, 1}, out


def test_scheduler_gives_up_when_nobody_comes(tmp_path):
    import os
    import subprocess
    import sys
    from tests.launcher.jobs import REPO
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, DMLC_ROLE="scheduler", DMLC_PS_ROOT_URI="127.0.0.1", DMLC_PS_ROOT_PORT=str(port),
               DMLC_NUM_SERVER="1", DMLC_NUM_WORKER="1", PSNET_KVSTORE_TIMEOUT="1.5")
    done = subprocess.run([sys.executable, "-m", "psnet.kvstore.dist.scheduler"], cwd=str(REPO), env=env,
                          capture_output=True, text=True, timeout=20)
    assert "0 of 1 servers and 0 of 1 workers registered" in done.stderr


MODULE_FIT = """
import numpy as np, psnet as mx

def fit(kvstore):
    rs = np.random.RandomState(0)
    X, Y = rs.rand(40, 6).astype('float32'), rs.randint(0, 3, 40).astype('float32')
    data = mx.sym.var('data')
    net = mx.sym.FullyConnected(mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=5, name='fc1'),
                                                  act_type='relu'), num_hidden=3, name='fc2')
    mod = mx.mod.Module(mx.sym.SoftmaxOutput(net, name='softmax'), context=mx.cpu())
    mod.fit(mx.io.NDArrayIter(X, Y, batch_size=8), num_epoch=2, kvstore=kvstore,
            initializer=mx.init.Uniform(0.3), optimizer='sgd', optimizer_params={'learning_rate': 0.5})
    return mod.get_params()[0]

mx.random.seed(1)
dist = fit(mx.kv.create('dist_sync'))
mx.random.seed(1)
alone = fit(None)
err = max(float(np.abs(dist[k].asnumpy() - alone[k].asnumpy()).max()) for k in alone)
moved = max(float(np.abs(alone[k].asnumpy()).max()) for k in alone)
print("ERR", err, moved, flush=True)
"""


def test_module_fit_on_dist_sync_matches_one_process_on_the_same_batches(tmp_path):
    """Every worker fits the same batches: the servers' update of the summed gradients
    (rescaled by 1 / (batch * workers)) equals one process fitting those batches alone;
    Module pushes and pulls all its keys in one call each."""
    rc, out = run_job(tmp_path, MODULE_FIT, 2, 2, env={"MXNET_KVSTORE_BIGARRAY_BOUND": "20"})
    assert rc == 0, out
    errs = worker_lines(out, "ERR")
    assert set(errs) == {0, 1}, out
    for text in errs.values():
        err, moved = map(float, text.split())
        assert err < 1e-5 and moved > 0.1, out
