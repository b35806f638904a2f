"""``mx.gluon``: the imperative-first neural network API (Blocks, Parameters, layers, Trainer, data).

Submodules load on first use, so ``mx.gluon.nn`` does not pay for ``mx.gluon.data``.
"""
import importlib as _importlib

# public name -> (module, attribute or None for the module itself)
_LAZY = {
    "nn": ("nn", None), "rnn": ("rnn", None), "loss": ("loss", None), "utils": ("utils", None),
    "data": ("data", None), "model_zoo": ("model_zoo", None), "contrib": ("contrib", None),
    "Block": ("block", "Block"), "HybridBlock": ("block", "HybridBlock"),
    "SymbolBlock": ("symbol_block", "SymbolBlock"),
    "Parameter": ("parameter", "Parameter"), "ParameterDict": ("parameter", "ParameterDict"),
    "Constant": ("parameter", "Constant"), "DeferredInitializationError": ("parameter", "DeferredInitializationError"),
    "Trainer": ("trainer", "Trainer"),
}


def __getattr__(name):
    entry = _LAZY.get(name)
    if entry is None:
        raise AttributeError("module 'psnet.gluon' has no attribute %r" % (name,))
    mod = _importlib.import_module("." + entry[0], __name__)
    value = mod if entry[1] is None else getattr(mod, entry[1])
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
