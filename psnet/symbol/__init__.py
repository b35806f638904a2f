"""``mx.sym``: symbolic graphs built from the operator registry, their JSON and executor."""
from ..ops import shape_inference as _shape_inference
from .graph import NameManager, Prefix
from .symbol import Symbol, Variable, var, Group
from .json_io import load, load_json
from .creation import zeros, ones, full, arange
from .executor import Executor
from .op_functions import install_functions
from . import random  # noqa: F401  (mx.sym.random.*)

_shape_inference.attach()
install_functions(globals())

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "Executor",
           "NameManager", "Prefix", "zeros", "ones", "full", "arange", "random"]
