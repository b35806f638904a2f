"""Helpers for writing gradients with NDArray operators.

Gradients live in the ops layer but compute with ``mx.nd`` so that they are
differentiable themselves; :func:`nd` imports the namespace lazily (it is built from
this registry, so it cannot be imported while the registry loads).
"""
import math

_ND = None


def nd():
    """The ``psnet.ndarray`` namespace."""
    global _ND
    if _ND is None:
        from .. import ndarray
        _ND = ndarray
    return _ND


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (undoing a broadcast); the identity when shapes match."""
    if grad.shape == tuple(shape):
        return grad
    return nd().invoke(nd().registry.get("_sum_to_shape"), [grad], {"shape": tuple(shape)})


def np_log(x):
    """Natural log of a Python number."""
    return math.log(x)
