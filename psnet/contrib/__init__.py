"""``mx.contrib``: MXNet's contrib package.

``mx.contrib.nd`` / ``mx.contrib.ndarray`` are ``mx.nd.contrib`` and ``mx.contrib.sym`` /
``mx.contrib.symbol`` are ``mx.sym.contrib``: the operators registered as
``_contrib_<name>`` under their short names (``mx.contrib.nd.BilinearResize2D``).
The symbol side is imported on first access.
"""
import importlib as _importlib

_LAZY = {"nd": "ndarray", "ndarray": "ndarray", "sym": "symbol", "symbol": "symbol"}


def __getattr__(name):
    """``nd``/``ndarray`` and ``sym``/``symbol``: the ``contrib`` sub-namespace of
    ``psnet.ndarray`` / ``psnet.symbol`` (imported lazily)."""
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError("module 'psnet.contrib' has no attribute %r" % (name,))
    mod = _importlib.import_module(".." + target, __name__).contrib
    globals()[name] = mod
    return mod


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
