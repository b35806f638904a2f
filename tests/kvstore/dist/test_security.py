"""CURVE cluster keys, the exposure warning, request validation, and pickles refused by the wire."""
import os
import pickle
import stat
import warnings

import msgpack
import numpy as np
import pytest
import zmq

from psnet.kvstore.dist import security, validate, wire


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, ("touch %s" % self.marker,)


def test_wire_never_unpickles(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_Evil(str(marker)))
    for frames in ([evil],
                   [msgpack.packb({"op": "push", "arrays": [[[len(evil)], "object"]]}), evil],
                   [msgpack.packb({"op": "push", "arrays": [[[len(evil)], "O", evil]]})]):
        with pytest.raises(wire.ProtocolError):
            wire.decode(frames)
    assert not marker.exists()


def test_keygen_file_roundtrip_and_env(tmp_path, monkeypatch):
    path = tmp_path / "cluster.key"
    assert security.main(["keygen", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.delenv(security.ENV_SECRET, raising=False)
    monkeypatch.setenv(security.ENV_KEY_FILE, str(path))
    key = security.load_cluster_key()
    assert key.public == zmq.curve_public(path.read_bytes().strip())
    monkeypatch.setenv(security.ENV_SECRET, key.secret.decode())
    assert security.load_cluster_key().public == key.public
    monkeypatch.setenv(security.ENV_SECRET, "short")
    with pytest.raises(security.SecurityError, match="40 Z85 characters"):
        security.load_cluster_key()
    monkeypatch.delenv(security.ENV_SECRET)
    monkeypatch.setenv(security.ENV_KEY_FILE, str(tmp_path / "missing.key"))
    with pytest.raises(security.SecurityError, match="missing.key"):
        security.load_cluster_key()
    monkeypatch.delenv(security.ENV_KEY_FILE)
    assert security.load_cluster_key() is None


def _exchange(ctx, server_key, client_key, client_server_key=None):
    """Send one message from a client to a CURVE (or plain) ROUTER; the payload or None."""
    srv = security.secure_server(ctx.socket(zmq.ROUTER), server_key)
    srv.setsockopt(zmq.LINGER, 0)
    port = srv.bind_to_random_port("tcp://127.0.0.1")
    cli = security.secure_client(ctx.socket(zmq.DEALER), client_key)
    if client_server_key is not None:
        cli.curve_serverkey = client_server_key
    cli.setsockopt(zmq.LINGER, 0)
    cli.connect("tcp://127.0.0.1:%d" % port)
    cli.send(b"hello")
    try:
        return srv.recv_multipart()[1] if srv.poll(1500) else None
    finally:
        cli.close()
        srv.close()


def test_curve_admits_only_the_cluster_key():
    ctx = zmq.Context()
    try:
        key = security.ClusterKey.generate()
        assert _exchange(ctx, key, key) == b"hello"
        assert _exchange(ctx, key, None) is None                       # plain client: refused
        other = security.ClusterKey.generate()
        assert _exchange(ctx, key, other, client_server_key=key.public) is None   # wrong key
        assert _exchange(ctx, None, None) == b"hello"                  # no key configured: open
    finally:
        ctx.destroy(linger=0)


def test_warns_when_exposed_without_key():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert security.warn_if_exposed("10.1.2.3", None, "server 0") is True
        assert security.warn_if_exposed("127.0.0.1", None, "server 0") is False
        assert security.warn_if_exposed("10.1.2.3", security.ClusterKey.generate(), "server 0") is False
    assert len(caught) == 1 and "10.1.2.3" in str(caught[0].message) and "PSNET_CLUSTER" in str(caught[0].message)


def _push(**over):
    h = {"op": "push", "id": 5, "rank": 1, "sync": True, "keys": [3, "w"], "parts": [-1, 0]}
    h.update(over)
    return h


@pytest.mark.parametrize("over, arrays, match", [
    ({"op": "exec"}, 2, "unknown request op"),
    ({"op": {"a": 1}}, 2, "unknown request op"),
    ({"id": "5"}, 2, "integer id"),
    ({"rank": 2}, 2, "rank 2; this job has 2 workers"),
    ({"rank": True}, 2, "rank True"),
    ({"sync": 1}, 2, "'sync' must be a bool"),
    ({"keys": [3]}, 2, "one length"),
    ({"keys": [3, 1 << 64]}, 2, "outside int64"),
    ({"keys": [3, ""]}, 2, "str key of 0"),
    ({"keys": [3, 1.5]}, 2, "neither int nor str"),
    ({"parts": [-1, 2]}, 2, "slice 2 of key 'w'"),
    ({}, 1, "carries 1 arrays for 2 keys"),
    ({"op": "pull"}, 2, "carries 2 arrays"),
])
def test_check_request_rejects(over, arrays, match):
    arrs = [np.zeros(3, np.float32)] * arrays
    with pytest.raises(wire.ProtocolError, match=match):
        validate.check_request(_push(**over), arrs, num_workers=2, num_servers=2, limit=1 << 20)


def test_check_request_accepts_and_limits_size():
    arrs = [np.zeros(3, np.float32), np.zeros(5, np.float32)]
    validate.check_request(_push(), arrs, num_workers=2, num_servers=2, limit=32)
    validate.check_request({"op": "flush", "id": 1, "rank": 0, "keys": [], "parts": []}, [], 2, 2, 32)
    with pytest.raises(wire.ProtocolError, match="32 bytes exceeds PSNET_MAX_REQUEST_BYTES=31"):
        validate.check_request(_push(), arrs, num_workers=2, num_servers=2, limit=31)
