"""psnet-launch: run a distributed psnet job (MXNet's tools/launch.py flags).

    psnet-launch -n 2 -s 2 python examples/train_mnist.py --kv-store dist_sync
    psnet-launch -n 4 -H hosts --launcher ssh --sync-dst-dir /tmp/job python train.py
    psnet-launch -n 4 -s 2 --launcher slurm python train.py
    psnet-launch keygen cluster.key      # a CURVE cluster key (docs/cluster.md)

The exit status is the first failing worker's (0 when all succeed; 128 + N after signal
N); no process of the job outlives the launcher.
"""
import argparse
import shutil
import subprocess
import sys

from . import cluster
from .supervisor import Supervisor

__all__ = ["parse_args", "build_specs", "main"]


def parse_args(argv=None):
    """Parse the command line (flags, then the command to run as the workers)."""
    p = argparse.ArgumentParser(prog="psnet-launch", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--num-workers", required=True, type=int, help="number of worker processes")
    p.add_argument("-s", "--num-servers", type=int, help="number of server processes (default: = workers)")
    p.add_argument("-H", "--hostfile", help="hosts, one 'host' or 'host:ssh_port' per line (ssh, mpi)")
    p.add_argument("--launcher", default="local", choices=["local", "ssh", "mpi", "slurm"],
                   help="how to start the processes (default: local)")
    p.add_argument("--sync-dst-dir", help="rsync the working directory to this directory on every host "
                   "(ssh) and run there")
    p.add_argument("--env", action="append", default=[], metavar="NAME:VALUE",
                   help="set an environment variable for every process (repeatable)")
    p.add_argument("--grace", type=float, default=10.0,
                   help="seconds servers and scheduler get to stop after the workers (default 10)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the worker command")
    args = p.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        p.error("give the command the workers run, e.g. python train.py")
    if args.num_workers < 1 or (args.num_servers is not None and args.num_servers < 1):
        p.error("-n and -s must be at least 1")
    if args.launcher == "ssh" and not args.hostfile:
        p.error("--launcher ssh needs -H/--hostfile")
    for item in args.env:
        if ":" not in item:
            p.error("--env takes NAME:VALUE, got %r" % item)
    return args


def build_specs(args, mpi_flavor=None):
    """The job's processes for ``args`` (see :mod:`launcher.cluster`)."""
    job = cluster.Job(num_workers=args.num_workers,
                      num_servers=args.num_servers if args.num_servers is not None else args.num_workers,
                      command=args.command, env=dict(e.split(":", 1) for e in args.env),
                      hosts=cluster.read_hostfile(args.hostfile) if args.hostfile else [],
                      sync_dst_dir=args.sync_dst_dir)
    if args.launcher == "local":
        return job, cluster.local_specs(job)
    if args.launcher == "ssh":
        return job, cluster.ssh_specs(job)
    if args.launcher == "mpi":
        return job, cluster.mpi_specs(job, flavor=mpi_flavor or _mpi_flavor())
    return job, cluster.slurm_specs(job)


def _mpi_flavor():
    """'openmpi' or 'mpich', from ``mpirun --version``."""
    if shutil.which("mpirun") is None:
        raise SystemExit("psnet-launch: --launcher mpi needs mpirun on PATH")
    text = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout
    return "openmpi" if "Open MPI" in text or "OpenRTE" in text else "mpich"


def main(argv=None):
    """Entry point of ``psnet-launch``; returns (and exits with) the job's status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["keygen"]:
        from psnet.kvstore.dist.security import main as keygen
        return keygen(argv)
    args = parse_args(argv)
    job, specs = build_specs(args)
    if args.launcher == "ssh":
        for cmd in cluster.sync_commands(job):
            if subprocess.run(cmd).returncode != 0:
                raise SystemExit("psnet-launch: %s failed" % " ".join(cmd))
    return Supervisor(specs, grace=args.grace).run()


if __name__ == "__main__":
    sys.exit(main())
