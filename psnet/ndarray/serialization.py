"""``mx.nd.save`` / ``mx.nd.load``: NDArrays to and from psnet's binary format.

The format (specified in docs/formats.md) is plain data, never pickle::

    header   8s   magic b"PSNETND\\0"
             u32  version (1)
             u32  kind: 1 = list, 2 = dict (str -> array)
             u64  count
    entries  count times:
             u32 + bytes   name (UTF-8; empty unless kind is dict)
             u8  + bytes   dtype name (ASCII, e.g. b"float32")
             u32 + u64*n   ndim, then the shape
             u64 + bytes   data length, then the raw little-endian C-order data

Every integer is little-endian.  As in MXNet, a single saved NDArray loads back as a
list of one array (so ported ``mx.nd.load(f)[0]`` keeps working).  ``save``/``load`` take a file name, a binary file object,
or (``loads``) bytes; a truncated or foreign file raises :class:`MXNetError` naming the
file and what is wrong.
"""
import io
import os
import struct

import numpy as np

from .. import storage
from ..base import DTypeError, MXNetError, normalize_dtype
from ..context import current_context
from . import mxnet_format
from .ndarray import NDArray, from_backend

__all__ = ["save", "load", "dumps", "loads", "load_frombuffer", "MAGIC", "VERSION"]

MAGIC = b"PSNETND\0"
VERSION = 1
_KINDS = {1: "list", 2: "dict"}
_HEADER = struct.Struct("<8sIIQ")


def _entries(data):
    """(kind, [(name, NDArray)]) for an NDArray, a list/tuple or a dict of NDArrays."""
    if isinstance(data, NDArray):
        return 1, [("", data)]
    if isinstance(data, (list, tuple)):
        items, kind = [("", v) for v in data], 1
    elif isinstance(data, dict):
        for k in data:
            if not isinstance(k, str):
                raise DTypeError("save: dict keys must be str, got %r" % (k,))
        items, kind = list(data.items()), 2
    else:
        raise DTypeError("save: data must be an NDArray, a list of NDArrays or a dict of str to "
                         "NDArray, got %s" % type(data).__name__)
    for i, (name, v) in enumerate(items):
        if not isinstance(v, NDArray):
            raise DTypeError("save: entry %s is a %s, not an NDArray"
                             % (repr(name) if kind == 2 else "#%d" % i, type(v).__name__))
    return kind, items


def _write(f, data):
    kind, items = _entries(data)
    f.write(_HEADER.pack(MAGIC, VERSION, kind, len(items)))
    for name, arr in items:
        a = np.ascontiguousarray(arr.asnumpy())
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        bname, bdtype = name.encode("utf-8"), a.dtype.name.encode("ascii")
        f.write(struct.pack("<I", len(bname)) + bname)
        f.write(struct.pack("<B", len(bdtype)) + bdtype)
        f.write(struct.pack("<I%dQ" % a.ndim, a.ndim, *a.shape))
        f.write(struct.pack("<Q", a.nbytes))
        f.write(memoryview(a).cast("B") if a.nbytes else b"")


def save(fname, data):
    """Save an NDArray, a list of NDArrays or a dict of str -> NDArray to ``fname`` (a path
    or a binary file object)."""
    if hasattr(fname, "write"):
        _write(fname, data)
        return
    with storage.open_uri(os.fspath(fname), "wb") as f:
        _write(f, data)


def dumps(data):
    """The saved form of ``data`` as bytes (for the KVStore wire and remote storage)."""
    buf = io.BytesIO()
    _write(buf, data)
    return buf.getvalue()


class _Reader:
    """Reads exact byte counts, naming the source and the field when the data ends early."""

    def __init__(self, f, source):
        self.f = f
        self.source = source

    def error(self, what):
        """An MXNetError naming the source and the problem."""
        return MXNetError("cannot load NDArrays from %s: %s" % (self.source, what))

    def _truncated(self, field, got, n):
        return self.error("the file is truncated (it ends inside %s: %d of %d bytes)" % (field, got, n))

    def read(self, n, field):
        """Exactly ``n`` bytes of ``field``; a truncation error otherwise."""
        b = self.f.read(n)
        if len(b) != n:
            raise self._truncated(field, len(b), n)
        return b

    def read_buffer(self, n, field):
        """Exactly ``n`` bytes of ``field`` in a writable buffer (array data lands there
        once, with no further copy when the file object has ``readinto``)."""
        if not hasattr(self.f, "readinto"):
            return bytearray(self.read(n, field))
        buf = bytearray(n)
        got = (self.f.readinto(buf) or 0) if n else 0
        if got != n:
            raise self._truncated(field, got, n)
        return buf

    def read_array(self, dtype, shape, field):
        """A NumPy array of ``dtype`` and ``shape`` from the raw little-endian data that follows."""
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        raw = self.read_buffer(nbytes, "%s data (%s %s)" % (field, tuple(shape), dtype.name))
        return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype, copy=False).reshape(shape)

    def unpack(self, fmt, field):
        """The little-endian struct ``fmt`` read from ``field``."""
        s = struct.Struct("<" + fmt)
        return s.unpack(self.read(s.size, field))


def _read(r, ctx):
    """Dispatch on the magic: psnet's format, or MXNet 1.x's (for existing checkpoints)."""
    magic = r.f.read(8)

    def place(a):
        return from_backend(ctx.backend.from_numpy(a), ctx)
    if magic == MAGIC:
        res = _read_psnet(r, place)
    elif len(magic) == 8 and struct.unpack("<Q", magic)[0] == mxnet_format.MAGIC:
        res = mxnet_format.read(r, place)
    else:
        raise r.error("not an NDArray file (bad magic %r; expected psnet's %r or MXNet's 0x112)"
                      % (magic, MAGIC))
    if r.f.read(1):
        raise r.error("unexpected data after the last entry")
    return res


def _read_psnet(r, place):
    """The rest of a psnet file (after its magic): a list or a dict."""
    rest = r.f.read(_HEADER.size - 8)
    if len(rest) < _HEADER.size - 8:
        raise r.error("the file is truncated (it ends inside the header)")
    _, version, kind, count = _HEADER.unpack(MAGIC + rest)
    if version != VERSION:
        raise r.error("format version %d is not supported (this psnet reads version %d)" % (version, VERSION))
    if kind not in _KINDS:
        raise r.error("unknown content kind %d" % kind)
    items = []
    for i in range(count):
        field = "entry %d" % i
        (nlen,) = r.unpack("I", field + " (name length)")
        name = r.read(nlen, field + " (name)").decode("utf-8")
        (dlen,) = r.unpack("B", field + " (dtype length)")
        dname = r.read(dlen, field + " (dtype)").decode("ascii", "replace")
        try:
            dtype = normalize_dtype(dname)
        except MXNetError:
            raise r.error("%s has unknown dtype %r" % (field, dname)) from None
        (ndim,) = r.unpack("I", field + " (ndim)")
        if ndim > 32:
            raise r.error("%s claims %d dimensions; the file is corrupt" % (field, ndim))
        shape = r.unpack("%dQ" % ndim, field + " (shape)")
        (nbytes,) = r.unpack("Q", field + " (data length)")
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes != expected:
            raise r.error("%s of shape %s and dtype %s should hold %d bytes, the file says %d"
                          % (field, tuple(shape), dtype.name, expected, nbytes))
        items.append((name, place(r.read_array(dtype, shape, field))))
    if kind == 1:
        return [v for _, v in items]
    return dict(items)


def load(fname, ctx=None):
    """Load what :func:`save` wrote: a list (also for one saved NDArray) or a dict of str -> NDArray, placed
    on ``ctx`` (default: the current context).  ``fname`` is a path or a binary file object."""
    ctx = ctx if ctx is not None else current_context()
    if hasattr(fname, "read"):
        return _read(_Reader(fname, getattr(fname, "name", "a file object")), ctx)
    path = os.fspath(fname)
    try:
        f = storage.open_uri(path, "rb")
    except OSError as e:
        raise MXNetError("cannot load NDArrays from %s: %s" % (path, e.strerror)) from None
    with f:
        return _read(_Reader(f, path), ctx)


def loads(data, ctx=None):
    """Load from the bytes :func:`dumps` produced."""
    return _read(_Reader(io.BytesIO(data), "a bytes object"), ctx if ctx is not None else current_context())


def load_frombuffer(buf):
    """MXNet's ``mx.nd.load_frombuffer``: :func:`load` from the bytes of a saved file
    (psnet's or MXNet's format), onto the current context."""
    return loads(buf)
