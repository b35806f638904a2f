"""DLPack interoperability: share an NDArray's memory with NumPy, PyTorch, CuPy... and back.

* :func:`to_dlpack_for_read` / :func:`to_dlpack_for_write` return a DLPack ``PyCapsule``
  (named ``"dltensor"``, as MXNet's) that a consumer such as
  ``torch.utils.dlpack.from_dlpack`` turns into a tensor sharing the NDArray's memory.
  psnet's capsule is the one the backend array exports itself (NumPy's
  ``ndarray.__dlpack__()`` on CPU, CuPy's on GPU); a capsule can be consumed once.
* :func:`from_dlpack` takes such a capsule, or any object with ``__dlpack__`` (a NumPy
  array, a torch tensor, a CuPy array, another NDArray), and wraps its memory as an
  NDArray without copying: CPU memory through ``numpy.from_dlpack``, CUDA memory through
  CuPy's ``from_dlpack`` on ``mx.gpu(device_id)`` (when psnet's GPU backend is available).
* ``NDArray.__dlpack__`` / ``NDArray.__dlpack_device__`` (the array-API protocol) make
  ``numpy.from_dlpack(x)`` and ``torch.from_dlpack(x)`` share memory with an NDArray.

Writes through either side are seen by the other.  As in MXNet, only compact (C-contiguous)
tensors are accepted, and psnet's dtypes only.  Old-style ``"dltensor"`` capsules carry no
read-only flag; NumPy imports them read-only, psnet imports them writable, as MXNet does
(``to_dlpack_for_write`` exists to be written through).
"""
import re

import numpy as np

from ..base import ContextError, DTypeError, MXNetError, NotSupportedError, normalize_dtype
from ..context import cpu, gpu
from .ndarray import NDArray, from_backend

__all__ = ["to_dlpack_for_read", "to_dlpack_for_write", "from_dlpack"]

# DLPack's DLDeviceType codes
_CPU, _CUDA, _CUDA_HOST, _CUDA_MANAGED = 1, 2, 3, 13
_CAPSULE_NAME = re.compile(r'^<capsule object (?:"([^"]*)"|NULL)')


def _capsule_name(obj):
    """The name of a PyCapsule (``'dltensor'``, ``'used_dltensor'``...), None for other
    objects.  Read from ``repr``: Python offers no other accessor without ctypes."""
    if type(obj).__name__ != "PyCapsule":
        return None
    m = _CAPSULE_NAME.match(repr(obj))
    return (m.group(1) or "") if m else ""


def _check_nd(x, fn):
    if not isinstance(x, NDArray):
        raise DTypeError("%s takes an NDArray, got %s" % (fn, type(x).__name__))


def _export(data, stream=None, **kwargs):
    """``data.__dlpack__`` with the keywords this producer knows (older NumPy/CuPy take
    only ``stream``)."""
    if not hasattr(data, "__dlpack__"):
        raise NotSupportedError("DLPack export needs NumPy >= 1.22 (or a CuPy with "
                                "__dlpack__); this %s array has no __dlpack__"
                                % type(data).__module__.split(".")[0])
    if stream is not None:
        kwargs["stream"] = stream
    try:
        return data.__dlpack__(**kwargs)
    except TypeError:
        if not kwargs.keys() - {"stream"}:
            raise
        return data.__dlpack__(**({"stream": stream} if stream is not None else {}))


def dlpack_export(x, stream=None, max_version=None, dl_device=None, copy=None):
    """The capsule behind ``NDArray.__dlpack__`` (the array-API protocol): the backend
    array's own export, with the consumer's ``stream``/``max_version``/``dl_device``/``copy``
    passed on where given."""
    kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device),
                                ("copy", copy)) if v is not None}
    return _export(x._data, stream, **kwargs)


def dlpack_device(x):
    """``(device_type, device_id)`` of the NDArray's memory in DLPack's codes
    (``(1, 0)`` for CPU, ``(2, i)`` for ``mx.gpu(i)``)."""
    data = x._data
    if hasattr(data, "__dlpack_device__"):
        t, i = data.__dlpack_device__()
        return int(t), int(i)
    if x.context.device_type == "gpu":
        return _CUDA, x.context.device_id
    return _CPU, 0


def to_dlpack_for_read(data):
    """A DLPack capsule (``PyCapsule`` named ``"dltensor"``) sharing ``data``'s memory, for
    a consumer that reads it; pending writes to ``data`` are waited for first.

    psnet returns the capsule the backend array exports (``numpy.ndarray.__dlpack__()`` on
    CPU); it can be consumed once, e.g. by ``mx.nd.from_dlpack`` or
    ``torch.utils.dlpack.from_dlpack``.  A read-only backend array gives a versioned
    capsule (``"dltensor_versioned"``) flagged read-only instead.
    """
    _check_nd(data, "to_dlpack_for_read")
    data.wait_to_read()
    try:
        return _export(data._data)
    except BufferError:  # read-only array: only versioned DLPack can say so
        return _export(data._data, max_version=(1, 0))


def to_dlpack_for_write(data):
    """A DLPack capsule (``PyCapsule`` named ``"dltensor"``) sharing ``data``'s memory, for
    a consumer that writes into it; pending reads and writes of ``data`` are waited for first.

    Writes made through the consumer's tensor show in ``data``.  Same capsule as
    :func:`to_dlpack_for_read` (psnet has no engine to order the accesses).
    """
    _check_nd(data, "to_dlpack_for_write")
    data.wait_to_write()
    try:
        return _export(data._data)
    except BufferError as e:
        raise MXNetError("to_dlpack_for_write: the array's memory is read-only (%s)" % e) from None


class _Source:
    """Hands ``numpy.from_dlpack`` a capsule or an object's export, and records whether the
    capsule was an old-style one (no read-only flag in it)."""

    def __init__(self, obj, capsule=None, device=(_CPU, 0)):
        self.obj, self.capsule, self.device, self.legacy = obj, capsule, device, False

    def __dlpack__(self, **kwargs):
        c = self.capsule if self.capsule is not None else self.obj.__dlpack__(**kwargs)
        self.legacy = _capsule_name(c) == "dltensor"
        return c

    def __dlpack_device__(self):
        return self.device


class _Writable:
    """``__array_interface__`` over the memory of ``arr`` with the write flag on (NumPy
    imports old-style capsules read-only); keeps ``arr`` (and so the capsule) alive."""

    def __init__(self, arr):
        self._arr = arr
        iface = dict(arr.__array_interface__)
        iface["data"] = (iface["data"][0], False)
        self.__array_interface__ = iface


def _wrap(arr, ctx, what):
    """The imported backend array as an NDArray: psnet dtype and compact layout checked."""
    try:
        normalize_dtype(arr.dtype)
    except MXNetError as e:
        raise type(e)("from_dlpack: %s: %s" % (what, e)) from None
    if not arr.flags.c_contiguous:
        raise NotSupportedError(
            "from_dlpack: %s of shape %s is not compact (strides %s); psnet, like MXNet, "
            "shares only C-contiguous tensors: pass a contiguous copy (torch: .contiguous())"
            % (what, tuple(arr.shape), tuple(arr.strides)))
    return from_backend(arr, ctx)


def _from_cpu(src, what):
    try:
        arr = np.from_dlpack(src)
    except (BufferError, RuntimeError, ValueError, TypeError) as e:
        raise MXNetError("from_dlpack: NumPy could not import %s: %s" % (what, e)) from e
    if src.legacy and not arr.flags.writeable:
        arr = np.asarray(_Writable(arr))
    return _wrap(arr, cpu(), what)


def _from_gpu(obj, device_id, what):
    xp = gpu(device_id).backend.xp  # ContextError when CuPy or the device is missing
    try:
        if hasattr(xp, "from_dlpack"):
            arr = xp.from_dlpack(obj)
        else:  # CuPy < 10 takes only capsules
            arr = xp.fromDlpack(obj if _capsule_name(obj) else obj.__dlpack__())
    except (BufferError, RuntimeError, ValueError, TypeError) as e:
        raise MXNetError("from_dlpack: CuPy could not import %s: %s" % (what, e)) from e
    # the memory's own device (a raw capsule says it only to CuPy)
    return _wrap(arr, gpu(int(arr.device.id)), what)


def from_dlpack(dlpack):
    """An NDArray sharing the memory of ``dlpack``, without a copy.

    ``dlpack`` is a DLPack capsule (from :func:`to_dlpack_for_read`/``_for_write``,
    ``torch.utils.dlpack.to_dlpack``...; consumed by this call) or any object implementing
    ``__dlpack__``/``__dlpack_device__`` (a NumPy array, a torch tensor, a CuPy array, an
    NDArray).  CPU memory gives an NDArray on ``mx.cpu()``, CUDA memory one on
    ``mx.gpu(device_id)`` (needs psnet's CuPy backend).  Writes through the NDArray show in
    the source and the other way round.  Raises MXNetError for a capsule already consumed,
    DTypeError for a dtype psnet lacks or an object that is no DLPack source,
    NotSupportedError for a non-contiguous tensor and ContextError for a device psnet
    cannot reach.
    """
    name = _capsule_name(dlpack)
    if name is not None:
        if name.startswith("used_"):
            raise MXNetError("from_dlpack: this DLPack capsule was already consumed "
                             "(a capsule can be consumed only once)")
        if name not in ("dltensor", "dltensor_versioned"):
            raise MXNetError("from_dlpack: a PyCapsule named %r is not a DLPack tensor" % name)
        src = _Source(None, capsule=dlpack)
        try:
            return _from_cpu(src, "the capsule")
        except MXNetError as cpu_error:
            # NumPy refuses a capsule of device memory; the capsule is not consumed then
            if _capsule_name(dlpack) != name:
                raise
            try:
                return _from_gpu(dlpack, 0, "the capsule")
            except ContextError:
                raise cpu_error from None
    if not hasattr(dlpack, "__dlpack__"):
        raise DTypeError("from_dlpack takes a DLPack capsule or an object with __dlpack__ "
                         "(NumPy array, torch tensor, CuPy array...), got %s"
                         % type(dlpack).__name__)
    what = "the %s" % type(dlpack).__name__
    try:
        dev_type, dev_id = (int(v) for v in dlpack.__dlpack_device__())
    except AttributeError:
        dev_type, dev_id = _CPU, 0
    if dev_type == _CUDA:
        return _from_gpu(dlpack, dev_id, what)
    if dev_type not in (_CPU, _CUDA_HOST, _CUDA_MANAGED):
        raise ContextError("from_dlpack: %s lives on DLPack device type %d (id %d); psnet "
                           "reaches CPU and CUDA memory only" % (what, dev_type, dev_id))
    return _from_cpu(_Source(dlpack, device=(dev_type, dev_id)), what)


NDArray.to_dlpack_for_read = to_dlpack_for_read
NDArray.to_dlpack_for_write = to_dlpack_for_write
