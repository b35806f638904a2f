"""The ``'nccl'`` store: the ``'device'`` store with the GPU sums done by NCCL all-reduce.

``mx.kv.create('nccl')`` behaves as ``'device'`` (same API, same numbers up to the order
of additions); when a key's values sit on distinct GPUs and CuPy's NCCL binding
(``cupy.cuda.nccl``) is available, their sum is one NCCL all-reduce over the devices
instead of pairwise peer copies.  Otherwise (CPU values, two values on one GPU, a dtype
NCCL lacks, no NCCL) it falls back to the device store's tree.
"""
import numpy as np

from .local import KVStore

__all__ = ["NcclKVStore"]

# NumPy dtype -> name of the NCCL datatype constant
_NCCL_TYPES = {np.dtype(np.float16): "NCCL_FLOAT16", np.dtype(np.float32): "NCCL_FLOAT32",
               np.dtype(np.float64): "NCCL_FLOAT64", np.dtype(np.int32): "NCCL_INT32",
               np.dtype(np.int64): "NCCL_INT64", np.dtype(np.uint8): "NCCL_UINT8"}


def _nccl():
    """CuPy's NCCL module, or None when CuPy or NCCL is missing."""
    try:
        from ..backend.cupy_backend import cupy_module
        nccl = cupy_module().cuda.nccl
    except Exception:
        return None
    return nccl if getattr(nccl, "available", False) else None


class NcclKVStore(KVStore):
    """``mx.kv.create('nccl')``: a device store reducing GPU values with NCCL all-reduce."""

    def __init__(self):
        super().__init__("device")
        self._type = "nccl"
        self._comms = {}  # tuple of device ids -> NCCL communicators, one per device

    def _reduce_into(self, values, out):
        nccl = _nccl() if len(values) > 1 else None
        devices = [v.context.device_id for v in values]
        if (nccl is None or any(v.context.device_type != "gpu" for v in values)
                or len(set(devices)) != len(devices) or out.context.device_id not in devices
                or values[0]._data.dtype not in _NCCL_TYPES):
            super()._reduce_into(values, out)
            return
        sums = self._all_reduce(nccl, values, tuple(devices))
        out._assign_data(sums[devices.index(out.context.device_id)])

    def _all_reduce(self, nccl, values, devices):
        """The sum of ``values`` (one per device of ``devices``) on every one of those devices."""
        comms = self._comms.get(devices)
        if comms is None:
            comms = self._comms[devices] = nccl.NcclCommunicator.initAll(list(devices))
        dtype = getattr(nccl, _NCCL_TYPES[values[0]._data.dtype])
        sums, sources = [], []  # the sources stay referenced until the group is launched
        nccl.groupStart()
        try:
            for comm, v in zip(comms, values):
                xp = v.context.backend.xp  # makes the value's device current
                src = xp.ascontiguousarray(v._data)
                dst = xp.empty_like(src)
                comm.allReduce(src.data.ptr, dst.data.ptr, src.size, dtype, nccl.NCCL_SUM,
                               xp.cuda.get_current_stream().ptr)
                sources.append(src)
                sums.append(dst)
        finally:
            nccl.groupEnd()
        return sums
