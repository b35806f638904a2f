"""Faults on a live job: dead workers and servers are reported, a restarted server resumes.

Heartbeats are fast here (every 0.2 s, dead after 1.5 s of silence) so that every wait is
short; every process is killed by pid when a test ends.
"""
import time

import pytest

from psnet.kvstore.dist.client import DistKVStore
from psnet.kvstore.dist.health import DeadNodeError
from psnet.kvstore.dist.node import RendezvousError
from launcher.cluster import free_port
from tests.kvstore.dist.live import LiveJob

FAST = {"PSNET_HEARTBEAT_INTERVAL": "0.2", "PSNET_HEARTBEAT_TIMEOUT": "1.5"}


@pytest.fixture
def make_job(tmp_path):
    jobs = []

    def make(**kw):
        job = LiveJob(tmp_path, env=dict(FAST, **kw.pop("env", {})), **kw)
        jobs.append(job)
        return job
    yield make
    for job in jobs:
        job.stop()


def _store(job, **cfg):
    return DistKVStore("dist_sync", cfg=job.config(heartbeat_interval=0.2, **cfg))


IDLE_WORKER = """
import time, psnet as mx
kv = mx.kv.create('dist_sync')
kv.init(0, mx.nd.zeros((3,)))
print('READY', flush=True)
time.sleep(60)
"""


def test_dead_worker_fails_the_others_quickly(make_job):
    job = make_job(num_servers=1, num_workers=2).start_all()
    job.start_worker("worker 1", IDLE_WORKER, rank=1)
    kv = _store(job, rank_hint=0)
    try:
        import psnet as mx
        kv.init(0, mx.nd.zeros((3,)))
        assert job.wait_for("worker 1", "READY", 20), job.output("worker 1")
        job.kill("worker 1")
        start = time.monotonic()
        kv.push(0, mx.nd.ones((3,)))
        with pytest.raises(DeadNodeError, match=r"worker 1 \(127\.0\.0\.1\) died while this worker \(rank 0\)"):
            kv.pull(0, out=mx.nd.zeros((3,)))        # the round can never complete
        assert time.monotonic() - start < 8
        with pytest.raises(DeadNodeError, match="worker 1"):
            kv.barrier()
    finally:
        kv.close()
    job.procs["scheduler"].wait(timeout=10)
    assert job.procs["scheduler"].returncode == 1            # the job failed
    assert "worker 1 (127.0.0.1) is dead" in job.output("scheduler")
    job.procs["server 0"].wait(timeout=10)                    # and its servers were stopped


def test_dead_server_without_checkpoints_is_reported(make_job):
    import psnet as mx
    job = make_job(num_servers=2, num_workers=1).start_all()
    kv = _store(job)
    try:
        kv.init([0, 1], [mx.nd.zeros((3,)), mx.nd.zeros((3,))])
        job.kill("server 1")
        start = time.monotonic()
        with pytest.raises(DeadNodeError, match=r"server 1 \(127\.0\.0\.1\) died"):
            for _ in range(100):
                kv.pushpull(1, mx.nd.ones((3,)))
        assert time.monotonic() - start < 8
    finally:
        kv.close()


def test_dead_scheduler_is_reported_and_servers_stop(make_job):
    import psnet as mx
    job = make_job(num_servers=1, num_workers=1).start_all()
    kv = _store(job, heartbeat_timeout=1.5)
    try:
        kv.init(0, mx.nd.zeros((3,)))
        job.kill("scheduler")
        start = time.monotonic()
        with pytest.raises(DeadNodeError, match=r"the scheduler at 127\.0\.0\.1:%d stopped answering" % job.port):
            for _ in range(200):
                kv.pushpull(0, mx.nd.ones((3,)))
                time.sleep(0.02)
        assert time.monotonic() - start < 6
        assert job.procs["server 0"].wait(timeout=10) == 1
        assert "the scheduler at 127.0.0.1:%d stopped answering" % job.port in job.output("server 0")
    finally:
        kv.close()              # returns at once: nobody is left to tell


def test_unreachable_scheduler_is_an_error_naming_it():
    port = free_port()
    from psnet.kvstore.dist.config import DistConfig
    cfg = DistConfig(root_port=port, connect_timeout=1, timeout=5)
    start = time.monotonic()
    with pytest.raises(RendezvousError, match="127.0.0.1:%d within 1 s" % port):
        DistKVStore("dist_sync", cfg=cfg)
    assert time.monotonic() - start < 5


TRAIN = """
import time, numpy as np, psnet as mx
kv = mx.kv.create('dist_sync')
r, W = kv.rank, kv.num_workers
shapes = {0: (6, 4), 1: (4,), 2: (30, 10), 3: (7,)}        # key 2 is sliced over both servers
make = lambda: mx.optimizer.SGD(learning_rate=0.05, momentum=0.9, wd=0.001)
kv.set_optimizer(make())
start = {k: np.linspace(-1, 1, int(np.prod(s)), dtype=np.float32).reshape(s) for k, s in shapes.items()}
kv.init(list(shapes), [mx.nd.array(start[k]) for k in shapes])
ref = mx.optimizer.Updater(make())
ref_w = {k: mx.nd.array(start[k]) for k in shapes}
outs = {k: mx.nd.zeros(s) for k, s in shapes.items()}
grad = lambda k, q, n: np.cos(np.arange(int(np.prod(shapes[k]))) * (q + 1) + n).reshape(shapes[k]).astype(np.float32)
for n in range(STEPS):
    for k in shapes:                      # one push per key, reusing one buffer (the log copies)
        g = mx.nd.array(grad(k, r, n))
        kv.push(k, g)
        g[:] = 12345.0
    kv.pull(list(shapes), out=[outs[k] for k in shapes])
    for k in shapes:
        ref(k, mx.nd.array(sum(grad(k, q, n) for q in range(W))), ref_w[k])
    print('STEP', n, flush=True)
    time.sleep(0.03)
err = max(float(np.abs(outs[k].asnumpy() - ref_w[k].asnumpy()).max()) for k in shapes)
print('RESULT', r, err, float(sum(outs[k].asnumpy().sum() for k in shapes)), flush=True)
kv.close()
"""


def test_killed_server_restarts_from_its_snapshot_and_training_matches(make_job, tmp_path):
    ckpt = tmp_path / "ckpt"
    job = make_job(num_servers=2, num_workers=2, env={"MXNET_KVSTORE_BIGARRAY_BOUND": "100",
                                                      "PSNET_CHECKPOINT_DIR": str(ckpt)})
    job.start_all()
    program = "STEPS = 40\n" + TRAIN
    for rank in (0, 1):
        job.start_worker("worker %d" % rank, program, rank)
    assert job.wait_for("worker 0", "STEP 12", 30), job.output("worker 0")
    job.kill("server 1")
    assert (ckpt / "server-1.ckpt").exists()
    job.start("server 1b", "server", env={"DMLC_RANK": "1"})
    for rank in (0, 1):
        job.procs["worker %d" % rank].wait(timeout=45)
    out = [job.output("worker %d" % rank) for rank in (0, 1)]
    assert [job.procs["worker %d" % r].returncode for r in (0, 1)] == [0, 0], out
    results = [line.split() for o in out for line in o.splitlines() if line.startswith("RESULT")]
    assert len(results) == 2 and results[0][3] == results[1][3], results      # same final weights
    assert all(float(r[2]) < 1e-5 for r in results), results                  # = the undisturbed run
    assert "resumed from" in job.output("server 1b")
    assert "server 1 restarted" in out[0] and "resending" in out[0]
