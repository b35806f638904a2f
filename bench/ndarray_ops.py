"""NDArray operator speed: psnet vs NumPy (same process) and vs MXNet 1.9.1 (subprocess).

One table, time per call (best of several rounds):

* per-op latency on small arrays: ``a + b`` on 2x3, ``dot`` of 64x64 matrices, the full
  ``sum`` of a 64x64 array (microseconds);
* throughput on large arrays: ``a + b`` on 1e7 float32 elements, ``dot`` of 1024x1024
  float32 matrices (milliseconds).

psnet and NumPy are timed in this process, interleaved round by round, so their ratio is
measured under the same load.  MXNet runs in its own interpreter (``$MXNET_PYTHON`` or
``~/mxref/bin/python``; skipped when absent) and waits for each result
(``wait_to_read``), since its engine is asynchronous: that is its real per-op cost.
Targets: psnet/NumPy <= 3 on small arrays, <= 1.05 on large ones.

    python bench/ndarray_ops.py [--rounds 25] [--quick]
"""
import argparse
import json
import pathlib
import subprocess
import sys
import timeit

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from mxref import mxnet_python  # noqa: E402

# name, kind, setup (uses `mx` and `np`), statement per implementation, calls per round
CASES = [
    ("add 2x3", "small", "a = mx.nd.ones((2, 3)); b = mx.nd.ones((2, 3))",
     {"numpy": "a + b", "psnet": "a + b", "mxnet": "(a + b).wait_to_read()"}, 5000),
    ("dot 64x64", "small", "a = mx.nd.ones((64, 64)); b = mx.nd.ones((64, 64))",
     {"numpy": "np.dot(a, b)", "psnet": "mx.nd.dot(a, b)", "mxnet": "mx.nd.dot(a, b).wait_to_read()"}, 2000),
    ("sum 64x64", "small", "a = mx.nd.ones((64, 64))",
     {"numpy": "a.sum()", "psnet": "a.sum()", "mxnet": "a.sum().wait_to_read()"}, 5000),
    ("add 1e7", "large", "a = mx.nd.ones((10000000,)); b = mx.nd.ones((10000000,))",
     {"numpy": "a + b", "psnet": "a + b", "mxnet": "(a + b).wait_to_read()"}, 5),
    ("dot 1024x1024", "large", "a = mx.nd.ones((1024, 1024)); b = mx.nd.ones((1024, 1024))",
     {"numpy": "np.dot(a, b)", "psnet": "mx.nd.dot(a, b)", "mxnet": "mx.nd.dot(a, b).wait_to_read()"}, 3),
]

MXNET_WORKER = r"""
import json, sys, timeit
import numpy as np
import mxnet as mx
cases, rounds, scale = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
out = {}
for name, setup, stmt, number in cases:
    env = {"mx": mx, "np": np}
    exec(setup, env)
    number = max(1, int(number * scale))
    timeit.timeit(stmt, globals=env, number=number)  # warm up
    out[name] = min(timeit.repeat(stmt, globals=env, number=number, repeat=rounds)) / number
mx.nd.waitall()
print("RESULT" + json.dumps(out))
"""


class _NumpyNamespace:
    """A stand-in for ``mx`` whose ``nd.ones`` makes NumPy arrays, so one setup line serves both."""

    class nd:  # noqa: N801  (mirrors mx.nd)
        """``mx.nd`` for NumPy: only what the setups use."""

        @staticmethod
        def ones(shape):
            """float32 ones, like ``mx.nd.ones``."""
            import numpy as np
            return np.ones(shape, dtype=np.float32)


def _time_here(rounds, scale):
    """psnet and NumPy timings (seconds per call), interleaved round by round."""
    import numpy as np
    import psnet as mx
    res = {}
    for name, _, setup, stmts, number in CASES:
        number = max(1, int(number * scale))
        envs = {"psnet": {"mx": mx, "np": np}, "numpy": {"mx": _NumpyNamespace, "np": np}}
        for env in envs.values():
            exec(setup, env)
        best = {k: float("inf") for k in envs}
        for impl, env in envs.items():
            timeit.timeit(stmts[impl], globals=env, number=number)  # warm up
        for _ in range(rounds):
            for impl, env in envs.items():
                t = timeit.timeit(stmts[impl], globals=env, number=number) / number
                best[impl] = min(best[impl], t)
        res[name] = best
    return res


def _time_mxnet(python, rounds, scale):
    """MXNet 1.9.1 timings (seconds per call) from a subprocess, or None without MXNet."""
    if python is None:
        return None
    cases = [(name, setup, stmts["mxnet"], number) for name, _, setup, stmts, number in CASES]
    p = subprocess.run([python, "-c", MXNET_WORKER, json.dumps(cases), str(rounds), str(scale)],
                       capture_output=True, text=True, timeout=1200)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    print("MXNet run failed:\n" + p.stderr[-2000:], file=sys.stderr)
    return None


def _fmt(seconds, kind):
    return "%9.2f us" % (seconds * 1e6) if kind == "small" else "%9.2f ms" % (seconds * 1e3)


def main():
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=25,
                    help="timing rounds per case; the best is kept, so many short rounds resist machine load")
    ap.add_argument("--quick", action="store_true", help="fewer calls per round (a smoke run)")
    args = ap.parse_args()
    scale = 0.1 if args.quick else 1.0
    here = _time_here(args.rounds, scale)
    mxnet = _time_mxnet(mxnet_python(), args.rounds, scale)
    head = "%-14s %12s %12s %9s %12s %10s  %s" % ("case", "NumPy", "psnet", "ps/np", "MXNet 1.9.1", "ps/mxnet",
                                                "target ps/np")
    print(head)
    print("-" * len(head))
    for name, kind, _, _, _ in CASES:
        t_np, t_ps = here[name]["numpy"], here[name]["psnet"]
        t_mx = mxnet.get(name) if mxnet else None
        print("%-14s %12s %12s %9.2f %12s %10s  %s" % (
            name, _fmt(t_np, kind), _fmt(t_ps, kind), t_ps / t_np,
            _fmt(t_mx, kind) if t_mx else "n/a", "%.3f" % (t_ps / t_mx) if t_mx else "n/a",
            "<= 3" if kind == "small" else "<= 1.05"))
    if mxnet is None:
        print("(MXNet 1.9.1 not found: set $MXNET_PYTHON or create ~/mxref to add its column)")


if __name__ == "__main__":
    main()
