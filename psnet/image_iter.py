"""``mx.image.ImageIter``: MXNet 1.9.1's classic Python image iterator.

Reads encoded images from a RecordIO file (``path_imgrec``, optionally indexed with
``path_imgidx``) or from files listed in a ``.lst`` file / an ``imglist`` under
``path_root``, runs them through an augmenter list (``CreateAugmenter(data_shape,
**kwargs)`` by default), and returns NCHW float32 batches with float32 labels.

Semantics follow MXNet 1.9.1, quirks included: ``provide_data``/``provide_label`` are
plain ``(name, shape)`` tuples; ``last_batch_handle='pad'`` fills the last batch with
samples from the beginning and then stops; ``'discard'`` drops it; ``'roll_over'`` keeps
the partial batch and completes it with the first samples of the next epoch (that batch
reports the pad of the partial one, as MXNet's does).  Shuffling uses Python's
``random.shuffle`` (``random.seed`` reproduces it), as MXNet's does.
"""
import os
import random
from numbers import Number

import numpy as np

from .base import MXNetError, ShapeError
from .io.base import DataBatch, DataIter, IteratorError
from .ndarray import NDArray, array

__all__ = ["ImageIter", "ImageIterError"]


class ImageIterError(IteratorError):
    """Invalid arguments or input files for :class:`ImageIter`."""


class _ImageFileError(MXNetError, FileNotFoundError):
    """An image file listed for :class:`ImageIter` cannot be read."""


class _BrokenImageError(MXNetError, RuntimeError):
    """An image of :class:`ImageIter`'s input cannot be decoded."""


_LABEL_DTYPES = ("int32", "float32", "int64", "float64")
_LAST_BATCH = ("pad", "discard", "roll_over")


class ImageIter(DataIter):
    """Image data iterator over a .rec file or an image list (MXNet 1.9.1's ``mx.image.ImageIter``).

    Parameters: ``batch_size``; ``data_shape`` (3, H, W); ``label_width`` (labels per image);
    ``path_imgrec`` (.rec file), ``path_imgidx`` (its .idx, needed for shuffle and
    partitions); ``path_imglist`` (.lst: ``index<TAB>label(s)<TAB>relative path``) or
    ``imglist`` (``[[label or labels..., path], ...]``) with ``path_root``; ``shuffle``;
    ``part_index``/``num_parts`` (contiguous partition of the sequence); ``aug_list``
    (default ``CreateAugmenter(data_shape, **kwargs)``); ``data_name``/``label_name``;
    ``dtype`` (how list labels are parsed: int32, float32, int64, float64); and
    ``last_batch_handle`` ('pad', 'discard' or 'roll_over').
    """

    def __init__(self, batch_size, data_shape, label_width=1, path_imgrec=None, path_imglist=None,
                 path_root=None, path_imgidx=None, shuffle=False, part_index=0, num_parts=1,
                 aug_list=None, imglist=None, data_name="data", label_name="softmax_label",
                 dtype="float32", last_batch_handle="pad", **kwargs):
        from . import recordio
        from .image import CreateAugmenter
        super().__init__(batch_size)
        if not (path_imgrec or path_imglist or isinstance(imglist, list)):
            raise ImageIterError("ImageIter: give path_imgrec, path_imglist or imglist (a list)")
        if dtype not in _LABEL_DTYPES:
            raise ImageIterError("ImageIter: label dtype %r not supported (use one of %s)"
                                 % (dtype, ", ".join(_LABEL_DTYPES)))
        if last_batch_handle not in _LAST_BATCH:
            raise ImageIterError("ImageIter: last_batch_handle must be 'pad', 'discard' or 'roll_over', "
                                 "got %r" % (last_batch_handle,))
        if int(batch_size) <= 0:
            raise ImageIterError("ImageIter: batch_size must be positive, got %r" % (batch_size,))
        self.check_data_shape(data_shape)
        data_shape = tuple(int(d) for d in data_shape)

        if path_imgrec:
            self._check_file(path_imgrec, "path_imgrec")
            if path_imgidx:
                self._check_file(path_imgidx, "path_imgidx")
                self.imgrec = recordio.MXIndexedRecordIO(path_imgidx, path_imgrec, "r")
                self.imgidx = list(self.imgrec.keys)
            else:
                self.imgrec = recordio.MXRecordIO(path_imgrec, "r")
                self.imgidx = None
        else:
            self.imgrec = None

        imgkeys = None
        if path_imglist:
            self._check_file(path_imglist, "path_imglist")
            self.imglist, imgkeys = self._read_lst(path_imglist, dtype)
        elif isinstance(imglist, list):
            result, imgkeys = {}, []
            for index, img in enumerate(imglist, 1):
                if not isinstance(img, (list, tuple)) or len(img) < 2:
                    raise ImageIterError("ImageIter: imglist item %d must be [label(s)..., path], got %r"
                                         % (index - 1, img))
                if len(img) > 2:
                    label = img[:-1]
                elif isinstance(img[0], Number):
                    label = [img[0]]
                else:
                    label = img[0]
                result[str(index)] = (array(np.asarray(label, dtype=dtype), dtype=dtype), img[-1])
                imgkeys.append(str(index))
            self.imglist = result
        else:
            self.imglist = None

        self.path_root = path_root
        self.provide_data = [(data_name, (batch_size,) + data_shape)]
        if label_width > 1:
            self.provide_label = [(label_name, (batch_size, label_width))]
        else:
            self.provide_label = [(label_name, (batch_size,))]
        self.batch_size = batch_size
        self.data_shape = data_shape
        self.label_width = label_width
        self.shuffle = shuffle

        if self.imgrec is None:
            self.seq = imgkeys
        elif shuffle or num_parts > 1 or path_imgidx:
            if self.imgidx is None:
                raise ImageIterError("ImageIter: shuffle and num_parts > 1 need path_imgidx with path_imgrec")
            self.seq = self.imgidx
        else:
            self.seq = None
        if num_parts > 1:
            if not 0 <= part_index < num_parts:
                raise ImageIterError("ImageIter: part_index %d is not in [0, num_parts=%d)"
                                     % (part_index, num_parts))
            part = len(self.seq) // num_parts
            self.seq = self.seq[part_index * part:(part_index + 1) * part]

        self.auglist = CreateAugmenter(data_shape, **kwargs) if aug_list is None else aug_list
        self.cur = 0
        self._allow_read = True
        self.last_batch_handle = last_batch_handle
        self.num_image = len(self.seq) if self.seq is not None else None
        self._cache_data = None
        self._cache_label = None
        self._cache_idx = None
        self.reset()

    # ------------------------------------------------------------------ inputs
    @staticmethod
    def _check_file(path, what):
        if not os.path.isfile(path):
            raise _ImageFileError("ImageIter: %s %s does not exist" % (what, path))

    @staticmethod
    def _read_lst(path, dtype):
        imglist, keys = {}, []
        with open(path) as fin:
            for lineno, line in enumerate(fin, 1):
                fields = line.strip().split("\t")
                if fields == [""]:
                    continue
                if len(fields) < 3:
                    raise ImageIterError("ImageIter: line %d of %s must be 'index<TAB>label(s)<TAB>path', "
                                         "got %r" % (lineno, path, line.rstrip("\n")))
                try:
                    key = int(fields[0])
                    label = np.asarray([float(v) for v in fields[1:-1]]).astype(dtype)
                except ValueError:
                    raise ImageIterError("ImageIter: bad index or label on line %d of %s: %r"
                                         % (lineno, path, line.rstrip("\n"))) from None
                imglist[key] = (array(label, dtype=dtype), fields[-1])
                keys.append(key)
        return imglist, keys

    # ------------------------------------------------------------------ iterator protocol
    def reset(self):
        """Go back to the beginning (reshuffling if ``shuffle``); with 'roll_over' and a
        kept partial batch, the position is left where the partial batch ended."""
        if self.seq is not None and self.shuffle:
            random.shuffle(self.seq)
        if self.last_batch_handle != "roll_over" or self._cache_data is None:
            if self.imgrec is not None:
                self.imgrec.reset()
            self.cur = 0
            self._allow_read = True

    def hard_reset(self):
        """Go back to the beginning and drop any rolled-over partial batch."""
        if self.seq is not None and self.shuffle:
            random.shuffle(self.seq)
        if self.imgrec is not None:
            self.imgrec.reset()
        self.cur = 0
        self._allow_read = True
        self._cache_data = None
        self._cache_label = None
        self._cache_idx = None

    def next_sample(self):
        """``(label, encoded image bytes)`` of the next image; StopIteration at the end."""
        from . import recordio
        if self._allow_read is False:
            raise StopIteration
        if self.seq is not None:
            if self.cur >= self.num_image:
                if self.last_batch_handle != "discard":
                    self.cur = 0
                raise StopIteration
            idx = self.seq[self.cur]
            self.cur += 1
            if self.imgrec is not None:
                header, img = recordio.unpack(self.imgrec.read_idx(idx))
                if self.imglist is None:
                    return header.label, img
                return self.imglist[idx][0], img
            label, fname = self.imglist[idx]
            return label, self.read_image(fname)
        s = self.imgrec.read()
        if s is None:
            if self.last_batch_handle != "discard":
                self.imgrec.reset()
            raise StopIteration
        header, img = recordio.unpack(s)
        return header.label, img

    def _put_label(self, batch_label, i, label):
        lab = np.asarray(label.asnumpy() if isinstance(label, NDArray) else label, dtype=np.float32).ravel()
        if lab.size != 1 and lab.size != self.label_width:
            raise ShapeError("ImageIter: an image has %d labels, label_width is %d"
                             % (lab.size, self.label_width))
        if self.label_width > 1:
            batch_label[i] = lab
        else:
            batch_label[i] = lab[0]

    def _batchify(self, batch_data, batch_label, start=0):
        i = start
        c, h, w = self.data_shape
        try:
            while i < self.batch_size:
                label, s = self.next_sample()
                data = self.imdecode(s)
                try:
                    self.check_valid_image(data)
                except RuntimeError:
                    continue
                data = self.augmentation_transform(data)
                datum = self.postprocess_data(data)
                dnp = datum.asnumpy() if isinstance(datum, NDArray) else np.asarray(datum)
                if dnp.shape != (c, h, w):
                    raise ShapeError("ImageIter: augmented image has shape %s after HWC->CHW, data_shape is %s"
                                     % (dnp.shape, (c, h, w)))
                batch_data[i] = dnp
                self._put_label(batch_label, i, label)
                i += 1
        except StopIteration:
            if not i:
                raise
        return i

    def next(self):
        """The next :class:`psnet.io.DataBatch` (data (N, C, H, W) float32, label float32, ``pad``)."""
        if self._cache_data is not None:
            batch_data, batch_label, i = self._cache_data, self._cache_label, self._cache_idx
        else:
            batch_data = np.zeros((self.batch_size,) + self.data_shape, dtype=np.float32)
            batch_label = np.zeros(self.provide_label[0][1], dtype=np.float32)
            i = self._batchify(batch_data, batch_label)
        pad = self.batch_size - i
        if pad != 0:
            if self.last_batch_handle == "discard":
                raise StopIteration
            if self.last_batch_handle == "roll_over" and self._cache_data is None:
                self._cache_data, self._cache_label, self._cache_idx = batch_data, batch_label, i
                raise StopIteration
            self._batchify(batch_data, batch_label, i)
            if self.last_batch_handle == "pad":
                self._allow_read = False
            else:
                self._cache_data = self._cache_label = self._cache_idx = None
        return DataBatch([array(batch_data, dtype=np.float32)], [array(batch_label, dtype=np.float32)], pad=pad)

    # ------------------------------------------------------------------ hooks (overridable, as in MXNet)
    def check_data_shape(self, data_shape):
        """Raise ShapeError unless ``data_shape`` is (3, H, W)."""
        if not isinstance(data_shape, (tuple, list)) or len(data_shape) != 3:
            raise ShapeError("ImageIter: data_shape should have length 3, with dimensions CxHxW, got %r"
                             % (data_shape,))
        if data_shape[0] != 3:
            raise ShapeError("ImageIter: this iterator expects inputs to have 3 channels, data_shape is %r"
                             % (tuple(data_shape),))

    def check_valid_image(self, data):
        """Raise RuntimeError for an empty decoded image (such images are skipped)."""
        if len(data[0].shape) == 0:
            raise RuntimeError("Data shape is wrong")

    def imdecode(self, s):
        """Decode image bytes to an HWC uint8 RGB NDArray (see :func:`psnet.image.imdecode`);
        a broken image raises an error naming its file or record index."""
        from .image import imdecode
        try:
            return imdecode(s)
        except Exception as e:  # noqa: BLE001 - re-raised with the image's location
            if self.seq is not None:
                idx = self.seq[(self.cur % self.num_image) - 1]
            else:
                idx = self.cur - 1
            if self.imglist is not None and idx in self.imglist:
                where = "filename: %s" % (self.imglist[idx][1],)
            else:
                where = "index: %s" % (idx,)
            raise _BrokenImageError("ImageIter: broken image %s, %s" % (where, e)) from None

    def read_image(self, fname):
        """The raw bytes of image file ``fname`` under ``path_root``."""
        path = os.path.join(self.path_root, fname) if self.path_root is not None else fname
        try:
            with open(path, "rb") as fin:
                return fin.read()
        except OSError as e:
            raise _ImageFileError("ImageIter: cannot read image %s: %s" % (path, e)) from None

    def augmentation_transform(self, data):
        """Apply every augmenter of ``auglist`` in order."""
        for aug in self.auglist:
            data = aug(data)
        return data

    def postprocess_data(self, datum):
        """HWC -> CHW."""
        from . import ndarray as nd
        return nd.transpose(datum, axes=(2, 0, 1))
