"""gluon.data.RecordFileDataset and gluon.data.vision.ImageRecordDataset."""
import base64
import struct

import numpy as np
import pytest

import psnet as mx
from psnet.base import MXIndexError

MAGIC = struct.pack("<I", 0xced7230a)
# .rec/.idx written by MXNet 1.9.1: write_idx(3, b''), (1, b'abcde'), (4, b'12'+M+b'xx'+M),
# (0, pack(IRHeader(0, [1.5, -2], 77, 5), b'img')), (9, pack(IRHeader(0, 6.0, 2**40+3, 0), M))
MX_REC = base64.b64decode(
    "CiPXzgAAAAAKI9fOBQAAAGFiY2RlAAAACiPXzggAACAxMgoj1854eAoj184AAABgCiPXziMAAAACAAAAAAAAAE0AAAAAAA"
    "AABQAAAAAAAAAAAMA/AAAAwGltZwAKI9fOGAAAIAAAAAAAAMBAAwAAAAABAAAAAAAAAAAAAAoj184AAABg")
MX_IDX = "3\t0\n1\t8\n4\t24\n0\t48\n9\t92\n"


def test_record_file_dataset_reads_mxnet_file(tmp_path):
    (tmp_path / "d.rec").write_bytes(MX_REC)
    (tmp_path / "d.idx").write_text(MX_IDX)
    ds = mx.gluon.data.RecordFileDataset(str(tmp_path / "d.rec"))
    assert len(ds) == 5
    assert ds[0] == b"" and ds[1] == b"abcde" and ds[2] == b"12" + MAGIC + b"xx" + MAGIC
    assert ds[-1] == struct.pack("IfQQ", 0, 6.0, 2 ** 40 + 3, 0) + MAGIC
    header, payload = mx.recordio.unpack(ds[3])
    assert payload == b"img" and header.id == 77
    assert [ds[i] for i in (4, 1)] == [ds[-1], b"abcde"]     # random access in any order
    with pytest.raises(MXIndexError, match="index 5 out of range for 5 records"):
        ds[5]
    assert list(ds.take(2)) == [b"", b"abcde"]


def _write_images(tmp_path, images, labels):
    rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / "im.idx"), str(tmp_path / "im.rec"), "w")
    for i, (img, label) in enumerate(zip(images, labels)):
        rec.write_idx(i, mx.recordio.pack_img(mx.recordio.IRHeader(0, label, i, 0), img, img_fmt=".png"))
    rec.close()
    return str(tmp_path / "im.rec")


def test_image_record_dataset(tmp_path):
    pytest.importorskip("PIL", reason="decoding image records needs Pillow (optional dependency)")
    rng = np.random.RandomState(0)
    bgr = [rng.randint(0, 256, (5, 7, 3)).astype(np.uint8), rng.randint(0, 256, (4, 3, 3)).astype(np.uint8)]
    path = _write_images(tmp_path, bgr, [2.0, [1, 4]])
    ds = mx.gluon.data.vision.ImageRecordDataset(path)
    assert len(ds) == 2
    img, label = ds[0]
    assert isinstance(img, mx.nd.NDArray) and img.dtype == np.uint8 and img.shape == (5, 7, 3)
    np.testing.assert_array_equal(img.asnumpy(), bgr[0][:, :, ::-1])   # RGB, as MXNet's imdecode
    assert label == 2.0
    img, label = ds[1]
    np.testing.assert_array_equal(img.asnumpy(), bgr[1][:, :, ::-1])
    np.testing.assert_array_equal(label, np.array([1, 4], np.float32))

    gray = mx.gluon.data.vision.ImageRecordDataset(path, flag=0)
    img, _ = gray[0]
    assert img.shape == (5, 7, 1)
    rgb = bgr[0][:, :, ::-1].astype(float)
    ref = rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114
    assert np.abs(img.asnumpy()[:, :, 0] - ref).max() <= 1

    tds = mx.gluon.data.vision.ImageRecordDataset(
        path, transform=lambda d, l: (d.astype(np.float32) / 255, l + 1))
    img, label = tds[0]
    assert label == 3.0
    np.testing.assert_allclose(img.asnumpy(), bgr[0][:, :, ::-1] / 255.0, rtol=1e-6)


def test_image_record_dataset_in_dataloader_workers(tmp_path):
    pytest.importorskip("PIL", reason="decoding image records needs Pillow (optional dependency)")
    imgs = [np.full((2, 3, 3), 10 * i, np.uint8) for i in range(6)]
    path = _write_images(tmp_path, imgs, [float(i) for i in range(6)])
    ds = mx.gluon.data.vision.ImageRecordDataset(path)
    ds[0]                          # the parent's file handle is in use before the fork
    loader = mx.gluon.data.DataLoader(ds, batch_size=2, num_workers=2)
    seen = []
    for data, label in loader:
        assert data.shape == (2, 2, 3, 3)
        seen.extend(zip(data.asnumpy()[:, 0, 0, 0].tolist(), label.asnumpy().tolist()))
    assert seen == [(10 * i, float(i)) for i in range(6)]
