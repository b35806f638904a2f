"""Shared test set-up: dataset root, seeding, and a guard against leaked child processes."""
import os
import pathlib

import numpy as np
import pytest

_SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"
if "PSNET_DATA" not in os.environ and _SHARED.is_dir():
    os.environ["PSNET_DATA"] = str(_SHARED)


def mnist_root():
    """The directory holding the MNIST IDX files, or None when they are not available."""
    base = os.environ.get("PSNET_DATA")
    if base and (pathlib.Path(base) / "mnist" / "train-images-idx3-ubyte.gz").exists():
        return str(pathlib.Path(base) / "mnist")
    return None


@pytest.fixture
def mnist_dir():
    """Path of real MNIST; skips the test (with the reason) when it is not available."""
    root = mnist_root()
    if root is None:
        pytest.skip("real MNIST not found: set PSNET_DATA to a directory containing mnist/ "
                    "(CI uses ../shared/data)")
    return root


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state."""
    np.random.seed(0)
    try:
        import psnet.random
    except ImportError:  # psnet.random is optional while the tree is being built
        return
    psnet.random.seed(0)
