"""mx.io.ImageRecordIter: batches, padding, partitions and augmentation, checked against MXNet 1.9.1."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import NotSupportedError
from psnet.io.base import IteratorError

pytest.importorskip("PIL", reason="ImageRecordIter decodes images with Pillow (optional dependency)")

SHAPES = [(6, 8), (8, 6), (7, 7), (6, 6), (9, 10)]


def _images():
    rng = np.random.RandomState(0)
    return [rng.randint(0, 256, s + (3,)).astype(np.uint8) for s in SHAPES]     # BGR, as OpenCV


@pytest.fixture
def recfile(tmp_path):
    """5 PNG records (labels 0..4) of the images above, each padded to a 400-byte payload so the
    byte layout is known (record i starts at 408 * i); plus a file with 2-value labels."""
    paths = {}
    for name, label in (("one", lambda i: float(i)), ("two", lambda i: [i, 10 + i])):
        rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / (name + ".idx")), str(tmp_path / (name + ".rec")), "w")
        for i, img in enumerate(_images()):
            s = mx.recordio.pack_img(mx.recordio.IRHeader(0, label(i), i, 0), img, quality=1, img_fmt=".png")
            if name == "one":
                assert len(s) <= 400
                s += b"\0" * (400 - len(s))       # bytes after PNG's IEND are ignored by decoders
            rec.write_idx(i, s)
        rec.close()
        paths[name] = str(tmp_path / (name + ".rec"))
    return paths


def _center(img, h, w):
    y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[y:y + h, x:x + w, ::-1].transpose(2, 0, 1).astype(np.float32)    # RGB, CHW


def _epoch(it):
    return [(b.data[0].asnumpy(), b.label[0].asnumpy(), b.pad) for b in it]


def test_center_crop_batches_and_round_batch(recfile):
    imgs = _images()
    it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 4, 4), batch_size=3)
    assert it.provide_data[0].name == "data" and it.provide_data[0].shape == (3, 3, 4, 4)
    assert it.provide_label[0].name == "softmax_label" and it.provide_label[0].shape == (3,)
    out = _epoch(it)
    assert [(lab.tolist(), pad) for _, lab, pad in out] == [([0, 1, 2], 0), ([3, 4, 0], 1)]
    for k, i in enumerate([0, 1, 2]):
        np.testing.assert_array_equal(out[0][0][k], _center(imgs[i], 4, 4))
    np.testing.assert_array_equal(out[1][0][2], _center(imgs[0], 4, 4))
    assert out[0][0].dtype == np.float32
    it.reset()           # MXNet: the next epoch starts after the borrowed sample
    assert [(lab.tolist(), pad) for _, lab, pad in _epoch(it)] == [([1, 2, 3], 0), ([4, 0, 1], 2)]
    it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 4, 4), batch_size=7)
    assert [(lab.tolist(), pad) for _, lab, pad in _epoch(it)] == [([0, 1, 2, 3, 4, 0, 1], 2)]


def test_no_round_batch_pads_with_zeros(recfile):
    it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 4, 4), batch_size=3, round_batch=False)
    out = _epoch(it)
    assert [(lab.tolist(), pad) for _, lab, pad in out] == [([0, 1, 2], 0), ([3, 4, 0], 1)]
    assert not out[1][0][2].any()
    it.reset()
    assert [lab.tolist() for _, lab, _ in _epoch(it)] == [[0, 1, 2], [3, 4, 0]]


def test_label_width_and_normalization(recfile):
    it = mx.io.ImageRecordIter(path_imgrec=recfile["two"], data_shape=(3, 4, 4), batch_size=2, label_width=2)
    assert it.provide_label[0].shape == (2, 2)
    assert [lab.tolist() for _, lab, _ in _epoch(it)] == [[[0, 10], [1, 11]], [[2, 12], [3, 13]],
                                                          [[4, 14], [0, 10]]]
    with pytest.raises(IteratorError, match="2-value label but label_width is 1"):
        next(mx.io.ImageRecordIter(path_imgrec=recfile["two"], data_shape=(3, 4, 4), batch_size=2))
    it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 4, 4), batch_size=2,
                               mean_r=10, mean_g=20, mean_b=30, std_r=2, std_g=3, std_b=4, scale=0.5)
    data = next(it).data[0].asnumpy()[0]
    mult = np.float32(0.5) / np.array([2, 3, 4], np.float32).reshape(3, 1, 1)
    expected = (_center(_images()[0], 4, 4) - np.array([10, 20, 30], np.float32).reshape(3, 1, 1)) * mult
    np.testing.assert_array_equal(data, expected)        # MXNet's float32 values exactly


def test_num_parts_split_by_bytes(recfile):
    # 5 records of 408 bytes; dmlc-core splits the 2040 bytes into equal 4-aligned ranges
    def labels(parts, index):
        it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 4, 4), batch_size=1,
                                   num_parts=parts, part_index=index)
        return [int(lab[0]) for _, lab, _ in _epoch(it)]
    assert [labels(2, i) for i in range(2)] == [[0, 1, 2], [3, 4]]
    assert [labels(3, i) for i in range(3)] == [[0, 1], [2, 3], [4]]
    with pytest.raises(IteratorError, match="part_index 2 out of range"):
        labels(2, 2)


def test_resize_and_enlarging_match_mxnet(recfile):
    # values from MXNet 1.9.1's ImageRecordIter on the same images
    it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 4, 3), batch_size=5, resize=6,
                               inter_method=2)
    data = next(it).data[0].asnumpy()
    np.testing.assert_array_equal(data[0, 0], [[115, 197, 175], [31, 151, 203], [186, 1, 169], [68, 47, 131]])
    np.testing.assert_array_equal(data[1, 2], [[2, 32, 38], [2, 226, 112], [61, 4, 139], [110, 188, 117]])
    # smaller than data_shape: height first, then width (8x6 -> 9x6 -> 12x8), centre crop 9x8
    it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 9, 8), batch_size=5)
    data = next(it).data[0].asnumpy()
    np.testing.assert_array_equal(data[1, 1, 3:6], [[65, 41, 69, 127, 48, 77, 140, 204],
                                                    [49, 27, 63, 140, 108, 105, 140, 196],
                                                    [67, 33, 66, 159, 174, 135, 143, 197]])
    np.testing.assert_array_equal(data[0, 0, 0], [211, 49, 125, 213, 98, 105, 155, 215])


def test_random_augmentation_and_shuffle(recfile):
    imgs = _images()
    it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 5, 5), batch_size=5, rand_crop=True,
                               rand_mirror=True, shuffle=True, seed=3)
    seen_crops, seen_flips, orders = set(), set(), []
    for _ in range(6):
        it.reset()
        batch = next(it)
        labels = batch.label[0].asnumpy().astype(int).tolist()
        assert sorted(labels) == [0, 1, 2, 3, 4]
        orders.append(tuple(labels))
        for d, i in zip(batch.data[0].asnumpy(), labels):
            rgb = imgs[i][:, :, ::-1].transpose(2, 0, 1).astype(np.float32)
            matches = [(y, x, f) for y in range(rgb.shape[1] - 4) for x in range(rgb.shape[2] - 4)
                       for f in (0, 1)
                       if np.array_equal(d, (rgb[:, y:y + 5, x:x + 5][:, :, ::-1] if f else rgb[:, y:y + 5, x:x + 5]))]
            assert matches, "sample %d is not a (mirrored) 5x5 crop" % i
            if i == 4:
                seen_crops.add(matches[0][:2])
            seen_flips.add(matches[0][2])
    assert len(set(orders)) > 1 and len(seen_crops) > 1 and seen_flips == {0, 1}


def test_greyscale_and_errors(recfile):
    it = mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(1, 4, 4), batch_size=5)
    data = next(it).data[0].asnumpy()
    assert data.shape == (5, 1, 4, 4)
    rgb = _center(_images()[2], 4, 4)
    luma = rgb[0] * 0.299 + rgb[1] * 0.587 + rgb[2] * 0.114
    assert np.abs(data[2, 0] - luma).max() <= 1          # OpenCV's rounding differs by at most 1
    with pytest.raises(IteratorError, match="data_shape"):
        mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(2, 4, 4), batch_size=1)
    with pytest.raises(NotSupportedError, match="max_rotate_angle"):
        mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 4, 4), batch_size=1, max_rotate_angle=10)
    with pytest.raises(IteratorError, match="index file .*nope.idx not found"):
        mx.io.ImageRecordIter(path_imgrec=recfile["one"], data_shape=(3, 4, 4), batch_size=1,
                              path_imgidx="nope.idx")
