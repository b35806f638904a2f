"""ResNet v1 (He et al., 2015) and v2 (pre-activation, 2016): 18/34/50/101/152 layers."""
from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = ["ResNetV1", "ResNetV2", "BasicBlockV1", "BasicBlockV2", "BottleneckV1", "BottleneckV2",
           "get_resnet"] + ["resnet%d_v%d" % (d, v) for v in (1, 2) for d in (18, 34, 50, 101, 152)]


def _conv3x3(channels, stride, in_channels):
    return nn.Conv2D(channels, kernel_size=3, strides=stride, padding=1, use_bias=False, in_channels=in_channels)


class BasicBlockV1(HybridBlock):
    """Two 3x3 conv + BatchNorm layers with an identity (or 1x1 conv) shortcut, ReLU after the sum."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.body = nn.HybridSequential(prefix="")
        self.body.add(_conv3x3(channels, stride, in_channels), nn.BatchNorm(), nn.Activation("relu"),
                      _conv3x3(channels, 1, channels), nn.BatchNorm())
        self.downsample = _projection(channels, stride, in_channels) if downsample else None

    def hybrid_forward(self, F, x):
        """``relu(body(x) + shortcut(x))``."""
        residual = x if self.downsample is None else self.downsample(x)
        return F.Activation(self.body(x) + residual, act_type="relu")


class BottleneckV1(HybridBlock):
    """1x1 reduce, 3x3, 1x1 expand (each with BatchNorm), shortcut, ReLU after the sum."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.body = nn.HybridSequential(prefix="")
        self.body.add(nn.Conv2D(channels // 4, kernel_size=1, strides=stride), nn.BatchNorm(),
                      nn.Activation("relu"), _conv3x3(channels // 4, 1, channels // 4), nn.BatchNorm(),
                      nn.Activation("relu"), nn.Conv2D(channels, kernel_size=1, strides=1), nn.BatchNorm())
        self.downsample = _projection(channels, stride, in_channels) if downsample else None

    hybrid_forward = BasicBlockV1.hybrid_forward


def _projection(channels, stride, in_channels):
    proj = nn.HybridSequential(prefix="")
    proj.add(nn.Conv2D(channels, kernel_size=1, strides=stride, use_bias=False, in_channels=in_channels),
             nn.BatchNorm())
    return proj


class BasicBlockV2(HybridBlock):
    """Pre-activation basic block: BN-ReLU-conv3x3 twice; the shortcut (1x1 conv when
    downsampling) taps the first activation."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.bn1 = nn.BatchNorm()
        self.conv1 = _conv3x3(channels, stride, in_channels)
        self.bn2 = nn.BatchNorm()
        self.conv2 = _conv3x3(channels, 1, channels)
        self.downsample = _shortcut_v2(channels, stride, in_channels, downsample)

    def hybrid_forward(self, F, x):
        """Pre-activation residual computation."""
        return _preact_forward(F, self, x, [(self.bn2, self.conv2)])


class BottleneckV2(HybridBlock):
    """Pre-activation bottleneck: BN-ReLU-conv1x1, BN-ReLU-conv3x3, BN-ReLU-conv1x1."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.bn1 = nn.BatchNorm()
        self.conv1 = nn.Conv2D(channels // 4, kernel_size=1, strides=1, use_bias=False)
        self.bn2 = nn.BatchNorm()
        self.conv2 = _conv3x3(channels // 4, stride, channels // 4)
        self.bn3 = nn.BatchNorm()
        self.conv3 = nn.Conv2D(channels, kernel_size=1, strides=1, use_bias=False)
        self.downsample = _shortcut_v2(channels, stride, in_channels, downsample)

    def hybrid_forward(self, F, x):
        """Pre-activation bottleneck computation."""
        return _preact_forward(F, self, x, [(self.bn2, self.conv2), (self.bn3, self.conv3)])


def _shortcut_v2(channels, stride, in_channels, downsample):
    return nn.Conv2D(channels, 1, stride, use_bias=False, in_channels=in_channels) if downsample else None


def _preact_forward(F, block, x, layers):
    """BN-ReLU (feeding the shortcut when it projects), conv1, then BN-ReLU-conv for each
    ``(bn, conv)`` of ``layers``, plus the shortcut."""
    residual = x
    x = F.Activation(block.bn1(x), act_type="relu")
    if block.downsample is not None:
        residual = block.downsample(x)
    x = block.conv1(x)
    for bn, conv in layers:
        x = conv(F.Activation(bn(x), act_type="relu"))
    return x + residual


def _stage(block, layers, channels, stride, stage_index, in_channels):
    layer = nn.HybridSequential(prefix="stage%d_" % stage_index)
    with layer.name_scope():
        layer.add(block(channels, stride, channels != in_channels, in_channels=in_channels, prefix=""))
        for _ in range(layers - 1):
            layer.add(block(channels, 1, False, in_channels=channels, prefix=""))
    return layer


def _stem(features, channels, thumbnail):
    if thumbnail:
        features.add(_conv3x3(channels, 1, 0))
    else:
        features.add(nn.Conv2D(channels, 7, 2, 3, use_bias=False), nn.BatchNorm(), nn.Activation("relu"),
                     nn.MaxPool2D(3, 2, 1))


class ResNetV1(HybridBlock):
    """ResNet v1: stem, four stages of residual blocks, global average pooling in
    ``features``; ``output`` is the classifier.  ``thumbnail=True`` uses a 3x3 stem for
    small (e.g. 32x32) images."""

    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, **kwargs):
        super().__init__(**kwargs)
        if len(layers) != len(channels) - 1:
            raise ValueError("ResNet: channels must have one more entry than layers")
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            _stem(self.features, channels[0], thumbnail)
            for i, num in enumerate(layers):
                self.features.add(_stage(block, num, channels[i + 1], 1 if i == 0 else 2, i + 1, channels[i]))
            self.features.add(nn.GlobalAvgPool2D())
            self.output = nn.Dense(classes, in_units=channels[-1])

    def hybrid_forward(self, F, x):
        """``output(features(x))``."""
        return self.output(self.features(x))


class ResNetV2(HybridBlock):
    """ResNet v2 (pre-activation): input BatchNorm, stem, four stages, final BN-ReLU,
    global average pooling and flatten in ``features``; ``output`` is the classifier."""

    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, **kwargs):
        super().__init__(**kwargs)
        if len(layers) != len(channels) - 1:
            raise ValueError("ResNet: channels must have one more entry than layers")
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(nn.BatchNorm(scale=False, center=False))
            _stem(self.features, channels[0], thumbnail)
            in_channels = channels[0]
            for i, num in enumerate(layers):
                self.features.add(_stage(block, num, channels[i + 1], 1 if i == 0 else 2, i + 1, in_channels))
                in_channels = channels[i + 1]
            self.features.add(nn.BatchNorm(), nn.Activation("relu"), nn.GlobalAvgPool2D(), nn.Flatten())
            self.output = nn.Dense(classes, in_units=in_channels)

    def hybrid_forward(self, F, x):
        """``output(features(x))``."""
        return self.output(self.features(x))


# depth -> (block kind, layers per stage, channels)
resnet_spec = {18: ("basic", [2, 2, 2, 2], [64, 64, 128, 256, 512]),
               34: ("basic", [3, 4, 6, 3], [64, 64, 128, 256, 512]),
               50: ("bottleneck", [3, 4, 6, 3], [64, 256, 512, 1024, 2048]),
               101: ("bottleneck", [3, 4, 23, 3], [64, 256, 512, 1024, 2048]),
               152: ("bottleneck", [3, 8, 36, 3], [64, 256, 512, 1024, 2048])}
_BLOCKS = {1: {"basic": BasicBlockV1, "bottleneck": BottleneckV1},
           2: {"basic": BasicBlockV2, "bottleneck": BottleneckV2}}


def get_resnet(version, num_layers, pretrained=False, ctx=None, root=None, **kwargs):
    """ResNet ``version`` (1 or 2) of depth ``num_layers`` (18, 34, 50, 101, 152)."""
    if num_layers not in resnet_spec:
        raise ValueError("ResNet depth must be one of %s, got %r" % (sorted(resnet_spec), num_layers))
    if version not in _BLOCKS:
        raise ValueError("ResNet version must be 1 or 2, got %r" % (version,))
    kind, layers, channels = resnet_spec[num_layers]
    net = (ResNetV1 if version == 1 else ResNetV2)(_BLOCKS[version][kind], layers, channels, **kwargs)
    return load_pretrained(net, "resnet%d_v%d" % (num_layers, version), ctx, root) if pretrained else net


def _variant(depth, version):
    def make(**kwargs):
        return get_resnet(version, depth, **kwargs)
    make.__name__ = "resnet%d_v%d" % (depth, version)
    make.__doc__ = "ResNet-%d v%d (see :func:`get_resnet`)." % (depth, version)
    return make


resnet18_v1, resnet34_v1, resnet50_v1, resnet101_v1, resnet152_v1 = (_variant(d, 1) for d in (18, 34, 50, 101, 152))
resnet18_v2, resnet34_v2, resnet50_v2, resnet101_v2, resnet152_v2 = (_variant(d, 2) for d in (18, 34, 50, 101, 152))
