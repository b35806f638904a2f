"""``gluon.nn``: neural network layers (containers, basic layers, activations).

Each layer module adds its names with one import line below.
"""
from .activations import Activation, LeakyReLU, PReLU, ELU, SELU, GELU, Swish
from .basic_layers import (Sequential, HybridSequential, Dense, Dropout, BatchNorm, LayerNorm,
                           Embedding, Flatten, Lambda, HybridLambda)
from .basic_layers import BatchNormReLU
from ..block import Block, HybridBlock

__all__ = ["Block", "HybridBlock", "Sequential", "HybridSequential", "Dense", "Dropout",
           "BatchNorm", "LayerNorm", "Embedding", "Flatten", "Lambda", "HybridLambda",
           "Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "GELU", "Swish"]
__all__ += ["BatchNormReLU"]

from .conv_layers import *  # noqa: F401,F403  (conv, pooling, padding, instance/group norm)
from .conv_layers import __all__ as _conv_all
__all__ += _conv_all
