"""examples/train_mnist.py through psnet-launch: 2 dist_sync workers match one process."""
import os
import re
import subprocess
import sys

import pytest

from tests.launcher.jobs import REPO, finish

ARGS = ["examples/train_mnist.py", "--num-epochs", "2", "--max-samples", "12000", "--seed", "1", "--lr", "0.1",
        "--log-interval", "40"]


def _accuracies(out):
    return [float(a) for a in re.findall(r"Final test accuracy: ([0-9.]+)", out)]


@pytest.mark.mnist
@pytest.mark.slow
def test_two_dist_sync_workers_reach_single_process_accuracy(mnist_dir):
    env = dict(os.environ, PSNET_KVSTORE_TIMEOUT="60", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    data = ["--data-root", mnist_dir]
    single = subprocess.run([sys.executable] + ARGS + data, cwd=str(REPO), env=env, capture_output=True,
                            text=True, timeout=120)
    assert single.returncode == 0, single.stdout + single.stderr
    (local_acc,) = _accuracies(single.stdout + single.stderr)
    job = subprocess.Popen([sys.executable, "-m", "launcher.launch", "-n", "2", "-s", "2", sys.executable]
                           + ARGS + data + ["--kv-store", "dist_sync"], cwd=str(REPO), env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    rc, out = finish(job, 150)
    assert rc == 0, out
    accs = _accuracies(out)
    assert len(accs) == 2 and accs[0] == accs[1], out        # both workers hold the same weights
    assert "samples/sec" in out
    assert local_acc > 0.88 and accs[0] >= local_acc - 0.03, (local_acc, accs)
