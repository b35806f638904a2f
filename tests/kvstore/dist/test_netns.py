"""The compose topology for real: scheduler, 2 servers and 2 workers, each its own host (netns).

Every node runs in its own network namespace with its own 10.x address on a private
bridge (tests/kvstore/dist/netns.py); they find each other only through the DMLC_*
variables, as the containers of docker-compose.yml do.  Skipped, with the reason, where
namespaces cannot be made.
"""
import os
import sys
import time

import pytest

from tests.kvstore.dist import netns
from tests.kvstore.dist.live import REPO

WHY = netns.unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=WHY or "")

TRAIN = """
import numpy as np, psnet as mx
kv = mx.kv.create('dist_sync')
r, W = kv.rank, kv.num_workers
shapes = {0: (6, 4), 1: (4,), 2: (30, 10)}          # key 2 is sliced over both servers
kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
start = {k: np.linspace(-1, 1, int(np.prod(s)), dtype=np.float32).reshape(s) for k, s in shapes.items()}
kv.init(list(shapes), [mx.nd.array(start[k]) for k in shapes])
ref = mx.optimizer.Updater(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
ref_w = {k: mx.nd.array(start[k]) for k in shapes}
outs = {k: mx.nd.zeros(s) for k, s in shapes.items()}
grad = lambda k, q, n: np.sin(np.arange(int(np.prod(shapes[k]))) * (q + 1) + n).reshape(shapes[k]).astype(np.float32)
for n in range(5):
    kv.push(list(shapes), [mx.nd.array(grad(k, r, n)) for k in shapes])
    kv.pull(list(shapes), out=[outs[k] for k in shapes])
    for k in shapes:
        ref(k, mx.nd.array(sum(grad(k, q, n) for q in range(W))), ref_w[k])
err = max(float(np.abs(outs[k].asnumpy() - ref_w[k].asnumpy()).max()) for k in shapes)
moved = max(float(np.abs(outs[k].asnumpy() - start[k]).max()) for k in shapes)
print("RESULT", r, W, kv.num_servers, err, moved, flush=True)
kv.close()
"""


@pytest.fixture
def fabric():
    net = netns.Fabric()
    try:
        yield net
    finally:
        net.close()


def _env(root, host, extra=None):
    env = dict(os.environ, DMLC_PS_ROOT_URI=root, DMLC_PS_ROOT_PORT="9091", DMLC_NUM_SERVER="2",
               DMLC_NUM_WORKER="2", DMLC_NODE_HOST=host, PSNET_CONNECT_TIMEOUT="15",
               PSNET_KVSTORE_TIMEOUT="30", MXNET_KVSTORE_BIGARRAY_BOUND="100", PSNET_ROLE_ON_IMPORT="0", PS_VERBOSE="1",
               PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.update(extra or {})
    return env


def start_cluster(fabric, tmp_path, program, extra_env=None):
    """Scheduler, servers and workers each on their own host; returns the worker processes."""
    names = ["scheduler", "server0", "server1", "worker0", "worker1"]
    addresses = {name: fabric.add_host(name) for name in names}
    root = addresses["scheduler"]
    script = tmp_path / "train.py"
    script.write_text(program)
    workers = []
    for name in names:
        role = name.rstrip("01")
        env = _env(root, addresses[name], dict(extra_env or {}, DMLC_ROLE=role))
        if role != "scheduler":
            env["DMLC_RANK"] = name[-1]
        argv = [sys.executable, str(script)] if role == "worker" else \
            [sys.executable, "-m", "psnet.kvstore.dist." + role]
        proc = fabric.run(name, argv, env, tmp_path / ("%s.log" % name))
        if role == "worker":
            workers.append(proc)
    return addresses, workers


def wait_all(procs, limit):
    """Wait for ``procs`` within ``limit`` seconds in total; the return codes (None: still running)."""
    deadline = time.monotonic() + limit
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:
            pass
    return [p.poll() for p in procs]


def _logs(tmp_path):
    return "\n".join("== %s\n%s" % (p.name, p.read_text(errors="replace")) for p in sorted(tmp_path.glob("*.log")))


def test_dist_sync_across_five_hosts(fabric, tmp_path):
    addresses, workers = start_cluster(fabric, tmp_path, TRAIN)
    assert len(set(addresses.values())) == 5
    codes = wait_all(workers, 60)
    logs = _logs(tmp_path)
    assert codes == [0, 0], logs
    results = [l.split()[1:] for l in logs.splitlines() if l.startswith("RESULT")]
    assert sorted(r[0] for r in results) == ["0", "1"], logs
    for rank, w, s, err, moved in results:
        assert (w, s) == ("2", "2")
        assert float(err) < 1e-5 and float(moved) > 0.1, logs
    # every node registered from its own host's address
    sched = (tmp_path / "scheduler.log").read_text()
    for name in ("server0", "server1", "worker0", "worker1"):
        assert "registered from %s\n" % addresses[name] in sched, sched


LOOP = """
import sys, time, numpy as np, psnet as mx
from psnet.kvstore.dist.health import DeadNodeError
kv = mx.kv.create('dist_sync')
kv.init(0, mx.nd.zeros((8,)))
out = mx.nd.zeros((8,))
try:
    for n in range(10000):
        kv.push(0, mx.nd.ones((8,)))
        kv.pull(0, out=out)
        print('STEP', n, flush=True)
        time.sleep(0.05)
except DeadNodeError as e:
    print('DEAD', e, flush=True)
    sys.exit(3)
"""


def test_cut_link_is_reported_as_a_dead_node(fabric, tmp_path):
    fast = {"PSNET_HEARTBEAT_INTERVAL": "0.2", "PSNET_HEARTBEAT_TIMEOUT": "1.5"}
    addresses, workers = start_cluster(fabric, tmp_path, LOOP, fast)
    log0 = tmp_path / "worker0.log"
    deadline = time.monotonic() + 30
    while "STEP 3\n" not in (log0.read_text() if log0.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)
    fabric.cut("worker1")                       # ip link set eth0 down inside worker1's host
    cut_at = time.monotonic()
    assert wait_all(workers[:1], 20) == [3], _logs(tmp_path)
    assert time.monotonic() - cut_at < 10
    dead = [l for l in log0.read_text().splitlines() if l.startswith("DEAD")]
    assert dead and "worker 1 (%s) died" % addresses["worker1"] in dead[0], _logs(tmp_path)
