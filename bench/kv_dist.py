"""Dist KVStore throughput: psnet dist_sync vs MXNet 1.9.1 dist_sync vs raw pyzmq, on loopback.

2 workers, 1 and 2 servers, one float32 key of 4 KB / 1 MB / 16 MB / 64 MB.  A round is
``push`` then ``pull`` of the key by every worker; reported: the round time and the
per-worker throughput ``key bytes / round time`` (the measure bench/zmq_limit.py uses for
its raw request/response ceiling), next to raw pyzmq's request/response ceiling in its
``plain`` (as the dist-KVStore issue defines it) and ``tuned`` (with psnet's own wire
tricks) flavours, and the same sync round written in minimal raw pyzmq (``measure_sync``).  MXNet runs when ``$MXNET_PYTHON`` or
``~/mxref/bin/python`` has mxnet 1.9.1 (its pip build includes the dist kvstore); its
roles start with the same DMLC_* variables, by importing mxnet.

    python bench/kv_dist.py [--servers 1 2] [--sizes 4K 1M 16M 64M] [--repeat 3]
"""
import argparse
import io
import os
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from launcher import cluster  # noqa: E402
from launcher.supervisor import Spec, Supervisor  # noqa: E402
from mxref import mxnet_python  # noqa: E402
from zmq_limit import measure, measure_sync, parse_size, rounds_for  # noqa: E402

WORKER = r"""
import sys, time
impl, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
rounds = [int(r) for r in sys.argv[3].split(",")]
mx = __import__(impl)
kv = mx.kv.create("dist_sync")
for key, (size, n) in enumerate(zip(sizes, rounds)):
    a = mx.nd.ones((size // 4,))
    out = mx.nd.zeros((size // 4,))
    kv.init(key, a)
    for _ in range(3):
        kv.push(key, a); kv.pull(key, out=out); out.wait_to_read()
    kv._barrier()
    t0 = time.perf_counter()
    for _ in range(n):
        kv.push(key, a)
        kv.pull(key, out=out)
        out.wait_to_read()
    dt = (time.perf_counter() - t0) / n
    print("ROUND push+pull %d %.9f" % (size, dt), flush=True)
    kv._barrier()
    t0 = time.perf_counter()
    for _ in range(n):
        kv.pushpull(key, a, out=out)
        out.wait_to_read()
    dt = (time.perf_counter() - t0) / n
    print("ROUND pushpull %d %.9f" % (size, dt), flush=True)
    kv._barrier()
"""


def run_impl(impl, python, servers, sizes, workers=2):
    """``{(mode, size): seconds per round}`` (the slower worker's) for ``impl`` ('psnet' or 'mxnet') with ``servers`` servers."""
    port = cluster.free_port()
    base = dict(os.environ, DMLC_PS_ROOT_URI="127.0.0.1", DMLC_PS_ROOT_PORT=str(port),
                DMLC_NUM_SERVER=str(servers), DMLC_NUM_WORKER=str(workers), DMLC_NODE_HOST="127.0.0.1",
                DMLC_INTERFACE="lo", PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    role_cmd = [python, "-c", "import %s" % impl]
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(WORKER)
    args = [",".join(str(s) for s in sizes), ",".join(str(rounds_for(s)) for s in sizes)]
    specs = [Spec("scheduler", role_cmd, dict(base, DMLC_ROLE="scheduler"), role="scheduler")]
    specs += [Spec("server %d" % i, role_cmd, dict(base, DMLC_ROLE="server", DMLC_RANK=str(i)), role="server")
              for i in range(servers)]
    specs += [Spec("worker %d" % i, [python, f.name, impl] + args,
                   dict(base, DMLC_ROLE="worker", DMLC_RANK=str(i))) for i in range(workers)]
    out = io.BytesIO()
    status = Supervisor(specs, grace=5, out=out).run()
    os.unlink(f.name)
    text = out.getvalue().decode(errors="replace")
    if status != 0:
        raise RuntimeError("%s job failed (%d):\n%s" % (impl, status, text[-3000:]))
    times = {}
    for line in text.splitlines():
        if "] ROUND " in line:
            _, mode, size, dt = line.split("] ", 1)[1].split()
            times.setdefault((mode, int(size)), []).append(float(dt))
    return {s: max(ts) for s, ts in times.items()}


def _keep_best(best, times):
    for k, t in times.items():
        best[k] = min(t, best.get(k, t))


def main():
    """Print one table: round ms and GB/s per worker for psnet, MXNet and raw zmq, with ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sizes", nargs="+", default=["4K", "1M", "16M", "64M"])
    parser.add_argument("--repeat", type=int, default=1,
                        help="alternate psnet and MXNet jobs this many times and keep each one's best")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes]
    mxpy = mxnet_python()
    raw, sync = {}, {}
    for _ in range(args.repeat):
        for s in sizes:
            for kind in ("plain", "tuned"):
                t = measure(s, clients=2, tuned=kind == "tuned")[0]
                raw[(kind, s)] = min(t, raw.get((kind, s), t))
            for mode in ("push+pull", "pushpull"):
                t = measure_sync(s, clients=2, pull=mode == "push+pull")[0]
                sync[(mode, s)] = min(t, sync.get((mode, s), t))
    print("2 workers; GB/s = key bytes / round time, per worker; ratios are other's time / psnet's;")
    print("plain / tuned = raw pyzmq request/response as the issue defines it / with psnet's wire tricks,")
    print("sync = the same sync round in raw pyzmq (bench/zmq_limit.py)")
    print("%-9s %-3s %-4s | %8s %8s %8s %8s %8s | %5s %5s | %8s %8s %8s %8s" % (
        "round", "srv", "size", "psnet ms", "mxnet ms", "plain ms", "tuned ms", "sync ms", "psnet", "mxnet",
        "vs mxnet", "vs plain", "vs tuned", "vs sync"))
    for servers in args.servers:
        ps, mx = {}, {}
        for _ in range(args.repeat):   # alternating evens out a machine whose load changes
            _keep_best(ps, run_impl("psnet", sys.executable, servers, sizes))
            if mxpy:
                _keep_best(mx, run_impl("mxnet", mxpy, servers, sizes))
        for mode in ("push+pull", "pushpull"):
            for text, s in zip(args.sizes, sizes):
                pst, mxt = ps[(mode, s)], mx.get((mode, s))
                plain, tuned, syn = raw[("plain", s)], raw[("tuned", s)], sync[(mode, s)]
                print("%-9s %-3d %-4s | %8.3f %8s %8.3f %8.3f %8.3f | %5.2f %5s | %8s %8.2f %8.2f %8.2f" % (
                    mode, servers, text, pst * 1e3, "%.3f" % (mxt * 1e3) if mxt else "-", plain * 1e3,
                    tuned * 1e3, syn * 1e3, s / pst / 1e9, "%.2f" % (s / mxt / 1e9) if mxt else "-",
                    "%.2f" % (mxt / pst) if mxt else "-", plain / pst, tuned / pst, syn / pst))


if __name__ == "__main__":
    main()
