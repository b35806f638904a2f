"""A server process reuses freed message buffers (psnet.kvstore.dist.memory)."""
import subprocess
import sys

import pytest

from tests.kvstore.dist.live import REPO

PROGRAM = r"""
import resource, sys
import numpy as np
from psnet.kvstore.dist.memory import keep_freed_memory
if sys.argv[1] == "1" and not keep_freed_memory():
    print("UNSUPPORTED"); sys.exit(0)
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(64 << 20, np.uint8); del a          # the heap grows once
f0 = faults()
for _ in range(5):                              # what a server does round after round
    a = np.ones(64 << 20, np.uint8); del a
print("FAULTS", (faults() - f0) / 5)
"""


def _faults_per_block(keep):
    out = subprocess.run([sys.executable, "-c", PROGRAM, "1" if keep else "0"], cwd=str(REPO),
                         capture_output=True, text=True, timeout=60).stdout
    if "UNSUPPORTED" in out:
        pytest.skip("this C library has no glibc mallopt: servers keep the default allocator")
    return float(out.split("FAULTS")[1])


def test_freed_blocks_are_reused_without_page_faults():
    pages = (64 << 20) // 4096
    assert _faults_per_block(True) < 0.01 * pages            # 64 MB blocks come back from the heap
    assert _faults_per_block(False) > _faults_per_block(True)  # glibc's default maps each one afresh
