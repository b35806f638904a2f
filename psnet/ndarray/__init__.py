"""``mx.nd``: NDArray, creation functions and one function per registered operator."""
from ..ops import registry
from .ndarray import NDArray, invoke, array, empty, zeros, ones, full, from_backend
from .creation import arange, eye, linspace, zeros_like, ones_like, full_like, waitall, concatenate
from .creation import from_numpy, onehot_encode
from .op_functions import install_functions
from . import random  # noqa: F401  (mx.nd.random.*)
from .serialization import save, load, load_frombuffer  # noqa: F401
from .dlpack import to_dlpack_for_read, to_dlpack_for_write, from_dlpack  # noqa: F401

install_functions(globals())

__all__ = ["NDArray", "invoke", "array", "empty", "zeros", "ones", "full", "arange", "eye",
           "linspace", "zeros_like", "ones_like", "full_like", "waitall", "concatenate", "from_numpy", "onehot_encode",
           "registry", "from_backend", "random", "save", "load", "load_frombuffer",
           "to_dlpack_for_read", "to_dlpack_for_write", "from_dlpack"]
