"""``mx.io.ImageRecordIter``: batches of decoded, augmented images from a RecordIO file.

The file is one written by ``im2rec`` / :func:`psnet.recordio.pack_img` (records of
:func:`psnet.recordio.pack`).  Each sample goes through MXNet's default augmenter, in
MXNet's order:

1. decode to RGB (``data_shape[0] == 3``) or greyscale (``1``) with Pillow;
2. ``resize > 0``: the shorter side becomes ``resize`` (the other ``side * resize // short``,
   truncated), interpolation ``inter_method`` (OpenCV's codes, exact as :mod:`psnet.image`);
3. an image still smaller than ``data_shape`` is enlarged as MXNet does: first to height
   ``H`` if its height is less (width scaled, truncated), then to width ``W`` if its width is
   less (bilinear);
4. crop ``H x W``: at a random position with ``rand_crop``, else the centre
   (offsets ``(h - H) // 2``, ``(w - W) // 2``);
5. ``rand_mirror``: flip left-right with probability 0.5;
6. ``(pixel - mean) * (scale / std)`` per channel (float32) (``mean_r/g/b``, ``std_r/g/b``), NCHW float32.

Batches are ``DataBatch(data=[(B, C, H, W)], label=[(B,)] or [(B, label_width)])``.
With ``round_batch=True`` (the default) the last batch is completed with the first samples
of the next epoch (``pad`` counts them), and the next epoch starts after them, as MXNet
does.  With ``round_batch=False`` the last batch is completed with zeros and ``pad`` counts
them (MXNet 1.9.1 reports ``pad=0`` there and leaves the rows uninitialised).
``num_parts``/``part_index`` split the file as dmlc-core does: into ``num_parts`` equal byte
ranges (rounded up to 4 bytes), a part holding the records that start in its range.

Differences from MXNet: random crops, mirrors and shuffles come from NumPy's generator
(seeded by ``seed``), so they are not MXNet's sequences; greyscale decoding may differ from
OpenCV's by 1 (different RGB-to-grey rounding), and JPEG decoding may differ slightly.
"""
import os
import struct

import numpy as np

from .. import recordio
from ..base import NotSupportedError
from ..ndarray import array
from .base import DataBatch, DataDesc, DataIter, IteratorError

__all__ = ["ImageRecordIter"]

# arguments MXNet accepts that only tune its C++ threads/buffers; accepted and ignored here
_IGNORED = {"preprocess_threads", "prefetch_buffer", "verbose", "shuffle_chunk_size", "shuffle_chunk_seed",
            "ctx", "dtype_hint"}


def _record_starts(path):
    """Byte offsets of the records of a RecordIO file (each record's first chunk)."""
    starts = []
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            f.seek(pos)
            head = f.read(8)
            if len(head) != 8:
                raise IteratorError("ImageRecordIter: truncated record header in %s at byte %d" % (path, pos))
            magic, lrec = struct.unpack("<II", head)
            if magic != 0xced7230a:
                raise IteratorError("ImageRecordIter: invalid RecordIO file %s: bad magic 0x%08x at byte %d"
                                    % (path, magic, pos))
            if lrec >> 29 in (0, 1):
                starts.append(pos)
            pos += 8 + (((lrec & ((1 << 29) - 1)) + 3) & ~3)
    return starts, size


class ImageRecordIter(DataIter):
    """Iterate over a RecordIO file of images in NCHW float32 batches (see the module docstring
    for the augmentation pipeline and the differences from MXNet).

    ``path_imgrec`` and ``data_shape`` ``(C, H, W)`` (C is 1 or 3) and ``batch_size`` are
    required.  Other arguments: ``label_width`` (1), ``path_imgidx`` (accepted; the record
    offsets are read from the ``.rec`` itself), ``shuffle``, ``rand_crop``, ``rand_mirror``,
    ``mean_r/g/b`` (0), ``std_r/g/b`` (1), ``scale`` (1), ``resize`` (-1: off),
    ``inter_method`` (1, bilinear), ``num_parts``/``part_index``, ``round_batch`` (True),
    ``seed`` (0), ``data_name`` ('data'), ``label_name`` ('softmax_label').
    """

    def __init__(self, path_imgrec, data_shape, batch_size, label_width=1, path_imgidx="", shuffle=False,
                 rand_crop=False, rand_mirror=False, mean_r=0.0, mean_g=0.0, mean_b=0.0, std_r=1.0, std_g=1.0,
                 std_b=1.0, scale=1.0, resize=-1, inter_method=1, num_parts=1, part_index=0, round_batch=True,
                 seed=0, data_name="data", label_name="softmax_label", **kwargs):
        super().__init__(batch_size)
        unknown = sorted(set(kwargs) - _IGNORED)
        if unknown:
            raise NotSupportedError("ImageRecordIter: unsupported argument(s) %s" % ", ".join(unknown))
        data_shape = tuple(int(d) for d in data_shape)
        if len(data_shape) != 3 or data_shape[0] not in (1, 3) or min(data_shape) <= 0:
            raise IteratorError("ImageRecordIter: data_shape must be (C, H, W) with C 1 or 3, got %s"
                                % (data_shape,))
        if int(batch_size) <= 0:
            raise IteratorError("ImageRecordIter: batch_size must be positive, got %r" % (batch_size,))
        if not 0 <= part_index < num_parts:
            raise IteratorError("ImageRecordIter: part_index %d out of range for num_parts %d"
                                % (part_index, num_parts))
        if path_imgidx and not os.path.exists(path_imgidx):
            raise IteratorError("ImageRecordIter: index file %s not found" % (path_imgidx,))
        self.batch_size = int(batch_size)
        self.data_shape = data_shape
        self.label_width = int(label_width)
        self.shuffle, self.rand_crop, self.rand_mirror = bool(shuffle), bool(rand_crop), bool(rand_mirror)
        self.resize, self.inter_method, self.round_batch = int(resize), int(inter_method), bool(round_batch)
        channels = data_shape[0]
        self._mean = np.array([mean_r, mean_g, mean_b][:channels], np.float32).reshape(channels, 1, 1)
        std = np.array([std_r, std_g, std_b][:channels], np.float32).reshape(channels, 1, 1)
        self._mult = np.float32(scale) / std          # one float32 factor per channel, as MXNet
        self._rng = np.random.RandomState(seed)
        self.path_imgrec = path_imgrec
        starts, size = _record_starts(path_imgrec)
        nstep = (size + num_parts - 1) // num_parts
        nstep = (nstep + 3) // 4 * 4
        lo, hi = nstep * part_index, nstep * (part_index + 1)
        self._offsets = [s for s in starts if lo <= s < hi]
        if not self._offsets:
            raise IteratorError("ImageRecordIter: no records in %s (part %d of %d)"
                                % (path_imgrec, part_index, num_parts))
        self._reader = recordio.MXRecordIO(path_imgrec, "r")
        batch = (self.batch_size,)
        label_shape = batch if self.label_width == 1 else batch + (self.label_width,)
        self.provide_data = [DataDesc(data_name, batch + data_shape)]
        self.provide_label = [DataDesc(label_name, label_shape)]
        self._carry = None
        self.reset()

    def _new_order(self):
        n = len(self._offsets)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    def reset(self):
        """Start the next epoch (after the samples the last batch borrowed, with ``round_batch``)."""
        if self._carry is not None:
            self._order, self._cursor = self._carry
            self._carry = None
        else:
            self._order, self._cursor = self._new_order(), 0

    def _load(self, i):
        self._reader._seek(self._offsets[i])
        header, payload = recordio.unpack(self._reader.read())
        label = np.atleast_1d(np.asarray(header.label, np.float32))
        if label.size != self.label_width:
            raise IteratorError("ImageRecordIter: record %d of %s has a %d-value label but label_width is %d"
                                % (i, self.path_imgrec, label.size, self.label_width))
        return self._augment(payload), label

    def _augment(self, payload):
        from ..cv_resize import resize
        from ..image import imdecode
        c, th, tw = self.data_shape
        img = imdecode(payload, 1 if c == 3 else 0).asnumpy()
        if self.resize > 0:
            h, w = img.shape[:2]
            nh, nw = (self.resize * h // w, self.resize) if h > w else (self.resize, self.resize * w // h)
            img = resize(img, nw, nh, self.inter_method)
        if img.shape[0] < th:
            img = resize(img, img.shape[1] * th // img.shape[0], th, 1)
        if img.shape[1] < tw:
            img = resize(img, tw, img.shape[0] * tw // img.shape[1], 1)
        y, x = img.shape[0] - th, img.shape[1] - tw
        if self.rand_crop:
            y, x = self._rng.randint(0, y + 1), self._rng.randint(0, x + 1)
        else:
            y, x = y // 2, x // 2
        img = img[y:y + th, x:x + tw]
        if self.rand_mirror and self._rng.randint(0, 2):
            img = img[:, ::-1]
        chw = img.transpose(2, 0, 1).astype(np.float32)
        return (chw - self._mean) * self._mult

    def next(self):
        """The next :class:`DataBatch`; StopIteration at the end of the epoch (then :meth:`reset`)."""
        n = len(self._order)
        if self._cursor >= n:
            raise StopIteration
        take = self._order[self._cursor:self._cursor + self.batch_size].tolist()
        self._cursor += len(take)
        pad = self.batch_size - len(take)
        samples = [self._load(i) for i in take]
        if pad and self.round_batch:
            nxt = self._new_order()
            borrowed = np.resize(nxt, pad).tolist()
            samples += [self._load(i) for i in borrowed]
            self._carry = (nxt, pad % n)
        data = np.zeros((self.batch_size,) + self.data_shape, np.float32)
        label = np.zeros((self.batch_size, self.label_width), np.float32)
        for k, (d, l) in enumerate(samples):
            data[k], label[k] = d, l
        if self.label_width == 1:
            label = label[:, 0]
        return DataBatch(data=[array(data)], label=[array(label)], pad=pad,
                         provide_data=self.provide_data, provide_label=self.provide_label)

    def iter_next(self):
        """Whether another batch is left in this epoch."""
        return self._cursor < len(self._order)

    def close(self):
        """Close the record file."""
        self._reader.close()
