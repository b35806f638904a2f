"""Private network namespaces joined by a bridge: one host per namespace, for multi-host tests.

Everything lives inside namespaces this module creates: a "switch" namespace holds a
bridge, and every host namespace gets a veth pair whose other end is plugged into that
bridge.  The 10.x addresses exist only inside these namespaces, so no packet can reach
any other network.  :meth:`Fabric.close` kills every process started here (by pid) and
deletes every namespace, also after a failure.
"""
import os
import random
import shutil
import signal
import subprocess


def unavailable():
    """Why namespaces cannot be made here (a reason string), or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 ('ip') is not installed"
    name = "psnprobe%d" % os.getpid()
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        return "cannot create a network namespace: %s" % made.stderr.strip()
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def _ip(*args, ns=None):
    argv = ["ip"] + (["-n", ns] if ns else []) + list(args)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    if done.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), done.stderr.strip()))


class Fabric:
    """A bridge namespace plus named hosts, each in its own namespace with its own 10.x address."""

    def __init__(self):
        tag = "%x%03x" % (os.getpid() % 0xfff, random.randrange(0xfff))
        self.prefix = "psn" + tag                       # short: interface names are <= 15 chars
        self.subnet = "10.%d.%d" % (random.randrange(64, 250), random.randrange(1, 250))
        self.switch = self.prefix + "sw"
        self.namespaces = []
        self.hosts = {}                                  # name -> (namespace, address, veth in switch)
        self.procs = []
        try:
            self._add_ns(self.switch)
            _ip("link", "add", "br0", "type", "bridge", ns=self.switch)
            _ip("link", "set", "br0", "up", ns=self.switch)
        except BaseException:
            self.close()
            raise

    def _add_ns(self, ns):
        self.namespaces.append(ns)      # first: close() deletes it even if "add" half-failed
        _ip("netns", "add", ns)
        _ip("link", "set", "lo", "up", ns=ns)

    def add_host(self, name):
        """A new namespace ``name`` connected to the bridge; returns its address."""
        index = len(self.hosts) + 1
        ns, peer = "%s%s" % (self.prefix, name), "%sp%d" % (self.prefix, index)
        address = "%s.%d" % (self.subnet, index)
        self._add_ns(ns)
        _ip("link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", self.switch, ns=ns)
        _ip("addr", "add", address + "/24", "dev", "eth0", ns=ns)
        _ip("link", "set", "eth0", "up", ns=ns)
        _ip("link", "set", peer, "master", "br0", ns=self.switch)
        _ip("link", "set", peer, "up", ns=self.switch)
        self.hosts[name] = (ns, address, peer)
        return address

    def run(self, name, argv, env, log):
        """Start ``argv`` inside host ``name``'s namespace (own session), output to file ``log``."""
        with open(log, "ab") as out:
            proc = subprocess.Popen(["ip", "netns", "exec", self.hosts[name][0]] + list(argv), env=env,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def cut(self, name):
        """Take host ``name``'s link down (``ip link set down`` on its end of the veth)."""
        _ip("link", "set", "eth0", "down", ns=self.hosts[name][0])

    def close(self):
        """Kill every process started here and delete every namespace (idempotent)."""
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait(timeout=10)
        self.procs = []
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        self.namespaces = []
