"""mx.image.ImageIter: batches vs direct decoding and MXNet 1.9.1's outputs, last_batch_handle
pad/discard/roll_over, hard_reset, partitions, shuffle, .lst and imglist inputs, errors.

The expected label/pad sequences were produced by MXNet 1.9.1's ImageIter reading the same
files (written here with psnet.recordio and Pillow, PNG so decoding is lossless)."""
import os
import random

import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, ShapeError

Image = pytest.importorskip("PIL.Image", reason="encoding test images needs Pillow (optional dependency)")

N_IMG = 5


def _images():
    rng = np.random.RandomState(0)
    return [rng.randint(0, 256, (6 + i % 2, 7 + i, 3)).astype(np.uint8) for i in range(N_IMG)]   # RGB


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("imgiter")
    imgs = _images()
    rec = mx.recordio.MXIndexedRecordIO(str(d / "d.idx"), str(d / "d.rec"), "w")
    with open(d / "d.lst", "w") as lst:
        for i, img in enumerate(imgs):
            # pack_img takes OpenCV's BGR layout
            rec.write_idx(i, mx.recordio.pack_img(mx.recordio.IRHeader(0, float(i), i, 0), img[:, :, ::-1],
                                                  img_fmt=".png"))
            Image.fromarray(img).save(str(d / ("im%d.png" % i)))
            lst.write("%d\t%d\t%d\tim%d.png\n" % (i, i, 10 + i, i))
    rec.close()
    return str(d)


def _p(d, name):
    return os.path.join(d, name)


def _center(img, h, w):
    y0, x0 = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[y0:y0 + h, x0:x0 + w].transpose(2, 0, 1).astype(np.float32)


def _epochs(it, n=2):
    out = []
    for _ in range(n):
        for b in it:
            out.append((b.pad, b.label[0].asnumpy().tolist()))
        out.append("stop")
        it.reset()
    return out


def test_rec_batches_match_direct_decoding(data_dir):
    imgs = _images()
    it = mx.image.ImageIter(2, (3, 4, 5), path_imgrec=_p(data_dir, "d.rec"))
    assert it.provide_data == [("data", (2, 3, 4, 5))]
    assert it.provide_label == [("softmax_label", (2,))]
    batches = list(it)
    assert len(batches) == 3
    order = [0, 1, 2, 3, 4, 0]          # 'pad' fills the last batch from the start
    for k, b in enumerate(batches):
        assert b.data[0].shape == (2, 3, 4, 5) and b.data[0].dtype == np.float32
        assert b.label[0].dtype == np.float32
        for j in range(2):
            np.testing.assert_array_equal(b.data[0].asnumpy()[j], _center(imgs[order[2 * k + j]], 4, 5))
        np.testing.assert_array_equal(b.label[0].asnumpy(), [order[2 * k], order[2 * k + 1]])
    assert [b.pad for b in batches] == [0, 0, 1]


# (pad, labels) per batch over two epochs, from MXNet 1.9.1
MX_PAD = [(0, [0.0, 1.0]), (0, [2.0, 3.0]), (1, [4.0, 0.0]), "stop"] * 2
MX_DISCARD = [(0, [0.0, 1.0]), (0, [2.0, 3.0]), "stop"] * 2
MX_ROLL = [(0, [0.0, 1.0]), (0, [2.0, 3.0]), "stop", (1, [4.0, 0.0]), (0, [1.0, 2.0]), (0, [3.0, 4.0]), "stop"]
MX_IDX3 = {"pad": [(0, [0.0, 1.0, 2.0]), (1, [3.0, 4.0, 0.0]), "stop"] * 2,
           "discard": [(0, [0.0, 1.0, 2.0]), "stop"] * 2,
           "roll_over": [(0, [0.0, 1.0, 2.0]), "stop", (1, [3.0, 4.0, 0.0]), (0, [1.0, 2.0, 3.0]), "stop"]}


@pytest.mark.parametrize("handle,expected", [("pad", MX_PAD), ("discard", MX_DISCARD), ("roll_over", MX_ROLL)])
def test_last_batch_handle_sequential(data_dir, handle, expected):
    it = mx.image.ImageIter(2, (3, 4, 5), path_imgrec=_p(data_dir, "d.rec"), last_batch_handle=handle)
    assert _epochs(it) == expected


@pytest.mark.parametrize("handle", ["pad", "discard", "roll_over"])
def test_last_batch_handle_indexed(data_dir, handle):
    it = mx.image.ImageIter(3, (3, 4, 5), path_imgrec=_p(data_dir, "d.rec"), path_imgidx=_p(data_dir, "d.idx"),
                            last_batch_handle=handle)
    assert _epochs(it) == MX_IDX3[handle]


def test_roll_over_data_and_hard_reset(data_dir):
    imgs = _images()
    it = mx.image.ImageIter(2, (3, 4, 5), path_imgrec=_p(data_dir, "d.rec"), last_batch_handle="roll_over")
    assert [b.pad for b in it] == [0, 0]
    it.reset()
    b = it.next()       # image 4 kept from the first epoch, then image 0
    np.testing.assert_array_equal(b.data[0].asnumpy()[0], _center(imgs[4], 4, 5))
    np.testing.assert_array_equal(b.data[0].asnumpy()[1], _center(imgs[0], 4, 5))
    # hard_reset drops the kept partial batch
    it = mx.image.ImageIter(2, (3, 4, 5), path_imgrec=_p(data_dir, "d.rec"), last_batch_handle="roll_over")
    list(it)
    it.hard_reset()
    assert [(b.pad, b.label[0].asnumpy().tolist()) for b in it] == [(0, [0.0, 1.0]), (0, [2.0, 3.0])]


def test_lst_file_and_label_width(data_dir):
    imgs = _images()
    it = mx.image.ImageIter(2, (3, 4, 5), label_width=2, path_imglist=_p(data_dir, "d.lst"), path_root=data_dir)
    assert it.provide_label == [("softmax_label", (2, 2))]
    batches = list(it)
    assert [b.label[0].asnumpy().tolist() for b in batches] == [[[0, 10], [1, 11]], [[2, 12], [3, 13]],
                                                                [[4, 14], [0, 10]]]
    np.testing.assert_array_equal(batches[1].data[0].asnumpy()[1], _center(imgs[3], 4, 5))
    assert batches[-1].pad == 1


def test_imglist_labels(data_dir):
    # MXNet 1.9.1: a scalar label fills label_width, a list is taken whole, extra items are labels
    it = mx.image.ImageIter(2, (3, 4, 5), imglist=[[1.5, "im0.png"], [[2, 3], "im1.png"], [4, 5, "im2.png"]],
                            path_root=data_dir, label_width=2)
    assert _epochs(it, 1) == [(0, [[1.5, 1.5], [2.0, 3.0]]), (1, [[4.0, 5.0], [1.5, 1.5]]), "stop"]


def test_partitions(data_dir):
    kw = dict(path_imgrec=_p(data_dir, "d.rec"), path_imgidx=_p(data_dir, "d.idx"), num_parts=2)
    p0 = mx.image.ImageIter(2, (3, 4, 5), part_index=0, **kw)
    p1 = mx.image.ImageIter(2, (3, 4, 5), part_index=1, **kw)
    assert _epochs(p0, 1) == [(0, [0.0, 1.0]), "stop"]      # 5 // 2 = 2 images per part (MXNet)
    assert _epochs(p1, 1) == [(0, [2.0, 3.0]), "stop"]


def test_shuffle_uses_python_random(data_dir):
    random.seed(3)
    it = mx.image.ImageIter(5, (3, 4, 5), path_imgrec=_p(data_dir, "d.rec"), path_imgidx=_p(data_dir, "d.idx"),
                            shuffle=True)
    labels = it.next().label[0].asnumpy()
    random.seed(3)
    keys = list(range(N_IMG))
    random.shuffle(keys)
    np.testing.assert_array_equal(labels, keys)
    it.reset()
    assert sorted(it.next().label[0].asnumpy().tolist()) == list(range(N_IMG))


MX_AUG_00 = [-1.3645004034042358, -0.2499999850988388, -0.2881045639514923]
MX_AUG_SUM = [-0.638530433177948, -2.89365816116333]


def test_augmenter_kwargs_match_mxnet(data_dir):
    # resize=5 (bicubic shorter side), centre crop 3x3, ImageNet mean/std; values from MXNet 1.9.1
    it = mx.image.ImageIter(2, (3, 3, 3), path_imgrec=_p(data_dir, "d.rec"), resize=5, mean=True, std=True)
    d = it.next().data[0].asnumpy()
    np.testing.assert_allclose(d[0, :, 0, 0], MX_AUG_00, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d.sum(axis=(1, 2, 3)), MX_AUG_SUM, rtol=1e-5, atol=1e-4)


def test_custom_aug_list_shape_error(data_dir):
    it = mx.image.ImageIter(2, (3, 4, 5), path_imgrec=_p(data_dir, "d.rec"), aug_list=[])
    with pytest.raises(ShapeError, match="data_shape"):
        it.next()
    it = mx.image.ImageIter(2, (3, 4, 5), path_imgrec=_p(data_dir, "d.rec"),
                            aug_list=mx.image.CreateAugmenter((3, 4, 5)))
    assert it.next().data[0].shape == (2, 3, 4, 5)


def test_errors(data_dir, tmp_path):
    rec = _p(data_dir, "d.rec")
    with pytest.raises(ShapeError, match="length 3"):
        mx.image.ImageIter(2, (3, 4), path_imgrec=rec)
    with pytest.raises(ShapeError, match="3 channels"):
        mx.image.ImageIter(2, (1, 4, 4), path_imgrec=rec)
    with pytest.raises(MXNetError, match="nope.rec"):
        mx.image.ImageIter(2, (3, 4, 4), path_imgrec=_p(data_dir, "nope.rec"))
    with pytest.raises(MXNetError, match="nope.lst"):
        mx.image.ImageIter(2, (3, 4, 4), path_imglist=_p(data_dir, "nope.lst"), path_root=data_dir)
    with pytest.raises(MXNetError, match="path_imgrec, path_imglist or imglist"):
        mx.image.ImageIter(2, (3, 4, 4))
    with pytest.raises(MXNetError, match="last_batch_handle"):
        mx.image.ImageIter(2, (3, 4, 4), path_imgrec=rec, last_batch_handle="keep")
    with pytest.raises(MXNetError, match="dtype"):
        mx.image.ImageIter(2, (3, 4, 4), path_imgrec=rec, dtype="uint8")
    with pytest.raises(MXNetError, match="path_imgidx"):
        mx.image.ImageIter(2, (3, 4, 4), path_imgrec=rec, shuffle=True)
    it = mx.image.ImageIter(2, (3, 4, 5), path_imglist=_p(data_dir, "d.lst"), path_root=data_dir)
    with pytest.raises(ShapeError, match="label_width is 1"):     # 2 labels per line (MXNet: ValueError)
        it.next()
    it = mx.image.ImageIter(2, (3, 4, 5), imglist=[[0, "missing.png"]], path_root=data_dir)
    with pytest.raises(MXNetError, match="missing.png"):
        it.next()
    (tmp_path / "bad.png").write_bytes(b"not an image")
    it = mx.image.ImageIter(2, (3, 4, 5), imglist=[[0, "bad.png"]], path_root=str(tmp_path))
    with pytest.raises(MXNetError, match="bad.png"):
        it.next()
