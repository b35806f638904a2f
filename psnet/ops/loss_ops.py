"""Loss operators: softmax_cross_entropy, smooth_l1, and the symbolic API's loss heads.

The heads (SoftmaxOutput, LinearRegressionOutput, LogisticRegressionOutput,
MAERegressionOutput) behave as in MXNet: forward gives the prediction (softmax,
identity, sigmoid), and backward *ignores the incoming head gradient* and returns the
gradient of the matching loss with respect to the input, computed from the label.  The
label gets no gradient.
"""
from ..base import MXNetError, NotSupportedError, ShapeError
from .registry import get as _get_op, register
from . import _grad_util as G
from .indexing import _as_index
from .nn import _log_softmax_np, _sigmoid, _softmax_np, max_keepdims


def _int_labels(xp, label, nclass, op):
    idx = label.astype(xp.int64)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= nclass):
        raise MXNetError("%s: labels must lie in [0, %d), got values from %d to %d"
                         % (op, nclass, int(idx.min()), int(idx.max())))
    return idx


@register("softmax_cross_entropy")
def softmax_cross_entropy(xp, data, label):
    """Sum over the batch of -log softmax(data)[label]; data (N, C), label (N,); output (1,)."""
    if data.ndim != 2 or label.shape != data.shape[:1]:
        raise ShapeError("softmax_cross_entropy: data must be (N, C) and label (N,), got %s and %s"
                         % (data.shape, label.shape))
    idx = _int_labels(xp, label, data.shape[1], "softmax_cross_entropy")
    logp = _log_softmax_np(xp, data, 1)
    return -xp.take_along_axis(logp, idx[:, None], axis=1).sum(keepdims=True).reshape(1)


@softmax_cross_entropy.def_grad
def _softmax_cross_entropy_grad(i, o, g, attrs):
    data, label = i
    xp = data.context.backend.xp
    idx = _int_labels(xp, label._data, data.shape[1], "softmax_cross_entropy")
    onehot = (idx[:, None] == xp.arange(data.shape[1])).astype(data._data.dtype)
    prob = G.nd().softmax(data, axis=1)
    return [(prob - G.nd().from_backend(onehot, data.context)) * g[0], None]


@register("smooth_l1")
def smooth_l1(xp, data, scalar=1.0):
    """Huber-style loss elementwise: 0.5 (s x)^2 where |x| < 1/s^2, else |x| - 0.5/s^2."""
    s2 = data.dtype.type(scalar * scalar)
    ax = xp.abs(data)
    return xp.where(ax < 1 / s2, 0.5 * s2 * data * data, ax - 0.5 / s2).astype(data.dtype, copy=False)


@smooth_l1.def_grad
def _smooth_l1_grad(i, o, g, attrs):
    x = i[0]
    s2 = attrs["scalar"] ** 2
    inner = G.nd().abs(x) < 1.0 / s2
    sign = (x > 0) - (x < 0)
    return [g[0] * (inner * x * s2 + (1 - inner) * sign)]


# ---------------------------------------------------------------------------- SoftmaxOutput
@register("SoftmaxOutput", aliases=("Softmax",))
def softmax_output(xp, data, label, grad_scale=1.0, ignore_label=-1.0, multi_output=False,
                   use_ignore=False, preserve_shape=False, normalization="null", out_grad=False,
                   smooth_alpha=0.0):
    """Softmax over the last axis (axis 1 with ``multi_output``; the last axis of every
    position with ``preserve_shape``); backward gives grad_scale * (softmax - one_hot(label))
    normalised by ``normalization`` ('null', 'batch' or 'valid' = non-ignored labels);
    ``smooth_alpha`` smooths the one-hot target to 1 - alpha on the label and
    alpha / (C - 1) elsewhere."""
    if out_grad:
        raise NotSupportedError("SoftmaxOutput: out_grad=True is not supported; use softmax with "
                                "a loss (e.g. gluon.loss.SoftmaxCrossEntropyLoss) instead")
    if normalization not in ("null", "batch", "valid"):
        raise MXNetError("SoftmaxOutput: normalization must be 'null', 'batch' or 'valid', got %r"
                         % (normalization,))
    if multi_output:
        return _softmax_np(xp, data, 1)
    if preserve_shape:
        return _softmax_np(xp, data, -1)
    return _softmax_np(xp, data.reshape(data.shape[0], -1), 1).reshape(data.shape)


@softmax_output.def_grad
def _softmax_output_grad(i, o, g, attrs):
    data, label = i
    xp = data.context.backend.xp
    prob = o[0]._data
    lab = label._data
    multi = attrs["multi_output"]
    if not multi and not attrs["preserve_shape"]:
        prob = prob.reshape(data.shape[0], -1)
    axis = 1 if multi else prob.ndim - 1
    keep = None
    if lab.shape == prob.shape:  # probability labels
        grad = prob - lab
    else:
        lab = lab.reshape(prob.shape[:axis] + prob.shape[axis + 1:])
        if attrs["use_ignore"]:
            keep = lab != attrs["ignore_label"]
        valid = lab if keep is None else xp.where(keep, lab, 0)  # ignored labels may be out of range
        idx = xp.expand_dims(_int_labels(xp, valid, prob.shape[axis], "SoftmaxOutput"), axis)
        # target: 1 - alpha at the label, alpha / (C - 1) elsewhere (alpha = 0: one-hot)
        alpha = float(attrs["smooth_alpha"])
        off = alpha / (prob.shape[axis] - 1) if alpha else 0.0
        grad = prob - prob.dtype.type(off)
        hit = xp.take_along_axis(grad, idx, axis=axis) - prob.dtype.type(1 - alpha - off)
        xp.put_along_axis(grad, idx, hit, axis=axis)
        if keep is not None:
            grad *= xp.expand_dims(keep, axis).astype(grad.dtype)
    scale = float(attrs["grad_scale"])
    if multi:
        for d in prob.shape[2:]:
            scale /= d
    if attrs["normalization"] == "batch":
        scale /= prob.shape[0]
    elif attrs["normalization"] == "valid":
        scale /= max(float(keep.sum()) if keep is not None else float(lab.size), 1.0)
    grad = (grad * grad.dtype.type(scale)).reshape(data.shape)
    return [G.nd().from_backend(grad, data.context), None]


# ---------------------------------------------------------------------------- regression heads
def _regression(name, forward_fn, grad_fn, doc):
    def forward(xp, data, label, grad_scale=1.0):
        if label.size != data.size:
            raise ShapeError("%s: label of shape %s does not match data of shape %s"
                             % (name, label.shape, data.shape))
        return forward_fn(xp, data)
    forward.__doc__ = doc
    op = register(name)(forward)

    @op.def_grad
    def _grad(i, o, g, attrs):
        data, label = i
        per_sample = data.size // data.shape[0] if data.ndim > 1 else 1
        diff = o[0] - label.reshape(data.shape)
        return [grad_fn(diff) * (float(attrs["grad_scale"]) / per_sample), None]
    return op


_regression("LinearRegressionOutput", lambda xp, x: x.copy(), lambda d: d,
            "Identity forward; backward gives grad_scale/k * (data - label), k = outputs per sample.")
_regression("LogisticRegressionOutput", _sigmoid, lambda d: d,
            "Sigmoid forward; backward gives grad_scale/k * (sigmoid(data) - label).")
_regression("MAERegressionOutput", lambda xp, x: x.copy(), lambda d: (d > 0) - (d < 0),
            "Identity forward; backward gives grad_scale/k * sign(data - label).")


# ------------------------------------------------ log_softmax -> pick, fused for cached graphs
def _picked_index(xp, data, index, axis, mode):
    """(axis in range, integer indices with the picked axis kept as size 1), as ``pick``."""
    axis %= data.ndim
    if index.ndim == data.ndim:
        index = index.reshape(index.shape[:axis] + index.shape[axis + 1:])
    idx = _as_index(xp, index, data.shape[axis], mode, "_log_softmax_pick")
    return axis, idx.reshape(idx.shape[:axis] + (1,) + idx.shape[axis:])


@register("_log_softmax_pick", num_outputs=2, num_visible_outputs=1)
def log_softmax_pick(xp, data, index, axis=-1, keepdims=False, mode="clip"):
    """``pick(log_softmax(data, axis), index, axis, keepdims, mode)`` in one op: the graph
    executor puts it where a traced graph has that pair (the cross-entropy losses), so the
    step and its gradient replay as one call each.  A second, hidden output keeps the
    derivative ``onehot(index) - softmax(data)`` for the gradient, which is then one
    product."""
    axis, idx = _picked_index(xp, data, index, int(axis), mode)
    shifted = data - max_keepdims(xp, data, axis)
    e = xp.exp(shifted)
    total = e.sum(axis=axis, keepdims=True)
    slope = xp.divide(e, total, out=e)
    xp.negative(slope, out=slope)
    if axis == data.ndim - 1:  # the class axis: flat positions of the picked entries
        n = data.shape[-1]
        pos = xp.arange(0, idx.size * n, n) + idx.reshape(-1)
        r = shifted.reshape(-1)[pos].reshape(idx.shape)
        slope.reshape(-1)[pos] += 1
    else:
        r = xp.take_along_axis(shifted, idx, axis=axis)
        xp.put_along_axis(slope, idx, xp.take_along_axis(slope, idx, axis=axis) + 1, axis=axis)
    r -= xp.log(total)  # both keep the axis as size 1
    return (r if keepdims else r.reshape(r.shape[:axis] + r.shape[axis + 1:])), slope


@log_softmax_pick.def_grad
def _log_softmax_pick_grad(i, o, g, attrs):
    keys = {"axis": attrs["axis"], "keepdims": attrs["keepdims"]}
    if type(o[1]._ag) is tuple:
        # create_graph: the tape sends no gradient back through a hidden output, so the
        # second derivative goes through the gradients of the pair this op stands for
        pick_attrs = {"axis": attrs["axis"], "keepdims": attrs["keepdims"], "mode": attrs["mode"]}
        logp = G.nd().log_softmax(i[0], axis=int(attrs["axis"]))
        g_logp = _get_op("pick").grad([logp, i[1]], None, g, pick_attrs)[0]
        return [_get_op("log_softmax").grad([i[0]], [logp], [g_logp],
                                            _get_op("log_softmax").full_attrs({"axis": attrs["axis"]}))[0],
                None]
    return [G.nd().invoke(_backward_log_softmax_pick, [g[0], o[1]], keys), None]


def _lsp_backward(xp, ograd, slope, axis=-1, keepdims=False):
    """The data gradient of :func:`log_softmax_pick` from its hidden output ``slope``
    (``onehot(index) - softmax(data)``): ``ograd`` spread along ``axis``, times ``slope``."""
    axis = int(axis) % slope.ndim
    og = ograd if keepdims else ograd.reshape(ograd.shape[:axis] + (1,) + ograd.shape[axis:])
    return slope * og


_backward_log_softmax_pick = register("_backward_log_softmax_pick")(_lsp_backward)


@_backward_log_softmax_pick.def_grad
def _lsp_backward_grad(i, o, g, attrs):
    """With head ``a`` on gx = og * slope: d og = sum(a slope) over the axis, d slope = a og."""
    nd = G.nd()
    og, slope = i
    a, axis, keep = g[0], int(attrs["axis"]), attrs["keepdims"]
    og_b = og if keep else nd.expand_dims(og, axis=axis)
    return [nd.sum(a * slope, axis=axis, keepdims=keep), nd.broadcast_mul(a, og_b)]
