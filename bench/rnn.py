"""LSTM training-step throughput: psnet vs MXNet 1.9.1 (fused CPU RNN op) vs PyTorch CPU.

The case is a 2-layer LSTM, 256 hidden units, input size 256, sequence length 35,
batch 32 (TNC layout): one step is the forward pass under autograd plus the backward
pass of ``sum(outputs)`` down to the weights and the input.  Each implementation is
timed as the best of several rounds; the table gives milliseconds per step and
sequences per second, with psnet's throughput as a ratio of each reference's.  Each
implementation runs ``--repeats`` times in fresh processes, interleaved with the others,
and the best time is kept, so a drift in machine load does not favour one of them.
MXNet runs in its own interpreter (``$MXNET_PYTHON`` or ``~/mxref/bin/python``);
PyTorch is an optional row (skipped when ``import torch`` fails).  Target: psnet >= 0.5x
MXNet 1.9.1.

    python bench/rnn.py [--rounds 3] [--steps 5] [--repeats 3] [--threads 1] [--quick]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from mxref import mxnet_python  # noqa: E402

LAYERS, HIDDEN, INPUT, SEQ, BATCH = 2, 256, 256, 35, 32

# one script for psnet and MXNet (the Gluon API is the same); prints seconds per step
GLUON_WORKER = r"""
import json, sys, time
import numpy as np
mx = __import__(sys.argv[1])
layers, hidden, inp, seq, batch, rounds, steps = json.loads(sys.argv[2])
layer = mx.gluon.rnn.LSTM(hidden, num_layers=layers, input_size=inp)
layer.initialize(mx.init.Xavier())
layer.hybridize()
x = mx.nd.array(np.random.RandomState(0).uniform(-1, 1, (seq, batch, inp)).astype("float32"))
x.attach_grad()

def step():
    with mx.autograd.record():
        out = layer(x)
    out.backward()

for _ in range(2):
    step()
mx.nd.waitall()
best = float("inf")
for _ in range(rounds):
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    x.grad.wait_to_read()
    mx.nd.waitall()
    best = min(best, (time.perf_counter() - t0) / steps)
print("RESULT" + json.dumps(best))
"""


TORCH_WORKER = r"""
import json, sys, time
import torch
layers, hidden, inp, seq, batch, rounds, steps = json.loads(sys.argv[1])
torch.manual_seed(0)
lstm = torch.nn.LSTM(inp, hidden, num_layers=layers)
x = torch.rand(seq, batch, inp, requires_grad=True)

def step():
    out, _ = lstm(x)
    out.sum().backward()

for _ in range(2):
    step()
best = float("inf")
for _ in range(rounds):
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    best = min(best, (time.perf_counter() - t0) / steps)
print("RESULT" + json.dumps(best))
"""


def _run(name, cmd, threads):
    """Seconds per step printed by a worker subprocess, or None when it fails."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MXNET_CPU_WORKER_NTHREADS"):
            env[var] = str(threads)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=str(REPO), env=env)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    print("%s run failed:\n%s" % (name, p.stderr[-2000:]), file=sys.stderr)
    return None


def _has_torch():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, timeout=300).returncode == 0


def main():
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="timing rounds per process (best is kept)")
    ap.add_argument("--steps", type=int, default=5, help="training steps per round")
    ap.add_argument("--repeats", type=int, default=3,
                    help="processes per implementation, interleaved (best is kept: load drifts on shared machines)")
    ap.add_argument("--quick", action="store_true", help="one process, 2 rounds of 3 steps (a smoke run)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS/OpenMP threads for every implementation (0: leave the environment)")
    args = ap.parse_args()
    rounds, steps, repeats = (2, 3, 1) if args.quick else (args.rounds, args.steps, args.repeats)
    case = json.dumps([LAYERS, HIDDEN, INPUT, SEQ, BATCH, rounds, steps])
    mxpy = mxnet_python()
    commands = {"psnet": [sys.executable, "-c", GLUON_WORKER, "psnet", case],
                "MXNet 1.9.1": [mxpy, "-c", GLUON_WORKER, "mxnet", case] if mxpy else None,
                "PyTorch CPU": [sys.executable, "-c", TORCH_WORKER, case] if _has_torch() else None}
    times = {name: None for name in commands}
    for _ in range(repeats):
        for name, cmd in commands.items():
            t = _run(name, cmd, args.threads) if cmd else None
            if t is not None:
                times[name] = t if times[name] is None else min(times[name], t)
    print("LSTM %d layers, %d hidden, input %d, seq %d, batch %d: forward + backward per step, %s thread(s)"
          % (LAYERS, HIDDEN, INPUT, SEQ, BATCH, args.threads or "default"))
    head = "%-12s %12s %14s %18s" % ("impl", "ms/step", "sequences/s", "psnet throughput x")
    print(head)
    print("-" * len(head))
    ps = times["psnet"]
    for name, t in times.items():
        if t is None:
            print("%-12s %12s %14s %18s" % (name, "n/a", "n/a", "n/a"))
            continue
        ratio = "%.2f" % (t / ps) if ps else "n/a"
        print("%-12s %12.2f %14.1f %18s" % (name, t * 1e3, BATCH / t, ratio))
    print("target: psnet >= 0.5x MXNet 1.9.1 throughput")


if __name__ == "__main__":
    main()
