"""``mx.gluon.rnn``: fused recurrent layers (RNN, LSTM, GRU) and recurrent cells with ``unroll``."""
from .rnn_layer import RNN, LSTM, GRU
from .rnn_cell import (RecurrentCell, HybridRecurrentCell, RNNCell, LSTMCell, GRUCell, SequentialRNNCell,
                       HybridSequentialRNNCell, DropoutCell, ModifierCell, ZoneoutCell, ResidualCell,
                       BidirectionalCell)

__all__ = ["RNN", "LSTM", "GRU", "RecurrentCell", "HybridRecurrentCell", "RNNCell", "LSTMCell", "GRUCell",
           "SequentialRNNCell", "HybridSequentialRNNCell", "DropoutCell", "ModifierCell", "ZoneoutCell",
           "ResidualCell", "BidirectionalCell"]
