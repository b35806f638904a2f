"""The operator registry and every operator definition (see :mod:`psnet.ops.registry`).

Importing this package registers all ops; add a new op module to the import list below.
"""
from .registry import Op, register, get, list_ops, REQUIRED  # noqa: F401
from . import arith, unary, shape, reduce, linalg, misc, indexing, sorting  # noqa: F401
from . import custom  # noqa: F401  (mx.operator custom ops)
from . import conv, pooling  # noqa: F401  (Convolution, Deconvolution, UpSampling, Pooling, LRN)
from . import nn, normalization, loss_ops, random  # noqa: F401  (layers, losses, sampling)
from . import init_ops  # noqa: F401  (_zeros, _ones, _full, _arange, zeros_like, ones_like)
from . import rnn, sequence  # noqa: F401  (fused RNN/LSTM/GRU; SequenceMask/Last/Reverse)
from . import ctc  # noqa: F401  (CTCLoss / ctc_loss)
from . import roi  # noqa: F401  (ROIPooling)
from . import update_ops  # noqa: F401  (sgd_update, adam_update... optimizer update ops)
from . import legacy_ops  # noqa: F401  (L2Normalization, MakeLoss, SVMOutput, Crop, im2col, col2im)
from . import contrib_ops  # noqa: F401  (_contrib_*: BilinearResize2D, AdaptiveAvgPooling2D...)
from . import spatial  # noqa: F401  (GridGenerator, BilinearSampler, SpatialTransformer)
from . import pdf  # noqa: F401  (_random_pdf_*: densities of samples, random_pdf_normal...)
from . import image_ops  # noqa: F401  (_image_*: mx.nd.image.to_tensor, normalize, resize, crop, flips...)
