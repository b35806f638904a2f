"""A live server under a few thousand random and mutated messages, and a malicious pickle.

Every message thrown is malformed in at least one way (checked construction below), so
the server must drop or refuse all of them: afterwards it still answers pulls with the
exact stored values and applies a real push correctly.
"""
import pickle
import random

import msgpack
import numpy as np
import pytest
import zmq

from psnet.kvstore.dist.client import DistKVStore
from tests.kvstore.dist.live import LiveJob

SHAPES = {3: (4, 3), 7: (5,), 11: (2, 2, 2)}


class _Evil:
    """Unpickling this runs ``os.system`` (what a pickle-reading server would suffer)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, ("touch %s" % self.marker,)


def _template(rid):
    """A well-formed pull or push header (push only from rank 0 with matching arrays)."""
    key = random.choice(sorted(SHAPES))
    if random.random() < 0.5:
        return {"op": "pull", "id": rid, "rank": 0, "sync": True, "keys": [key], "parts": [-1]}, []
    arr = np.ones(SHAPES[key], np.float32) * 1000
    return {"op": "push", "id": rid, "rank": 0, "sync": True, "keys": [key], "parts": [-1]}, [arr]


JUNK = [None, -1, 2 ** 40, "x" * 3, 1.5, [], {}, [1, [2]], {"a": 1}, b"\x00", True, "push"]


def _mutant(rid):
    """``(frames, kind)``: one message broken in a random way."""
    kind = random.choice(["bytes", "msgpack", "field", "meta", "frames", "flip"])
    if kind == "bytes":
        return [bytes(random.getrandbits(8) for _ in range(random.randint(0, 64)))], kind
    if kind == "msgpack":
        return [msgpack.packb(random.choice([JUNK, 7, "op", [{"op": "push"}], JUNK[:3]]))], kind
    header, arrays = _template(rid)
    if kind == "field":   # a push with a broken field; a pull gets an unknown key or bad op
        field = random.choice(["rank", "keys", "parts", "op", "sync"])
        header[field] = random.choice([j for j in JUNK if j != header[field] and j != [3]]
                                      + ([] if header["op"] == "push" else ["nokey"]))
        if header["op"] == "pull" and field in ("rank", "sync"):
            header["keys"] = [99]        # a pull of a key nobody has: harmless and refused
        if header["op"] == "push" and header.get("rank") in (0, None) and isinstance(header.get("keys"), list):
            header["keys"] = header["keys"] + [7, 7]   # one array for two or more keys: refused
    arrays = [np.asarray(a) for a in arrays]
    frames = [a.tobytes() for a in arrays]
    metas = [[list(a.shape), a.dtype.name] for a in arrays]
    if kind == "meta":
        metas = [[random.choice([[-1], [3, 3], [10 ** 6], "ab"]), random.choice(["object", "float32", "V8", 5])]]
        frames = frames or [b"\x00" * 12]
    elif kind == "frames":
        frames = frames + [b"extra"] if random.random() < 0.5 else []
        metas = metas or [[[2], "float32"]]
    header["arrays"] = metas
    packed = msgpack.packb(header, use_bin_type=True)
    if kind == "flip":   # byte-flip a pull (a pull cannot become a valid push: it has no arrays)
        pull = msgpack.packb({"op": "pull", "id": rid, "rank": 0, "keys": [3], "parts": [-1], "arrays": []})
        buf = bytearray(pull)
        for _ in range(random.randint(1, 4)):
            buf[random.randrange(len(buf))] = random.getrandbits(8)
        return [bytes(buf)], kind
    return [packed] + frames, kind


def _fuzz_scheduler(port, count=1000):
    """Junk and junk-valued scheduler requests (never a valid finish or registration)."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect("tcp://127.0.0.1:%d" % port)
    for i in range(count):
        if i % 3 == 0:
            sock.send(bytes(random.getrandbits(8) for _ in range(random.randint(1, 40))))
            continue
        h = {"op": random.choice(["register", "barrier", "finish", "dead", "heartbeat", "book", None]),
             "id": i, "role": random.choice(JUNK + ["server", "worker"])}
        for field in ("rank", "group", "node_id", "timeout", "port"):
            h[field] = random.choice([j for j in JUNK if not isinstance(j, int) or isinstance(j, bool)] + [-1, 2 ** 40])
        sock.send(msgpack.packb(h))
    sock.close()


@pytest.fixture
def job(tmp_path):
    live = LiveJob(tmp_path, num_servers=1, num_workers=1).start_all()
    try:
        yield live
    finally:
        live.stop()


def _pull_all(kv):
    outs = {k: __import__("psnet").nd.zeros(s) for k, s in SHAPES.items()}
    kv.pull(list(SHAPES), out=[outs[k] for k in SHAPES])
    return {k: o.asnumpy() for k, o in outs.items()}


def test_fuzzed_server_keeps_serving_and_loses_nothing(job, tmp_path):
    import psnet as mx
    random.seed(1234)
    kv = DistKVStore("dist_sync", cfg=job.config())
    try:
        start = {k: np.arange(np.prod(s), dtype=np.float32).reshape(s) - 3 for k, s in SHAPES.items()}
        kv.init(list(SHAPES), [mx.nd.array(start[k]) for k in SHAPES])
        marker = tmp_path / "pwned"
        evil = pickle.dumps(_Evil(str(marker)))
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(kv._addresses[0])
        sent = 0
        # the pickle as a header, and as an "object" array frame behind a valid-looking header
        sock.send_multipart([evil])
        sock.send_multipart([msgpack.packb({"op": "push", "id": 1, "rank": 0, "keys": [3], "parts": [-1],
                                            "arrays": [[[len(evil)], "object"]]}), evil])
        sent += 2
        kinds = {}
        for rid in range(2, 3002):
            frames, kind = _mutant(rid)
            sock.send_multipart(frames)
            kinds[kind] = kinds.get(kind, 0) + 1
            sent += 1
        # the server handles messages in order: once our flush is answered it has seen them all
        sock.send_multipart([msgpack.packb({"op": "flush", "id": 10 ** 6, "rank": 0, "keys": [], "parts": []})])
        deadline_ms = 30000
        while sock.poll(deadline_ms):
            header = msgpack.unpackb(sock.recv_multipart()[0], strict_map_key=False)
            if header.get("id") == 10 ** 6:
                break
        else:
            pytest.fail("server stopped answering after the fuzz")
        sock.close()
        _fuzz_scheduler(job.port)
        kv.barrier()                                    # the scheduler still coordinates
        assert kv.num_dead_node(6, timeout=60) == 0
        assert job.procs["scheduler"].poll() is None, job.output("scheduler")
        assert job.procs["server 0"].poll() is None, job.output("server 0")
        assert not marker.exists(), "a pickle from the network was executed"
        got = _pull_all(kv)
        for k in SHAPES:
            np.testing.assert_array_equal(got[k], start[k])
        kv.push(list(SHAPES), [mx.nd.ones(s) * 2 for s in SHAPES.values()])
        got = _pull_all(kv)
        for k, s in SHAPES.items():
            np.testing.assert_array_equal(got[k], np.full(s, 2, np.float32))
        assert sent == 3002 and min(kinds.values()) > 300, kinds
        assert "dropped a malformed message" in job.output("server 0")
    finally:
        kv.close()
