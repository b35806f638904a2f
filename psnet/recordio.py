"""``mx.recordio``: MXNet's RecordIO packed-record files (``.rec``, with ``.idx`` indexes).

The on-disk format is dmlc-core's, byte for byte (files written by MXNet 1.9.1 read here
and the other way round).  A file is a sequence of chunks, each

* the magic word ``0xced7230a`` (uint32, little endian),
* the word ``lrec = cflag << 29 | length`` (``length`` < 2**29 bytes of payload),
* the payload, zero-padded to a multiple of 4 bytes.

A record is one chunk with ``cflag = 0``, unless its payload holds the magic word at a
4-byte-aligned offset: the writer then splits it there, dropping each such magic word, into
a first chunk (``cflag = 1``), middle chunks (``2``) and a last chunk (``3``); the reader
joins the parts with the magic word between them.  An ``.idx`` file holds one
``key<TAB>byte offset`` line per record (written by :class:`MXIndexedRecordIO`).

Image records (:func:`pack` / :func:`unpack`) start with the header ``IRHeader(flag,
label, id, id2)`` packed as ``struct`` ``'IfQQ'`` (24 bytes); a ``flag`` > 0 means the
label is an array of ``flag`` float32 values stored right after the header (the header's
own ``label`` field is then 0).

:func:`pack_img` / :func:`unpack_img` encode and decode with Pillow (an optional
dependency, imported when needed) instead of MXNet's OpenCV, with OpenCV's conventions:
colour images are NumPy arrays in **BGR** (or BGRA) channel order, greyscale ones 2-D.
The record format is identical; the encoded bytes of a JPEG/PNG come from a different
encoder, and decoded JPEG pixels may differ from OpenCV's by small rounding amounts.
"""
import numbers
import struct
from collections import namedtuple
from multiprocessing import current_process

import numpy as np

from . import storage
from .base import MXNetError, NotSupportedError

__all__ = ["MXRecordIO", "MXIndexedRecordIO", "IRHeader", "pack", "unpack", "pack_img", "unpack_img",
           "RecordIOError"]

_MAGIC = 0xced7230a
_MAGIC_BYTES = struct.pack("<I", _MAGIC)
_MAX_LEN = (1 << 29) - 1


class RecordIOError(MXNetError, IOError):
    """A RecordIO file that is malformed, or used in the wrong mode."""


class _ProcessError(MXNetError, RuntimeError):
    """A RecordIO handle used in a process other than the one that opened it."""


def _encode_lrec(cflag, length):
    return struct.pack("<II", _MAGIC, (cflag << 29) | length)


class MXRecordIO:
    """Sequential reader/writer of a RecordIO file.

    ``flag`` is ``'w'`` (create/truncate and write) or ``'r'`` (read).  ``uri`` is a local
    path or a URL understood by :mod:`psnet.storage`.  Usable as a context manager.

    >>> rec = mx.recordio.MXRecordIO('tmp.rec', 'w')
    >>> rec.write(b'record_0'); rec.close()
    >>> mx.recordio.MXRecordIO('tmp.rec', 'r').read()
    b'record_0'
    """

    def __init__(self, uri, flag):
        self.uri = uri
        self.flag = flag
        self.pid = None
        self.is_open = False
        self._file = None
        self.open()

    def open(self):
        """Open the file (truncating it for ``'w'``); called by the constructor and :meth:`reset`."""
        if self.flag == "w":
            mode, self.writable = "wb", True
        elif self.flag == "r":
            mode, self.writable = "rb", False
        else:
            raise MXNetError("MXRecordIO: invalid flag %r for %s (use 'r' or 'w')" % (self.flag, self.uri))
        try:
            self._file = storage.open_uri(self.uri, mode)
        except OSError as e:
            raise RecordIOError("MXRecordIO: cannot open %s for %s: %s"
                                % (self.uri, "writing" if self.writable else "reading", e)) from None
        self.pid = current_process().pid
        self.is_open = True

    def close(self):
        """Close the file (a no-op when already closed)."""
        if not self.is_open:
            return
        self._file.close()
        self._file = None
        self.is_open = False
        self.pid = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001  (interpreter shutdown)
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        """Pickle the path and mode, not the open file; unpickling reopens it (at its start)."""
        d = dict(self.__dict__)
        d["_file"] = None
        d["_was_open"] = self.is_open
        d["is_open"] = False
        return d

    def __setstate__(self, d):
        was_open = d.pop("_was_open", False)
        self.__dict__.update(d)
        if was_open:
            self.open()

    def _check_pid(self, allow_reset=False):
        if self.pid != current_process().pid:
            if allow_reset:
                self.reset()
            else:
                raise _ProcessError("MXRecordIO %s was opened in another process; reading or writing it "
                                    "here is forbidden (reset() or seek() reopens it)" % (self.uri,))

    def _check_open(self, what):
        if not self.is_open:
            raise RecordIOError("MXRecordIO.%s: %s is closed" % (what, self.uri))

    def reset(self):
        """Go back to the first record; a file opened with ``'w'`` is truncated to empty."""
        self.close()
        self.open()

    def tell(self):
        """The current byte offset in the file (the offset of the next record)."""
        self._check_open("tell")
        return self._file.tell()

    def write(self, buf):
        """Append ``buf`` (bytes-like) as one record."""
        self._check_open("write")
        if not self.writable:
            raise RecordIOError("MXRecordIO.write: %s is opened for reading (flag 'r')" % (self.uri,))
        self._check_pid(allow_reset=False)
        if isinstance(buf, str):
            raise TypeError("MXRecordIO.write: records are bytes, got str (encode it first)")
        data = bytes(buf)
        n = len(data)
        if n > _MAX_LEN:
            raise RecordIOError("MXRecordIO.write: a record holds less than 2**29 bytes, got %d" % n)
        lower = n & ~3
        words = np.frombuffer(data, dtype="<u4", count=lower // 4)
        hits = np.flatnonzero(words == _MAGIC) * 4
        out = []
        start = 0
        for pos in hits.tolist():
            out.append(_encode_lrec(1 if start == 0 else 2, pos - start))
            out.append(data[start:pos])
            start = pos + 4
        out.append(_encode_lrec(3 if start else 0, n - start))
        out.append(data[start:])
        out.append(b"\0" * (-n % 4))
        self._file.write(b"".join(out))

    def read(self):
        """The next record as bytes, or None at the end of the file."""
        self._check_open("read")
        if self.writable:
            raise RecordIOError("MXRecordIO.read: %s is opened for writing (flag 'w')" % (self.uri,))
        self._check_pid(allow_reset=False)
        f = self._file
        parts = []
        while True:
            offset = f.tell()
            head = f.read(8)
            if not head:
                if parts:
                    raise RecordIOError("MXRecordIO.read: %s ends inside a multi-part record at byte %d"
                                        % (self.uri, offset))
                return None
            if len(head) != 8:
                raise RecordIOError("MXRecordIO.read: truncated record header in %s at byte %d"
                                    % (self.uri, offset))
            magic, lrec = struct.unpack("<II", head)
            if magic != _MAGIC:
                raise RecordIOError("MXRecordIO.read: invalid RecordIO file %s: bad magic 0x%08x at byte %d "
                                    "(expected 0x%08x)" % (self.uri, magic, offset, _MAGIC))
            cflag, length = lrec >> 29, lrec & _MAX_LEN
            padded = (length + 3) & ~3
            body = f.read(padded)
            if len(body) != padded:
                raise RecordIOError("MXRecordIO.read: truncated record in %s at byte %d (needs %d bytes, "
                                    "found %d)" % (self.uri, offset, padded, len(body)))
            parts.append(body[:length])
            if cflag in (0, 3):
                return _MAGIC_BYTES.join(parts)

    def _seek(self, pos):
        self._file.seek(pos)


class MXIndexedRecordIO(MXRecordIO):
    """RecordIO file with an index file (``key<TAB>offset`` lines) for random access.

    ``key_type`` converts the index file's keys (``int`` by default).  ``keys`` lists the
    keys in file order, ``idx`` maps key -> byte offset.

    >>> rec = mx.recordio.MXIndexedRecordIO('tmp.idx', 'tmp.rec', 'w')
    >>> for i in range(5):
    ...     rec.write_idx(i, b'record_%d' % i)
    >>> rec.close()
    >>> mx.recordio.MXIndexedRecordIO('tmp.idx', 'tmp.rec', 'r').read_idx(3)
    b'record_3'
    """

    def __init__(self, idx_path, uri, flag, key_type=int):
        self.idx_path = idx_path
        self.idx = {}
        self.keys = []
        self.key_type = key_type
        self.fidx = None
        super().__init__(uri, flag)

    def open(self):
        """Open the record file and the index file (reading the index for ``'r'``)."""
        super().open()
        self.idx = {}
        self.keys = []
        try:
            self.fidx = storage.open_uri(self.idx_path, "w" if self.writable else "r")
        except OSError as e:
            super().close()
            raise RecordIOError("MXIndexedRecordIO: cannot open index %s: %s" % (self.idx_path, e)) from None
        if not self.writable:
            for lineno, line in enumerate(self.fidx, 1):
                fields = line.strip().split("\t")
                if fields == [""]:
                    continue
                try:
                    key = self.key_type(fields[0])
                    self.idx[key] = int(fields[1])
                except (IndexError, ValueError):
                    raise RecordIOError("MXIndexedRecordIO: bad line %d in index %s: %r (expected "
                                        "'key<TAB>offset')" % (lineno, self.idx_path, line)) from None
                self.keys.append(key)

    def close(self):
        """Close the record and index files."""
        if not self.is_open:
            return
        super().close()
        self.fidx.close()
        self.fidx = None

    def __getstate__(self):
        d = super().__getstate__()
        d["fidx"] = None
        return d

    def seek(self, idx):
        """Move the read position to the record with key ``idx``."""
        self._check_open("seek")
        if self.writable:
            raise RecordIOError("MXIndexedRecordIO.seek: %s is opened for writing (flag 'w')" % (self.uri,))
        self._check_pid(allow_reset=True)
        try:
            pos = self.idx[idx]
        except KeyError:
            raise KeyError("MXIndexedRecordIO: key %r is not in index %s" % (idx, self.idx_path)) from None
        self._seek(pos)

    def read_idx(self, idx):
        """The record with key ``idx``."""
        self.seek(idx)
        return self.read()

    def write_idx(self, idx, buf):
        """Append ``buf`` as a record with key ``idx`` and add it to the index."""
        key = self.key_type(idx)
        self._check_open("write_idx")
        if not self.writable:
            raise RecordIOError("MXIndexedRecordIO.write_idx: %s is opened for reading (flag 'r')"
                                % (self.uri,))
        pos = self.tell()
        self.write(buf)
        self.fidx.write("%s\t%d\n" % (str(key), pos))
        self.idx[key] = pos
        self.keys.append(key)


IRHeader = namedtuple("HEADER", ["flag", "label", "id", "id2"])
IRHeader.__doc__ = """Header of an image record: ``flag`` (int; the label count when the label is
an array), ``label`` (float or array of floats), ``id`` (uint64), ``id2`` (uint64, usually 0)."""

_IR_FORMAT = "IfQQ"
_IR_SIZE = struct.calcsize(_IR_FORMAT)


def pack(header, s):
    """Pack bytes ``s`` behind an :data:`IRHeader` (a number label, or an array label stored as
    float32 values with ``flag`` set to their count); returns the record bytes."""
    header = IRHeader(*header)
    if isinstance(header.label, numbers.Number):
        header = header._replace(flag=0)
    else:
        label = np.asarray(header.label, dtype=np.float32)
        header = header._replace(flag=label.size, label=0)
        s = label.tobytes() + bytes(s)
    return struct.pack(_IR_FORMAT, *header) + bytes(s)


def unpack(s):
    """Split record bytes into ``(IRHeader, payload bytes)``; an array label (``flag`` > 0)
    comes back as a float32 NumPy array."""
    s = bytes(s)
    if len(s) < _IR_SIZE:
        raise RecordIOError("recordio.unpack: a record needs a %d-byte header, got %d bytes"
                            % (_IR_SIZE, len(s)))
    header = IRHeader(*struct.unpack(_IR_FORMAT, s[:_IR_SIZE]))
    s = s[_IR_SIZE:]
    if header.flag > 0:
        if len(s) < 4 * header.flag:
            raise RecordIOError("recordio.unpack: header says %d float32 labels, only %d bytes follow"
                                % (header.flag, len(s)))
        header = header._replace(label=np.frombuffer(s, np.float32, header.flag).copy())
        s = s[header.flag * 4:]
    return header, s


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise NotSupportedError("recordio.pack_img/unpack_img need Pillow, an optional dependency of "
                                "psnet: pip install pillow") from None
    return Image


def unpack_img(s, iscolor=-1):
    """Split an image record into ``(IRHeader, image)``, decoding the image as OpenCV's
    ``cv2.imdecode(buf, iscolor)`` would: ``iscolor > 0`` gives ``(H, W, 3)`` BGR,
    ``iscolor == 0`` a 2-D greyscale array, ``iscolor < 0`` the stored channels (2-D
    greyscale, BGR, or BGRA with alpha).  Decoded with Pillow; a uint8 NumPy array."""
    import io
    header, s = unpack(s)
    Image = _pil()
    try:
        img = Image.open(io.BytesIO(s))
        img.load()
    except OSError as e:
        raise MXNetError("recordio.unpack_img: cannot decode the image (%d bytes): %s" % (len(s), e)) from None
    if iscolor > 0:
        img = img.convert("RGB")
    elif iscolor == 0:
        img = img.convert("L")
    elif img.mode in ("I;16", "I;16B", "I;16L"):
        return header, np.asarray(img, dtype=np.uint16)
    elif img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
    elif img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    data = np.asarray(img, dtype=np.uint8)
    if data.ndim == 3:
        order = [2, 1, 0, 3][:data.shape[2]]
        data = data[:, :, order]
    return header, np.ascontiguousarray(data)


def pack_img(header, img, quality=95, img_fmt=".jpg"):
    """Encode ``img`` (uint8 NumPy array in OpenCV's layout: 2-D or ``(H, W, 1)`` greyscale,
    ``(H, W, 3)`` BGR, ``(H, W, 4)`` BGRA) as ``img_fmt`` (``'.jpg'``/``'.jpeg'`` with JPEG
    ``quality`` 1-100, ``'.png'`` with ``quality`` as the zlib compression level, clamped to 0-9 as OpenCV does) and
    :func:`pack` it behind ``header``.  Encoded with Pillow."""
    import io
    Image = _pil()
    arr = np.asarray(img.asnumpy() if hasattr(img, "asnumpy") else img)
    if arr.dtype != np.uint8:
        raise MXNetError("recordio.pack_img: images are uint8 arrays, got dtype %s" % arr.dtype)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = arr[:, :, [2, 1, 0, 3][:arr.shape[2]]]
    elif arr.ndim != 2:
        raise MXNetError("recordio.pack_img: expected an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) "
                         "image, got shape %s" % (arr.shape,))
    pil = Image.fromarray(np.ascontiguousarray(arr))
    fmt = img_fmt.upper()
    buf = io.BytesIO()
    if fmt in (".JPG", ".JPEG"):
        if pil.mode == "RGBA":
            raise MXNetError("recordio.pack_img: JPEG cannot store a 4-channel image")
        pil.save(buf, format="JPEG", quality=min(max(int(quality), 1), 100))
    elif fmt == ".PNG":
        pil.save(buf, format="PNG", compress_level=min(max(int(quality), 0), 9))   # clamped, as OpenCV
    else:
        name = fmt.lstrip(".")
        try:
            pil.save(buf, format={"TIF": "TIFF"}.get(name, name))
        except (KeyError, ValueError, OSError) as e:
            raise NotSupportedError("recordio.pack_img: cannot encode format %r: %s" % (img_fmt, e)) from None
    return pack(header, buf.getvalue())
