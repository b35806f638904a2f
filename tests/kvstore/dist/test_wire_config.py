"""The wire format and the DMLC_* configuration, in process."""
import msgpack
import numpy as np
import pytest
import zmq

from psnet.base import MXNetError
from psnet.kvstore.dist import wire
from psnet.kvstore.dist.config import DistConfig, interface_address


@pytest.fixture
def pair():
    ctx = zmq.Context.instance()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    port = a.bind_to_random_port("tcp://127.0.0.1")
    b.connect("tcp://127.0.0.1:%d" % port)
    yield a, b
    a.close(linger=0)
    b.close(linger=0)


def test_roundtrip_small_and_zero_copy(pair):
    a, b = pair
    small = np.arange(6, dtype=np.int32).reshape(2, 3)
    big = np.random.rand(300, 400).astype(np.float32)          # 480 KB: sent without a copy
    wire.send(a, {"op": "push", "keys": [1, "w"]}, [small, big[:, ::2]])   # non-contiguous too
    assert b.poll(5000)
    header, arrays = wire.recv(b)
    assert header["op"] == "push" and header["keys"] == [1, "w"]
    np.testing.assert_array_equal(arrays[0], small)
    assert arrays[0].dtype == np.int32
    np.testing.assert_array_equal(arrays[1], big[:, ::2])
    assert arrays[1].base is not None             # a view over the frame buffer


def test_shared_array_is_one_frame_sent_to_every_peer(pair):
    a, b = pair
    big = np.random.rand(256, 300).astype(np.float64)         # 600 KB: one shared frame
    small = np.arange(5, dtype=np.int64)                       # rides inline in the header
    shared, inline = wire.Shared(big), wire.Shared(small)
    assert shared.frame is not None and inline.frame is None
    for rid in (1, 2):                                         # the same frame, sent twice
        wire.send(a, {"id": rid}, [shared, inline])
    for rid in (1, 2):
        assert b.poll(5000)
        header, (got_big, got_small) = wire.recv(b)
        assert header["id"] == rid
        np.testing.assert_array_equal(got_big, big)
        np.testing.assert_array_equal(got_small, small)
        assert got_big.dtype == np.float64 and got_small.dtype == np.int64


def test_a_received_array_is_answered_from_its_own_frame(pair):
    """A server answers a sync round from the first push's received frame (summed in place),
    so an answer wraps no new zero-copy frame."""
    a, b = pair
    big = np.random.rand(300, 100).astype(np.float32)          # 120 KB: its own frame
    wire.send(a, {"id": 1}, [big, np.arange(3)])
    assert b.poll(5000)
    _, (got, small) = wire.recv(b)
    frame = wire.received_frame(got)
    assert isinstance(frame, zmq.Frame) and wire.Shared(got).frame is frame
    assert wire.received_frame(got[:10]) is None and wire.received_frame(small) is None
    got += 1                                                    # summed into in place, then answered
    wire.send(b, {"id": 2}, [wire.Shared(got)])
    assert a.poll(5000)
    np.testing.assert_array_equal(wire.recv(a)[1][0], big + 1)


def _frames(header, *payload):
    return [msgpack.packb(header)] + list(payload)


@pytest.mark.parametrize("frames, message", [
    ([b"\xc1\xff"], "not valid msgpack"),
    ([msgpack.packb([1, 2])], "must be a map"),
    (_frames({"arrays": [[[2], "float32"]]}), "announces 1 array frames but 0 frames"),
    (_frames({"arrays": [[[2], "float32"]]}, b"123"), "holds 3 bytes but shape (2,) float32 needs 8"),
    (_frames({"arrays": [[[2], "object"]]}, b"12345678"), "bad array description"),
    (_frames({"arrays": [[[-2], "int8"]]}, b""), "negative dimension"),
])
def test_malformed_messages_are_rejected(frames, message):
    with pytest.raises(wire.ProtocolError, match=message.replace("(", r"\(").replace(")", r"\)")):
        wire.decode(frames)


def test_config_from_env(monkeypatch):
    for k, v in dict(DMLC_ROLE="server", DMLC_PS_ROOT_URI="127.0.0.1", DMLC_PS_ROOT_PORT="9123",
                     DMLC_NUM_SERVER="3", DMLC_NUM_WORKER="5", PS_VERBOSE="1",
                     MXNET_KVSTORE_BIGARRAY_BOUND="77", DMLC_RANK="2").items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("DMLC_NODE_HOST", raising=False)
    monkeypatch.delenv("DMLC_INTERFACE", raising=False)
    cfg = DistConfig.from_env()
    assert (cfg.role, cfg.root_port, cfg.num_servers, cfg.num_workers) == ("server", 9123, 3, 5)
    assert (cfg.verbose, cfg.bigarray_bound, cfg.rank_hint, cfg.node_host) == (1, 77, 2, "127.0.0.1")
    assert cfg.scheduler_address == "tcp://127.0.0.1:9123"
    monkeypatch.delenv("PSNET_SERVER_IO_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert DistConfig.from_env().server_io_threads == 4
    monkeypatch.setenv("DMLC_NUM_WORKER", "2")
    assert DistConfig.from_env().server_io_threads == 2
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert DistConfig.from_env().server_io_threads == 1
    monkeypatch.setenv("PSNET_SERVER_IO_THREADS", "3")
    assert DistConfig.from_env().server_io_threads == 3
    monkeypatch.setenv("DMLC_INTERFACE", "lo")
    assert DistConfig.from_env().node_host == "127.0.0.1"
    monkeypatch.setenv("DMLC_ROLE", "boss")
    with pytest.raises(MXNetError, match="DMLC_ROLE='boss'"):
        DistConfig.from_env()


def test_unknown_interface_is_named():
    with pytest.raises(MXNetError, match="DMLC_INTERFACE=nosuchif0"):
        interface_address("nosuchif0")


@pytest.mark.parametrize("kind, levels", [("2bit", [-0.5, 0.0, 0.5]), ("1bit", [-1.0, 1.0])])
def test_codec_roundtrip_is_exact_and_small(kind, levels):
    from psnet.kvstore.dist import codec
    values = np.random.choice(np.array(levels, np.float32), size=(7, 13))
    packed = codec.pack(values, kind)
    assert packed.dtype == np.uint8 and packed.size == -(-values.size * (2 if kind == "2bit" else 1) // 8)
    np.testing.assert_array_equal(codec.unpack(packed, kind, 0.5, (7, 13), np.float32), values)
    with pytest.raises(MXNetError, match="cannot hold"):
        codec.unpack(packed[:-1], kind, 0.5, (7, 13), np.float32)
