"""The dist KVStore wire format: a msgpack header frame followed by raw array frames.

A message is ``[header, frame_0, frame_1, ...]``.  The header is a msgpack map; when the
message carries arrays its ``"arrays"`` entry describes each, in order: ``[shape, dtype]``
for an array in the next frame, or ``[shape, dtype, raw bytes]`` for a small array
carried inside the header (one frame per message is much cheaper than several for small
keys).  Arrays travel as their raw bytes (C order); large ones are sent without a copy
and received as NumPy arrays that view the ZeroMQ frame buffers.  Nothing is ever
unpickled: a header is plain data and a frame is plain bytes, and both are checked
against each other before use (:func:`decode`).
"""
import math

import msgpack
import numpy as np
import zmq

from ...base import MXNetError

__all__ = ["ProtocolError", "Shared", "ZERO_COPY_BYTES", "MAX_HEADER_BYTES", "DTYPES", "send", "recv",
           "decode", "array_meta", "readable"]

# arrays at least this big get their own frame, handed to ZeroMQ without a copy (pyzmq's
# copy threshold); smaller ones ride inside the header
ZERO_COPY_BYTES = zmq.COPY_THRESHOLD
# a header larger than this is rejected before msgpack parses it
MAX_HEADER_BYTES = 16 * 1024 * 1024
# dtypes an array frame may carry (name -> numpy dtype)
DTYPES = {name: np.dtype(name) for name in (
    "float32", "float64", "float16", "uint8", "int8", "int32", "int64", "int16", "uint16",
    "uint32", "uint64", "bool")}
# plain ints: flag arithmetic on pyzmq's enum members costs more than the call it guards
_SNDMORE, _EVENTS, _POLLIN = int(zmq.SNDMORE), int(zmq.EVENTS), int(zmq.POLLIN)
# dtype.char -> wire name ('dtype.name' is a slow property on the hot path)
_NAMES = {dtype.char: name for name, dtype in DTYPES.items()}


class ProtocolError(MXNetError, ValueError):
    """A message that does not follow the wire format (bad header, frames that do not match)."""


def array_meta(arr):
    """The header entry ``[shape, dtype name]`` that describes a NumPy array."""
    dtype = arr.dtype
    return [list(arr.shape), _NAMES.get(dtype.char) or dtype.name]


class Shared:
    """An array answered to several peers: a big one is wrapped in one ZeroMQ frame, once.

    Every send of it references that frame's buffer (ZeroMQ counts the references), so a
    sync round's answers to all workers cost one frame, not one per worker.  The frame
    views ``array``'s memory: like any zero-copy send, the array must not be replaced
    in place while answers are in flight.
    """

    __slots__ = ("array", "frame")

    def __init__(self, array):
        self.array = array
        self.frame = (zmq.Frame(np.ascontiguousarray(array).reshape(-1).view(np.uint8), copy=False)
                      if array.nbytes >= ZERO_COPY_BYTES else None)


def send(sock, header, arrays=(), ident=None, flags=0):
    """Send ``header`` (a dict) and NumPy ``arrays`` as one multipart message on ``sock``.

    ``ident`` is the ROUTER routing frame when replying from a ROUTER socket.  Arrays of
    at least :data:`ZERO_COPY_BYTES` are not copied: the caller must not change them until
    the peer has answered (every request in this protocol is answered).  An array may be
    given as a :class:`Shared` (sent from its prebuilt frame).
    """
    frames = []
    if arrays:
        metas = header["arrays"] = []
        for a in arrays:
            if type(a) is Shared:
                a, frame = a.array, a.frame
            else:
                frame = None
            meta = array_meta(a)
            if frame is not None:
                frames.append(frame)
            elif a.nbytes < ZERO_COPY_BYTES:
                meta.append(np.ascontiguousarray(a).tobytes())
            else:
                frames.append(np.ascontiguousarray(a).reshape(-1).view(np.uint8))
            metas.append(meta)
    head = msgpack.packb(header, use_bin_type=True)
    if ident is not None:
        sock.send(ident, _SNDMORE | flags)
    if not frames:
        sock.send(head, flags)
        return
    sock.send(head, _SNDMORE | flags)
    for frame in frames[:-1]:
        sock.send(frame, _SNDMORE | flags, copy=False)
    sock.send(frames[-1], flags, copy=False)


def readable(sock):
    """Whether a whole message is waiting on ``sock`` (a receive would not block)."""
    return sock.getsockopt(_EVENTS) & _POLLIN


def recv(sock, router=False, flags=0):
    """Receive one message: ``(header, arrays)`` or, on a ROUTER socket, ``(ident, header, arrays)``.

    Raises :class:`ProtocolError` for a malformed message; the frames of a malformed
    message have been consumed, so the socket stays usable.
    """
    frames = sock.recv_multipart(flags=flags, copy=False)
    if router:
        ident = frames[0].bytes
        header, arrays = decode(frames[1:])
        return ident, header, arrays
    return decode(frames)


def decode(frames):
    """Check and decode received frames into ``(header, list of NumPy arrays)``."""
    if not frames:
        raise ProtocolError("empty message")
    head = frames[0].buffer if isinstance(frames[0], zmq.Frame) else memoryview(frames[0])
    if len(head) > MAX_HEADER_BYTES:
        raise ProtocolError("header of %d bytes exceeds the limit of %d" % (len(head), MAX_HEADER_BYTES))
    try:
        header = msgpack.unpackb(head, raw=False, strict_map_key=False)
    except Exception as e:  # msgpack raises several unrelated types for bad bytes
        raise ProtocolError("header is not valid msgpack: %s" % e) from None
    if not isinstance(header, dict):
        raise ProtocolError("header must be a map, got %s" % type(header).__name__)
    metas = header.get("arrays", ())
    if not isinstance(metas, (list, tuple)):
        raise ProtocolError("header 'arrays' must be a list, got %s" % type(metas).__name__)
    framed = sum(1 for m in metas if not (isinstance(m, (list, tuple)) and len(m) == 3))
    if framed != len(frames) - 1:
        raise ProtocolError("header announces %d array frames but %d frames follow" % (framed, len(frames) - 1))
    arrays, rest = [], iter(frames[1:])
    for meta in metas:
        inline = isinstance(meta, (list, tuple)) and len(meta) == 3
        arrays.append(_frame_array(meta[:2] if inline else meta, meta[2] if inline else next(rest)))
    return header, arrays


def _frame_array(meta, frame):
    """View one frame as the array its ``[shape, dtype]`` entry describes."""
    try:
        shape, dtype_name = meta
        dtype = DTYPES[dtype_name]
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError, KeyError):
        raise ProtocolError("bad array description %r" % (meta,)) from None
    if any(s < 0 for s in shape):
        raise ProtocolError("negative dimension in shape %s" % (shape,))
    try:
        buf = frame.buffer if isinstance(frame, zmq.Frame) else memoryview(frame)
    except TypeError:
        raise ProtocolError("array data of type %s is not bytes" % type(frame).__name__) from None
    expect = math.prod(shape) * dtype.itemsize
    if len(buf) != expect:
        raise ProtocolError("frame holds %d bytes but shape %s %s needs %d"
                            % (len(buf), shape, dtype.name, expect))
    return np.frombuffer(buf, dtype=dtype).reshape(shape)
