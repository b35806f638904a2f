"""Server snapshots (atomic, data-only) and the scheduler's failure detector."""
import os
import socket

import numpy as np
import pytest

from psnet.kvstore.dist import checkpoint, health


def test_snapshot_roundtrip_and_atomic_replace(tmp_path):
    path = checkpoint.path_for(str(tmp_path / "ck"), 1)
    arrays = {"3/-1": np.arange(12, dtype=np.float32).reshape(4, 3), "w/0": np.array([1, 2], np.int64),
              "empty": np.zeros((0, 5), np.float16)}
    meta = {"rank": 1, "rounds": 7, "applied": {"0": 41}, "updater": {"name": "sgd", "params": {}}}
    checkpoint.save(path, meta, arrays)
    got_meta, got = checkpoint.load(path)
    assert got_meta == meta
    assert set(got) == set(arrays)
    for name, arr in arrays.items():
        assert got[name].dtype == arr.dtype and got[name].shape == arr.shape
        np.testing.assert_array_equal(got[name], arr)
    checkpoint.save(path, dict(meta, rounds=8), {"3/-1": arrays["3/-1"] + 1})
    assert checkpoint.load(path)[0]["rounds"] == 8
    assert os.listdir(os.path.dirname(path)) == ["server-1.ckpt"]   # no temporary left behind


def test_failed_write_keeps_previous_snapshot(tmp_path):
    path = checkpoint.path_for(str(tmp_path), 0)
    checkpoint.save(path, {"rounds": 1}, {"a": np.ones(3, np.float32)})
    with pytest.raises(checkpoint.CheckpointError, match="dtype object"):
        checkpoint.save(path, {"rounds": 2}, {"a": np.array([None, 1], dtype=object)})
    assert checkpoint.load(path)[0] == {"rounds": 1}
    assert checkpoint.load(str(tmp_path / "absent.ckpt")) is None


def test_damaged_snapshot_is_an_error(tmp_path):
    path = checkpoint.path_for(str(tmp_path), 0)
    checkpoint.save(path, {"rounds": 1}, {"a": np.ones(300, np.float32)})
    blob = open(path, "rb").read()
    open(path, "wb").write(blob[:-10])
    with pytest.raises(checkpoint.CheckpointError, match="past the end"):
        checkpoint.load(path)
    open(path, "wb").write(b"\x80\x04pickle")
    with pytest.raises(checkpoint.CheckpointError, match="not a psnet server snapshot"):
        checkpoint.load(path)


def test_policy_by_rounds_and_seconds(monkeypatch):
    now = [0.0]
    p = checkpoint.Policy("/ck", rounds=3, seconds=0, clock=lambda: now[0])
    assert [p.due(r) for r in (1, 2, 3)] == [False, False, True]
    p.taken(3)
    assert not p.due(5) and p.due(6)
    t = checkpoint.Policy("/ck", rounds=0, seconds=5, clock=lambda: now[0])
    now[0] = 4.9
    assert not t.due(100)
    now[0] = 5.0
    assert t.due(100)
    monkeypatch.delenv("PSNET_CHECKPOINT_DIR", raising=False)
    assert not checkpoint.Policy().enabled and not checkpoint.Policy().due(10)
    monkeypatch.setenv("PSNET_CHECKPOINT_DIR", "/ck")
    monkeypatch.setenv("PSNET_CHECKPOINT_ROUNDS", "4")
    assert checkpoint.Policy().enabled and checkpoint.Policy().rounds == 4


def test_liveness_declares_silent_nodes_dead_once():
    now = [0.0]
    live = health.Liveness(timeout=10, clock=lambda: now[0])
    live.join("server", 0, "10.0.0.2")
    live.join("worker", 1, "10.0.0.5")
    live.join("worker", 0, "10.0.0.4")
    now[0] = 8
    live.beat("server", 0)
    live.beat("worker", 0)
    live.leave("worker", 0)
    now[0] = 15
    dead = live.newly_dead()
    assert dead == [{"role": "worker", "rank": 1, "host": "10.0.0.5"}]
    assert health.describe(dead[0]) == "worker 1 (10.0.0.5)"
    assert live.newly_dead() == []
    now[0] = 30                       # the finished worker stays silent without being dead
    assert [health.describe(n) for n in live.newly_dead()] == ["server 0 (10.0.0.2)"]
    live.join("server", 0, "10.0.0.9")    # a restarted server rejoins
    assert live.silent("server", 5) == 0 and live.silent("worker", 5) == 1


def test_tcp_probe():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert health.main(["tcp", "127.0.0.1", str(port)]) == 0
    assert not health.probe("127.0.0.1", port, timeout=1)


def test_replay_log_keeps_what_no_snapshot_covers():
    from psnet.kvstore.dist.recovery import ReplayLog
    log = ReplayLog(2)
    grad = np.ones(3, np.float32)
    log.record(0, 1, {"op": "push"}, [grad])       # not enabled yet: nothing kept
    log.enable(0)
    for rid, op in ((2, "push"), (3, "pull"), (4, "pushpull"), (5, "flush"), (6, "push")):
        log.record(0, rid, {"op": op, "id": rid}, [grad] if "push" in op else [])
    grad[:] = 7                                      # the caller reuses its buffer: the log copied
    log.record(1, 9, {"op": "push"}, [grad])         # server 1 does not snapshot
    log.drop(0, 3)
    log.drop(0, 5)
    log.drop(0, 4)                                   # an answered pushpull still changed state
    assert [h["id"] for h, _ in log.replay(0)] == [2, 4, 6]
    assert (log.replay(0)[0][1][0] == 1).all()
    log.durable(0, 4)
    assert [h["id"] for h, _ in log.replay(0)] == [6] and log.replay(1) == []
