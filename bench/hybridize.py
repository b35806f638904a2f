"""hybridize() speed: MNIST MLP training throughput, psnet imperative vs hybridized vs MXNet 1.9.1.

The Gluon tutorial's MLP (Dense(64, relu), Dense(64, relu), Dense(10)), batch 64, SGD lr
0.01, SoftmaxCrossEntropyLoss, trained with ``autograd.record()`` / ``backward()`` /
``Trainer.step``; net and loss are both hybridized in the hybrid runs.  Data: real
MNIST from ``$PSNET_DATA/mnist`` (IDX files, read here with NumPy and handed to every run
as the same array), or random data of MNIST's shape when it is absent.  Each run is a
separate process timing ``--repeats`` passes over ``--batches`` batches; the processes of
all configurations are interleaved ``--rounds`` times (so a burst of load elsewhere hits
them alike) and the best pass of each configuration is reported, as samples per second of
wall-clock time and per second of the process's CPU time (the latter barely moves when
other programs share the machine).  MXNet runs when ``$MXNET_PYTHON`` or ``~/mxref/bin/python`` has
mxnet (hybridized with static_alloc/static_shape, its fastest mode).  ``--threads N``
sets OMP/OpenBLAS/MKL threads of every run (default 1: these 64-row products gain
nothing from threads, and a busy 2-core machine makes threaded runs noisy); 0 keeps the
libraries' defaults.

    python bench/hybridize.py [--batches 300] [--repeats 3] [--rounds 3] [--threads 1]
"""
import argparse
import gzip
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from mxref import mxnet_python  # noqa: E402

WORKER = r"""
import sys, time
import numpy as np
impl, mode, path, n_batches, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
mx = __import__(impl)
from importlib import import_module
gluon = import_module(impl + ".gluon"); autograd = import_module(impl + ".autograd")
nn = gluon.nn
data = np.load(path)
x_all, y_all = data["x"], data["y"]
net = nn.HybridSequential()
with net.name_scope():
    net.add(nn.Dense(64, activation="relu"), nn.Dense(64, activation="relu"), nn.Dense(10))
net.initialize(mx.init.Xavier())
loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
if mode == "hybrid":
    net.hybridize(static_alloc=True, static_shape=True)
    loss_fn.hybridize(static_alloc=True, static_shape=True)
trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01})
batches = [(mx.nd.array(x_all[i:i + 64]), mx.nd.array(y_all[i:i + 64]))
           for i in range(0, 64 * n_batches, 64)]
def epoch():
    for x, y in batches:
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(64)
    loss.wait_to_read()
epoch()
wall = cpu = 0.0
for _ in range(repeats):
    t, c = time.perf_counter(), time.process_time()
    epoch()
    wall = max(wall, 64 * n_batches / (time.perf_counter() - t))
    cpu = max(cpu, 64 * n_batches / max(time.process_time() - c, 1e-9))
print("SAMPLES_PER_SEC %.1f %.1f" % (wall, cpu))
"""


def read_mnist(n):
    """The first ``n`` MNIST training images (float32 in [0, 1], flattened) and labels, or
    random data of that shape when the files are not there."""
    root = os.environ.get("PSNET_DATA", str(REPO.parent / "shared" / "data"))
    images = pathlib.Path(root) / "mnist" / "train-images-idx3-ubyte.gz"
    labels = pathlib.Path(root) / "mnist" / "train-labels-idx1-ubyte.gz"
    if not (images.exists() and labels.exists()):
        rs = np.random.RandomState(0)
        return rs.rand(n, 784).astype(np.float32), rs.randint(0, 10, n).astype(np.float32), "random"
    with gzip.open(images) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:n]
    with gzip.open(labels) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    return x.astype(np.float32) / 255, y.astype(np.float32), "MNIST"


def run(python, impl, mode, path, batches, repeats, threads):
    """(samples per wall-clock second, per CPU second) of one configuration (a fresh process)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    res = subprocess.run([python, "-c", WORKER, impl, mode, path, str(batches), str(repeats)],
                         capture_output=True, text=True, timeout=1200, env=env)
    for line in res.stdout.splitlines():
        if line.startswith("SAMPLES_PER_SEC"):
            return tuple(float(v) for v in line.split()[1:3])
    raise RuntimeError("%s %s failed:\n%s" % (impl, mode, res.stderr[-2000:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    x, y, source = read_mnist(64 * args.batches)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.npz")
        np.savez(path, x=x, y=y)
        mxpy = mxnet_python()
        configs = [("psnet imperative", sys.executable, "psnet", "imperative"),
                   ("psnet hybridized", sys.executable, "psnet", "hybrid")]
        if mxpy:
            configs += [("MXNet 1.9.1 imperative", mxpy, "mxnet", "imperative"),
                        ("MXNet 1.9.1 hybridized", mxpy, "mxnet", "hybrid")]
        best = {}
        for _ in range(args.rounds):
            for name, py, impl, mode in configs:
                wall, cpu = run(py, impl, mode, path, args.batches, args.repeats, args.threads)
                old = best.get(name, (0.0, 0.0))
                best[name] = (max(old[0], wall), max(old[1], cpu))
        rows = [(c[0], best[c[0]]) for c in configs]
    ref = dict(rows)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print("MNIST MLP 784-64-64-10, batch 64, SGD; data: %s; %d batches, best of %d x %d; threads: %s; "
          "load average %.1f on %d cores" % (source, args.batches, args.rounds, args.repeats,
                                             args.threads or "default", load, os.cpu_count()))
    print("throughput in samples/s of wall-clock time | of the process's CPU time (robust to other load)")
    print("%-24s %10s %8s %8s | %10s %8s %8s" % ("run", "wall", "/psnet", "/MXNet", "cpu", "/psnet", "/MXNet"))
    mx_ref = ref.get("MXNet 1.9.1 hybridized")
    for name, (wall, cpu) in rows:
        cells = []
        for k, v in ((0, wall), (1, cpu)):
            vs_mx = "%7.2fx" % (v / mx_ref[k]) if mx_ref else "     n/a"
            cells.append("%10.0f %7.2fx %s" % (v, v / ref["psnet imperative"][k], vs_mx))
        print("%-24s %s | %s" % (name, cells[0], cells[1]))


if __name__ == "__main__":
    main()
