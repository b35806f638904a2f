"""The Gluon MNIST tutorial (examples/mnist_mlp.py): one full epoch reaches the tutorial's accuracy."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.mnist
@pytest.mark.timeout(180)
def test_one_epoch_reaches_tutorial_accuracy(mnist_dir):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "mnist_mlp.py"), "--epochs", "1",
                           "--data-root", mnist_dir, "--seed", "0"],
                          capture_output=True, text=True, timeout=170, env=env, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    m = re.fullmatch(r"Epoch 0\. Loss: ([0-9.]+), Train_acc ([0-9.]+), Test_acc ([0-9.]+)\n", proc.stdout)
    assert m, proc.stdout
    loss, train_acc, test_acc = map(float, m.groups())
    # MXNet 1.9.1 gives 0.833 to 0.868 after one epoch over seeds; the issue asks >= 0.83
    assert test_acc >= 0.83 and train_acc >= 0.8 and 0.5 < loss < 2.0
