"""Keep freed host memory for reuse: glibc malloc settings for array-sized blocks.

A training step allocates and frees the same multi-megabyte arrays on every step.  With
glibc's defaults a block above the (adaptive) mmap threshold is a fresh ``mmap`` and the
top of the heap is handed back to the OS once more than 128 KiB is free, so every step
page-faults its arrays in again: about a fifth of a resnet18 step on CPU here.
:func:`keep_freed_memory` sets the mmap threshold to glibc's largest (32 MiB) and the
trim threshold to ``PSNET_MALLOC_TRIM_MB`` (default 1024), so freed blocks stay in the
heap for the next step, the way MXNet's pooled allocator keeps its buffers.
``PSNET_MALLOC_TRIM_MB=0`` leaves malloc alone, as does any ``MALLOC_*_`` variable the
user set; on a C library other than glibc nothing changes.
"""
import ctypes
import os

from ..base import env_int

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 << 20      # glibc refuses more on 64-bit systems
_USER_VARS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")


def keep_freed_memory():
    """Apply the settings above; True when glibc accepted them."""
    trim_mb = env_int("PSNET_MALLOC_TRIM_MB", 1024)
    if trim_mb <= 0 or any(v in os.environ for v in _USER_VARS):
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
    return bool(ok and libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(min(trim_mb, 2047) << 20)))
