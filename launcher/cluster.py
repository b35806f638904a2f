"""Turn launcher options into the processes to start for each launcher kind.

* ``local``: scheduler, servers and workers on this machine;
* ``ssh``: scheduler here, servers and workers round-robin over the hostfile's hosts
  through ``ssh`` (after an optional ``rsync`` of the working directory);
* ``mpi`` / ``slurm``: scheduler here, and one ``mpirun`` / ``srun`` that starts
  servers + workers processes; :mod:`launcher.rankrole` gives each its role from its rank.
"""
import dataclasses
import importlib.util
import os
import shlex
import socket
import sys

from .supervisor import Spec

__all__ = ["Job", "free_port", "local_address", "read_hostfile", "local_specs", "ssh_specs",
           "sync_commands", "mpi_specs", "slurm_specs", "SERVER_CMD", "SCHEDULER_CMD"]

SERVER_CMD = ["-m", "psnet.kvstore.dist.server"]
SCHEDULER_CMD = ["-m", "psnet.kvstore.dist.scheduler"]


@dataclasses.dataclass
class Job:
    """What the user asked for: counts, the command, extra environment, where to run."""

    num_workers: int
    num_servers: int
    command: list
    env: dict = dataclasses.field(default_factory=dict)
    hosts: list = dataclasses.field(default_factory=list)   # [(host, ssh port)]
    sync_dst_dir: str = None
    python: str = sys.executable

    def dmlc_env(self, root_uri, root_port):
        """The DMLC_* variables every process of the job gets (plus the user's --env)."""
        env = dict(self.env)
        env.update(DMLC_PS_ROOT_URI=root_uri, DMLC_PS_ROOT_PORT=str(root_port),
                   DMLC_NUM_SERVER=str(self.num_servers), DMLC_NUM_WORKER=str(self.num_workers))
        return env


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def local_address(peer):
    """This machine's address as seen on the route to ``peer``."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:  # connect() on UDP sends nothing; it only picks the interface
        probe.connect((peer, 9))
        return probe.getsockname()[0]
    except OSError:
        return socket.gethostbyname(socket.gethostname())
    finally:
        probe.close()


def read_hostfile(path):
    """Hosts from an MXNet hostfile: one ``host`` or ``host:ssh_port`` per line, # comments."""
    hosts = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                host, _, port = line.partition(":")
                hosts.append((host, int(port) if port else 22))
    if not hosts:
        raise SystemExit("psnet-launch: hostfile %s lists no hosts" % path)
    return hosts


def _child_env(extra):
    """The launcher's environment plus ``extra``, with psnet importable and output unbuffered."""
    env = dict(os.environ)
    env.update(extra)
    spec = importlib.util.find_spec("psnet")
    if spec is not None and spec.origin:
        root = os.path.dirname(os.path.dirname(spec.origin))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _scheduler(job, root_uri, port):
    env = _child_env(dict(job.dmlc_env(root_uri, port), DMLC_ROLE="scheduler"))
    return Spec("scheduler", [job.python] + SCHEDULER_CMD, env, role="scheduler")


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _share_cores(env, processes):
    """Give each of ``processes`` BLAS/OpenMP processes its share of the cores, unless the user chose.

    Several multi-threaded BLAS libraries on one machine oversubscribe the cores and spin
    against each other (training ran 16x slower on 2 cores with 2 workers).
    """
    share = str(max(1, (os.cpu_count() or 1) // processes))
    for name in THREAD_VARIABLES:
        if name not in env and name not in os.environ:
            env[name] = share
    return env


def local_specs(job):
    """Scheduler, servers and workers on this machine (loopback, a free port)."""
    port = free_port()
    specs = [_scheduler(job, "127.0.0.1", port)]
    base = _share_cores(job.dmlc_env("127.0.0.1", port), job.num_workers)
    for i in range(job.num_servers):
        env = _child_env(dict(base, DMLC_ROLE="server", DMLC_RANK=str(i)))
        specs.append(Spec("server %d" % i, [job.python] + SERVER_CMD, env, role="server"))
    for i in range(job.num_workers):
        env = _child_env(dict(base, DMLC_ROLE="worker", DMLC_RANK=str(i)))
        specs.append(Spec("worker %d" % i, list(job.command), env, role="worker"))
    return specs


def _remote(host, port, workdir, env, argv):
    """``ssh`` argv running ``argv`` in ``workdir`` on ``host`` with ``env`` exported."""
    exports = " ".join("export %s=%s;" % (k, shlex.quote(v)) for k, v in sorted(env.items()))
    script = "cd %s && %s %s" % (shlex.quote(workdir), exports, " ".join(map(shlex.quote, argv)))
    return ["ssh", "-o", "StrictHostKeyChecking=no", "-o", "BatchMode=yes", "-p", str(port), host, script]


def ssh_specs(job, root_uri=None):
    """Scheduler here; servers then workers over the hosts round-robin, through ssh."""
    root_uri = root_uri or local_address(job.hosts[0][0])
    port = free_port("0.0.0.0")
    workdir = job.sync_dst_dir or os.getcwd()
    specs = [_scheduler(job, root_uri, port)]
    base = job.dmlc_env(root_uri, port)
    n = 0
    for role, count in (("server", job.num_servers), ("worker", job.num_workers)):
        for i in range(count):
            host, ssh_port = job.hosts[n % len(job.hosts)]
            n += 1
            argv = ["python3"] + SERVER_CMD if role == "server" else list(job.command)
            env = dict(base, DMLC_ROLE=role, DMLC_RANK=str(i), PYTHONUNBUFFERED="1")
            specs.append(Spec("%s %d" % (role, i), _remote(host, ssh_port, workdir, env, argv),
                              _child_env({}), role=role))
    return specs


def sync_commands(job):
    """``rsync`` commands copying the working directory to ``--sync-dst-dir`` on every host."""
    if not job.sync_dst_dir:
        return []
    src = os.getcwd().rstrip("/") + "/"
    return [["rsync", "-az", "--exclude", ".git", "-e", "ssh -o StrictHostKeyChecking=no -p %d" % port,
             src, "%s:%s/" % (host, job.sync_dst_dir.rstrip("/"))]
            for host, port in dict.fromkeys(job.hosts)]


def _rankrole_argv(job):
    return [job.python, "-m", "launcher.rankrole", "--num-servers", str(job.num_servers), "--"] + list(job.command)


def mpi_specs(job, flavor="openmpi", root_uri=None):
    """Scheduler here and one ``mpirun`` of servers + workers (roles from the MPI rank)."""
    root_uri = root_uri or (local_address(job.hosts[0][0]) if job.hosts else "127.0.0.1")
    port = free_port("0.0.0.0")
    env = job.dmlc_env(root_uri, port)
    argv = ["mpirun", "-np", str(job.num_servers + job.num_workers)]
    if job.hosts:
        argv += ["--host" if flavor == "openmpi" else "-hosts", ",".join(h for h, _ in job.hosts)]
    for k, v in sorted(env.items()):
        argv += ["-x", "%s=%s" % (k, v)] if flavor == "openmpi" else ["-genv", k, v]
    return [_scheduler(job, root_uri, port), Spec("mpirun", argv + _rankrole_argv(job), _child_env(env))]


def slurm_specs(job, root_uri=None):
    """Scheduler here and one ``srun`` of servers + workers (roles from SLURM_PROCID)."""
    root_uri = root_uri or local_address("8.8.8.8")
    port = free_port("0.0.0.0")
    env = job.dmlc_env(root_uri, port)
    argv = ["srun", "--label", "--ntasks=%d" % (job.num_servers + job.num_workers),
            "--export=ALL," + ",".join("%s=%s" % kv for kv in sorted(env.items()))]
    return [_scheduler(job, root_uri, port), Spec("srun", argv + _rankrole_argv(job), _child_env(env))]
