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
import msgpack
import numpy as np
import zmq
import zmq.backend

from ...base import MXNetError

__all__ = ["ProtocolError", "Shared", "plain", "received_frame", "ZERO_COPY_BYTES", "MAX_HEADER_BYTES", "DTYPES", "send", "recv",
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
_FRAME = zmq.Frame
# pyzmq's Cython send: its Python wrapper only adds the DRAFT routing_id/group arguments
_send = zmq.backend.Socket.send


class ProtocolError(MXNetError, ValueError):
    """A message that does not follow the wire format (bad header, frames that do not match)."""


def array_meta(arr):
    """The header entry ``[shape, dtype name]`` that describes a NumPy array."""
    dtype = arr.dtype
    return [list(arr.shape), _NAMES.get(dtype.char) or dtype.name]


class Shared:
    """An array sent several times (to several peers, or round after round) from one ZeroMQ frame.

    Every send of it references that frame's buffer (ZeroMQ counts the references), so a
    sync round's answers to all workers cost one frame, not one per worker, and a
    worker's gradient buffer pushed every step is wrapped once.  An array that views a
    whole *received* frame is sent from that frame itself.  Either way no send of it
    involves pyzmq's garbage-collector thread, which a fresh zero-copy frame wakes (and
    which then competes for the GIL) when ZeroMQ releases it.  The frame views
    ``array``'s memory: like any zero-copy send, the array must not be written while
    sends are in flight.
    """

    __slots__ = ("array", "frame")

    def __init__(self, array):
        self.array = array
        if array.nbytes < ZERO_COPY_BYTES:
            self.frame = None
        else:
            self.frame = received_frame(array) or zmq.Frame(
                np.ascontiguousarray(array).reshape(-1).view(np.uint8), copy=False)


def plain(array):
    """The NumPy array of ``array`` (which may be a :class:`Shared`)."""
    return array.array if type(array) is Shared else array


def received_frame(array):
    """The received :class:`zmq.Frame` whose whole buffer ``array`` views (see :func:`decode`), or None."""
    base = array.base
    while isinstance(base, np.ndarray):
        base = base.base
    if (isinstance(base, memoryview) and isinstance(base.obj, zmq.Frame)
            and base.nbytes == array.nbytes and array.flags.c_contiguous):
        return base.obj
    return None


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
        _send(sock, ident, _SNDMORE | flags)
    if not frames:
        _send(sock, head, flags)
        return
    _send(sock, head, _SNDMORE | flags)
    for frame in frames[:-1]:
        _send(sock, frame, _SNDMORE | flags, False)
    _send(sock, frames[-1], flags, False)


def readable(sock):
    """Whether a whole message is waiting on ``sock`` (a receive would not block)."""
    return sock.getsockopt(_EVENTS) & _POLLIN


def recv(sock, router=False, flags=0):
    """Receive one message: ``(header, arrays)`` or, on a ROUTER socket, ``(ident, header, arrays)``.

    Raises :class:`ProtocolError` for a malformed message; the frames of a malformed
    message have been consumed, so the socket stays usable.
    """
    # a frame's ``more`` flag, not pyzmq's recv_multipart: that asks the socket for RCVMORE
    # after every frame, and each getsockopt builds an enum member (a third of the cost)
    frame = sock.recv(flags, copy=False)
    frames = [frame]
    while frame.more:   # the rest of a message arrives with its first frame: never blocks
        frame = sock.recv(flags, copy=False)
        frames.append(frame)
    if router:
        ident = frames[0].bytes
        header, arrays = decode(frames[1:])
        return ident, header, arrays
    return decode(frames)


def decode(frames):
    """Check and decode received frames into ``(header, list of NumPy arrays)``."""
    if not frames:
        raise ProtocolError("empty message")
    head = _buffer(frames[0])
    if len(head) > MAX_HEADER_BYTES:
        raise ProtocolError("header of %d bytes exceeds the limit of %d" % (len(head), MAX_HEADER_BYTES))
    try:
        header = msgpack.unpackb(head, raw=False, strict_map_key=False)
    except Exception as e:  # msgpack raises several unrelated types for bad bytes
        raise ProtocolError("header is not valid msgpack: %s" % e) from None
    if type(header) is not dict:
        raise ProtocolError("header must be a map, got %s" % type(header).__name__)
    metas = header.get("arrays")
    if metas is None:
        if len(frames) > 1:
            raise ProtocolError("header announces 0 array frames but %d frames follow" % (len(frames) - 1))
        return header, []
    if type(metas) is not list:
        raise ProtocolError("header 'arrays' must be a list, got %s" % type(metas).__name__)
    arrays, nxt = [], 1
    for meta in metas:
        if type(meta) is list and len(meta) == 3:    # a small array inside the header
            arrays.append(_frame_array(meta[:2], _buffer(meta[2])))
            continue
        if nxt >= len(frames):
            break
        arrays.append(_frame_array(meta, _buffer(frames[nxt])))
        nxt += 1
    if len(arrays) != len(metas) or nxt != len(frames):
        framed = sum(1 for m in metas if not (type(m) is list and len(m) == 3))
        raise ProtocolError("header announces %d array frames but %d frames follow" % (framed, len(frames) - 1))
    return header, arrays


def _buffer(frame):
    """A received frame's bytes as a buffer (no copy)."""
    if type(frame) is _FRAME:
        return frame.buffer
    try:
        return memoryview(frame)
    except TypeError:
        raise ProtocolError("array data of type %s is not bytes" % type(frame).__name__) from None


def _frame_array(meta, buf):
    """View the buffer ``buf`` as the array its ``[shape, dtype]`` entry describes."""
    try:
        shape, dtype_name = meta
        dtype = DTYPES[dtype_name]
        shape = tuple(shape)
    except (TypeError, ValueError, KeyError):
        raise ProtocolError("bad array description %r" % (meta,)) from None
    count = 1
    for s in shape:
        if type(s) is not int:
            raise ProtocolError("bad array description %r" % (meta,))
        if s < 0:
            raise ProtocolError("negative dimension in shape %s" % (shape,))
        count *= s
    expect = count * dtype.itemsize
    if len(buf) != expect:
        raise ProtocolError("frame holds %d bytes but shape %s %s needs %d"
                            % (len(buf), shape, dtype.name, expect))
    return np.frombuffer(buf, dtype=dtype).reshape(shape)
