"""The IDX file format of MNIST-style data (big-endian header, then uint8 values)."""
import gzip

import numpy as np

from ..base import MXNetError

__all__ = ["IDXFormatError", "parse_idx", "read_idx"]

_UINT8 = 0x08


class IDXFormatError(MXNetError, ValueError):
    """A file that is not an IDX file of uint8 values, or is truncated."""


def parse_idx(content, path="<bytes>"):
    """The uint8 array stored in the (decompressed) bytes of an IDX file."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] != _UINT8:
        raise IDXFormatError("%s is not an IDX file of uint8 values (header %r)" % (path, bytes(content[:4])))
    ndim = content[3]
    header = np.frombuffer(content, dtype=">u4", count=ndim, offset=4)
    shape = tuple(int(s) for s in header)
    data = np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise IDXFormatError("%s: IDX header says shape %s but the file holds %d values" % (path, shape, data.size))
    return data.reshape(shape)


def read_idx(path):
    """The uint8 array in the IDX file ``path``, gzip-compressed or not (told by its first bytes)."""
    from ..storage import open_uri
    with open_uri(path, "rb") as f:
        content = f.read()
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    return parse_idx(content, path)
