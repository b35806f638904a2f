"""``mx.gluon.contrib``: contributed Gluon pieces of MXNet 1.9.1.

``contrib.nn`` (Concurrent, HybridConcurrent, Identity, SparseEmbedding, SyncBatchNorm,
PixelShuffle1D/2D/3D) and ``contrib.rnn`` (VariationalDropoutCell, LSTMPCell,
Conv{1,2,3}D{RNN,LSTM,GRU}Cell) are provided; MXNet's ``cnn``, ``data`` and ``estimator`` are not.
"""
from . import nn
from . import rnn

__all__ = ["nn", "rnn"]
