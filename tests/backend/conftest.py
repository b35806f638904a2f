"""Fixtures for the backend seam: a fake ``cupy`` (the test double in fake_cupy.py) or none."""
import sys

import pytest

from . import fake_cupy


def _reset_backend(monkeypatch):
    """Forget cached GPU backends and the cached cupy import (restored after the test)."""
    import psnet.backend as backend
    from psnet.backend import cupy_backend
    monkeypatch.setattr(backend, "_GPU_BACKENDS", {})
    monkeypatch.setattr(backend, "_PINNED", {})
    monkeypatch.setattr(cupy_backend, "_cupy", None)
    monkeypatch.setattr(cupy_backend, "_cupyx", None)
    monkeypatch.setattr(cupy_backend, "_import_error", None)


@pytest.fixture
def fake_gpu(monkeypatch):
    """Two fake CUDA devices with peer access behind psnet's real CupyBackend; yields the
    double's FakeState.  The test fails if any array was used from another device."""
    cupy, cupyx, state = fake_cupy.install(n_devices=2, peer_access=True)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    _reset_backend(monkeypatch)
    import psnet
    psnet.random.seed(0)  # GPU generators created by this test start from a known seed
    yield state
    assert not state.peer_accesses, (
        "arrays were used from another device (array device, current device): %s"
        % sorted(set(state.peer_accesses)))


@pytest.fixture
def fake_gpu_no_device(monkeypatch):
    """CuPy importable but no CUDA device visible."""
    cupy, cupyx, state = fake_cupy.install(n_devices=0)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    _reset_backend(monkeypatch)
    yield state


@pytest.fixture
def no_cupy(monkeypatch):
    """``import cupy`` fails, as on a machine without CuPy."""
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    monkeypatch.setitem(sys.modules, "cupyx", None)
    _reset_backend(monkeypatch)
