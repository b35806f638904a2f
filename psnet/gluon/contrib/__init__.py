"""``mx.gluon.contrib``: contributed Gluon pieces of MXNet 1.9.1.

Only ``contrib.nn`` (Concurrent, HybridConcurrent, Identity, SparseEmbedding, SyncBatchNorm,
PixelShuffle1D/2D/3D) is provided; MXNet's ``contrib.rnn``, ``cnn``, ``data`` and
``estimator`` are not.
"""
from . import nn

__all__ = ["nn"]
