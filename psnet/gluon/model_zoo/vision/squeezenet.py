"""SqueezeNet 1.0 and 1.1 (Iandola et al., 2016)."""
from ... import nn
from ...block import HybridBlock
from ._common import Concurrent, load_pretrained

__all__ = ["SqueezeNet", "get_squeezenet", "squeezenet1_0", "squeezenet1_1"]


def _conv_relu(channels, kernel_size, padding=0):
    out = nn.HybridSequential(prefix="")
    out.add(nn.Conv2D(channels, kernel_size, padding=padding), nn.Activation("relu"))
    return out


def _fire(squeeze_channels, expand1x1_channels, expand3x3_channels):
    """Fire module: 1x1 squeeze, then 1x1 and 3x3 expansions concatenated on channels."""
    out = nn.HybridSequential(prefix="")
    out.add(_conv_relu(squeeze_channels, 1))
    paths = Concurrent(axis=1, prefix="")
    paths.add(_conv_relu(expand1x1_channels, 1), _conv_relu(expand3x3_channels, 3, 1))
    out.add(paths)
    return out


_FIRES = {"1.0": [(16, 64, 64), (16, 64, 64), (32, 128, 128), "pool", (32, 128, 128), (48, 192, 192),
                  (48, 192, 192), (64, 256, 256), "pool", (64, 256, 256)],
          "1.1": [(16, 64, 64), (16, 64, 64), "pool", (32, 128, 128), (32, 128, 128), "pool",
                  (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256)]}


class SqueezeNet(HybridBlock):
    """SqueezeNet ``version`` '1.0' or '1.1': Fire modules in ``features``; ``output`` is a
    1x1 conv classifier with 13x13 average pooling (224x224 inputs)."""

    def __init__(self, version, classes=1000, **kwargs):
        super().__init__(**kwargs)
        if version not in _FIRES:
            raise ValueError("SqueezeNet version must be '1.0' or '1.1', got %r" % (version,))
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            if version == "1.0":
                self.features.add(nn.Conv2D(96, kernel_size=7, strides=2), nn.Activation("relu"))
            else:
                self.features.add(nn.Conv2D(64, kernel_size=3, strides=2), nn.Activation("relu"))
            self.features.add(nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True))
            for spec in _FIRES[version]:
                self.features.add(nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True) if spec == "pool"
                                  else _fire(*spec))
            self.features.add(nn.Dropout(0.5))
            self.output = nn.HybridSequential(prefix="")
            self.output.add(nn.Conv2D(classes, kernel_size=1), nn.Activation("relu"),
                            nn.AvgPool2D(13), nn.Flatten())

    def hybrid_forward(self, F, x):
        """``output(features(x))``."""
        return self.output(self.features(x))


def get_squeezenet(version, pretrained=False, ctx=None, root=None, **kwargs):
    """SqueezeNet of ``version`` '1.0' or '1.1'."""
    net = SqueezeNet(version, **kwargs)
    return load_pretrained(net, "squeezenet%s" % version, ctx, root) if pretrained else net


def squeezenet1_0(**kwargs):
    """SqueezeNet 1.0 (see :func:`get_squeezenet`)."""
    return get_squeezenet("1.0", **kwargs)


def squeezenet1_1(**kwargs):
    """SqueezeNet 1.1 (see :func:`get_squeezenet`)."""
    return get_squeezenet("1.1", **kwargs)
