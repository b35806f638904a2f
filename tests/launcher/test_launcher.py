"""psnet-launch: flags, command construction for every launcher, exit status and cleanup."""
import os
import signal
import sys
import time

import pytest

from launcher import cluster, rankrole
from launcher.launch import build_specs, parse_args
from tests.launcher.jobs import finish, run_job, start_job, worker_lines


def test_flags_follow_mxnet_launch_py():
    args = parse_args(["-n", "3", "--env", "OMP_NUM_THREADS:2", "--env", "A:b:c", "python", "t.py", "--lr", "1"])
    assert (args.num_workers, args.num_servers, args.launcher) == (3, None, "local")
    assert args.command == ["python", "t.py", "--lr", "1"]
    job, specs = build_specs(args)
    assert job.num_servers == 3 and job.env == {"OMP_NUM_THREADS": "2", "A": "b:c"}
    assert [s.label for s in specs] == ["scheduler", "server 0", "server 1", "server 2",
                                        "worker 0", "worker 1", "worker 2"]
    w1 = specs[-2].env
    assert (w1["DMLC_ROLE"], w1["DMLC_RANK"], w1["DMLC_NUM_WORKER"], w1["DMLC_NUM_SERVER"]) == ("worker", "1", "3", "3")
    assert w1["DMLC_PS_ROOT_URI"] == "127.0.0.1" and w1["OMP_NUM_THREADS"] == "2"
    assert specs[1].argv[1:] == ["-m", "psnet.kvstore.dist.server"] and specs[1].env["DMLC_ROLE"] == "server"
    assert specs[0].argv[1:] == ["-m", "psnet.kvstore.dist.scheduler"]
    with pytest.raises(SystemExit):
        parse_args(["-n", "2", "--launcher", "ssh", "python", "t.py"])    # ssh needs a hostfile
    with pytest.raises(SystemExit):
        parse_args(["-n", "2", "--env", "NOVALUE", "python", "t.py"])


@pytest.fixture
def hostfile(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("# cluster\nnode1\nnode2:2222\n\n")
    return str(path)


def test_ssh_commands(hostfile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = parse_args(["-n", "2", "-s", "1", "-H", hostfile, "--launcher", "ssh", "--sync-dst-dir", "/tmp/job",
                       "--env", "X:1 2", "python3", "train.py"])
    job, specs = build_specs(args)
    assert job.hosts == [("node1", 22), ("node2", 2222)]
    sched, server, w0, w1 = specs
    assert sched.env["DMLC_ROLE"] == "scheduler" and sched.argv[0] == sys.executable
    assert server.argv[:8] == ["ssh", "-o", "StrictHostKeyChecking=no", "-o", "BatchMode=yes", "-p", "22", "node1"]
    assert w0.argv[6:8] == ["2222", "node2"] and w1.argv[6:8] == ["22", "node1"]
    script = w0.argv[-1]
    assert script.startswith("cd /tmp/job && ") and script.endswith("python3 train.py")
    for part in ("export DMLC_ROLE=worker;", "export DMLC_RANK=0;", "export DMLC_NUM_WORKER=2;",
                 "export DMLC_PS_ROOT_PORT=%s;" % sched.env["DMLC_PS_ROOT_PORT"], "export X='1 2';"):
        assert part in script
    assert "python3 -m psnet.kvstore.dist.server" in server.argv[-1]
    syncs = cluster.sync_commands(job)
    assert [c[-1] for c in syncs] == ["node1:/tmp/job/", "node2:/tmp/job/"]
    assert syncs[1][:6] == ["rsync", "-az", "--exclude", ".git", "-e", "ssh -o StrictHostKeyChecking=no -p 2222"]


@pytest.mark.parametrize("flavor", ["openmpi", "mpich"])
def test_mpi_command(hostfile, flavor):
    args = parse_args(["-n", "3", "-s", "2", "-H", hostfile, "--launcher", "mpi", "python", "t.py"])
    job, (sched, mpirun) = build_specs(args, mpi_flavor=flavor)
    argv = mpirun.argv
    assert argv[:3] == ["mpirun", "-np", "5"]
    if flavor == "openmpi":
        assert argv[3:5] == ["--host", "node1,node2"] and "-x" in argv and "DMLC_NUM_WORKER=3" in argv
    else:
        assert argv[3:5] == ["-hosts", "node1,node2"]
        i = argv.index("DMLC_NUM_SERVER")
        assert argv[i - 1:i + 2] == ["-genv", "DMLC_NUM_SERVER", "2"]
    tail = argv[argv.index("launcher.rankrole") - 2:]
    assert tail == [sys.executable, "-m", "launcher.rankrole", "--num-servers", "2", "--", "python", "t.py"]
    assert sched.env["DMLC_PS_ROOT_PORT"] == mpirun.env["DMLC_PS_ROOT_PORT"]


def test_slurm_command():
    args = parse_args(["-n", "4", "-s", "2", "--launcher", "slurm", "python", "t.py"])
    _, (sched, srun) = build_specs(args)
    assert srun.argv[:3] == ["srun", "--label", "--ntasks=6"]
    export = srun.argv[3]
    assert export.startswith("--export=ALL,") and "DMLC_NUM_WORKER=4" in export and "DMLC_NUM_SERVER=2" in export
    assert srun.argv[-2:] == ["python", "t.py"] and sched.label == "scheduler"


@pytest.mark.parametrize("env, expect", [
    ({"OMPI_COMM_WORLD_RANK": "0"}, ("server", 0)),
    ({"OMPI_COMM_WORLD_RANK": "1"}, ("server", 1)),
    ({"PMI_RANK": "2"}, ("worker", 0)),
    ({"SLURM_PROCID": "4"}, ("worker", 2)),
])
def test_roles_from_rank_variables(env, expect):
    role, rank, argv = rankrole.role_for(rankrole.global_rank(env), 2, ["python", "t.py"], python="py")
    assert (role, rank) == expect
    assert argv == (["py", "-m", "psnet.kvstore.dist.server"] if role == "server" else ["python", "t.py"])
    with pytest.raises(SystemExit, match="OMPI_COMM_WORLD_RANK"):
        rankrole.global_rank({})


FAILING = """
import sys, psnet as mx
kv = mx.kv.create('dist_sync')
print("hello from", kv.rank, flush=True)
kv.barrier()
sys.exit(3 if kv.rank == 1 else 0)
"""


def test_exit_status_is_the_failing_workers_and_output_is_prefixed(tmp_path):
    rc, out = run_job(tmp_path, FAILING, 2, 1)
    assert rc == 3, out
    assert worker_lines(out, "hello") == {0: "from 0", 1: "from 1"}
    assert "[psnet-launch] worker 1 failed with exit status 3" in out


def test_success_is_zero(tmp_path):
    rc, out = run_job(tmp_path, FAILING.replace("3 if", "0 if"), 2, 2)
    assert rc == 0, out


DROPS_ITS_STORE = """
import psnet as mx
def main():
    kv = mx.kv.create("dist_sync")
    kv.init(3, mx.nd.ones((2,)))
    kv.push(3, mx.nd.ones((2,)))
    out = mx.nd.zeros((2,))
    kv.pull(3, out=out)
    print("pulled", out.asnumpy().tolist(), flush=True)
main()          # the store's last reference dies here, before the interpreter exits
"""


def test_a_worker_that_drops_its_store_still_finishes_cleanly(tmp_path):
    rc, out = run_job(tmp_path, DROPS_ITS_STORE, 2, 1, env={"PS_VERBOSE": "1"})
    assert rc == 0, out
    assert worker_lines(out, "pulled") == {0: "[2.0, 2.0]", 1: "[2.0, 2.0]"}
    assert "all 2 workers finished; servers told to stop" in out, out


HANGING = """
import os, time, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print("PIDS", os.getpid(), child.pid, flush=True)
time.sleep(120)
"""


def _children(pid):
    """Direct children of ``pid`` (from /proc)."""
    kids = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            kids += [int(p) for p in f.read().split()]
    return kids


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_everything_and_no_process_survives(tmp_path, sig):
    proc = start_job(tmp_path, HANGING, 2, 1)
    try:
        deadline = time.monotonic() + 20
        lines = b""
        while lines.count(b"PIDS") < 2 and time.monotonic() < deadline:
            lines += proc.stdout.readline()
        assert lines.count(b"PIDS") == 2, lines
        pids = [int(p) for line in lines.decode().splitlines() if "PIDS" in line for p in line.split()[-2:]]
        pids += _children(proc.pid)       # scheduler, server, workers
        assert len(pids) == 8, pids
        proc.send_signal(sig)
        rc, _ = finish(proc, 20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 128 + sig
    time.sleep(0.2)
    survivors = [p for p in pids if _alive(p)]
    assert not survivors, survivors
