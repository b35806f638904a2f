"""Soak a dist_sync job on loopback: workers x keys x rounds, and not one update lost or doubled.

    python bench/soak.py --workers 4 --servers 2 --keys 64 --rounds 2000

starts the job through ``psnet-launch`` (local launcher).  Every round each worker pushes
every key a value that encodes (worker, key, round) and pulls the result; the pulled sum
must equal the exact expected sum, every round, and the worker's running total over all
rounds must equal the closed-form total at the end.  Values are small integers in
float64, so every sum is exact and any lost or doubled push shows.  Prints one summary line
per worker and the launcher's exit status.
"""
import argparse
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(args):
    """One worker's soak loop (run under psnet-launch)."""
    import numpy as np
    import psnet as mx
    kv = mx.kv.create("dist_sync")
    r, w = kv.rank, kv.num_workers
    keys = list(range(args.keys))
    size = [args.size * (1 + k % 4) for k in keys]      # a few sizes; some keys sliced (bound below)
    kv.init(keys, [mx.nd.zeros((n,), dtype="float64") for n in size])
    outs = [mx.nd.zeros((n,), dtype="float64") for n in size]
    base = [np.arange(n, dtype=np.float64) % 7 for n in size]
    total = [np.zeros(n) for n in size]
    bad, start = 0, time.perf_counter()
    for t in range(args.rounds):
        kv.push(keys, [mx.nd.array(base[k] + (r + 1) * (k + 1) + t, dtype="float64") for k in keys])
        kv.pull(keys, out=outs)
        for k in keys:
            got = outs[k].asnumpy()
            want = w * (base[k] + t) + (k + 1) * w * (w + 1) / 2
            bad += int(not np.array_equal(got, want))
            total[k] += got
    elapsed = time.perf_counter() - start
    rounds = args.rounds
    exact = all(np.array_equal(total[k], w * (rounds * base[k] + rounds * (rounds - 1) / 2)
                               + rounds * (k + 1) * w * (w + 1) / 2) for k in keys)
    print("SOAK rank %d: %d workers x %d keys x %d rounds in %.1f s (%.0f rounds/s), %d wrong rounds, "
          "final sums %s" % (r, w, len(keys), rounds, elapsed, rounds / elapsed, bad,
                             "exact" if exact else "WRONG"), flush=True)
    kv.close()
    return 0 if bad == 0 and exact else 1


def main(argv=None):
    """Parse options; run the job (or, with --worker, be one of its workers)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--servers", type=int, default=2)
    p.add_argument("--keys", type=int, default=64)
    p.add_argument("--rounds", type=int, default=2000)
    p.add_argument("--size", type=int, default=256, help="elements of the smallest key")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    env = dict(os.environ, MXNET_KVSTORE_BIGARRAY_BOUND=str(args.size * 3),
               PYTHONPATH=os.pathsep.join(x for x in (REPO, os.environ.get("PYTHONPATH")) if x))
    cmd = [sys.executable, "-m", "launcher.launch", "-n", str(args.workers), "-s", str(args.servers),
           sys.executable, os.path.abspath(__file__), "--worker", "--keys", str(args.keys),
           "--rounds", str(args.rounds), "--size", str(args.size)]
    start = time.perf_counter()
    code = subprocess.call(cmd, cwd=REPO, env=env)
    print("soak: exit status %d after %.1f s" % (code, time.perf_counter() - start))
    return code


if __name__ == "__main__":
    sys.exit(main())
