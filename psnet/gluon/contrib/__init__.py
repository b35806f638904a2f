"""``mx.gluon.contrib``: contributed Gluon pieces of MXNet 1.9.1.

``contrib.nn`` (Concurrent, HybridConcurrent, Identity, SparseEmbedding, SyncBatchNorm,
PixelShuffle1D/2D/3D) and ``contrib.rnn`` (VariationalDropoutCell, LSTMPCell,
Conv{1,2,3}D{RNN,LSTM,GRU}Cell) and ``contrib.estimator`` (Estimator, event handlers,
BatchProcessor) are provided; MXNet's ``cnn`` and ``data`` are not.
"""
from . import nn
from . import rnn
from . import estimator

__all__ = ["nn", "rnn", "estimator"]
