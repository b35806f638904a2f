"""psnet: MXNet 1.x / Gluon programs on today's Python, NumPy and CUDA, from one process to a cluster.

    import psnet as mx
    x = mx.nd.ones((2, 3), ctx=mx.cpu())

Submodules are imported on first use (``mx.gluon``, ``mx.kv``, ``mx.sym``...), so
``import psnet`` stays fast and a program pays only for what it touches.
"""
import importlib as _importlib

from . import base
from .base import MXNetError
from .context import Context, cpu, gpu, cpu_pinned, current_context
from . import context
from . import ndarray
from . import ndarray as nd
from . import autograd

__version__ = "0.1.0"

# public name -> module path (MXNet's short aliases included)
_LAZY = {
    "sym": "symbol", "symbol": "symbol", "gluon": "gluon", "kv": "kvstore", "kvstore": "kvstore",
    "mod": "module", "module": "module", "model": "model", "init": "initializer",
    "initializer": "initializer", "optimizer": "optimizer", "opt": "optimizer",
    "lr_scheduler": "lr_scheduler", "metric": "metric", "io": "io", "callback": "callback",
    "viz": "viz", "visualization": "viz", "test_utils": "test_utils", "operator": "operator",
    "image": "image", "img": "image", "random": "random", "rnd": "random", "profiler": "profiler",
    "recordio": "recordio", "util": "util", "executor": "symbol.executor", "name": "name", "storage": "storage",
    "backend": "backend", "ops": "ops", "kvstore_server": "kvstore.dist.server",
    "contrib": "contrib",
}


def __getattr__(name):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError("module 'psnet' has no attribute %r" % (name,))
    mod = _importlib.import_module("." + target, __name__)
    globals()[name] = mod
    return mod


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


# MXNet compatibility: a process imported with DMLC_ROLE=server|scheduler becomes that role
# (psnet/kvstore/dist/roles.py; PSNET_ROLE_ON_IMPORT=0 turns it off).  Workers are unaffected.
if __import__("os").environ.get("DMLC_ROLE") in ("server", "scheduler"):
    from .kvstore.dist.roles import start_role_on_import as _start_role
    _start_role()
