"""A job secured with a cluster key: members work, an unauthenticated peer gets nothing in."""
import msgpack
import numpy as np
import pytest
import zmq

from psnet.kvstore.dist import security
from psnet.kvstore.dist.client import DistKVStore
from psnet.kvstore.dist.node import RendezvousError
from tests.kvstore.dist.live import LiveJob


@pytest.fixture
def secured(tmp_path):
    key_file = tmp_path / "cluster.key"
    from launcher.launch import main as launch
    assert launch(["keygen", str(key_file)]) == 0          # psnet-launch keygen FILE
    job = LiveJob(tmp_path, num_servers=1, num_workers=1,
                  env={security.ENV_KEY_FILE: str(key_file)}).start_all()
    try:
        yield job, security.ClusterKey(key_file.read_bytes())
    finally:
        job.stop()


def test_unauthenticated_push_is_refused_and_value_unchanged(secured):
    import psnet as mx
    job, key = secured
    with pytest.raises(RendezvousError, match="cannot reach the scheduler"):   # no key: not even registered
        DistKVStore("dist_sync", cfg=job.config(connect_timeout=1))
    kv = DistKVStore("dist_sync", cfg=job.config(cluster_key=key))
    try:
        kv.init(5, mx.nd.full((4,), 3.0))
        address = kv._addresses[0]
        ctx = zmq.Context.instance()
        push = {"op": "push", "id": 1, "rank": 0, "sync": False, "keys": [5], "parts": [-1],
                "arrays": [[[4], "float32", np.full(4, 99, np.float32).tobytes()]]}
        for client_key in (None, security.ClusterKey.generate()):   # no CURVE / a wrong key
            sock = ctx.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            if client_key is not None:
                security.secure_client(sock, client_key)
            sock.connect(address)
            sock.send_multipart([msgpack.packb(push)])
            sock.send_multipart([msgpack.packb({"op": "pull", "id": 2, "rank": 0, "keys": [5], "parts": [-1]})])
            assert not sock.poll(1000), "an unauthenticated peer got an answer"
            sock.close()
        out = mx.nd.zeros((4,))
        kv.pull(5, out=out)
        np.testing.assert_array_equal(out.asnumpy(), np.full(4, 3.0, np.float32))
        kv.push(5, mx.nd.ones((4,)))            # members still work, encrypted
        kv.pull(5, out=out)
        np.testing.assert_array_equal(out.asnumpy(), np.ones(4, np.float32))
    finally:
        kv.close()
