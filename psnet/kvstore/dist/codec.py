"""Bit-packing of compressed gradients for the wire (the dist side of gradient compression).

:mod:`psnet.kvstore.compression` quantises a gradient (with error feedback) to
``{-t, 0, +t}`` ('2bit') or ``{-1, +1}`` ('1bit'); here those values travel as 2 or 1
bits per element, so a float32 push shrinks 16x or 32x.  The server unpacks them to the
stored dtype before summing.
"""
import numpy as np

from ...base import MXNetError

__all__ = ["pack", "unpack"]

_SHIFTS = np.array([0, 2, 4, 6], np.uint8)


def pack(values, kind):
    """Quantised ``values`` (NumPy) -> packed uint8 codes for ``kind`` ('2bit' or '1bit')."""
    flat = values.reshape(-1)
    if kind == "1bit":
        return np.packbits(flat > 0)
    codes = (flat > 0).astype(np.uint8) | ((flat < 0).astype(np.uint8) << 1)
    pad = (-codes.size) % 4
    if pad:
        codes = np.concatenate([codes, np.zeros(pad, np.uint8)])
    return np.bitwise_or.reduce(codes.reshape(-1, 4) << _SHIFTS, axis=1).astype(np.uint8)


def unpack(packed, kind, threshold, shape, dtype):
    """Packed codes -> the dequantised array of ``shape`` and ``dtype``."""
    n = int(np.prod(shape, dtype=np.int64))
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise MXNetError("compressed push must be a flat uint8 array, got %s %s" % (packed.dtype, packed.shape))
    if kind == "1bit":
        if packed.size != (n + 7) // 8:
            raise MXNetError("1bit push of %d bytes cannot hold %d elements" % (packed.size, n))
        bits = np.unpackbits(packed, count=n)
        return (bits.astype(dtype) * 2 - 1).reshape(shape)
    if kind != "2bit":
        raise MXNetError("unknown gradient compression %r" % (kind,))
    if packed.size != (n + 3) // 4:
        raise MXNetError("2bit push of %d bytes cannot hold %d elements" % (packed.size, n))
    codes = ((packed[:, None] >> _SHIFTS) & 3).reshape(-1)[:n]
    lut = np.array([0, threshold, -threshold, 0], dtype=dtype)
    return lut[codes].reshape(shape)
