"""Basic layers: Sequential containers, Dense, Dropout, BatchNorm, LayerNorm, Embedding,
Flatten, Lambda, HybridLambda (MXNet 1.9.1 ``gluon.nn.basic_layers``)."""
import warnings

import numpy as np

from ... import ndarray as nd
from ...base import MXNetError
from ..block import Block, HybridBlock, _indent
from .activations import Activation

__all__ = ["Sequential", "HybridSequential", "Dense", "Dropout", "BatchNorm", "BatchNormReLU",
           "LayerNorm", "Embedding", "Flatten", "Lambda", "HybridLambda"]


def _run_chain(children, x, args):
    """Feed ``x`` through ``children`` in order; a tuple output's tail becomes extra inputs."""
    for block in children:
        x = block(x, *args)
        args = ()
        if isinstance(x, (tuple, list)):
            args = x[1:]
            x = x[0]
    if args:
        x = tuple([x] + list(args))
    return x


class _SequenceMixin:
    """``add``, indexing, slicing, ``len`` and ``repr`` shared by both Sequential containers."""

    _is_container = True

    def add(self, *blocks):
        """Append Blocks (several at once allowed)."""
        for block in blocks:
            self.register_child(block)

    def __repr__(self):
        modstr = "\n".join("  ({key}): {block}".format(key=key, block=_indent(repr(block), 2))
                           for key, block in self._children.items())
        return "{name}(\n{modstr}\n)".format(name=self.__class__.__name__, modstr=modstr)

    def __getitem__(self, key):
        layers = list(self._children.values())[key]
        if isinstance(layers, list):
            net = type(self)(prefix=self._prefix)
            with net.name_scope():
                net.add(*layers)
            return net
        return layers

    def __len__(self):
        return len(self._children)


class Sequential(_SequenceMixin, Block):
    """Stack of Blocks run one after the other: ``net.add(nn.Dense(64), nn.Dense(10))``."""

    def forward(self, x, *args):
        """Run the children in order."""
        return _run_chain(self._children.values(), x, args)

    def hybridize(self, active=True, **kwargs):
        """Hybridize the children (warns when HybridSequential would serve better)."""
        if self._children and all(isinstance(c, HybridBlock) for c in self._children.values()):
            warnings.warn("All children of this Sequential layer '%s' are HybridBlocks. Consider "
                          "using HybridSequential for the best performance." % self.prefix, stacklevel=2)
        super().hybridize(active, **kwargs)


class HybridSequential(_SequenceMixin, HybridBlock):
    """Stack of HybridBlocks run one after the other (can be hybridized as a whole)."""

    def hybrid_forward(self, F, x, *args):
        """Run the children in order."""
        return _run_chain(self._children.values(), x, args)


class Dense(HybridBlock):
    """Fully connected layer ``activation(x @ weight.T + bias)``.

    ``in_units=0`` leaves the input size to the first forward pass; ``flatten=True``
    flattens all but the first axis of the input, ``False`` applies to the last axis.
    """

    def __init__(self, units, activation=None, use_bias=True, flatten=True, dtype="float32",
                 weight_initializer=None, bias_initializer="zeros", in_units=0, **kwargs):
        super().__init__(**kwargs)
        self._flatten = flatten
        with self.name_scope():
            self._units = units
            self._in_units = in_units
            self.weight = self.params.get("weight", shape=(units, in_units), init=weight_initializer,
                                          dtype=dtype, allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(units,), init=bias_initializer,
                                            dtype=dtype, allow_deferred_init=True)
            else:
                self.bias = None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def infer_shape(self, x, *args):
        """The weight's input size from ``x``."""
        in_units = int(np.prod(x.shape[1:])) if self._flatten else x.shape[-1]
        self.weight.shape = (self._units, in_units)

    def hybrid_forward(self, F, x, weight, bias=None):
        """``F.FullyConnected`` then the activation."""
        if bias is None:
            out = F.FullyConnected(x, weight, no_bias=True, num_hidden=self._units, flatten=self._flatten)
        else:
            out = F.FullyConnected(x, weight, bias, num_hidden=self._units, flatten=self._flatten)
        act = self.act
        return out if act is None else act(out)

    def __repr__(self):
        shape = self.weight.shape
        return "{name}({layout}, {act})".format(
            name=self.__class__.__name__, act=self.act if self.act else "linear",
            layout="{0} -> {1}".format(shape[1] if shape[1] else None, shape[0]))


class Dropout(HybridBlock):
    """Zero a fraction ``rate`` of the inputs in training (scaling the rest by 1/(1-rate)).

    ``axes``: axes along which one mask value is shared (variational dropout).
    """

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate = rate
        self._axes = axes

    def hybrid_forward(self, F, x):
        """``F.Dropout`` (the identity when rate is 0 or in prediction)."""
        if self._rate > 0:
            return F.Dropout(x, p=self._rate, axes=self._axes)
        return x

    def __repr__(self):
        return "{name}(p = {_rate}, axes={_axes})".format(name=self.__class__.__name__, **self.__dict__)


def _channel_params(block, in_channels, specs):
    """Create the per-channel Parameters ``(attr, grad_req, init, differentiable)`` of a norm layer."""
    for attr, grad_req, init, differentiable in specs:
        setattr(block, attr, block.params.get(attr, grad_req=grad_req, shape=(in_channels,), init=init,
                                              allow_deferred_init=True, differentiable=differentiable))


class BatchNorm(HybridBlock):
    """Batch normalization over all axes but ``axis`` (the channel axis, 1 for NCHW).

    In training the batch statistics normalize and update the running statistics
    (``running = momentum * running + (1 - momentum) * batch``); in prediction (or with
    ``use_global_stats``) the running statistics are used.
    """

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                 use_global_stats=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones",
                 in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"axis": axis, "eps": epsilon, "momentum": momentum,
                        "fix_gamma": not scale, "use_global_stats": use_global_stats}
        self._axis = axis
        if in_channels != 0:
            self.in_channels = in_channels
        with self.name_scope():
            _channel_params(self, in_channels, (
                ("gamma", "write" if scale else "null", gamma_initializer, scale),
                ("beta", "write" if center else "null", beta_initializer, center),
                ("running_mean", "null", running_mean_initializer, False),
                ("running_var", "null", running_variance_initializer, False)))

    def cast(self, dtype):
        """Cast Parameters; float16 keeps float32 statistics, as in MXNet."""
        if np.dtype(dtype).name == "float16":
            dtype = "float32"
        super().cast(dtype)

    def infer_shape(self, x, *args):
        """The channel count from ``x.shape[axis]``."""
        c = x.shape[self._axis]
        for p in (self.gamma, self.beta, self.running_mean, self.running_var):
            p.shape = (c,)

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        """``F.BatchNorm`` with the running statistics as auxiliary states."""
        return F.BatchNorm(x, gamma, beta, running_mean, running_var, **self._kwargs)

    def __repr__(self):
        in_channels = self.gamma.shape[0]
        content = ", ".join("=".join([k, repr(v)]) for k, v in self._kwargs.items())
        return "{name}({content}, in_channels={c})".format(
            name=self.__class__.__name__, content=content, c=in_channels if in_channels else None)


class BatchNormReLU(BatchNorm):
    """:class:`BatchNorm` followed by ``relu`` (MXNet 1.9.1's fused ``BatchNormWithReLU``).

    Same arguments, Parameters (``gamma``, ``beta``, ``running_mean``, ``running_var``) and
    running-statistics updates as BatchNorm; the output is ``max(BatchNorm(x), 0)``.
    """

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        """``F.relu(F.BatchNorm(...))``."""
        return F.relu(F.BatchNorm(x, gamma, beta, running_mean, running_var, **self._kwargs))


class _ChannelAffineNorm(HybridBlock):
    """Base of the norm layers with a learned per-channel ``gamma``/``beta`` along ``axis``
    (deferred until the first input when ``in_channels`` is 0); subclasses add the op."""

    def __init__(self, axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                 in_channels, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        with self.name_scope():
            _channel_params(self, in_channels, (
                ("gamma", "write" if scale else "null", gamma_initializer, True),
                ("beta", "write" if center else "null", beta_initializer, True)))

    def infer_shape(self, x, *args):
        """The channel count from ``x.shape[axis]``."""
        c = x.shape[self._axis]
        self.gamma.shape = (c,)
        self.beta.shape = (c,)

    def __repr__(self):
        content = ", ".join("=".join([k, repr(v)]) for k, v in self._kwargs.items())
        return "{name}({content}, in_channels={c})".format(
            name=self.__class__.__name__, content=content, c=self.gamma.shape[0])


class LayerNorm(_ChannelAffineNorm):
    """Normalize each sample over ``axis`` (the last by default), then scale and shift."""

    def __init__(self, axis=-1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         in_channels, **kwargs)

    def hybrid_forward(self, F, data, gamma, beta):
        """``F.LayerNorm``."""
        return F.LayerNorm(data, gamma, beta, axis=self._axis, eps=self._epsilon)


class Embedding(HybridBlock):
    """Map integer indices to rows of a learned ``(input_dim, output_dim)`` table."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None,
                 sparse_grad=False, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype,
                        "sparse_grad": sparse_grad}
        with self.name_scope():
            self.weight = self.params.get("weight", shape=(input_dim, output_dim),
                                          init=weight_initializer, dtype=dtype, allow_deferred_init=True)

    def hybrid_forward(self, F, x, weight):
        """``F.Embedding``."""
        return F.Embedding(x, weight, **self._kwargs)

    def __repr__(self):
        return "{block_name}({input_dim} -> {output_dim}, {dtype})".format(
            block_name=self.__class__.__name__, **self._kwargs)


class Flatten(HybridBlock):
    """Reshape ``(N, ...)`` to ``(N, -1)``."""

    def hybrid_forward(self, F, x):
        """``F.Flatten``."""
        return F.Flatten(x)

    def __repr__(self):
        return self.__class__.__name__


def _resolve(kind, function, by_name):
    """(callable, display name) of a Lambda's ``function``: a callable, or an ``mx.nd`` name
    turned into a callable by ``by_name``."""
    if isinstance(function, str):
        if getattr(nd, function, None) is None:
            raise MXNetError("%s: function name %s is not found in ndarray." % (kind, function))
        return by_name(function), function
    if callable(function):
        return function, function.__name__
    raise MXNetError("%s: unrecognized function %r: give a callable or the name of an mx.nd "
                     "function" % (kind, function))


class _LambdaRepr:
    """``Name(function)`` repr shared by Lambda and HybridLambda."""

    def __repr__(self):
        return "{name}({function})".format(name=self.__class__.__name__, function=self._func_name)


class Lambda(_LambdaRepr, Block):
    """Wrap a function (or the name of an ``mx.nd`` function) as a Block."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        self._func, self._func_name = _resolve("Lambda", function, lambda name: getattr(nd, name))

    def forward(self, *args):
        """``function(*args)``."""
        return self._func(*args)


class HybridLambda(_LambdaRepr, HybridBlock):
    """Wrap ``function(F, x, *args)`` (or the name of an operator) as a HybridBlock."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        self._func, self._func_name = _resolve(
            "HybridLambda", function, lambda name: lambda F, *args: getattr(F, name)(*args))

    def hybrid_forward(self, F, x, *args):
        """``function(F, x, *args)``."""
        return self._func(F, x, *args)
