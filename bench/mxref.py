"""Where the reference MXNet 1.9.1 lives for the benchmarks that compare against it."""
import os
import subprocess

__all__ = ["mxnet_python"]


def mxnet_python():
    """The interpreter with MXNet 1.9.1 (``$MXNET_PYTHON`` or ``~/mxref/bin/python``), or None."""
    for cand in (os.environ.get("MXNET_PYTHON"), os.path.expanduser("~/mxref/bin/python")):
        if cand and os.path.exists(cand):
            ok = subprocess.run([cand, "-c", "import mxnet"], capture_output=True, timeout=120).returncode == 0
            if ok:
                return cand
    return None
