"""The allocator settings of a server process: reuse freed message buffers.

ZeroMQ allocates a buffer for every received message, and a server keeps some of them
(a round's sum lives in the first push's received frame until the next round replaces
it).  With glibc's defaults, blocks of 32 MB and more are mapped fresh from the kernel
for each message (a page fault per 4 KB page, the page zeroed), and smaller big blocks
land in per-thread heaps that are trimmed and regrown as rounds come and go.  For a
64 MB key that cost about a third of a round.

:func:`keep_freed_memory` makes every allocation come from one heap that keeps what is
freed, so the buffers of one round are reused by the next.  A server's memory then stays
at its peak (a few times its shard's size).  Only servers do this: workers are the
user's processes.  ``PSNET_SERVER_KEEP_MEMORY=0`` turns it off.  Other C libraries
(macOS, musl) are left alone.
"""
import ctypes
import ctypes.util

__all__ = ["keep_freed_memory"]

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
_INT_MAX = (1 << 31) - 1


def keep_freed_memory():
    """One malloc heap for every thread, no fresh mappings for big blocks, nothing handed
    back to the kernel (glibc only).  Returns whether the settings took effect.

    Call it before the process starts threads that allocate (ZeroMQ's I/O threads).
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):     # no C library found, or one without mallopt
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in (
        (_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, _INT_MAX)))
