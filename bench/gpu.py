"""GPU throughput: psnet on CuPy against CuPy itself and PyTorch CUDA, on one GPU.

    python bench/gpu.py [--device 0] [--repeats 3] [--steps 20] [--only matmul,elementwise,mlp,lenet,resnet18]

* ``matmul``: a 4096x4096 float32 ``mx.nd.dot`` against ``cupy.matmul`` (cuBLAS) on the
  same device: TFLOP/s and psnet/CuPy.
* ``elementwise``: ``x + y`` and ``relu`` on 64M float32 against the same CuPy expression
  (GB/s moved, and psnet/CuPy).
* ``mlp`` / ``lenet`` / ``resnet18``: training throughput (samples/s; forward, backward,
  SGD update) of the MNIST MLP (batch 64), LeNet (batch 128) and resnet18_v1 (batch 128,
  3x224x224 inputs, synthetic) for psnet and for PyTorch when ``import torch`` works and
  sees CUDA (same layer shapes; torchvision's resnet18 when installed, otherwise the
  same architecture built here).  MNIST is read from ``$PSNET_DATA/mnist`` when present.

For each model the script also reports what limits psnet: the registry op calls per
step, the host-side time per step (Python issuing kernels, measured without
synchronising) against the synchronised step time; when the two are close the step is
bound by Python overhead, not by the GPU.

Without CuPy or a CUDA device the script says which is missing and exits with status 0.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import psnet as mx  # noqa: E402
from psnet import autograd, gluon  # noqa: E402


def gpu_missing():
    """Why no GPU benchmark can run here, or None."""
    try:
        import cupy
    except Exception as e:
        return "CuPy is not importable (%s); install psnet[gpu] on a machine with an NVIDIA GPU" % (e,)
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        return "CuPy finds no CUDA driver (%s)" % (e,)
    return None if n else "CuPy is installed but no CUDA device is visible"


def timed(fn, sync, repeats):
    """Best wall time of ``fn()`` over ``repeats`` runs, synchronised by ``sync()``."""
    fn()
    sync()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def bench_matmul(ctx, repeats):
    """4096x4096 float32 GEMM: psnet vs cuBLAS through CuPy."""
    import cupy as cp
    n = 4096
    a = mx.nd.random.uniform(shape=(n, n), ctx=ctx)
    b = mx.nd.random.uniform(shape=(n, n), ctx=ctx)
    ca, cb = a._data, b._data
    sync = mx.nd.waitall
    t_ps = timed(lambda: mx.nd.dot(a, b), sync, repeats)
    t_cp = timed(lambda: cp.matmul(ca, cb), sync, repeats)
    flops = 2.0 * n ** 3
    print("matmul 4096^2 f32   psnet %7.2f TFLOP/s   cupy %7.2f TFLOP/s   psnet/cupy %.2f"
          % (flops / t_ps / 1e12, flops / t_cp / 1e12, t_cp / t_ps))


def bench_elementwise(ctx, repeats):
    """64M-element add and relu: psnet vs the same CuPy expression (memory bound)."""
    import cupy as cp
    n = 64 * 1024 * 1024
    x = mx.nd.random.normal(shape=(n,), ctx=ctx)
    y = mx.nd.random.normal(shape=(n,), ctx=ctx)
    cx, cy = x._data, y._data
    sync = mx.nd.waitall
    for name, ps, ref, arrays in (("x + y", lambda: x + y, lambda: cx + cy, 3),
                                  ("relu(x)", lambda: mx.nd.relu(x), lambda: cp.maximum(cx, 0), 2)):
        t_ps, t_cp = timed(ps, sync, repeats), timed(ref, sync, repeats)
        moved = arrays * n * 4
        print("%-8s 64M f32    psnet %7.1f GB/s      cupy %7.1f GB/s      psnet/cupy %.2f"
              % (name, moved / t_ps / 1e9, moved / t_cp / 1e9, t_cp / t_ps))


# ---------------------------------------------------------------------- models
def psnet_model(name):
    """The Gluon network of benchmark ``name``."""
    nn = gluon.nn
    if name == "resnet18":
        return gluon.model_zoo.vision.get_model("resnet18_v1", classes=1000)
    net = nn.HybridSequential()
    if name == "mlp":
        net.add(nn.Dense(64, activation="relu"), nn.Dense(64, activation="relu"), nn.Dense(10))
    else:  # lenet
        net.add(nn.Conv2D(20, 5, activation="relu"), nn.MaxPool2D(2, 2), nn.Conv2D(50, 5, activation="relu"),
                nn.MaxPool2D(2, 2), nn.Flatten(), nn.Dense(500, activation="relu"), nn.Dense(10))
    return net


def model_batches(name, n_batches):
    """(batch size, list of (x, y) NumPy batches) for benchmark ``name``."""
    rs = np.random.RandomState(0)
    if name == "resnet18":
        bs = 128
        return bs, [(rs.rand(bs, 3, 224, 224).astype(np.float32), rs.randint(0, 1000, bs).astype(np.float32))
                    for _ in range(2)]
    bs = 64 if name == "mlp" else 128
    images, labels = _mnist(n_batches * bs, rs)
    shape = (bs, 784) if name == "mlp" else (bs, 1, 28, 28)
    return bs, [(images[i * bs:(i + 1) * bs].reshape(shape), labels[i * bs:(i + 1) * bs]) for i in range(n_batches)]


def _mnist(n, rs):
    root = os.environ.get("PSNET_DATA")
    if root and os.path.isdir(os.path.join(root, "mnist")):
        ds = gluon.data.vision.MNIST(root=os.path.join(root, "mnist"), train=True)
        x = np.asarray(ds._data[:n], dtype=np.float32).reshape(n, -1) / 255.0
        return x, np.asarray(ds._label[:n], dtype=np.float32)
    print("  (MNIST not found under $PSNET_DATA: synthetic images of the same shape)")
    return rs.rand(n, 784).astype(np.float32), rs.randint(0, 10, n).astype(np.float32)


def _count_op_calls():
    """Wrap every registry op's forward with a counter; returns (counter dict, undo)."""
    from psnet.ops import registry
    counts = {"n": 0}
    ops = {id(op): op for op in map(registry.get, registry.list_ops())}.values()
    saved = [(op, op.forward) for op in ops]

    def wrap(fwd):
        def counted(*a, **k):
            counts["n"] += 1
            return fwd(*a, **k)
        return counted
    for op, fwd in saved:
        op.forward = wrap(fwd)

    def undo():
        for op, fwd in saved:
            op.forward = fwd
    return counts, undo


def bench_psnet_model(name, ctx, steps):
    """psnet samples/s of model ``name`` and the limits of one step."""
    bs, batches = model_batches(name, steps)
    data = [(mx.nd.array(x, ctx=ctx), mx.nd.array(y, ctx=ctx)) for x, y in batches]
    net = psnet_model(name)
    net.initialize(mx.init.Xavier(), ctx=ctx)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()

    def step(i):
        x, y = data[i % len(data)]
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(bs)

    step(0)  # deferred initialisation
    counts, undo = _count_op_calls()
    step(1)  # imperative: every op call is visible
    undo()
    net.hybridize()
    step(2)  # graph building stays outside the clock
    mx.nd.waitall()
    t = time.perf_counter()
    for i in range(steps):
        step(i)
    host = time.perf_counter() - t  # time to issue the steps (kernels may still run)
    mx.nd.waitall()
    total = time.perf_counter() - t
    return bs * steps / total, counts["n"], host / steps, total / steps


def bench_torch_model(name, device, steps):
    """PyTorch CUDA samples/s of the same model, or None when PyTorch cannot run here."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    dev = torch.device("cuda", device)
    bs, batches = model_batches(name, steps)
    data = [(torch.from_numpy(x).to(dev), torch.from_numpy(y).long().to(dev)) for x, y in batches]
    net = torch_model(name, torch).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(i):
        x, y = data[i % len(data)]
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()

    step(0)
    torch.cuda.synchronize(dev)
    t = time.perf_counter()
    for i in range(steps):
        step(i)
    torch.cuda.synchronize(dev)
    return bs * steps / (time.perf_counter() - t)


def torch_model(name, torch):
    """The PyTorch twin of :func:`psnet_model`."""
    nn = torch.nn
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    if name == "lenet":
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    try:
        import torchvision
        return torchvision.models.resnet18(num_classes=1000)
    except ImportError:
        return _torch_resnet18(torch)


def _torch_resnet18(torch):
    """ResNet-18 (v1 basic blocks) for machines without torchvision."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                                      nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
            self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            return torch.relu(self.body(x) + self.down(x))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000)]
    return nn.Sequential(*layers)


def bench_model(name, ctx, steps):
    """Print psnet's and PyTorch's samples/s for model ``name`` and psnet's limits."""
    rate, n_ops, host, total = bench_psnet_model(name, ctx, steps)
    ref = bench_torch_model(name, ctx.device_id, steps)
    line = "%-9s psnet %9.0f samples/s" % (name, rate)
    line += ("   torch %9.0f samples/s   psnet/torch %.2f" % (ref, rate / ref)) if ref else "   (PyTorch CUDA not available)"
    print(line)
    bound = "Python-bound" if host > 0.8 * total else "GPU-bound"
    print("          %d registry ops/step, host %.1f ms/step of %.1f ms/step (%s; %.0f us of Python per op)"
          % (n_ops, host * 1e3, total * 1e3, bound, host / max(n_ops, 1) * 1e6))


def main(argv=None):
    """Run the selected benchmarks on one GPU (exit 0 with a message when there is none)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--only", default="matmul,elementwise,mlp,lenet,resnet18")
    args = p.parse_args(argv)
    missing = gpu_missing()
    if missing:
        print("bench/gpu.py: no GPU to benchmark: %s" % missing)
        return 0
    import cupy
    ctx = mx.gpu(args.device)
    with cupy.cuda.Device(args.device):
        props = cupy.cuda.runtime.getDeviceProperties(args.device)
    print("device gpu(%d): %s, CuPy %s" % (args.device, props["name"].decode(), cupy.__version__))
    for name in args.only.split(","):
        if name == "matmul":
            bench_matmul(ctx, args.repeats)
        elif name == "elementwise":
            bench_elementwise(ctx, args.repeats)
        else:
            bench_model(name, ctx, args.steps)
        ctx.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
