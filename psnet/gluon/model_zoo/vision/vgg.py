"""VGG 11/13/16/19, with and without BatchNorm (Simonyan & Zisserman, 2014)."""
from .... import initializer
from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = ["VGG", "get_vgg", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]

# depth -> (conv layers per stage, filters per stage)
vgg_spec = {11: ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]),
            13: ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
            16: ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]),
            19: ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512])}


class VGG(HybridBlock):
    """VGG: stages of 3x3 convolutions (each optionally followed by BatchNorm) and
    max-pooling, then two 4096-unit dense layers, in ``features``; ``output`` classifies."""

    def __init__(self, layers, filters, classes=1000, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        if len(layers) != len(filters):
            raise ValueError("VGG: layers %s and filters %s must have the same length" % (layers, filters))
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            with self.features.name_scope():
                for num, channels in zip(layers, filters):
                    for _ in range(num):
                        self.features.add(nn.Conv2D(channels, kernel_size=3, padding=1,
                                                    weight_initializer=initializer.Xavier(
                                                        rnd_type="gaussian", factor_type="out", magnitude=2),
                                                    bias_initializer="zeros"))
                        if batch_norm:
                            self.features.add(nn.BatchNorm())
                        self.features.add(nn.Activation("relu"))
                    self.features.add(nn.MaxPool2D(strides=2))
                self.features.add(nn.Dense(4096, activation="relu", weight_initializer="normal",
                                           bias_initializer="zeros"), nn.Dropout(rate=0.5),
                                  nn.Dense(4096, activation="relu", weight_initializer="normal",
                                           bias_initializer="zeros"), nn.Dropout(rate=0.5))
            self.output = nn.Dense(classes, weight_initializer="normal", bias_initializer="zeros")

    def hybrid_forward(self, F, x):
        """``output(features(x))``."""
        return self.output(self.features(x))


def get_vgg(num_layers, pretrained=False, ctx=None, root=None, **kwargs):
    """VGG of depth ``num_layers`` (11, 13, 16 or 19); ``batch_norm=True`` for the _bn variants."""
    if num_layers not in vgg_spec:
        raise ValueError("VGG depth must be one of %s, got %r" % (sorted(vgg_spec), num_layers))
    layers, filters = vgg_spec[num_layers]
    net = VGG(layers, filters, **kwargs)
    if pretrained:
        load_pretrained(net, "vgg%d%s" % (num_layers, "_bn" if kwargs.get("batch_norm") else ""), ctx, root)
    return net


def _variant(depth, bn):
    def make(**kwargs):
        if bn:
            kwargs["batch_norm"] = True
        return get_vgg(depth, **kwargs)
    make.__name__ = "vgg%d%s" % (depth, "_bn" if bn else "")
    make.__doc__ = "VGG-%d%s (see :func:`get_vgg`)." % (depth, " with BatchNorm" if bn else "")
    return make


vgg11, vgg13, vgg16, vgg19 = (_variant(d, False) for d in (11, 13, 16, 19))
vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn = (_variant(d, True) for d in (11, 13, 16, 19))
