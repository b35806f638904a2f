"""Devices: ``mx.cpu(i)``, ``mx.gpu(i)`` and the default-context stack.

A :class:`Context` names a device; it does not own memory.  Asking a context for its
array backend (:attr:`Context.backend`) is what checks that the device exists, so
``mx.gpu(0)`` can be written anywhere and only fails, with a clear message, when an
array is actually placed on it.
"""
import threading

from .base import ContextError

__all__ = ["Context", "cpu", "gpu", "cpu_pinned", "num_gpus", "current_context", "gpu_memory_info"]


class Context:
    """A device: ``Context('cpu', 0)``, ``Context('gpu', 1)`` or ``Context(other_context)``.

    Usable as a context manager that sets the default context of array creation::

        with mx.Context(mx.cpu(1)):
            x = mx.nd.ones((2, 3))       # lives on cpu(1)
    """

    devtype2str = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
    devstr2type = {v: k for k, v in devtype2str.items()}
    _local = threading.local()

    __slots__ = ("device_typeid", "device_id", "_backend", "_old_ctx")

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            self.device_typeid, self.device_id = device_type.device_typeid, device_type.device_id
        else:
            if device_type not in self.devstr2type:
                raise ContextError("unknown device type %r; use 'cpu' or 'gpu'" % (device_type,))
            self.device_typeid = self.devstr2type[device_type]
            self.device_id = int(device_id)
        self._backend = None
        self._old_ctx = None

    @property
    def device_type(self):
        """'cpu' or 'gpu' (MXNet's name of the device kind)."""
        return self.devtype2str[self.device_typeid]

    @property
    def backend(self):
        """The array backend serving this device (NumPy for CPUs, CuPy for GPUs)."""
        b = self._backend
        if b is None:
            from .backend import backend_for
            b = self._backend = backend_for(self)
        return b

    def __hash__(self):
        return hash((self.device_typeid, self.device_id))

    def __eq__(self, other):
        return (isinstance(other, Context) and self.device_typeid == other.device_typeid
                and self.device_id == other.device_id)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "%s(%d)" % (self.device_type, self.device_id)

    __str__ = __repr__

    def __enter__(self):
        self._old_ctx = current_context()
        Context._local.value = self
        return self

    def __exit__(self, *exc):
        Context._local.value = self._old_ctx

    def empty_cache(self):
        """Release cached device memory back to the device (a no-op on CPUs)."""
        if self.device_type == "gpu":
            self.backend.empty_cache()

    def __reduce__(self):
        return (Context, (self.device_type, self.device_id))


def current_context():
    """The default context of array creation (``cpu(0)`` unless a ``with`` block says otherwise)."""
    ctx = getattr(Context._local, "value", None)
    if ctx is None:
        ctx = Context._local.value = _CPU0
    return ctx


def cpu(device_id=0):
    """The CPU context.  ``cpu(i)`` for several i behave like separate devices (as in MXNet)."""
    return _CPU0 if device_id == 0 else Context("cpu", device_id)


def cpu_pinned(device_id=0):
    """CPU memory meant for fast GPU transfers; on the NumPy backend it is ordinary CPU memory."""
    return Context("cpu_pinned", device_id)


def gpu(device_id=0):
    """The GPU context for device ``device_id`` (served by CuPy; checked when first used)."""
    return Context("gpu", device_id)


def num_gpus():
    """How many NVIDIA GPUs CuPy can see (0 when CuPy is not installed)."""
    from .backend import gpu_count
    return gpu_count()


def gpu_memory_info(device_id=0):
    """(free, total) bytes of GPU ``device_id``."""
    return gpu(device_id).backend.memory_info()


_CPU0 = Context("cpu", 0)
