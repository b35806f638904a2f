"""Inception v3 (Szegedy et al., 2015) for 3x299x299 inputs."""
from ... import nn
from ...block import HybridBlock
from ._common import Concurrent, load_pretrained

__all__ = ["Inception3", "inception_v3"]


def _conv(channels, kernel_size, strides=1, padding=0):
    """Conv (no bias) + BatchNorm(eps=1e-3) + ReLU."""
    out = nn.HybridSequential(prefix="")
    out.add(nn.Conv2D(channels, kernel_size, strides, padding, use_bias=False), nn.BatchNorm(epsilon=0.001),
            nn.Activation("relu"))
    return out


def _branch(pool, *convs):
    """A sequence: optional pooling ('avg' 3x3/1 pad 1, 'max' 3x3/2), then conv specs
    (channels, kernel, strides, padding) or nested Concurrent blocks."""
    out = nn.HybridSequential(prefix="")
    if pool == "avg":
        out.add(nn.AvgPool2D(pool_size=3, strides=1, padding=1))
    elif pool == "max":
        out.add(nn.MaxPool2D(pool_size=3, strides=2))
    for spec in convs:
        out.add(spec if isinstance(spec, HybridBlock) else _conv(*spec))
    return out


def _concat(prefix, *branches):
    out = Concurrent(axis=1, prefix=prefix)
    with out.name_scope():
        out.add(*branches)
    return out


def _block_a(pool_features, prefix):
    return _concat(prefix, _branch(None, (64, 1)), _branch(None, (48, 1), (64, 5, 1, 2)),
                   _branch(None, (64, 1), (96, 3, 1, 1), (96, 3, 1, 1)), _branch("avg", (pool_features, 1)))


def _block_b(prefix):
    return _concat(prefix, _branch(None, (384, 3, 2)), _branch(None, (64, 1), (96, 3, 1, 1), (96, 3, 2)),
                   _branch("max"))


def _block_c(c7, prefix):
    return _concat(prefix, _branch(None, (192, 1)),
                   _branch(None, (c7, 1), (c7, (1, 7), 1, (0, 3)), (192, (7, 1), 1, (3, 0))),
                   _branch(None, (c7, 1), (c7, (7, 1), 1, (3, 0)), (c7, (1, 7), 1, (0, 3)),
                           (c7, (7, 1), 1, (3, 0)), (192, (1, 7), 1, (0, 3))),
                   _branch("avg", (192, 1)))


def _block_d(prefix):
    return _concat(prefix, _branch(None, (192, 1), (320, 3, 2)),
                   _branch(None, (192, 1), (192, (1, 7), 1, (0, 3)), (192, (7, 1), 1, (3, 0)), (192, 3, 2)),
                   _branch("max"))


def _split_1x3_3x1():
    return _concat("", _branch(None, (384, (1, 3), 1, (0, 1))), _branch(None, (384, (3, 1), 1, (1, 0))))


def _block_e(prefix):
    return _concat(prefix, _branch(None, (320, 1)), _branch(None, _branch(None, (384, 1)), _split_1x3_3x1()),
                   _branch(None, _branch(None, (448, 1), (384, 3, 1, 1)), _split_1x3_3x1()),
                   _branch("avg", (192, 1)))


class Inception3(HybridBlock):
    """Inception v3: stem convolutions and the A-E mixed blocks, 8x8 average pooling and
    dropout in ``features``; ``output`` is the classifier."""

    def __init__(self, classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(_conv(32, 3, 2), _conv(32, 3), _conv(64, 3, padding=1),
                              nn.MaxPool2D(pool_size=3, strides=2), _conv(80, 1), _conv(192, 3),
                              nn.MaxPool2D(pool_size=3, strides=2),
                              _block_a(32, "A1_"), _block_a(64, "A2_"), _block_a(64, "A3_"), _block_b("B_"),
                              _block_c(128, "C1_"), _block_c(160, "C2_"), _block_c(160, "C3_"),
                              _block_c(192, "C4_"), _block_d("D_"), _block_e("E1_"), _block_e("E2_"),
                              nn.AvgPool2D(pool_size=8), nn.Dropout(0.5))
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        """``output(features(x))``."""
        return self.output(self.features(x))


def inception_v3(pretrained=False, ctx=None, root=None, **kwargs):
    """Inception v3; ``pretrained=True`` loads MXNet's ImageNet parameters."""
    net = Inception3(**kwargs)
    return load_pretrained(net, "inceptionv3", ctx, root) if pretrained else net
