"""Convolution, pooling, padding and per-instance normalisation layers (``gluon.nn``).

Constructor arguments, Parameter names/shapes and reprs follow MXNet 1.9.1: a conv
layer's ``weight`` is ``(channels, in_channels/groups, *kernel)`` (transposed conv:
``(in_channels, channels/groups, *kernel)``), and ``in_channels=0`` defers it to the
first forward pass (:meth:`infer_shape`).  Only channels-first layouts are supported.
"""
from ...base import NotSupportedError
from ..block import HybridBlock
from .activations import Activation
from .basic_layers import _ChannelAffineNorm

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
           "ReflectionPad2D", "InstanceNorm", "GroupNorm"]

_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _tuple(value, n):
    """An int or sequence as an ``n``-tuple."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError("expected %d values, got %s" % (n, value))
    return value


def _check_layout(layout, nd):
    if layout != _LAYOUTS[nd]:
        raise NotSupportedError("layout %r is not supported: psnet's %d-D convolution and pooling "
                                "layers compute in %s" % (layout, nd, _LAYOUTS[nd]))


class _Conv(HybridBlock):
    """Shared body of the N-D (transposed) convolution layers."""

    _op_name = "Convolution"

    def __init__(self, nd, channels, kernel_size, strides, padding, dilation, groups, layout,
                 in_channels=0, activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", adj=None, **kwargs):
        super().__init__(**kwargs)
        _check_layout(layout, nd)
        self._channels = channels
        self._in_channels = in_channels
        self._groups = groups
        self._kwargs = {"kernel": _tuple(kernel_size, nd), "stride": _tuple(strides, nd),
                        "dilate": _tuple(dilation, nd), "pad": _tuple(padding, nd),
                        "num_filter": channels, "num_group": groups, "no_bias": not use_bias,
                        "layout": layout}
        if adj is not None:
            self._kwargs["adj"] = _tuple(adj, nd)
        with self.name_scope():
            self.weight = self.params.get("weight", shape=self._weight_shape(in_channels),
                                          init=weight_initializer, allow_deferred_init=True)
            self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer,
                                        allow_deferred_init=True) if use_bias else None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def _alias(self):
        return "conv"

    def _weight_shape(self, in_channels):
        return (self._channels, in_channels // self._groups) + self._kwargs["kernel"]

    def infer_shape(self, x, *args):
        """The weight's input channels from ``x.shape[1]``."""
        self.weight.shape = self._weight_shape(x.shape[1])

    def hybrid_forward(self, F, x, weight, bias=None):
        """The convolution op, then the activation."""
        op = getattr(F, self._op_name)
        out = op(x, weight, **self._kwargs) if bias is None else op(x, weight, bias, **self._kwargs)
        return out if self.act is None else self.act(out)

    def __repr__(self):
        k = self._kwargs
        n = len(k["kernel"])
        parts = ["kernel_size=%s" % (k["kernel"],), "stride=%s" % (k["stride"],)]
        if k["pad"] != (0,) * n:
            parts.append("padding=%s" % (k["pad"],))
        if k["dilate"] != (1,) * n:
            parts.append("dilation=%s" % (k["dilate"],))
        if k["num_group"] != 1:
            parts.append("groups=%d" % k["num_group"])
        if self.bias is None:
            parts.append("bias=False")
        if self.act is not None:
            parts.append(repr(self.act))
        shape = self.weight.shape
        return "%s(%s -> %s, %s)" % (type(self).__name__, shape[1] if shape[1] else None, shape[0],
                                     ", ".join(parts))


class _ConvTranspose(_Conv):
    """Shared body of the transposed convolution layers (MXNet's ``Deconvolution``)."""

    _op_name = "Deconvolution"

    def _weight_shape(self, in_channels):
        return (in_channels, self._channels // self._groups) + self._kwargs["kernel"]


def _conv_doc(name, nd, transposed):
    return ("%d-D %sconvolution layer (MXNet's ``gluon.nn.%s``): ``channels`` output channels, "
            "``kernel_size``/``strides``/``padding``/%s``dilation`` as ints or %d-tuples, ``groups``, "
            "``activation`` applied after, ``in_channels=0`` inferred on the first call."
            % (nd, "transposed " if transposed else "", name,
               "``output_padding`` (extra size at the end)/" if transposed else "", nd))


def _conv_class(name, nd):
    def __init__(self, channels, kernel_size, strides=1, padding=0, dilation=1, groups=1,
                 layout=_LAYOUTS[nd], activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        _Conv.__init__(self, nd, channels, kernel_size, strides, padding, dilation, groups, layout,
                       in_channels, activation, use_bias, weight_initializer, bias_initializer, **kwargs)
    return type(name, (_Conv,), {"__init__": __init__, "__doc__": _conv_doc(name, nd, False)})


def _conv_transpose_class(name, nd):
    def __init__(self, channels, kernel_size, strides=1, padding=0, output_padding=0, dilation=1,
                 groups=1, layout=_LAYOUTS[nd], activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        _ConvTranspose.__init__(self, nd, channels, kernel_size, strides, padding, dilation, groups, layout,
                                in_channels, activation, use_bias, weight_initializer, bias_initializer,
                                adj=output_padding, **kwargs)
    return type(name, (_ConvTranspose,), {"__init__": __init__, "__doc__": _conv_doc(name, nd, True)})


Conv1D = _conv_class("Conv1D", 1)
Conv2D = _conv_class("Conv2D", 2)
Conv3D = _conv_class("Conv3D", 3)
Conv1DTranspose = _conv_transpose_class("Conv1DTranspose", 1)
Conv2DTranspose = _conv_transpose_class("Conv2DTranspose", 2)
Conv3DTranspose = _conv_transpose_class("Conv3DTranspose", 3)


# ------------------------------------------------------------------ pooling
class _Pooling(HybridBlock):
    """Shared body of the pooling layers (MXNet's ``Pooling`` op)."""

    def __init__(self, nd, pool_size, strides, padding, ceil_mode, global_pool, pool_type, layout,
                 count_include_pad=None, **kwargs):
        super().__init__(**kwargs)
        _check_layout(layout, nd)
        size = _tuple(pool_size, nd)
        self._kwargs = {"kernel": size, "stride": _tuple(size if strides is None else strides, nd),
                        "pad": _tuple(padding, nd), "global_pool": global_pool, "pool_type": pool_type,
                        "layout": layout, "pooling_convention": "full" if ceil_mode else "valid"}
        if count_include_pad is not None:
            self._kwargs["count_include_pad"] = count_include_pad

    def _alias(self):
        return "pool"

    def hybrid_forward(self, F, x):
        """``F.Pooling`` with this layer's window."""
        return F.Pooling(x, **self._kwargs)

    def __repr__(self):
        k = self._kwargs
        return ("{name}(size={kernel}, stride={stride}, padding={pad}, ceil_mode={ceil}, "
                "global_pool={global_pool}, pool_type={pool_type}, layout={layout})").format(
            name=type(self).__name__, ceil=k["pooling_convention"] == "full", **k)


def _pool_class(name, nd, pool_type):
    if pool_type == "max":
        def __init__(self, pool_size=2, strides=None, padding=0, layout=_LAYOUTS[nd], ceil_mode=False, **kwargs):
            _Pooling.__init__(self, nd, pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)
    else:
        def __init__(self, pool_size=2, strides=None, padding=0, ceil_mode=False, layout=_LAYOUTS[nd],
                     count_include_pad=True, **kwargs):
            _Pooling.__init__(self, nd, pool_size, strides, padding, ceil_mode, False, "avg", layout,
                              count_include_pad, **kwargs)
    doc = ("%d-D %s pooling (MXNet's ``gluon.nn.%s``): windows of ``pool_size`` every ``strides`` "
           "(default: pool_size), zero ``padding``; ``ceil_mode`` keeps partial windows at the end."
           % (nd, pool_type, name))
    return type(name, (_Pooling,), {"__init__": __init__, "__doc__": doc})


def _global_pool_class(name, nd, pool_type):
    def __init__(self, layout=_LAYOUTS[nd], **kwargs):
        _Pooling.__init__(self, nd, 1, None, 0, True, True, pool_type, layout, **kwargs)
    doc = "%d-D global %s pooling: one value per channel (MXNet's ``gluon.nn.%s``)." % (nd, pool_type, name)
    return type(name, (_Pooling,), {"__init__": __init__, "__doc__": doc})


MaxPool1D = _pool_class("MaxPool1D", 1, "max")
MaxPool2D = _pool_class("MaxPool2D", 2, "max")
MaxPool3D = _pool_class("MaxPool3D", 3, "max")
AvgPool1D = _pool_class("AvgPool1D", 1, "avg")
AvgPool2D = _pool_class("AvgPool2D", 2, "avg")
AvgPool3D = _pool_class("AvgPool3D", 3, "avg")
GlobalMaxPool1D = _global_pool_class("GlobalMaxPool1D", 1, "max")
GlobalMaxPool2D = _global_pool_class("GlobalMaxPool2D", 2, "max")
GlobalMaxPool3D = _global_pool_class("GlobalMaxPool3D", 3, "max")
GlobalAvgPool1D = _global_pool_class("GlobalAvgPool1D", 1, "avg")
GlobalAvgPool2D = _global_pool_class("GlobalAvgPool2D", 2, "avg")
GlobalAvgPool3D = _global_pool_class("GlobalAvgPool3D", 3, "avg")


# ------------------------------------------------------------------ padding and normalisation
class ReflectionPad2D(HybridBlock):
    """Pad the two spatial axes of NCHW input by reflection (``padding`` int or 4-tuple
    (top, bottom, left, right) as MXNet's ``pad_width`` order for H then W)."""

    def __init__(self, padding=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = (padding,) * 4
        padding = tuple(padding)
        if len(padding) != 4:
            raise ValueError("ReflectionPad2D: padding must be an int or 4 values, got %s" % (padding,))
        self._padding = (0, 0, 0, 0) + padding

    def hybrid_forward(self, F, x):
        """``F.pad(x, mode='reflect')``."""
        return F.pad(x, mode="reflect", pad_width=self._padding)


class InstanceNorm(_ChannelAffineNorm):
    """Normalise each sample's each channel over its remaining axes, then scale and shift
    per channel (MXNet's ``gluon.nn.InstanceNorm``; ``scale`` defaults to False as there)."""

    def __init__(self, axis=1, epsilon=1e-5, center=True, scale=False, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         in_channels, **kwargs)

    def hybrid_forward(self, F, x, gamma, beta):
        """``F.InstanceNorm`` (with the channel axis moved to 1 and back when needed)."""
        if self._axis == 1:
            return F.InstanceNorm(x, gamma, beta, eps=self._epsilon)
        x = x.swapaxes(1, self._axis)
        return F.InstanceNorm(x, gamma, beta, eps=self._epsilon).swapaxes(1, self._axis)


class GroupNorm(HybridBlock):
    """Split the channels into ``num_groups`` groups, normalise each sample's group, then
    scale and shift per group (MXNet 1.9.1's ``gluon.nn.GroupNorm``; gamma/beta are
    ``(num_groups,)``)."""

    def __init__(self, num_groups=1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "num_groups": num_groups, "center": center, "scale": scale}
        self._num_groups = num_groups
        self._epsilon = epsilon
        with self.name_scope():
            self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                         shape=(num_groups,), init=gamma_initializer)
            self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                        shape=(num_groups,), init=beta_initializer)

    def hybrid_forward(self, F, x, gamma, beta):
        """``F.GroupNorm``."""
        return F.GroupNorm(x, gamma, beta, num_groups=self._num_groups, eps=self._epsilon)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self._kwargs.items()))
