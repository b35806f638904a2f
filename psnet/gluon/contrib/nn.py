"""``gluon.contrib.nn``: MXNet 1.9.1's contributed layers.

* :class:`Concurrent` / :class:`HybridConcurrent` feed one input to every child and
  concatenate the outputs along ``axis``; :class:`Identity` returns its input.
* :class:`SparseEmbedding` keeps MXNet's parameter (``weight`` of shape
  ``(input_dim, output_dim)``) but psnet has no row-sparse storage: the weight and its
  gradient are dense.
* :class:`SyncBatchNorm` synchronizes batch statistics across devices in MXNet; psnet runs
  one process on one device per forward, where it is exactly :class:`~psnet.gluon.nn.BatchNorm`
  over axis 1 (``num_devices`` is accepted and shown in the repr, as MXNet's ``ndev``).
* :class:`PixelShuffle1D`/`2D`/`3D` move channel blocks into the spatial axes with MXNet's
  channel ordering (channel ``c * prod(f) + i`` of the input lands at offset ``i`` of block
  ``c``, the factors' indices in row-major order).
"""
import warnings

from ... import context
from ...base import MXNetError
from ...ndarray import concat as _nd_concat
from ..block import Block, HybridBlock
from ..nn import Sequential, HybridSequential, BatchNorm

__all__ = ["Concurrent", "HybridConcurrent", "Identity", "SparseEmbedding", "SyncBatchNorm",
           "PixelShuffle1D", "PixelShuffle2D", "PixelShuffle3D"]


class Concurrent(Sequential):
    """Run every child on the same input and concatenate their outputs along ``axis``."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def forward(self, x):
        """``concat([child(x) for child in children], dim=axis)``."""
        if not self._children:
            raise MXNetError("%s has no children to run" % self.__class__.__name__)
        return _nd_concat(*[block(x) for block in self._children.values()], dim=self.axis)


class HybridConcurrent(HybridSequential):
    """Hybridizable :class:`Concurrent`: children must be HybridBlocks."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def hybrid_forward(self, F, x):
        """``F.concat([child(x) for child in children], dim=axis)``."""
        if not self._children:
            raise MXNetError("%s has no children to run" % self.__class__.__name__)
        return F.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class Identity(HybridBlock):
    """Return the input unchanged (useful as a branch of a Concurrent block)."""

    def hybrid_forward(self, F, x):
        """``x``."""
        return x


class SparseEmbedding(Block):
    """Embedding ``(input_dim, output_dim)`` with MXNet's ``SparseEmbedding`` interface.

    MXNet stores the weight and its gradient as ``row_sparse``; psnet has only dense
    storage, so this is a dense :class:`~psnet.gluon.nn.Embedding` (same parameter name,
    shape, values and gradients; the gradient is a dense array with zero rows for the
    indices not looked up).
    """

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim),
                                      init=weight_initializer, dtype=dtype)

    def forward(self, x):
        """Look up the rows of ``weight`` at the indices ``x``."""
        from ... import ndarray as nd
        return nd.Embedding(x, self.weight.data(x.context), **self._kwargs)

    def __repr__(self):
        return "{block_name}({input_dim} -> {output_dim}, {dtype})".format(
            block_name=self.__class__.__name__, **self._kwargs)


class SyncBatchNorm(BatchNorm):
    """Cross-device synchronized BatchNorm over axis 1 (MXNet's ``contrib.SyncBatchNorm``).

    psnet runs a forward on one device in one process, so the statistics of the batch it
    sees are the whole batch's: the layer computes exactly :class:`BatchNorm` (axis 1).
    ``num_devices`` (default: the number of GPUs, at least 1, with MXNet's warning) is only
    recorded, as ``ndev`` in the repr; ``key`` is the block's prefix, as in MXNet.
    """

    def __init__(self, in_channels=0, num_devices=None, momentum=0.9, epsilon=1e-5,
                 center=True, scale=True, use_global_stats=False, beta_initializer="zeros",
                 gamma_initializer="ones", running_mean_initializer="zeros",
                 running_variance_initializer="ones", **kwargs):
        super().__init__(axis=1, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
                         use_global_stats=use_global_stats, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer,
                         running_mean_initializer=running_mean_initializer,
                         running_variance_initializer=running_variance_initializer,
                         in_channels=in_channels, **kwargs)
        if num_devices is None:
            warnings.warn("Caution using SyncBatchNorm: "
                          "if not using all the GPUs, please mannually set num_devices",
                          UserWarning, stacklevel=2)
            num_devices = max(context.num_gpus(), 1)
        self._bn_kwargs = {"axis": 1, "eps": epsilon, "momentum": momentum,
                           "fix_gamma": not scale, "use_global_stats": use_global_stats}
        self._kwargs = {"eps": epsilon, "momentum": momentum, "fix_gamma": not scale,
                        "use_global_stats": use_global_stats, "ndev": num_devices,
                        "key": self.prefix}

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        """``F.BatchNorm`` over axis 1 (one device: synchronized statistics are the batch's)."""
        return F.BatchNorm(x, gamma, beta, running_mean, running_var, **self._bn_kwargs)


def _factors(factor, n, name):
    if isinstance(factor, int):
        factors = (factor,) * n
    else:
        factors = tuple(int(f) for f in factor)
    if len(factors) != n or any(f < 1 for f in factors):
        raise MXNetError("%s: factor must be a positive int or a tuple of %d positive ints, "
                         "got %r" % (name, n, factor))
    return factors


def _check_channels(x, ndim, block, total):
    from ...ndarray import NDArray
    if not isinstance(x, NDArray):  # a Symbol: shapes are checked when the graph runs
        return
    shape = x.shape
    if len(shape) != ndim:
        raise MXNetError("%s expects a %d-D input (N, C, ...), got shape %s"
                         % (block, ndim, tuple(shape)))
    if shape[1] % total:
        raise MXNetError("%s: the channel count %d of input shape %s is not divisible by the "
                         "product of the factors %d" % (block, shape[1], tuple(shape), total))


class PixelShuffle1D(HybridBlock):
    """``(N, f*C, W) -> (N, C, W*f)``: output ``[n, c, w*f + i] = input[n, c*f + i, w]``."""

    def __init__(self, factor):
        super().__init__()
        self._factor = _factors(factor, 1, "PixelShuffle1D")[0]

    def hybrid_forward(self, F, x):
        """Rearrange channel blocks into the width axis."""
        f = self._factor
        _check_channels(x, 3, "PixelShuffle1D", f)
        x = F.reshape(x, (0, -4, -1, f, 0))   # (N, C, f, W)
        x = F.transpose(x, (0, 1, 3, 2))      # (N, C, W, f)
        return F.reshape(x, (0, 0, -3))       # (N, C, W*f)

    def __repr__(self):
        return "{}({})".format(self.__class__.__name__, self._factor)


class PixelShuffle2D(HybridBlock):
    """``(N, f1*f2*C, H, W) -> (N, C, H*f1, W*f2)``:
    output ``[n, c, h*f1 + i, w*f2 + j] = input[n, c*f1*f2 + i*f2 + j, h, w]``."""

    def __init__(self, factor):
        super().__init__()
        self._factors = _factors(factor, 2, "PixelShuffle2D")

    def hybrid_forward(self, F, x):
        """Rearrange channel blocks into the height and width axes."""
        f1, f2 = self._factors
        _check_channels(x, 4, "PixelShuffle2D", f1 * f2)
        x = F.reshape(x, (0, -4, -1, f1 * f2, 0, 0))   # (N, C, f1*f2, H, W)
        x = F.reshape(x, (0, 0, -4, f1, f2, 0, 0))     # (N, C, f1, f2, H, W)
        x = F.transpose(x, (0, 1, 4, 2, 5, 3))         # (N, C, H, f1, W, f2)
        return F.reshape(x, (0, 0, -3, -3))            # (N, C, H*f1, W*f2)

    def __repr__(self):
        return "{}({})".format(self.__class__.__name__, self._factors)


class PixelShuffle3D(HybridBlock):
    """``(N, f1*f2*f3*C, D, H, W) -> (N, C, D*f1, H*f2, W*f3)``: output
    ``[n, c, d*f1 + i, h*f2 + j, w*f3 + k] = input[n, c*f1*f2*f3 + (i*f2 + j)*f3 + k, d, h, w]``."""

    def __init__(self, factor):
        super().__init__()
        self._factors = _factors(factor, 3, "PixelShuffle3D")

    def hybrid_forward(self, F, x):
        """Rearrange channel blocks into the depth, height and width axes."""
        f1, f2, f3 = self._factors
        _check_channels(x, 5, "PixelShuffle3D", f1 * f2 * f3)
        x = F.reshape(x, (0, -4, -1, f1 * f2 * f3, 0, 0, 0))   # (N, C, f1*f2*f3, D, H, W)
        x = F.reshape(x, (0, 0, -4, f1, f2 * f3, 0, 0, 0))     # (N, C, f1, f2*f3, D, H, W)
        x = F.reshape(x, (0, 0, 0, -4, f2, f3, 0, 0, 0))       # (N, C, f1, f2, f3, D, H, W)
        x = F.transpose(x, (0, 1, 5, 2, 6, 3, 7, 4))           # (N, C, D, f1, H, f2, W, f3)
        return F.reshape(x, (0, 0, -3, -3, -3))                # (N, C, D*f1, H*f2, W*f3)

    def __repr__(self):
        return "{}({})".format(self.__class__.__name__, self._factors)
