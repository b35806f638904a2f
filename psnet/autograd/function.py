"""``autograd.Function``: a user-defined differentiable function (MXNet's custom Function)."""
from ..ndarray.ndarray import NDArray, ag_state
from .tape import Node


class _FunctionOp:
    """Duck-typed Op for the tape: routes the gradient to the user's ``backward``."""

    params = {}

    def __init__(self, func, n_out):
        self.func = func
        self.name = type(func).__name__
        self._n_out = n_out

    def n_visible(self, attrs=None):
        """Number of outputs the Function returned."""
        return self._n_out

    def grad(self, inputs, outputs, ograds, attrs):
        """The user's ``backward`` on the output gradients (not recorded)."""
        prev = ag_state.recording
        ag_state.recording = False
        try:
            res = self.func.backward(*ograds)
        finally:
            ag_state.recording = prev
        return list(res) if isinstance(res, (list, tuple)) else [res]


class Function:
    """Subclass and define ``forward(self, *inputs)`` and ``backward(self, *output_grads)``.

    ``forward`` runs with recording paused; call the instance like a function.  Use
    :meth:`save_for_backward` to keep arrays for ``backward`` (in ``self.saved_tensors``).
    """

    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *args):
        """Keep arrays for use in ``backward``."""
        self.saved_tensors = args

    def forward(self, *inputs):
        """Compute the outputs from the inputs (override)."""
        raise NotImplementedError("subclasses of autograd.Function define forward()")

    def backward(self, *output_grads):
        """Return the input gradients from the output gradients (override)."""
        raise NotImplementedError("subclasses of autograd.Function define backward()")

    def __call__(self, *inputs):
        prev = ag_state.recording
        ag_state.recording = False
        try:
            outputs = self.forward(*inputs)
        finally:
            ag_state.recording = prev
        single = isinstance(outputs, NDArray)
        outs = [outputs] if single else list(outputs)
        if prev and any(x._ag is not None for x in inputs if isinstance(x, NDArray)):
            node = Node(_FunctionOp(self, len(outs)), {}, list(inputs), [o.detach() for o in outs])
            for k, o in enumerate(outs):
                o._ag = (node, k)
        return outputs
