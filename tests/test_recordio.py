"""mx.recordio: dmlc-core's RecordIO format, checked against bytes MXNet 1.9.1 wrote."""
import base64
import pickle
import struct

import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError
from psnet.recordio import RecordIOError

MAGIC = struct.pack("<I", 0xced7230a)

# Written by MXNet 1.9.1 (~/mxref) with MXIndexedRecordIO('s.idx', 's.rec', 'w') and
#   write_idx(3, b''); write_idx(1, b'abcde'); write_idx(4, b'12' + MAGIC + b'xx' + MAGIC)
#   write_idx(0, pack(IRHeader(0, [1.5, -2], 77, 5), b'img'))
#   write_idx(9, pack(IRHeader(0, 6.0, 2**40 + 3, 0), MAGIC))
MX_REC = base64.b64decode(
    "CiPXzgAAAAAKI9fOBQAAAGFiY2RlAAAACiPXzggAACAxMgoj1854eAoj184AAABgCiPXziMAAAACAAAAAAAAAE0AAAAAAA"
    "AABQAAAAAAAAAAAMA/AAAAwGltZwAKI9fOGAAAIAAAAAAAAMBAAwAAAAABAAAAAAAAAAAAAAoj184AAABg")
MX_IDX = "3\t0\n1\t8\n4\t24\n0\t48\n9\t92\n"
MX_KEYS = [3, 1, 4, 0, 9]


def _mx_records():
    hdr = mx.recordio.IRHeader
    return [b"", b"abcde", b"12" + MAGIC + b"xx" + MAGIC,
            mx.recordio.pack(hdr(0, [1.5, -2], 77, 5), b"img"),
            mx.recordio.pack(hdr(0, 6.0, 2 ** 40 + 3, 0), MAGIC)]


def _read_all(path):
    rec = mx.recordio.MXRecordIO(path, "r")
    out = []
    while True:
        item = rec.read()
        if item is None:
            break
        out.append(item)
    rec.close()
    return out


def test_write_is_byte_identical_to_mxnet(tmp_path):
    rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / "s.idx"), str(tmp_path / "s.rec"), "w")
    for key, buf in zip(MX_KEYS, _mx_records()):
        rec.write_idx(key, buf)
    rec.close()
    assert (tmp_path / "s.rec").read_bytes() == MX_REC
    assert (tmp_path / "s.idx").read_text() == MX_IDX


def test_read_mxnet_file(tmp_path):
    (tmp_path / "s.rec").write_bytes(MX_REC)
    (tmp_path / "s.idx").write_text(MX_IDX)
    assert _read_all(str(tmp_path / "s.rec")) == _mx_records()
    rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / "s.idx"), str(tmp_path / "s.rec"), "r")
    assert rec.keys == MX_KEYS and rec.idx == {3: 0, 1: 8, 4: 24, 0: 48, 9: 92}
    header, payload = mx.recordio.unpack(rec.read_idx(0))
    assert (header.flag, header.id, header.id2, payload) == (2, 77, 5, b"img")
    np.testing.assert_array_equal(header.label, np.array([1.5, -2], np.float32))
    assert header.label.dtype == np.float32
    header, payload = mx.recordio.unpack(rec.read_idx(9))
    assert header == (0, 6.0, 2 ** 40 + 3, 0) and payload == MAGIC
    assert rec.read_idx(4) == b"12" + MAGIC + b"xx" + MAGIC
    assert rec.read() == _mx_records()[3]      # reading goes on after a seek
    rec.close()


@pytest.mark.parametrize("n", range(9))
def test_lengths_and_padding(tmp_path, n):
    path = str(tmp_path / "p.rec")
    rec = mx.recordio.MXRecordIO(path, "w")
    data = bytes(range(1, n + 1))
    rec.write(data)
    assert rec.tell() == 8 + (n + 3) // 4 * 4
    rec.close()
    raw = (tmp_path / "p.rec").read_bytes()
    assert raw == MAGIC + struct.pack("<I", n) + data + b"\0" * (-n % 4)
    assert _read_all(path) == [data]


def test_multipart_record_layout(tmp_path):
    path = str(tmp_path / "m.rec")
    data = b"abcd" + MAGIC + MAGIC + b"ef" + MAGIC[:2]
    with mx.recordio.MXRecordIO(path, "w") as rec:
        rec.write(data)
        rec.write(MAGIC)
    raw = (tmp_path / "m.rec").read_bytes()
    lrec = lambda flag, n: MAGIC + struct.pack("<I", flag << 29 | n)  # noqa: E731
    expected = (lrec(1, 4) + b"abcd" + lrec(2, 0) + lrec(3, 4) + b"ef" + MAGIC[:2]
                + lrec(1, 0) + lrec(3, 0))
    assert raw == expected
    assert _read_all(path) == [data, MAGIC]


def test_round_trip_random_records(tmp_path):
    rng = np.random.RandomState(3)
    recs = []
    for i in range(20):
        words = rng.randint(0, 4, size=rng.randint(0, 12)).astype("<u4")
        words[words == 3] = 0xced7230a         # many aligned magic words
        recs.append(words.tobytes()[: len(words) * 4 - rng.randint(0, 4) if len(words) else 0])
    idx, path = str(tmp_path / "r.idx"), str(tmp_path / "r.rec")
    rec = mx.recordio.MXIndexedRecordIO(idx, path, "w", key_type=str)
    for i, r in enumerate(recs):
        rec.write_idx("k%d" % i, r)
    rec.close()
    assert _read_all(path) == recs
    rec = mx.recordio.MXIndexedRecordIO(idx, path, "r", key_type=str)
    assert rec.keys == ["k%d" % i for i in range(20)]
    for i in rng.permutation(20):
        assert rec.read_idx("k%d" % i) == recs[i]
    rec.reset()
    assert rec.read() == recs[0]
    rec.close()


def test_pack_unpack_headers():
    hdr = mx.recordio.IRHeader
    s = mx.recordio.pack(hdr(5, 2.5, 11, 12), b"xyz")
    assert s == struct.pack("IfQQ", 0, 2.5, 11, 12) + b"xyz"   # a number label forces flag 0
    assert mx.recordio.unpack(s) == (hdr(0, 2.5, 11, 12), b"xyz")
    s = mx.recordio.pack(hdr(0, np.array([1, 2, 3]), 1, 0), b"q")
    assert s == struct.pack("IfQQ", 3, 0, 1, 0) + np.array([1, 2, 3], np.float32).tobytes() + b"q"
    header, payload = mx.recordio.unpack(s)
    np.testing.assert_array_equal(header.label, [1, 2, 3])
    assert header.flag == 3 and payload == b"q"
    with pytest.raises(RecordIOError, match="header"):
        mx.recordio.unpack(b"short")


def test_errors(tmp_path):
    bad = tmp_path / "bad.rec"
    bad.write_bytes(MAGIC + struct.pack("<I", 4) + b"abcd" + b"\x01\x02\x03\x04" + b"\0" * 4)
    rec = mx.recordio.MXRecordIO(str(bad), "r")
    assert rec.read() == b"abcd"
    with pytest.raises(RecordIOError, match=r"bad\.rec.*magic 0x04030201 at byte 12"):
        rec.read()
    rec.close()
    trunc = tmp_path / "trunc.rec"
    trunc.write_bytes(MAGIC + struct.pack("<I", 10) + b"abc")
    with pytest.raises(RecordIOError, match=r"truncated record in .*trunc\.rec at byte 0"):
        mx.recordio.MXRecordIO(str(trunc), "r").read()
    part = tmp_path / "part.rec"
    part.write_bytes(MAGIC + struct.pack("<I", 1 << 29))
    with pytest.raises(RecordIOError, match="inside a multi-part record"):
        mx.recordio.MXRecordIO(str(part), "r").read()

    w = mx.recordio.MXRecordIO(str(tmp_path / "w.rec"), "w")
    with pytest.raises(RecordIOError, match=r"w\.rec is opened for writing"):
        w.read()
    with pytest.raises(TypeError, match="bytes"):
        w.write("text")
    w.close()
    r = mx.recordio.MXRecordIO(str(tmp_path / "w.rec"), "r")
    with pytest.raises(RecordIOError, match="opened for reading"):
        r.write(b"x")
    r.close()
    with pytest.raises(RecordIOError, match="closed"):
        r.read()
    with pytest.raises(MXNetError, match="invalid flag 'a'"):
        mx.recordio.MXRecordIO(str(tmp_path / "w.rec"), "a")
    with pytest.raises(RecordIOError, match="cannot open .*missing.rec"):
        mx.recordio.MXRecordIO(str(tmp_path / "missing.rec"), "r")
    (tmp_path / "s.rec").write_bytes(MX_REC)
    (tmp_path / "s.idx").write_text(MX_IDX)
    ir = mx.recordio.MXIndexedRecordIO(str(tmp_path / "s.idx"), str(tmp_path / "s.rec"), "r")
    with pytest.raises(KeyError, match="key 7 is not in index"):
        ir.read_idx(7)
    ir.close()


def test_pickle_reopens(tmp_path):
    (tmp_path / "s.rec").write_bytes(MX_REC)
    (tmp_path / "s.idx").write_text(MX_IDX)
    rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / "s.idx"), str(tmp_path / "s.rec"), "r")
    rec.read_idx(1)
    clone = pickle.loads(pickle.dumps(rec))
    assert clone.keys == MX_KEYS and clone.read_idx(4) == _mx_records()[2]
    rec.close()
    clone.close()


def _pil():
    return pytest.importorskip("PIL", reason="pack_img/unpack_img need Pillow (optional dependency)")


def test_pack_img_png_bgr_round_trip():
    _pil()
    rng = np.random.RandomState(0)
    bgr = rng.randint(0, 256, (5, 7, 3)).astype(np.uint8)
    s = mx.recordio.pack_img(mx.recordio.IRHeader(0, [1, 2], 4, 0), bgr, quality=3, img_fmt=".png")
    header, img = mx.recordio.unpack_img(s)
    np.testing.assert_array_equal(img, bgr)
    np.testing.assert_array_equal(header.label, [1, 2])
    # the stored PNG is in RGB order (OpenCV semantics: the array is BGR)
    raw = mx.image.imdecode(mx.recordio.unpack(s)[1]).asnumpy()
    np.testing.assert_array_equal(raw, bgr[:, :, ::-1])
    _, color = mx.recordio.unpack_img(s, 1)
    np.testing.assert_array_equal(color, bgr)
    _, gray = mx.recordio.unpack_img(s, 0)
    assert gray.shape == (5, 7) and gray.dtype == np.uint8
    gray_ref = (bgr[:, :, 2] * 0.299 + bgr[:, :, 1] * 0.587 + bgr[:, :, 0] * 0.114)
    assert np.abs(gray.astype(float) - gray_ref).max() <= 1


def test_pack_img_gray_alpha_and_jpeg():
    _pil()
    gray = (np.arange(12).reshape(3, 4) * 20).astype(np.uint8)
    _, img = mx.recordio.unpack_img(mx.recordio.pack_img((0, 1.0, 0, 0), gray, img_fmt=".png"))
    assert img.shape == (3, 4)
    np.testing.assert_array_equal(img, gray)
    _, img = mx.recordio.unpack_img(mx.recordio.pack_img((0, 1.0, 0, 0), gray[:, :, None], img_fmt=".png"), 1)
    np.testing.assert_array_equal(img, np.repeat(gray[:, :, None], 3, axis=2))
    bgra = np.random.RandomState(1).randint(0, 256, (2, 3, 4)).astype(np.uint8)
    _, img = mx.recordio.unpack_img(mx.recordio.pack_img((0, 1.0, 0, 0), bgra, img_fmt=".png"))
    np.testing.assert_array_equal(img, bgra)
    flat = np.zeros((16, 16, 3), np.uint8)
    flat[:] = (10, 120, 240)                    # B, G, R
    s = mx.recordio.pack_img((0, 3.0, 0, 0), flat, quality=95)
    assert mx.recordio.unpack(s)[1][:2] == b"\xff\xd8"          # a JPEG
    _, img = mx.recordio.unpack_img(s)
    assert img.shape == (16, 16, 3) and np.abs(img.astype(int) - flat).max() <= 2
    with pytest.raises(MXNetError, match="shape"):
        mx.recordio.pack_img((0, 1.0, 0, 0), np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(MXNetError, match="uint8"):
        mx.recordio.pack_img((0, 1.0, 0, 0), np.zeros((2, 2, 3), np.float32))
