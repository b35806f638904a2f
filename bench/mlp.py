"""Training throughput of the Gluon MNIST tutorial's MLP: psnet vs MXNet 1.9.1 vs PyTorch (CPU).

    python bench/mlp.py [--epochs 1] [--repeats 3] [--data-root DIR] [--no-mxnet] [--no-torch]

The model is the tutorial's (784 -> Dense(64, relu) -> Dense(64, relu) -> Dense(10),
softmax cross-entropy, SGD lr 0.01, batch 64).  The 60,000 MNIST training images sit in
memory as ready-made batches, so the number measured is samples/s of the training steps
over whole epochs (forward, backward, update), the median of ``--repeats`` runs, per
second of wall-clock time and per second of the process's CPU time (the latter barely
moves when other programs load the machine; a framework that runs work on extra threads,
as MXNet's engine does, gets more CPU-seconds per wall-second than one core gives).

Every framework runs in its own process with the same batches: psnet imperative and
hybridized, PyTorch when importable (``pip install torch``), MXNet 1.9.1 imperative
and hybridized through ``$MXNET_PYTHON`` or ``~/mxref/bin/python`` when present.
``--profile`` prints where psnet's imperative step spends its time (cProfile);
``--threads N`` sets the BLAS/OpenMP thread counts of every framework alike (on a
busy 2-core machine, 2 spinning BLAS threads can cost NumPy and PyTorch 10x).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 64


# ---------------------------------------------------------------------- children
def _gluon_run(mx, batches_path, epochs, repeats, hybridize, profile=False):
    """Train the MLP with a Gluon-compatible ``mx`` (psnet or mxnet); (wall, CPU) samples/s per repeat."""
    from_np = np.load(batches_path)
    xs, ys = from_np["x"], from_np["y"]
    data = [(mx.nd.array(x), mx.nd.array(y)) for x, y in zip(xs, ys)]
    gluon, autograd = mx.gluon, mx.autograd
    rates = []
    for _ in range(repeats):
        net = gluon.nn.HybridSequential()
        with net.name_scope():
            net.add(gluon.nn.Dense(64, activation="relu"), gluon.nn.Dense(64, activation="relu"),
                    gluon.nn.Dense(10))
        net.initialize(mx.init.Normal(sigma=.1))
        if hybridize:
            net.hybridize()
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": .01})

        def step(x, y):
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(BATCH)

        step(*data[0])  # deferred initialisation and (hybridized) graph building stay outside the clock
        mx.nd.waitall()
        prof = None
        if profile:
            import cProfile
            prof = cProfile.Profile()
            prof.enable()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(epochs):
            for x, y in data:
                step(x, y)
        mx.nd.waitall()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if prof is not None:
            import pstats
            prof.disable()
            pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(18)
        rates.append((epochs * len(data) * BATCH / elapsed, epochs * len(data) * BATCH / cpu))
    return rates


def _torch_run(batches_path, epochs, repeats):
    """The same MLP and loop in PyTorch; (wall, CPU) samples/s per repeat."""
    import torch
    from_np = np.load(batches_path)
    data = [(torch.from_numpy(x).reshape(BATCH, -1), torch.from_numpy(y).long()) for x, y in
            zip(from_np["x"], from_np["y"])]
    rates = []
    for _ in range(repeats):
        net = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                  torch.nn.ReLU(), torch.nn.Linear(64, 10))
        for p in net.parameters():
            torch.nn.init.normal_(p, std=.1)
        opt = torch.optim.SGD(net.parameters(), lr=.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(epochs):
            for x, y in data:
                opt.zero_grad()
                loss_fn(net(x), y).backward()
                opt.step()
        n = epochs * len(data) * BATCH
        rates.append((n / (time.perf_counter() - start), n / (time.process_time() - cpu)))
    return rates


def _child(args):
    if args.child == "torch":
        rates = _torch_run(args.batches, args.epochs, args.repeats)
    else:
        if args.child == "mxnet":
            import mxnet as mx
        else:
            sys.path.insert(0, ROOT)
            import psnet as mx
        rates = _gluon_run(mx, args.batches, args.epochs, args.repeats, args.hybridize, args.profile)
    print(json.dumps(rates))


# ---------------------------------------------------------------------- parent
def _load_batches(data_root):
    sys.path.insert(0, ROOT)
    from psnet.gluon.data import DataLoader
    from psnet.gluon.data.vision import MNIST
    train = MNIST(root=data_root, train=True)
    images, labels = next(iter(DataLoader(train, batch_size=len(train))))
    x = images.asnumpy().reshape(-1, 784).astype(np.float32) / 255
    y = labels.asnumpy().astype(np.float32)
    n = len(y) // BATCH * BATCH
    perm = np.random.RandomState(0).permutation(len(y))[:n]
    return x[perm].reshape(-1, BATCH, 784), y[perm].reshape(-1, BATCH)


def _mxnet_python():
    for cand in (os.environ.get("MXNET_PYTHON"), os.path.expanduser("~/mxref/bin/python")):
        if cand and os.path.exists(cand):
            return cand
    return None


def _run_child(python, kind, batches, args, hybridize=False, profile=False):
    cmd = [python, os.path.abspath(__file__), "--child", kind, "--batches", batches,
           "--epochs", str(args.epochs), "--repeats", str(args.repeats)]
    if hybridize:
        cmd.append("--hybridize")
    if profile:
        cmd.append("--profile")
    env = dict(os.environ)
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MXNET_CPU_WORKER_NTHREADS"):
            env[var] = str(args.threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "exit %d" % proc.returncode
    if profile:
        sys.stderr.write(proc.stderr)
    rates = np.array(json.loads(proc.stdout.strip().splitlines()[-1]))
    return tuple(float(v) for v in np.median(rates, axis=0)), None


def main():
    """Run every available framework and print one table of samples/s with ratios."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data-root", default=None)
    p.add_argument("--no-mxnet", action="store_true")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--profile", action="store_true", help="cProfile psnet's imperative run (to stderr)")
    p.add_argument("--threads", type=int, default=None,
                   help="set OPENBLAS/OMP/MKL_NUM_THREADS for every framework (default: leave them)")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--child", choices=["psnet", "mxnet", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--batches", help=argparse.SUPPRESS)
    p.add_argument("--hybridize", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return _child(args)

    x, y = _load_batches(args.data_root)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        batches = os.path.join(tmp, "batches.npz")
        np.savez(batches, x=x, y=y)
        rows.append(("psnet imperative",) + _run_child(sys.executable, "psnet", batches, args,
                                                        profile=args.profile))
        rows.append(("psnet hybridized",) + _run_child(sys.executable, "psnet", batches, args, hybridize=True))
        if not args.no_torch:
            rows.append(("PyTorch CPU",) + _run_child(sys.executable, "torch", batches, args))
        mxpy = None if args.no_mxnet else _mxnet_python()
        if mxpy:
            rows.append(("MXNet 1.9.1 imperative",) + _run_child(mxpy, "mxnet", batches, args))
            rows.append(("MXNet 1.9.1 hybridized",) + _run_child(mxpy, "mxnet", batches, args, hybridize=True))
    ref = {name: rate for name, rate, _ in rows if rate}
    base, hyb = ref.get("psnet imperative"), ref.get("psnet hybridized")
    print("MLP 784-64-64-10, batch %d, %d epoch(s) x %d repeats (median), samples/s, threads=%s, "
          "load average %.1f on %d cores" % (BATCH, args.epochs, args.repeats, args.threads or "default",
                                             os.getloadavg()[0], os.cpu_count()))
    print("ratios: psnet imperative (imp) or hybridized (hyb) over this row")
    print("%-24s %10s %8s %8s | %10s %8s %8s" % ("framework", "wall", "imp/", "hyb/", "cpu", "imp/", "hyb/"))
    for name, rate, err in rows:
        if rate is None:
            print("%-24s %10s  (skipped: %s)" % (name, "-", err))
            continue
        cells = []
        for k in (0, 1):
            cells.append("%10.0f %8s %8s" % (rate[k], "%.2fx" % (base[k] / rate[k]) if base else "-",
                                              "%.2fx" % (hyb[k] / rate[k]) if hyb else "-"))
        print("%-24s %s | %s" % (name, cells[0], cells[1]))


if __name__ == "__main__":
    main()
