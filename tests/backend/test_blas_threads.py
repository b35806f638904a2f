"""NumPy's BLAS thread count: set_blas_threads / blas_threads and PSNET_BLAS_THREADS."""
import os
import subprocess
import sys

import pytest

from psnet.base import MXNetError
from psnet.backend.numpy_backend import blas_threads, set_blas_threads

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
needs_openblas = pytest.mark.skipif(blas_threads() is None, reason="NumPy is not linked to OpenBLAS")


@needs_openblas
def test_set_and_read_back():
    before = blas_threads()
    try:
        assert set_blas_threads(1) is True
        assert blas_threads() == 1
        assert set_blas_threads(2) is True
        assert blas_threads() == 2
    finally:
        set_blas_threads(before)


def test_rejects_non_positive():
    with pytest.raises(MXNetError, match="at least 1"):
        set_blas_threads(0)


@needs_openblas
def test_env_knob_applies_when_psnet_loads():
    code = "import psnet; from psnet.backend.numpy_backend import blas_threads; print(blas_threads())"
    env = dict(os.environ, PSNET_BLAS_THREADS="1", OPENBLAS_NUM_THREADS="2", PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
