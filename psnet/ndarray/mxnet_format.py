"""Reading NDArray files written by MXNet 1.x (``mx.nd.save``, Gluon ``save_parameters``,
``Module`` checkpoints), so existing checkpoints load into psnet.

Layout (little-endian; see docs/formats.md)::

    u64 0x112, u64 reserved, u64 count
    count x array:  u32 magic (0xF993FAC9 or 0xF993FACA), i32 storage type (0 = dense),
                    u32 ndim, i64 x ndim shape, i32 device type, i32 device id,
                    i32 type flag, raw data
    u64 name count (0 for a list), then per name: u64 length, bytes

Only dense arrays are supported; the device in the file is ignored (arrays go to the
requested context).  psnet never writes this format: ``mx.nd.save`` writes its own.
"""
import numpy as np

__all__ = ["MAGIC", "read"]

MAGIC = 0x112
_ARRAY_MAGICS = (0xF993FAC9, 0xF993FACA)
# mshadow type flags
_DTYPES = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32, 5: np.int8,
           6: np.int64, 7: np.bool_, 8: np.int16, 9: np.uint16, 10: np.uint32, 11: np.uint64}


def read(r, make_array):
    """Read an MXNet file from ``r`` (a serialization reader positioned after the u64
    magic); ``make_array(numpy_array)`` places each array.  Returns a list or a dict."""
    _, count = r.unpack("QQ", "the header")
    arrays = [_read_array(r, i, make_array) for i in range(count)]
    (nnames,) = r.unpack("Q", "the name count")
    if nnames == 0:
        return arrays
    if nnames != count:
        raise r.error("the file names %d of its %d arrays" % (nnames, count))
    names = []
    for i in range(nnames):
        (n,) = r.unpack("Q", "name %d (length)" % i)
        names.append(r.read(n, "name %d" % i).decode("utf-8"))
    return dict(zip(names, arrays))


def _read_array(r, i, make_array):
    field = "array %d" % i
    magic, stype = r.unpack("Ii", field + " (header)")
    if magic not in _ARRAY_MAGICS:
        raise r.error("%s has an MXNet array format psnet does not read (magic 0x%X); re-save it "
                      "with MXNet 1.x" % (field, magic))
    if stype != 0:
        raise r.error("%s is a sparse array (storage type %d); only dense arrays are supported"
                      % (field, stype))
    (ndim,) = r.unpack("I", field + " (ndim)")
    if ndim == 0 or ndim > 32:
        raise r.error("%s has %d dimensions (an empty or corrupt entry)" % (field, ndim))
    shape = r.unpack("%dq" % ndim, field + " (shape)")
    _, _, flag = r.unpack("iii", field + " (context and dtype)")
    dtype = _DTYPES.get(flag)
    if dtype is None or min(shape) < 0:
        raise r.error("%s has an unknown dtype flag %d or shape %s" % (field, flag, shape))
    return make_array(r.read_array(np.dtype(dtype), shape, field))
