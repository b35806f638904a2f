"""A live dist job for tests: scheduler and servers as real processes on loopback, killed by pid."""
import os
import pathlib
import signal
import subprocess
import sys
import time

from launcher.cluster import free_port
from psnet.kvstore.dist.config import DistConfig

REPO = pathlib.Path(__file__).resolve().parents[3]


class LiveJob:
    """Scheduler + servers started as processes; workers are stores in this process or scripts."""

    def __init__(self, tmp_path, num_servers=1, num_workers=1, env=None, host="127.0.0.1"):
        self.logs = pathlib.Path(tmp_path)
        self.port = free_port(host)
        self.host = host
        self.num_servers, self.num_workers = num_servers, num_workers
        self.env = dict(os.environ, DMLC_PS_ROOT_URI=host, DMLC_PS_ROOT_PORT=str(self.port),
                        DMLC_NUM_SERVER=str(num_servers), DMLC_NUM_WORKER=str(num_workers),
                        PSNET_CONNECT_TIMEOUT="10", PSNET_KVSTORE_TIMEOUT="20", PSNET_ROLE_ON_IMPORT="0",
                        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
        self.env.update(env or {})
        self.procs = {}

    def start(self, name, role, args=(), env=None):
        """Start ``python -m psnet.kvstore.dist.<role>`` as process ``name`` (its own session)."""
        return self._popen(name, ["-m", "psnet.kvstore.dist." + role, *args], dict(env or {}, DMLC_ROLE=role))

    def start_worker(self, name, program, rank, env=None):
        """Run Python source ``program`` as worker ``rank`` (process ``name``)."""
        script = self.logs / ("%s.py" % name.replace(" ", "_"))
        script.write_text(program)
        return self._popen(name, [str(script)], dict(env or {}, DMLC_ROLE="worker", DMLC_RANK=str(rank)))

    def _popen(self, name, args, env):
        full = dict(self.env, **env)
        with open(self._log(name), "ab") as log:   # a file: a chatty process never blocks on a pipe
            self.procs[name] = subprocess.Popen(
                [sys.executable, *args], cwd=str(REPO), env=full,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.procs[name]

    def wait_for(self, name, text, limit):
        """Wait until process ``name`` printed ``text`` (False after ``limit`` seconds or if it exited)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if text in self.output(name):
                return True
            if self.procs[name].poll() is not None:
                return text in self.output(name)
            time.sleep(0.05)
        return False

    def _log(self, name):
        return self.logs / ("%s.log" % name.replace(" ", "_"))

    def start_all(self):
        """The scheduler and every server."""
        self.start("scheduler", "scheduler")
        for i in range(self.num_servers):
            self.start("server %d" % i, "server", env={"DMLC_RANK": str(i)})
        return self

    def config(self, **overrides):
        """A worker :class:`DistConfig` for a store created in this process."""
        cfg = DistConfig(role="worker", root_uri=self.host, root_port=self.port, num_servers=self.num_servers,
                         num_workers=self.num_workers, node_host=self.host, connect_timeout=10, timeout=20)
        for k, v in overrides.items():
            setattr(cfg, k, v)
        return cfg

    def kill(self, name, sig=signal.SIGKILL):
        """Signal process ``name``'s group and reap it."""
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def output(self, name):
        """What process ``name`` has printed so far."""
        return self._log(name).read_text(errors="replace")

    def stop(self):
        """Kill every process still running and reap them all (safe to call twice)."""
        for name, proc in self.procs.items():
            if proc.poll() is None:
                self.kill(name)
            proc.wait(timeout=10)
