"""CNN training-step speed: forward + backward throughput of LeNet and resnet18_v1, psnet
against MXNet 1.9.1 and PyTorch (CPU), in one table with ratios.

* LeNet on MNIST-shaped batches (128 x 1 x 28 x 28): Conv(20, 5) - ReLU - MaxPool(2) -
  Conv(50, 5) - ReLU - MaxPool(2) - Dense(500, relu) - Dense(10), softmax cross-entropy.
* resnet18_v1 (the model zoo's, ImageNet stem, 10 classes) on 32 x 3 x 32 x 32 batches.

Each configuration runs in its own process, timing ``--repeats`` passes of ``--steps``
forward+backward steps after a warm-up; the configurations are interleaved ``--rounds``
times and the best pass of each is kept, as samples per second of wall-clock time and per
second of the process's CPU time (which barely moves when other programs load the
machine).  psnet and MXNet run hybridized (MXNet with static_alloc/static_shape, its
fastest mode); PyTorch runs eagerly.  MXNet runs when ``$MXNET_PYTHON`` or
``~/mxref/bin/python`` has mxnet, PyTorch when ``import torch`` works here.
``--threads N`` sets OMP/OpenBLAS/MKL (and torch) threads of every run (default 1: on a
shared 2-core machine threaded BLAS stalls whenever another process wakes up); 0 keeps
the libraries' defaults.

    python bench/cnn.py [--steps 10] [--repeats 3] [--rounds 2] [--threads 1] [--models lenet,resnet18]
"""
import argparse
import importlib.util
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from mxref import mxnet_python  # noqa: E402

SHAPES = {"lenet": (128, 1, 28, 28), "resnet18": (32, 3, 32, 32)}

WORKER = r"""
import sys, time
import numpy as np
impl, model, steps, repeats, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
shape = {"lenet": (128, 1, 28, 28), "resnet18": (32, 3, 32, 32)}[model]
rs = np.random.RandomState(0)
x_np = rs.rand(*shape).astype(np.float32)
y_np = rs.randint(0, 10, shape[0])

if impl == "torch":
    import torch
    from torch import nn
    if threads:
        torch.set_num_threads(threads)
    if model == "lenet":
        net = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(20, 50, 5), nn.ReLU(),
                            nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    else:  # ResNet-18 v1 as the model zoo builds it (7x7/2 stem, max-pool, 4 stages of basic blocks)
        def bn_conv(cin, cout, k, s):
            return [nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout)]
        class Block(nn.Module):
            def __init__(self, cin, cout, s):
                super().__init__()
                self.body = nn.Sequential(*bn_conv(cin, cout, 3, s), nn.ReLU(), *bn_conv(cout, cout, 3, 1))
                self.down = nn.Sequential(*bn_conv(cin, cout, 1, s)) if (s != 1 or cin != cout) else None
            def forward(self, x):
                return torch.relu(self.body(x) + (x if self.down is None else self.down(x)))
        layers = [*bn_conv(3, 64, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        cin = 64
        for i, c in enumerate((64, 128, 256, 512)):
            layers += [Block(cin, c, 1 if i == 0 else 2), Block(c, c, 1)]
            cin = c
        net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))
    net.train()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np).long()
    loss_fn = nn.CrossEntropyLoss()
    def step():
        net.zero_grad()
        loss_fn(net(x), y).backward()
else:
    mx = __import__(impl)
    from importlib import import_module
    gluon = import_module(impl + ".gluon"); autograd = import_module(impl + ".autograd")
    nn = gluon.nn
    if model == "lenet":
        net = nn.HybridSequential()
        net.add(nn.Conv2D(20, 5, activation="relu"), nn.MaxPool2D(2, 2), nn.Conv2D(50, 5, activation="relu"),
                nn.MaxPool2D(2, 2), nn.Flatten(), nn.Dense(500, activation="relu"), nn.Dense(10))
    else:
        net = gluon.model_zoo.vision.resnet18_v1(classes=10)
    net.initialize(mx.init.Xavier())
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    kw = {"static_alloc": True, "static_shape": True} if impl == "mxnet" else {}
    net.hybridize(**kw)
    loss_fn.hybridize(**kw)
    x, y = mx.nd.array(x_np), mx.nd.array(y_np)
    def step():
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        mx.nd.waitall()
step(); step()
wall = cpu = 0.0
for _ in range(repeats):
    t, c = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    wall = max(wall, shape[0] * steps / (time.perf_counter() - t))
    cpu = max(cpu, shape[0] * steps / max(time.process_time() - c, 1e-9))
print("SAMPLES_PER_SEC %.1f %.1f" % (wall, cpu))
"""


def run(python, impl, model, steps, repeats, threads):
    """(samples per wall-clock second, per CPU second) of one configuration in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    res = subprocess.run([python, "-c", WORKER, impl, model, str(steps), str(repeats), str(threads)],
                         capture_output=True, text=True, timeout=1800, env=env)
    for line in res.stdout.splitlines():
        if line.startswith("SAMPLES_PER_SEC"):
            return tuple(float(v) for v in line.split()[1:3])
    raise RuntimeError("%s %s failed:\n%s" % (impl, model, res.stderr[-2000:]))


def _has_torch():
    return importlib.util.find_spec("torch") is not None


def main():
    """Run the configurations and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models", default="lenet,resnet18")
    args = ap.parse_args()
    impls = [("psnet", sys.executable, "psnet")]
    mxpy = mxnet_python()
    if mxpy:
        impls.append(("MXNet 1.9.1", mxpy, "mxnet"))
    if _has_torch():
        impls.append(("PyTorch", sys.executable, "torch"))
    models = args.models.split(",")
    best = {}
    for _ in range(args.rounds):
        for model in models:
            for name, py, impl in impls:
                wall, cpu = run(py, impl, model, args.steps, args.repeats, args.threads)
                old = best.get((model, name), (0.0, 0.0))
                best[(model, name)] = (max(old[0], wall), max(old[1], cpu))
    load = os.getloadavg()[0]
    print("forward+backward, best of %d x %d passes of %d steps; threads: %s; load average %.1f on %d cores"
          % (args.rounds, args.repeats, args.steps, args.threads or "default", load, os.cpu_count()))
    print("samples/s of wall-clock time | of the process's CPU time; ratios are psnet / reference")
    print("%-10s %-12s %9s %9s | %9s %9s" % ("model", "run", "wall", "psnet/x", "cpu", "psnet/x"))
    for model in models:
        ours = best[(model, "psnet")]
        for name, _, _ in impls:
            wall, cpu = best[(model, name)]
            print("%-10s %-12s %9.0f %8.2fx | %9.0f %8.2fx" % (
                model, name, wall, ours[0] / wall, cpu, ours[1] / cpu))


if __name__ == "__main__":
    main()
