"""``mx.autograd``: record imperative computation and differentiate it.

    x = mx.nd.array([1, 2, 3]); x.attach_grad()
    with mx.autograd.record():
        y = (x * x).sum()
    y.backward()
    x.grad            # [2, 4, 6]
"""
from contextlib import contextmanager

from ..base import MXNetError
from ..ndarray.ndarray import ag_state
from .tape import Leaf, backward as _backward, grad as _grad, mark_leaf

__all__ = ["record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
           "set_recording", "set_training", "backward", "grad", "mark_variables", "Function"]


def set_recording(is_recording):
    """Turn recording on or off; returns the previous state."""
    prev = ag_state.recording
    ag_state.recording = bool(is_recording)
    return prev


def set_training(train_mode):
    """Turn training mode on or off (Dropout, BatchNorm); returns the previous state."""
    prev = ag_state.training
    ag_state.training = bool(train_mode)
    return prev


def is_recording():
    """Whether operations are being recorded for autograd."""
    return ag_state.recording


def is_training():
    """Whether layers behave as in training (Dropout active, BatchNorm batch statistics)."""
    return ag_state.training


@contextmanager
def _scope(recording, training):
    prev_r, prev_t = ag_state.recording, ag_state.training
    if recording is not None:
        ag_state.recording = recording
    if training is not None:
        ag_state.training = training
    try:
        yield
    finally:
        ag_state.recording, ag_state.training = prev_r, prev_t


def record(train_mode=True):  # pylint: disable=redefined-outer-name
    """Scope in which operations are recorded (and, by default, run in training mode)."""
    return _scope(True, train_mode)


def pause(train_mode=False):  # pylint: disable=redefined-outer-name
    """Scope in which recording is off (e.g. for metric updates inside ``record()``)."""
    return _scope(False, train_mode)


def train_mode():
    """Scope running layers in training mode without changing recording."""
    return _scope(None, True)


def predict_mode():
    """Scope running layers in prediction mode without changing recording."""
    return _scope(None, False)


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):  # pylint: disable=redefined-outer-name
    """Backpropagate from one array or a list of arrays into the variables' ``.grad``."""
    if not isinstance(heads, (list, tuple)):
        heads = [heads]
        head_grads = None if head_grads is None else [head_grads]
    _backward(list(heads), None if head_grads is None else list(head_grads), retain_graph, train_mode)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):  # pylint: disable=redefined-outer-name
    """Gradients of ``heads`` with respect to ``variables``, returned as a list (or one array).

    With ``create_graph=True`` the gradients are recorded, so they can be differentiated
    again (second-order gradients).
    """
    single = not isinstance(variables, (list, tuple))
    heads = list(heads) if isinstance(heads, (list, tuple)) else [heads]
    if head_grads is not None and not isinstance(head_grads, (list, tuple)):
        head_grads = [head_grads]
    res = _grad(heads, [variables] if single else list(variables), head_grads, retain_graph,
                create_graph, train_mode)
    return res[0] if single else res


def mark_variables(variables, gradients, grad_reqs="write"):
    """Mark arrays as variables with the given gradient buffers (``attach_grad`` for many)."""
    if not isinstance(variables, (list, tuple)):
        variables, gradients = [variables], [gradients]
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    if not len(variables) == len(gradients) == len(grad_reqs):
        raise MXNetError("mark_variables: %d variables, %d gradients and %d grad_reqs"
                         % (len(variables), len(gradients), len(grad_reqs)))
    for v, g, r in zip(variables, gradients, grad_reqs):
        mark_leaf(v, g, r)


from .function import Function  # noqa: E402  (needs the names above)
