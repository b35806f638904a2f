"""psnet.backend.malloc: glibc keeps freed array-sized blocks unless told otherwise."""
import ctypes
import platform

import pytest

from psnet.backend.malloc import keep_freed_memory

GLIBC = platform.libc_ver()[0] == "glibc" and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")


@pytest.mark.skipif(not GLIBC, reason="mallopt settings are glibc's")
def test_glibc_accepts_the_settings(monkeypatch):
    for var in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "PSNET_MALLOC_TRIM_MB"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PSNET_MALLOC_TRIM_MB", "256")
    assert keep_freed_memory() is True
    monkeypatch.delenv("PSNET_MALLOC_TRIM_MB")
    assert keep_freed_memory() is True      # back to the default psnet set when it loaded


def test_switched_off_by_zero_or_by_the_users_malloc_variables(monkeypatch):
    monkeypatch.setenv("PSNET_MALLOC_TRIM_MB", "0")
    assert keep_freed_memory() is False
    monkeypatch.delenv("PSNET_MALLOC_TRIM_MB")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert keep_freed_memory() is False
