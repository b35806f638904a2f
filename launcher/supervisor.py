"""Run a job's processes: prefixed output, forwarded signals, the workers' exit status, no leftovers.

Every child runs in its own session (process group), so the whole tree under it can be
stopped with one ``killpg``; a terminal's Ctrl-C reaches only the supervisor, which
forwards it.  The job ends when every worker has exited (the servers and the scheduler
then get a grace period to stop by themselves), when a worker fails (the others are
stopped and its status is returned), or when any other process dies first.
"""
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time

__all__ = ["Spec", "Supervisor"]


@dataclasses.dataclass
class Spec:
    """One process to start: a label for its output (``'worker 1'``), argv, env, role."""

    label: str
    argv: list
    env: dict
    role: str = "worker"


class Supervisor:
    """Starts :class:`Spec` processes and watches them (see the module docstring)."""

    def __init__(self, specs, grace=10.0, out=None):
        self.specs = specs
        self.grace = grace
        self.out = out or sys.stdout.buffer
        self.procs = []
        self.lock = threading.Lock()
        self.readers = []
        self.signalled = None

    def run(self):
        """Start everything, wait for the job to end, stop what is left; returns the exit status."""
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            for spec in self.specs:
                self._start(spec)
            return self._watch()
        finally:
            self.stop_all()
            for s, handler in old.items():
                signal.signal(s, handler)
            for t in self.readers:
                t.join(timeout=2)

    def _start(self, spec):
        proc = subprocess.Popen(spec.argv, env=spec.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((spec, proc))
        reader = threading.Thread(target=self._relay, args=(spec.label, proc.stdout), daemon=True)
        reader.start()
        self.readers.append(reader)

    def _relay(self, label, stream):
        prefix = ("[%s] " % label).encode()
        for line in iter(stream.readline, b""):
            with self.lock:
                self.out.write(prefix + (line if line.endswith(b"\n") else line + b"\n"))
                self.out.flush()
        stream.close()

    def _on_signal(self, signum, frame):
        self.signalled = signum
        for _, proc in self.procs:
            _signal_group(proc, signum)

    def _watch(self):
        workers_done_at = None
        while True:
            if self.signalled is not None:
                self._wait_all(self.grace)
                return 128 + self.signalled
            workers_left = False
            for spec, proc in self.procs:
                code = proc.poll()
                if spec.role == "worker":
                    if code is None:
                        workers_left = True
                    elif code != 0:
                        self._say("%s failed with exit status %s; stopping the job" % (spec.label, _status(code)))
                        return _status(code)
                elif code is not None and workers_done_at is None and code != 0:
                    self._say("%s exited with status %s before the workers finished; stopping the job"
                              % (spec.label, _status(code)))
                    return _status(code)
            if not workers_left:
                if workers_done_at is None:
                    workers_done_at = time.monotonic()
                others = [p for s, p in self.procs if s.role != "worker" and p.poll() is None]
                if not others or time.monotonic() - workers_done_at > self.grace:
                    return 0
            time.sleep(0.05)

    def _wait_all(self, limit):
        deadline = time.monotonic() + limit
        for _, proc in self.procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass

    def stop_all(self):
        """Terminate every process group still alive (SIGTERM, then SIGKILL after 3 s)."""
        alive = [p for _, p in self.procs if p.poll() is None]
        for proc in alive:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 3
        for proc in alive:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        leftover = _live_groups({p.pid for _, p in self.procs})
        for _, proc in self.procs:   # grandchildren left in a child's group go too
            if proc.pid in leftover:
                _signal_group(proc, signal.SIGKILL)
            proc.wait()

    def _say(self, text):
        with self.lock:
            self.out.write(("[psnet-launch] %s\n" % text).encode())
            self.out.flush()


def _signal_group(proc, signum):
    """Send ``signum`` to the process group led by ``proc`` (ignored when it is gone)."""
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _live_groups(pgids):
    """Which of the process groups ``pgids`` still have a member (read from /proc)."""
    live = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            if len(fields) > 2 and int(fields[2]) in pgids and fields[0] != b"Z":
                live.add(int(fields[2]))
    return live


def _status(code):
    """A child's return code as a shell exit status (signals become 128 + signal number)."""
    return 128 - code if code < 0 else code
