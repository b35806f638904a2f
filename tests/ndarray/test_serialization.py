"""mx.nd.save / mx.nd.load (docs/formats.md) and pickling of NDArrays."""
import io
import os
import pickle
import struct

import numpy as np
import pytest

import psnet as mx
from psnet.ndarray import serialization as ser

DTYPES = ["float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool"]


def _arrays():
    rs = np.random.RandomState(0)
    return {dt: mx.nd.array((rs.randn(2, 3) * 10).astype(dt), dtype=dt) for dt in DTYPES}


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


def test_dict_round_trip_keeps_names_dtypes_and_shapes(tmp_path):
    data = _arrays()
    data["scalar"] = mx.nd.array([3.5])
    data["empty"] = mx.nd.zeros((0, 4))
    data["high_rank"] = mx.nd.arange(24).reshape((1, 2, 3, 4))
    data["ünïcode.weight"] = mx.nd.ones((2,))
    mx.nd.save(str(tmp_path / "d.params"), data)
    back = mx.nd.load(str(tmp_path / "d.params"))
    assert isinstance(back, dict) and list(back) == list(data)
    for k in data:
        _same(back[k], data[k])


def test_list_and_single_array_load_as_lists(tmp_path):
    arrs = list(_arrays().values())
    mx.nd.save(tmp_path / "l.nd", arrs)
    back = mx.nd.load(tmp_path / "l.nd")
    assert isinstance(back, list) and len(back) == len(arrs)
    for a, b in zip(arrs, back):
        _same(a, b)
    one = mx.nd.array([[1, 2], [3, 4]])
    mx.nd.save(tmp_path / "one.nd", one)
    back = mx.nd.load(tmp_path / "one.nd")
    assert isinstance(back, list) and len(back) == 1  # as MXNet 1.9.1
    _same(back[0], one)
    mx.nd.save(tmp_path / "empty.nd", [])
    assert mx.nd.load(tmp_path / "empty.nd") == []


def test_file_objects_bytes_and_context():
    data = {"w": mx.nd.arange(6).reshape((2, 3))}
    buf = io.BytesIO()
    mx.nd.save(buf, data)
    buf.seek(0)
    _same(mx.nd.load(buf)["w"], data["w"])
    blob = ser.dumps([data["w"]])
    assert blob[:8] == b"PSNETND\0"
    back = ser.loads(blob, ctx=mx.cpu(1))
    assert back[0].context == mx.cpu(1)
    _same(back[0], data["w"])


def test_layout_is_the_documented_one():
    blob = ser.dumps({"ab": mx.nd.array([1.0, 2.0])})
    magic, version, kind, count = struct.unpack_from("<8sIIQ", blob)
    assert (magic, version, kind, count) == (b"PSNETND\0", 1, 2, 1)
    off = 24
    (nlen,) = struct.unpack_from("<I", blob, off)
    assert blob[off + 4:off + 4 + nlen] == b"ab"
    off += 4 + nlen
    assert blob[off] == 7 and blob[off + 1:off + 8] == b"float32"
    off += 8
    ndim, dim0, nbytes = struct.unpack_from("<IQQ", blob, off)
    assert (ndim, dim0, nbytes) == (1, 2, 8)
    assert np.frombuffer(blob[off + 20:], "<f4").tolist() == [1.0, 2.0]


def test_truncated_file_names_the_file_and_where_it_ends(tmp_path):
    path = tmp_path / "t.nd"
    mx.nd.save(path, {"a": mx.nd.ones((4, 4)), "b": mx.nd.ones(3)})
    full = path.read_bytes()
    for cut in (4, 20, 30, len(full) - 5):
        path.write_bytes(full[:cut])
        with pytest.raises(mx.MXNetError, match="t.nd") as e:
            mx.nd.load(path)
        assert "truncated" in str(e.value) or "magic" in str(e.value)
    path.write_bytes(full[:len(full) - 5])
    with pytest.raises(mx.MXNetError, match=r"entry 1 data"):
        mx.nd.load(path)


def test_foreign_corrupt_and_missing_files(tmp_path):
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(mx.MXNetError, match="not an NDArray file"):
        mx.nd.load(foreign)
    blob = bytearray(ser.dumps([mx.nd.ones(2)]))
    blob[8] = 9  # version
    with pytest.raises(mx.MXNetError, match="version 9"):
        ser.loads(bytes(blob))
    blob = bytearray(ser.dumps([mx.nd.ones(2)]))
    blob[24 + 4 + 1:24 + 4 + 8] = b"float99"
    with pytest.raises(mx.MXNetError, match="unknown dtype 'float99'"):
        ser.loads(bytes(blob))
    with pytest.raises(mx.MXNetError, match="unexpected data"):
        ser.loads(ser.dumps([mx.nd.ones(2)]) + b"x")
    with pytest.raises(mx.MXNetError, match="nope.nd"):
        mx.nd.load(tmp_path / "nope.nd")


def test_bad_inputs_to_save():
    with pytest.raises(mx.MXNetError, match="dict keys must be str"):
        ser.dumps({1: mx.nd.ones(1)})
    with pytest.raises(mx.MXNetError, match="entry #1"):
        ser.dumps([mx.nd.ones(1), np.ones(1)])
    with pytest.raises(mx.MXNetError, match="NDArray"):
        ser.dumps("weights")


def test_pickle_round_trip_keeps_values_dtype_and_context():
    for a in list(_arrays().values()) + [mx.nd.ones((2, 2), ctx=mx.cpu(3))]:
        b = pickle.loads(pickle.dumps(a))
        _same(a, b)
        assert b.context == a.context
    x = mx.nd.ones(2)
    x.attach_grad()
    assert pickle.loads(pickle.dumps(x)).grad is None  # autograd state is not pickled


def test_save_uses_no_pickle(tmp_path):
    blob = ser.dumps({"a": mx.nd.ones(3)})
    assert b"\x80\x04" not in blob[:2] and b"numpy" not in blob


_DATA = os.path.join(os.path.dirname(__file__), "data")


def test_loads_files_written_by_mxnet():
    """Fixtures written by MXNet 1.9.1's mx.nd.save (see docs/formats.md, "MXNet files")."""
    d = mx.nd.load(os.path.join(_DATA, "mxnet191_dict.nd"))
    assert list(d) == ["arg:w", "aux:b", "h"]
    _same(d["arg:w"], mx.nd.array([[1, 2, 3], [4, 5, 6]]))
    _same(d["aux:b"], mx.nd.array([7], dtype="int64"))
    _same(d["h"], mx.nd.array([1.5], dtype="float16"))
    lst = mx.nd.load(os.path.join(_DATA, "mxnet191_list.nd"), ctx=mx.cpu(1))
    expected = [mx.nd.array([1, 2]), mx.nd.array([[[1]]], dtype="uint8"),
                mx.nd.arange(6, dtype="float64").reshape((2, 3)), mx.nd.array([True, False], dtype="bool"),
                mx.nd.array([-3, 4], dtype="int8"), mx.nd.array([5, 6], dtype="int32")]
    assert len(lst) == len(expected) and lst[0].context == mx.cpu(1)
    for a, b in zip(lst, expected):
        _same(a, b)
    single = mx.nd.load(os.path.join(_DATA, "mxnet191_single.nd"))
    _same(single[0], mx.nd.array([3.25]))


def test_truncated_mxnet_file_is_a_clear_error(tmp_path):
    with open(os.path.join(_DATA, "mxnet191_dict.nd"), "rb") as f:
        blob = f.read()
    with pytest.raises(mx.MXNetError, match="truncated"):
        ser.loads(blob[:60])
    bad = bytearray(blob)
    bad[28:32] = b"\x01\x00\x00\x00"  # storage type of array 0: row_sparse
    with pytest.raises(mx.MXNetError, match="sparse"):
        ser.loads(bytes(bad))


def test_gluon_parameters_saved_by_mxnet_give_mxnet_outputs():
    """MXNet 1.9.1 saved this HybridSequential(Dense(3, relu), BatchNorm, Dense(1)) after
    Xavier init and printed its outputs for the input below."""
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=2, activation="relu"), nn.BatchNorm(in_channels=3), nn.Dense(1, in_units=3))
    net.load_parameters(os.path.join(_DATA, "mxnet191_gluon_mlp.nd"))
    out = net(mx.nd.array([[1.0, 2.0], [3.0, -1.0]]))
    np.testing.assert_allclose(out.asnumpy(), [[1.4051928520202637], [0.5743982791900635]], rtol=1e-6)


def test_bad_inputs_to_save_are_type_errors_as_in_mxnet():
    for bad in ({1: mx.nd.ones(1)}, {"a": np.ones(2)}, 3):
        with pytest.raises(TypeError):
            ser.dumps(bad)


def test_load_frombuffer_reads_both_formats():
    d = mx.nd.load_frombuffer(ser.dumps({"w": mx.nd.array([1.5, 2])}))
    _same(d["w"], mx.nd.array([1.5, 2]))
    with open(os.path.join(_DATA, "mxnet191_dict.nd"), "rb") as f:
        m = mx.nd.load_frombuffer(f.read())
    assert list(m) == ["arg:w", "aux:b", "h"]
    _same(m["aux:b"], mx.nd.array([7], dtype="int64"))
