"""The practical ceiling of the parameter-server wire: raw pyzmq request/response, zero-copy.

Each client sends a request carrying one payload of SIZE bytes and receives a reply of the
same size (the shape of a push followed by a pull), over loopback TCP, with copy=False
frames on both sides.  Reported per size and client count: the round time and the
per-client throughput ``SIZE / round time`` (the same "key bytes per round" measure
bench/kv_dist.py uses), plus the sum over clients.

    python bench/zmq_limit.py [--clients 1 2] [--sizes 4K 1M 16M 64M]
"""
import argparse
import multiprocessing as mp
import time

import numpy as np
import zmq

__all__ = ["measure", "rounds_for", "parse_size"]


def parse_size(text):
    """'4K' / '1M' / '64M' / '123' -> bytes."""
    mult = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(text[-1].upper(), 1)
    return int(float(text.rstrip("KMGkmg")) * mult)


def rounds_for(size):
    """Enough rounds for a stable timing, few enough for a quick run."""
    return max(8, min(1000, int(2e8 / size)))


def _server(port_q, clients, size, rounds):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    port_q.put(port)
    reply = np.ones(size, np.uint8)
    for _ in range(clients * (rounds + 2)):
        ident, _ = sock.recv_multipart(copy=False)
        sock.send_multipart([ident, reply], copy=False)
    sock.close(linger=1000)
    ctx.term()


def _client(port, size, rounds, start, result_q):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.connect("tcp://127.0.0.1:%d" % port)
    payload = np.ones(size, np.uint8)
    for _ in range(2):   # warm-up: connection and buffers
        sock.send(payload, copy=False)
        sock.recv(copy=False)
    start.wait()
    t0 = time.perf_counter()
    for _ in range(rounds):
        sock.send(payload, copy=False)
        frame = sock.recv(copy=False)
        np.frombuffer(frame.buffer, np.uint8)   # what a receiver does: view it as an array
    result_q.put(time.perf_counter() - t0)
    sock.close(linger=0)
    ctx.term()


def measure(size, clients=1, rounds=None):
    """``(seconds per round, GB/s per client)`` for ``clients`` concurrent clients."""
    rounds = rounds or rounds_for(size)
    mpc = mp.get_context("fork")
    port_q, result_q, start = mpc.Queue(), mpc.Queue(), mpc.Barrier(clients)
    server = mpc.Process(target=_server, args=(port_q, clients, size, rounds))
    server.start()
    port = port_q.get(timeout=30)
    procs = [mpc.Process(target=_client, args=(port, size, rounds, start, result_q)) for _ in range(clients)]
    for p in procs:
        p.start()
    times = [result_q.get(timeout=300) for _ in procs]
    for p in procs + [server]:
        p.join(timeout=30)
        if p.is_alive():
            p.kill()
    per_round = float(np.mean(times)) / rounds
    return per_round, size / per_round / 1e9


def main():
    """Print the ceiling table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sizes", nargs="+", default=["4K", "1M", "16M", "64M"])
    args = parser.parse_args()
    print("%-6s %8s %12s %14s %12s" % ("size", "clients", "round ms", "GB/s/client", "GB/s total"))
    for text in args.sizes:
        for c in args.clients:
            t, gbs = measure(parse_size(text), c)
            print("%-6s %8d %12.3f %14.2f %12.2f" % (text, c, t * 1e3, gbs, gbs * c))


if __name__ == "__main__":
    main()
