"""Pieces shared by the model-zoo networks: a branch-concatenating container, the
identity block, and loading pretrained parameters into a freshly built network."""
from ....context import cpu
from ...block import HybridBlock
from ...nn import HybridSequential

__all__ = ["Concurrent", "Identity", "load_pretrained"]


class Concurrent(HybridSequential):
    """Run every child on the same input and concatenate the outputs along ``axis``
    (MXNet's ``HybridConcurrent``)."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._axis = axis

    def hybrid_forward(self, F, x):
        """``concat`` of the children's outputs."""
        return F.concat(*[block(x) for block in self._children.values()], dim=self._axis)


class Identity(HybridBlock):
    """Return the input unchanged (the shortcut branch of a dense layer)."""

    def hybrid_forward(self, F, x):
        """``x``."""
        return x


def load_pretrained(net, name, ctx=None, root=None):
    """Load model ``name``'s published parameters into ``net`` (see :mod:`..model_store`)."""
    from ..model_store import get_model_file
    net.load_parameters(get_model_file(name, root=root), ctx=ctx or cpu())
    return net
