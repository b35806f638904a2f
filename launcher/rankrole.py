"""Become a server or a worker from the rank mpirun / srun gave this process.

``python -m launcher.rankrole --num-servers S -- COMMAND...``: ranks ``0..S-1`` become
servers (``python -m psnet.kvstore.dist.server``), the rest run COMMAND as workers with
``DMLC_RANK`` = rank - S.  The rank comes from ``OMPI_COMM_WORLD_RANK``, ``PMI_RANK``,
``PMIX_RANK`` or ``SLURM_PROCID``.
"""
import argparse
import os
import sys

__all__ = ["RANK_VARIABLES", "global_rank", "role_for", "main"]

RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID")


def global_rank(environ):
    """The process's rank from the first rank variable set in ``environ``."""
    for name in RANK_VARIABLES:
        if environ.get(name, "") != "":
            return int(environ[name])
    raise SystemExit("launcher.rankrole: none of %s is set; run it under mpirun or srun"
                     % ", ".join(RANK_VARIABLES))


def role_for(rank, num_servers, command, python=sys.executable):
    """``(role, rank within the role, argv)`` for global ``rank``."""
    if rank < num_servers:
        return "server", rank, [python, "-m", "psnet.kvstore.dist.server"]
    return "worker", rank - num_servers, list(command)


def main(argv=None):
    """Pick the role, set DMLC_ROLE / DMLC_RANK and exec the role's program."""
    parser = argparse.ArgumentParser(prog="python -m launcher.rankrole")
    parser.add_argument("--num-servers", type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    role, rank, prog = role_for(global_rank(os.environ), args.num_servers, command)
    os.environ.update(DMLC_ROLE=role, DMLC_RANK=str(rank))
    os.execvp(prog[0], prog)


if __name__ == "__main__":
    main()
