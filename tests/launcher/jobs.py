"""Run a real dist job on loopback through psnet-launch, with a bound on every wait."""
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

REPO = pathlib.Path(__file__).resolve().parents[2]


def start_job(tmp_path, program, workers=2, servers=1, env=None, launcher_args=()):
    """Start ``psnet-launch -n workers -s servers python <program>``; returns the Popen.

    ``program`` is Python source run by every worker.  The launcher runs in its own
    session with stdout captured (stderr merged).
    """
    script = pathlib.Path(tmp_path) / "worker_prog.py"
    script.write_text(textwrap.dedent(program))
    full_env = dict(os.environ, PSNET_KVSTORE_TIMEOUT="20", PSNET_CONNECT_TIMEOUT="10",
                    PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    full_env.update(env or {})
    argv = [sys.executable, "-m", "launcher.launch", "-n", str(workers), "-s", str(servers),
            "--grace", "5", *launcher_args, sys.executable, str(script)]
    return subprocess.Popen(argv, cwd=str(REPO), env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def finish(proc, timeout):
    """Wait for the launcher; on timeout stop it (it stops its children) and fail loudly."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except BaseException as e:   # a timeout here or an interrupt of the test: stop the job
        if not isinstance(e, subprocess.TimeoutExpired):
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
            raise
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        raise AssertionError("job did not finish within %s s; output:\n%s" % (timeout, out.decode(errors="replace")))
    return proc.returncode, out.decode(errors="replace")


def run_job(tmp_path, program, workers=2, servers=1, env=None, timeout=60, launcher_args=()):
    """Run a job to the end: ``(exit status, combined output)``."""
    return finish(start_job(tmp_path, program, workers, servers, env, launcher_args), timeout)


def worker_lines(out, tag):
    """``{worker rank: text after tag}`` from lines ``[worker i] TAG text``."""
    found = {}
    for line in out.splitlines():
        if line.startswith("[worker ") and (" %s " % tag) in line:
            label, _, rest = line.partition("] ")
            found[int(label[len("[worker "):])] = rest.split(tag, 1)[1].strip()
    return found
