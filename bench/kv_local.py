"""Local KVStore speed: psnet vs MXNet 1.9.1 'local' (and 'device'), in one run.

* latency: one synchronous ``push`` + ``pull`` of a (2, 3) float32 key (MXNet waits on
  the pulled array), median over many rounds, in microseconds;
* bandwidth, for one float32 key of 1, 16 and 64 MB, best of several rounds, in GB/s:
  ``push`` of one array (bytes / time), ``pull`` into one array, ``push`` of two arrays
  on cpu(0) and cpu(1) (summed; 2 x bytes / time) and a ``push`` + ``pull`` round
  (2 x bytes / time).  MXNet 1.9.1 keeps a *reference* to a single pushed array instead
  of copying it (so a later change of that array silently changes the store); psnet
  copies, so its single-array push does real work where MXNet's does none.  A plain
  single-threaded NumPy copy of the same size is shown as the machine's reference.

Each implementation runs in its own process (MXNet from ``$MXNET_PYTHON`` or
``~/mxref/bin/python`` when it has mxnet; skipped otherwise).

    python bench/kv_local.py [--store local] [--rounds 3000] [--sizes 1 16 64]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys, time
import numpy as np
impl, store, rounds, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(s) for s in sys.argv[4].split(",")]
mx = __import__(impl)
kv = mx.kv.create(store)
res = {}
a = mx.nd.ones((2, 3))
out = mx.nd.zeros((2, 3))
kv.init(3, a)
times = []
for i in range(rounds):
    t = time.perf_counter()
    kv.push(3, a)
    kv.pull(3, out=out)
    out.wait_to_read()
    times.append(time.perf_counter() - t)
res["latency_us"] = float(np.median(times[rounds // 10:]) * 1e6)
def best_time(fn, reps):
    best = None
    for i in range(reps + 1):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        if i and (best is None or dt < best):
            best = dt
    return best
for mb in sizes:
    n = mb * (1 << 20) // 4
    v = mx.nd.ones((n,))
    v2 = mx.nd.ones((n,), ctx=mx.cpu(1))
    o = mx.nd.zeros((n,))
    key = 100 + mb
    kv.init(key, v)
    reps = max(3, 160 // mb)
    nbytes = n * 4
    res["push_%d" % mb] = nbytes / best_time(lambda: (kv.push(key, v), mx.nd.waitall()), reps) / 1e9
    res["pull_%d" % mb] = nbytes / best_time(lambda: (kv.pull(key, out=o), o.wait_to_read()), reps) / 1e9
    res["push2_%d" % mb] = 2 * nbytes / best_time(lambda: (kv.push(key, [v, v2]), mx.nd.waitall()), reps) / 1e9
    res["round_%d" % mb] = 2 * nbytes / best_time(
        lambda: (kv.push(key, v), kv.pull(key, out=o), o.wait_to_read()), reps) / 1e9
print("KVBENCH" + json.dumps(res))
"""


def run(python, impl, store, rounds, sizes, env=None):
    """Run the worker under ``python``; its results dict, or None when it failed."""
    cmd = [python, "-c", WORKER, impl, store, str(rounds), ",".join(map(str, sizes))]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=str(REPO))
    for line in p.stdout.splitlines():
        if line.startswith("KVBENCH"):
            return json.loads(line[7:])
    print("%s failed:\n%s" % (impl, p.stderr[-1500:]), file=sys.stderr)
    return None


def numpy_copy_gbps(mb):
    """Single-threaded NumPy copy bandwidth for ``mb`` megabytes (best of a few)."""
    import time
    import numpy as np
    a = np.ones(mb * (1 << 20) // 4, np.float32)
    b = np.empty_like(a)
    best = None
    for _ in range(max(3, 160 // mb)):
        t = time.perf_counter()
        np.copyto(b, a)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return a.nbytes / best / 1e9


def main():
    """Parse arguments, run both implementations, print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default="local")
    ap.add_argument("--rounds", type=int, default=3000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 64])
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    ours = run(sys.executable, "psnet", args.store, args.rounds, args.sizes, env)
    mxpy = os.environ.get("MXNET_PYTHON", os.path.expanduser("~/mxref/bin/python"))
    ref = run(mxpy, "mxnet", args.store, args.rounds, args.sizes) if os.path.exists(mxpy) else None
    print("KVStore %r, push+pull, this machine" % args.store)
    print("%-24s %12s %12s %10s" % ("", "psnet", "MXNet 1.9.1", "ratio"))
    rows = [("latency (2,3) key [us]", "latency_us", True)]
    for mb in args.sizes:
        rows += [("%d MB %s [GB/s]" % (mb, what), "%s_%d" % (what, mb), False)
                 for what in ("push", "pull", "push2", "round")]
    for label, key, lower_better in rows:
        a = ours[key] if ours else float("nan")
        b = ref[key] if ref else float("nan")
        ratio = a / b if ref and ours else float("nan")
        note = "x MXNet time" if lower_better else "x MXNet bandwidth"
        print("%-24s %12.2f %12.2f %8.2f %s" % (label, a, b, ratio, note))
    for mb in args.sizes:
        print("numpy copy %d MB: %.2f GB/s single-threaded" % (mb, numpy_copy_gbps(mb)))


if __name__ == "__main__":
    main()
