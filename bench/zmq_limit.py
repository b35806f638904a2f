"""The practical ceiling of the parameter-server wire: raw pyzmq request/response, zero-copy.

Each client sends a request carrying one payload of SIZE bytes and receives a reply of the
same size (the shape of a push followed by a pull), over loopback TCP, zero-copy on both
sides.  Reported per size and client count: the round time and the per-client throughput
``SIZE / round time`` (the same "key bytes per round" measure bench/kv_dist.py uses), plus
the sum over clients.

Two flavours of the same raw code:

* ``plain``: the ceiling as the dist-KVStore issue defines and measured it: ``copy=False``
  sends of the NumPy payload (a fresh zero-copy frame per send) and a default context
  (one I/O thread).
* ``tuned``: with psnet's own wire tricks.  Each side wraps its payload in a
  ``zmq.Frame`` once and sends that frame every round (a fresh zero-copy frame costs a
  wake-up of pyzmq's garbage-collector thread when ZeroMQ releases it), the server's
  context has psnet's servers' I/O threads, ``min(clients, cores, 4)``, and the server
  process reuses freed message buffers as psnet's servers do
  (:func:`psnet.kvstore.dist.memory.keep_freed_memory`).

A second ceiling, ``measure_sync``, is the same traffic shaped as a synchronous
parameter-server round in minimal raw pyzmq (tuned): every client pushes a float32 payload
(its prebuilt frame), the server sums the pushes of all clients into the first one's
received frame and only then answers each of them from that frame, and each client copies
the answer into its own output array.  ``pull=True`` sends the push and a separate pull
request (the ``push`` then ``pull`` calls of a KVStore), otherwise one message carries both
(``pushpull``).  It is what a dist_sync store costs with no Python of its own: the
request/response ceiling lets every client run free, a sync round makes each wait for the
slowest push and the sum.

    python bench/zmq_limit.py [--clients 1 2] [--sizes 4K 1M 16M 64M]
"""
import argparse
import multiprocessing as mp
import os
import pathlib
import sys
import time

import numpy as np
import zmq

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from psnet.kvstore.dist.memory import keep_freed_memory  # noqa: E402

__all__ = ["measure", "measure_sync", "rounds_for", "parse_size"]


def parse_size(text):
    """'4K' / '1M' / '64M' / '123' -> bytes."""
    mult = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(text[-1].upper(), 1)
    return int(float(text.rstrip("KMGkmg")) * mult)


def rounds_for(size):
    """Enough rounds for a stable timing, few enough for a quick run."""
    return max(8, min(2000, int(1e9 / size)))


def io_threads(clients):
    """The I/O threads of a tuned raw server's context: psnet's servers' default rule."""
    return max(1, min(clients, os.cpu_count() or 1, 4))


def _payload(size, dtype, tuned):
    """What a side sends every round: a prebuilt frame (tuned) or the array itself (plain)."""
    data = np.ones(size // np.dtype(dtype).itemsize, dtype)
    return zmq.Frame(data, copy=False) if tuned else data


def _server(port_q, clients, size, rounds, tuned):
    if tuned:
        keep_freed_memory()
    ctx = zmq.Context(io_threads=io_threads(clients) if tuned else 1)
    sock = ctx.socket(zmq.ROUTER)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    port_q.put(port)
    reply = _payload(size, np.uint8, tuned)
    for _ in range(clients * (rounds + 2)):
        ident, _ = sock.recv_multipart(copy=False)
        sock.send_multipart([ident, reply], copy=False)
    sock.close(linger=1000)
    ctx.term()


def _timed_client(port, one_round, rounds, start, result_q):
    """Connect a DEALER to ``port``, warm up, then report the seconds ``rounds`` calls of
    ``one_round(sock)`` take (started together with the other clients)."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.connect("tcp://127.0.0.1:%d" % port)
    for _ in range(2):   # warm-up: connection and buffers
        one_round(sock)
    start.wait()
    t0 = time.perf_counter()
    for _ in range(rounds):
        one_round(sock)
    result_q.put(time.perf_counter() - t0)
    sock.close(linger=0)
    ctx.term()


def _client(port, size, rounds, tuned, start, result_q):
    payload = _payload(size, np.uint8, tuned)

    def one_round(sock):
        sock.send(payload, copy=False)
        frame = sock.recv(copy=False)
        np.frombuffer(frame.buffer, np.uint8)   # what a receiver does: view it as an array
    _timed_client(port, one_round, rounds, start, result_q)


def _sync_server(port_q, clients, rounds):
    keep_freed_memory()
    ctx = zmq.Context(io_threads=io_threads(clients))
    sock = ctx.socket(zmq.ROUTER)
    port_q.put(sock.bind_to_random_port("tcp://127.0.0.1"))
    for _ in range(rounds + 2):
        answer, total, waiting = None, None, []
        while len(waiting) < clients:
            frames = sock.recv_multipart(copy=False)
            if len(frames) == 3:   # a push: [ident, header, payload]
                arr = np.frombuffer(frames[2].buffer, np.float32)
                if total is None:  # a received frame is writable: sum into it, answer from it
                    answer, total = frames[2], arr
                else:
                    total += arr
            if len(frames) == 2 or frames[1].bytes == b"pushpull":
                waiting.append(frames[0].bytes)
        for ident in waiting:
            sock.send_multipart([ident, b"ok", answer], copy=False)
    sock.close(linger=1000)
    ctx.term()


def _sync_client(port, size, rounds, pull, start, result_q):
    payload = _payload(size, np.float32, True)
    out = np.empty(size // 4, np.float32)

    def one_round(sock):
        if pull:
            sock.send_multipart([b"push", payload], copy=False)
            sock.send(b"pull")
        else:
            sock.send_multipart([b"pushpull", payload], copy=False)
        frames = sock.recv_multipart(copy=False)
        out[:] = np.frombuffer(frames[1].buffer, np.float32)
    _timed_client(port, one_round, rounds, start, result_q)


def _run(server, server_args, client, client_args, clients):
    """Seconds per round (mean over clients) of one server and ``clients`` client processes."""
    mpc = mp.get_context("fork")
    port_q, result_q, start = mpc.Queue(), mpc.Queue(), mpc.Barrier(clients)
    proc = mpc.Process(target=server, args=(port_q,) + server_args)
    proc.start()
    port = port_q.get(timeout=30)
    procs = [mpc.Process(target=client, args=(port,) + client_args + (start, result_q)) for _ in range(clients)]
    for p in procs:
        p.start()
    times = [result_q.get(timeout=300) for _ in procs]
    for p in procs + [proc]:
        p.join(timeout=30)
        if p.is_alive():
            p.kill()
    return float(np.mean(times))


def measure_sync(size, clients=2, rounds=None, pull=False):
    """``(seconds per round, GB/s per client)`` of the raw sync round (see the module docstring)."""
    rounds = rounds or rounds_for(size)
    per_round = _run(_sync_server, (clients, rounds), _sync_client, (size, rounds, pull), clients) / rounds
    return per_round, size / per_round / 1e9


def measure(size, clients=1, rounds=None, tuned=True):
    """``(seconds per round, GB/s per client)`` for ``clients`` concurrent clients (``tuned``: see the module docstring)."""
    rounds = rounds or rounds_for(size)
    per_round = _run(_server, (clients, size, rounds, tuned), _client, (size, rounds, tuned), clients) / rounds
    return per_round, size / per_round / 1e9


def main():
    """Print the ceiling tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sizes", nargs="+", default=["4K", "1M", "16M", "64M"])
    args = parser.parse_args()
    print("request/response")
    print("%-6s %8s %-6s %12s %14s %12s" % ("size", "clients", "kind", "round ms", "GB/s/client", "GB/s total"))
    for text in args.sizes:
        for c in args.clients:
            for tuned in (False, True):
                t, gbs = measure(parse_size(text), c, tuned=tuned)
                print("%-6s %8d %-6s %12.3f %14.2f %12.2f" % (text, c, "tuned" if tuned else "plain",
                                                               t * 1e3, gbs, gbs * c))
    print("sync round (sum of every client's push, answered to all)")
    print("%-6s %8s %16s %16s" % ("size", "clients", "pushpull ms", "push+pull ms"))
    for text in args.sizes:
        for c in args.clients:
            one = measure_sync(parse_size(text), c)[0]
            two = measure_sync(parse_size(text), c, pull=True)[0]
            print("%-6s %8d %16.3f %16.3f" % (text, c, one * 1e3, two * 1e3))


if __name__ == "__main__":
    main()
