"""examples/mnist_cnn.py: a tiny version of the CNN trains for a few hundred steps on real
MNIST; the loss falls and the test accuracy beats 0.9."""
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mnist_cnn.py"

# runs in a child with one BLAS thread: threaded BLAS on a busy 2-core machine is many times slower
TRAIN = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("mnist_cnn_example", sys.argv[1])
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)
lines = []
history, losses = example.train(epochs=1, data_root=sys.argv[2], batch_size=64, channels=(6, 12), hidden=64,
                                learning_rate=0.003, max_steps=300, test_samples=2000, log=lines.append)
print(json.dumps({"history": history, "losses": losses, "lines": lines}))
"""


@pytest.mark.mnist
@pytest.mark.timeout(150)
def test_tiny_cnn_learns_mnist(mnist_dir):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", TRAIN, str(EXAMPLE), mnist_dir], capture_output=True, text=True,
                          timeout=140, env=env, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    losses, history = res["losses"], res["history"]
    assert len(losses) == 300 and len(history) == 1
    assert np.mean(losses[-50:]) < 0.4 * np.mean(losses[:20])
    assert history[0][2] > 0.9
    assert res["lines"][0].startswith("Epoch 0. Loss: ")


def test_build_net_shapes():
    spec = importlib.util.spec_from_file_location("mnist_cnn_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    import psnet as mx
    net = example.build_net()
    net.initialize()
    assert net(mx.nd.zeros((2, 1, 28, 28))).shape == (2, 10)
    assert net[0].weight.shape == (20, 1, 5, 5) and net[4].weight.shape == (50, 20, 5, 5)
