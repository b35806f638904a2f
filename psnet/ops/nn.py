"""Neural-network layers as operators: FullyConnected, activations, softmax family,
Dropout and Embedding (MXNet 1.9.1 names, attributes and semantics).

Normalisation layers live in :mod:`psnet.ops.normalization`, loss heads in
:mod:`psnet.ops.loss_ops`.  Gradients are written with ``mx.nd`` operators so they can
be differentiated again.
"""
import math

import numpy as np

from ..base import MXNetError, ShapeError
from .registry import register
from . import _grad_util as G
from . import _special

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _normal_cdf_np(xp, x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 in the dtype of ``x``."""
    return (0.5 * (1.0 + _special.erf(xp, x / math.sqrt(2.0)))).astype(x.dtype, copy=False)


# ---------------------------------------------------------------------------- FullyConnected

def _fc_inputs(attrs):
    return ["data", "weight"] if attrs.get("no_bias", False) else ["data", "weight", "bias"]


def _fc_2d(xp, data, flatten):
    """The (rows, in_units) view of ``data`` that FullyConnected multiplies."""
    if flatten:
        return data.reshape(data.shape[0], -1) if data.ndim != 2 else data
    return data.reshape(-1, data.shape[-1])


def _fc_infer_shape(attrs, in_shapes):
    """Weight (num_hidden, in_units) and bias (num_hidden,) from the data shape."""
    data = in_shapes[0]
    if data is None:
        return None
    n = int(attrs["num_hidden"])
    if attrs.get("flatten", True):
        k = 1
        for d in data[1:]:
            k *= d
        out = (data[0], n)
    else:
        k, out = data[-1], tuple(data[:-1]) + (n,)
    shapes = [tuple(data), (n, k)] + ([] if attrs.get("no_bias", False) else [(n,)])
    return shapes, [out]


@register("FullyConnected", inputs=_fc_inputs, infer_shape=_fc_infer_shape)
def fully_connected(xp, data, weight, *bias, num_hidden, no_bias=False, flatten=True):
    """y = x W^T + b with W of shape (num_hidden, in_units); ``flatten`` folds all but the
    first axis of ``data`` into in_units, otherwise the last axis is used."""
    x = _fc_2d(xp, data, flatten)
    if weight.shape != (int(num_hidden), x.shape[1]):
        raise ShapeError("FullyConnected: weight has shape %s but num_hidden=%d and data %s give "
                         "(%d, %d)" % (weight.shape, int(num_hidden), data.shape, int(num_hidden), x.shape[1]))
    out = x @ weight.T
    if bias:
        out += bias[0]
    if not flatten and data.ndim != 2:
        out = out.reshape(data.shape[:-1] + (int(num_hidden),))
    return out


@fully_connected.def_grad
def _fc_grad(i, o, g, attrs):
    keys = {"flatten": attrs["flatten"], "no_bias": len(i) < 3}
    return list(G.nd().invoke(_backward_FullyConnected, [g[0], i[0], i[1]], keys))


def _fc_backward(xp, ograd, data, weight, *, flatten=True, no_bias=False, need_data=True):
    """FullyConnected's gradients (data, weight[, bias]) for output gradient ``ograd`` in one
    op, so a traced graph replays one step per layer; ``need_data=False`` (set when a graph
    prunes the data gradient of a first layer) skips that product and gives None."""
    x = _fc_2d(xp, data, flatten)
    og = ograd if ograd.ndim == 2 else ograd.reshape(x.shape[0], weight.shape[0])
    gx = None
    if need_data:
        gx = og @ weight
        gx = gx if data.ndim == 2 else gx.reshape(data.shape)
    gw = og.T @ x
    return (gx, gw) if no_bias else (gx, gw, og.sum(axis=0))


def _fc_backward_outputs(attrs):
    return 2 if attrs.get("no_bias", False) else 3


_backward_FullyConnected = register("_backward_FullyConnected", num_outputs=_fc_backward_outputs)(_fc_backward)
_fc_backward.prune_outputs = lambda attrs, needed: dict(attrs, need_data=bool(needed[0]))


@_backward_FullyConnected.def_grad
def _fc_backward_grad(i, o, g, attrs):
    """Second-order gradient: with heads (a, b, c) on (gx, gw, gb) = (og W, og^T x, sum og),
    d og = a W^T + x b^T + c, d x = og b, d W = a^T og (in ``mx.nd`` operators)."""
    nd = G.nd()
    og, data, weight = i
    x = data if data.ndim == 2 else data.reshape(
        (data.shape[0], -1) if attrs["flatten"] else (-1, data.shape[-1]))
    og2 = og if og.ndim == 2 else og.reshape((x.shape[0], weight.shape[0]))
    a = g[0] if g[0] is not None else nd.zeros_like(data)
    b = g[1] if g[1] is not None else nd.zeros_like(weight)
    a = a if a.ndim == 2 else a.reshape(x.shape)
    d_og = nd.dot(a, weight, transpose_b=True) + nd.dot(x, b, transpose_b=True)
    if len(g) > 2 and g[2] is not None:
        d_og = nd.broadcast_add(d_og, g[2].reshape((1, -1)))
    d_x = nd.dot(og2, b)
    return [d_og.reshape(og.shape), d_x.reshape(data.shape), nd.dot(og2, a, transpose_a=True)]


@register("_FullyConnected_relu", inputs=_fc_inputs, infer_shape=_fc_infer_shape)
def fully_connected_relu(xp, data, weight, *bias, num_hidden, no_bias=False, flatten=True):
    """``Activation(FullyConnected(...), act_type='relu')`` in one op: the graph executor
    puts it where a traced graph has that pair (the ReLU ``Dense`` layers)."""
    out = fully_connected.forward(xp, data, weight, *bias, num_hidden=num_hidden, no_bias=no_bias,
                                  flatten=flatten)
    return xp.maximum(out, 0, out=out)


@fully_connected_relu.def_grad
def _fc_relu_grad(i, o, g, attrs):
    keys = {"flatten": attrs["flatten"], "no_bias": len(i) < 3}
    return list(G.nd().invoke(_backward_FullyConnected_relu, [g[0], o[0], i[0], i[1]], keys))


def _fc_relu_backward(xp, ograd, out, data, weight, *, flatten=True, no_bias=False, need_data=True):
    """:func:`_fc_backward` of ``ograd`` masked where the ReLU output ``out`` is not positive."""
    return _fc_backward(xp, ograd * (out > 0), data, weight, flatten=flatten, no_bias=no_bias,
                        need_data=need_data)


_backward_FullyConnected_relu = register("_backward_FullyConnected_relu",
                                         num_outputs=_fc_backward_outputs)(_fc_relu_backward)
_fc_relu_backward.prune_outputs = _fc_backward.prune_outputs


@_backward_FullyConnected_relu.def_grad
def _fc_relu_backward_grad(i, o, g, attrs):
    """Second order: :func:`_fc_backward_grad` at the masked output gradient, its ``og``
    part masked again; the mask is piecewise constant, so ``out`` gets none."""
    og, out, data, weight = i
    mask = out > 0
    d_og, d_x, d_w = _fc_backward_grad([og * mask, data, weight], None, g, attrs)
    return [d_og * mask, None, d_x, d_w]


# ---------------------------------------------------------------------------- activations
def _sigmoid(xp, x):
    # the tanh form never overflows, unlike 1 / (1 + exp(-x))
    half = x.dtype.type(0.5)
    return half * xp.tanh(half * x) + half


_ACTIVATIONS = {
    "relu": lambda xp, x: xp.maximum(x, 0),
    "sigmoid": _sigmoid,
    "tanh": lambda xp, x: xp.tanh(x),
    "softrelu": lambda xp, x: xp.logaddexp(x.dtype.type(0), x),
    "softsign": lambda xp, x: x / (1 + xp.abs(x)),
}


@register("Activation")
def activation(xp, data, *, act_type):
    """Elementwise activation: relu, sigmoid, tanh, softrelu (log(1+e^x)) or softsign (x/(1+|x|))."""
    fn = _ACTIVATIONS.get(act_type)
    if fn is None:
        raise MXNetError("Activation: unknown act_type %r (use %s)" % (act_type, ", ".join(_ACTIVATIONS)))
    return fn(xp, data).astype(data.dtype, copy=False)


@activation.def_grad
def _activation_grad(i, o, g, attrs):
    t, x, y, og = attrs["act_type"], i[0], o[0], g[0]
    if t == "relu":
        return [og * (y > 0)]
    if t == "sigmoid":
        return [og * y * (1 - y)]
    if t == "tanh":
        return [og * (1 - y * y)]
    if t == "softrelu":
        return [og * G.nd().Activation(x, act_type="sigmoid")]
    d = 1 + G.nd().abs(x)
    return [og / (d * d)]


@register("_normal_cdf")
def _normal_cdf(xp, data):
    """Phi(x), the standard normal CDF (GELU's gate)."""
    return _normal_cdf_np(xp, data)


@_normal_cdf.def_grad
def _normal_cdf_grad(i, o, g, attrs):
    x = i[0]
    return [g[0] * G.nd().exp(x * x * -0.5) * _INV_SQRT_2PI]


# LeakyReLU ------------------------------------------------------------------------------
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946
_LEAKY_TYPES = ("leaky", "prelu", "elu", "selu", "gelu", "rrelu")


def _leaky_inputs(attrs):
    return ["data", "gamma"] if attrs.get("act_type", "leaky") == "prelu" else ["data"]


def _gamma_shape(gamma, ndim):
    """PReLU's gamma of shape (C,) broadcast along axis 1 (a (1,) gamma is shared)."""
    if gamma.shape[0] == 1 or ndim < 2:
        return gamma.shape
    return (1, gamma.shape[0]) + (1,) * (ndim - 2)


@register("LeakyReLU", inputs=_leaky_inputs, num_outputs=lambda a: 2 if a.get("act_type") == "rrelu" else 1,
          num_visible_outputs=1)
def leaky_relu(xp, data, *gamma, act_type="leaky", slope=0.25, lower_bound=0.125, upper_bound=0.334,
               is_train=False, rng=None):
    """Leaky rectifiers: leaky (slope), prelu (learned gamma per channel), elu, selu, gelu,
    rrelu (random slope in [lower_bound, upper_bound] in training, their mean otherwise)."""
    dt = data.dtype.type
    pos = data > 0
    if act_type == "leaky":
        return xp.where(pos, data, data * dt(slope))
    if act_type == "prelu":
        gm = gamma[0].reshape(_gamma_shape(gamma[0], data.ndim))
        return xp.where(pos, data, data * gm).astype(data.dtype, copy=False)
    if act_type == "elu":
        return xp.where(pos, data, dt(slope) * xp.expm1(xp.minimum(data, 0)))
    if act_type == "selu":
        neg = dt(_SELU_ALPHA) * xp.expm1(xp.minimum(data, 0))
        return dt(_SELU_LAMBDA) * xp.where(pos, data, neg)
    if act_type == "gelu":
        return data * _normal_cdf_np(xp, data)
    if act_type == "rrelu":
        if is_train:
            slopes = (lower_bound + (upper_bound - lower_bound) * rng.random(data.shape)).astype(data.dtype)
        else:
            slopes = xp.full(data.shape, (lower_bound + upper_bound) / 2.0, dtype=data.dtype)
        mask = xp.where(pos, dt(1), slopes)
        return data * mask, mask
    raise MXNetError("LeakyReLU: unknown act_type %r (use %s)" % (act_type, ", ".join(_LEAKY_TYPES)))


@leaky_relu.def_grad
def _leaky_relu_grad(i, o, g, attrs):
    nd = G.nd()
    t, x, og = attrs["act_type"], i[0], g[0]
    pos = x > 0
    if t == "leaky":
        return [og * (pos + (1 - pos) * attrs["slope"])]
    if t == "prelu":
        gamma = i[1]
        gm = gamma.reshape(_gamma_shape(gamma, x.ndim))
        neg = 1 - pos
        gx = og * (pos + neg * gm)
        gg = og * x * neg
        gg = nd.sum(gg) if gamma.shape[0] == 1 or x.ndim < 2 else nd.sum(gg, axis=1, exclude=True)
        return [gx, gg.reshape(gamma.shape)]
    if t in ("elu", "selu"):
        # the true derivative; MXNet 1.9.1 returns lambda * (y + alpha) for selu, which is not
        alpha, scale = (attrs["slope"], 1.0) if t == "elu" else (_SELU_ALPHA, _SELU_LAMBDA)
        neg = 1 - pos
        return [og * (pos + neg * alpha * nd.exp(x * neg)) * scale]
    if t == "gelu":
        pdf = nd.exp(x * x * -0.5) * _INV_SQRT_2PI
        return [og * (nd._normal_cdf(x) + x * pdf)]
    return [og * o[1]]  # rrelu: the slopes drawn in forward


# ---------------------------------------------------------------------------- softmax family
def _scaled(xp, data, temperature):
    if temperature is None or temperature == 1.0:
        return data
    return data / data.dtype.type(temperature)


_SHORT_AXIS = 32


def max_keepdims(xp, x, axis):
    """``x.max(axis, keepdims=True)``.  NumPy reduces a short last axis row by row (about
    60 ns a row), so a last axis of at most 32 (a batch of class scores) is reduced as a
    transposed copy along its first axis instead: 2-7x faster, the same values."""
    n = x.shape[axis]
    if xp is np and x.ndim > 1 and axis in (-1, x.ndim - 1) and n <= _SHORT_AXIS:
        return x.reshape(-1, n).T.copy().max(axis=0).reshape(x.shape[:-1] + (1,))
    return x.max(axis=axis, keepdims=True)


def _softmax_np(xp, x, axis):
    e = xp.exp(x - max_keepdims(xp, x, axis))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _log_softmax_np(xp, x, axis):
    shifted = x - max_keepdims(xp, x, axis)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def _out_dtype(data, dtype):
    return data.dtype if dtype is None else dtype


def _softmax_inputs(attrs):
    return ["data", "length"] if attrs.get("use_length", False) else ["data"]


def _masked_softmax_np(xp, x, length, axis):
    """Softmax over the first ``length`` positions along ``axis`` (zeros beyond them)."""
    axis %= x.ndim
    if length.dtype.kind not in "iu":
        raise MXNetError("softmax: length must be an integer array, got %s" % length.dtype)
    pos = xp.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - axis - 1))
    mask = pos < xp.expand_dims(length, axis)
    top = xp.where(mask, x, -xp.inf).max(axis=axis, keepdims=True)
    e = xp.exp(x - xp.where(xp.isfinite(top), top, 0)) * mask
    total = e.sum(axis=axis, keepdims=True)
    return e / xp.where(total == 0, 1, total)


@register("softmax", inputs=_softmax_inputs)
def softmax(xp, data, *length, axis=-1, temperature=None, dtype=None, use_length=False):
    """exp(x/T) / sum(exp(x/T)) along ``axis`` (max-shifted, so it never overflows).  With
    ``use_length`` the integer input ``length`` (data's shape without ``axis``) says how many
    leading positions take part; the rest get 0."""
    x = _scaled(xp, data, temperature)
    out = _masked_softmax_np(xp, x, length[0], int(axis)) if use_length else _softmax_np(xp, x, int(axis))
    return out.astype(_out_dtype(data, dtype), copy=False)


@register("log_softmax")
def log_softmax(xp, data, axis=-1, temperature=None, dtype=None, use_length=False):
    """log(softmax(x/T)) along ``axis``, computed as a shifted log-sum-exp."""
    _no_length("log_softmax", use_length)
    return _log_softmax_np(xp, _scaled(xp, data, temperature), int(axis)).astype(_out_dtype(data, dtype), copy=False)


@register("softmin")
def softmin(xp, data, axis=-1, temperature=None, dtype=None, use_length=False):
    """softmax(-x/T) along ``axis``."""
    _no_length("softmin", use_length)
    return _softmax_np(xp, -_scaled(xp, data, temperature), int(axis)).astype(_out_dtype(data, dtype), copy=False)


def _no_length(name, use_length):
    if use_length:
        raise MXNetError("%s: use_length=True is supported by softmax only (as in MXNet)" % name)


def _softmax_backward(y, og, axis):
    """d softmax: y * (g - sum(g * y)) along ``axis``."""
    return y * (og - G.nd().sum(og * y, axis=axis, keepdims=True))


def _finish(gx, data, attrs, sign=1.0):
    """Scale a softmax-family gradient by sign / temperature (skipped when it is 1) and
    return it in the input's dtype."""
    t = attrs["temperature"]
    factor = sign if t is None else sign / t
    if factor != 1.0:
        gx = gx * factor
    return gx.astype(data.dtype, copy=False)


@softmax.def_grad
def _softmax_grad(i, o, g, attrs):
    return [_finish(_softmax_backward(o[0], g[0], int(attrs["axis"])), i[0], attrs), None]  # None: length


@softmin.def_grad
def _softmin_grad(i, o, g, attrs):
    return [_finish(_softmax_backward(o[0], g[0], int(attrs["axis"])), i[0], attrs, -1.0)]


@log_softmax.def_grad
def _log_softmax_grad(i, o, g, attrs):
    nd = G.nd()
    gx = g[0] - nd.exp(o[0]) * nd.sum(g[0], axis=int(attrs["axis"]), keepdims=True)
    return [_finish(gx, i[0], attrs)]


@register("SoftmaxActivation")
def softmax_activation(xp, data, mode="instance"):
    """Softmax over the last axis (mode='instance', MXNet's 2-D flattening) or over axis 1
    (mode='channel')."""
    if mode not in ("instance", "channel"):
        raise MXNetError("SoftmaxActivation: mode must be 'instance' or 'channel', got %r" % (mode,))
    return _softmax_np(xp, data, 1 if mode == "channel" else -1)


@softmax_activation.def_grad
def _softmax_activation_grad(i, o, g, attrs):
    return [_softmax_backward(o[0], g[0], 1 if attrs["mode"] == "channel" else -1)]


# ---------------------------------------------------------------------------- Dropout
@register("Dropout", num_outputs=2, num_visible_outputs=1)
def dropout(xp, data, p=0.5, mode="training", axes=(), cudnn_off=False, is_train=False, rng=None):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) in training
    (or always with mode='always'); the identity in prediction.  ``axes`` share one mask
    value along those axes (variational dropout).  The mask is a hidden output."""
    if not 0.0 <= p <= 1.0:
        raise MXNetError("Dropout: p must be in [0, 1], got %r" % (p,))
    if mode not in ("training", "always"):
        raise MXNetError("Dropout: mode must be 'training' or 'always', got %r" % (mode,))
    if not (is_train or mode == "always") or p == 0:
        return data.copy(), xp.ones((1,) * data.ndim, dtype=data.dtype)
    shape = tuple(1 if k in _norm_axes(axes, data.ndim) else d for k, d in enumerate(data.shape))
    if p == 1:
        mask = xp.zeros(shape, dtype=data.dtype)
    else:
        keep = rng.random(shape, dtype=xp.float32) >= p
        mask = keep.astype(data.dtype) * data.dtype.type(1.0 / (1.0 - p))
    return data * mask, mask


def _norm_axes(axes, ndim):
    return {a % ndim for a in ((axes,) if isinstance(axes, int) else tuple(axes))}


@dropout.def_grad
def _dropout_grad(i, o, g, attrs):
    return [g[0] * o[1]]


# ---------------------------------------------------------------------------- Embedding
def _embedding_index(xp, data, input_dim):
    """Integer row indices of ``data``, clipped to [0, input_dim) as MXNet does."""
    return xp.clip(data.astype(xp.int64), 0, int(input_dim) - 1)


@register("Embedding")
def embedding(xp, data, weight, *, input_dim, output_dim, dtype="float32", sparse_grad=False):
    """Rows of ``weight`` (input_dim, output_dim) picked by the integer values of ``data``;
    the output has shape data.shape + (output_dim,)."""
    if weight.shape != (int(input_dim), int(output_dim)):
        raise ShapeError("Embedding: weight has shape %s, expected (input_dim, output_dim) = (%d, %d)"
                         % (weight.shape, int(input_dim), int(output_dim)))
    return weight[_embedding_index(xp, data, input_dim)]


@embedding.def_grad
def _embedding_grad(i, o, g, attrs):
    nd = G.nd()
    data, weight = i
    idx = _embedding_index(data.context.backend.xp, data._data, attrs["input_dim"])
    gw = nd.invoke(nd.registry.get("_scatter_getitem"), [g[0]], {"key": idx, "shape": weight.shape})
    return [None, gw]

