"""Variable-length sequence ops: SequenceMask, SequenceLast, SequenceReverse (MXNet 1.9.1).

``data`` has the time axis at ``axis`` (0: TN..., 1: NT...) and ``sequence_length``
(N,) gives each batch element's valid length when ``use_sequence_length`` is set;
otherwise every sequence has the full length.  All work by index arithmetic on the
whole array (no loop over the batch).
"""
from ..base import MXNetError, ShapeError
from .registry import register
from . import _grad_util as G


def _truthy(v):
    return v in (True, "True", "true", 1, "1")


def _inputs(attrs):
    return ["data", "sequence_length"] if _truthy(attrs.get("use_sequence_length", False)) else ["data"]


def _lengths(xp, op, data, rest, use_sequence_length, axis):
    """(T, N, lengths as int64 (N,)) of a sequence call; errors name the op and shapes."""
    axis = int(axis)
    if axis not in (0, 1) or data.ndim < 2:
        raise MXNetError("%s: axis must be 0 or 1 and data at least 2-D, got axis=%r, shape %s"
                         % (op, axis, tuple(data.shape)))
    t, n = data.shape[axis], data.shape[1 - axis]
    if not _truthy(use_sequence_length):
        return t, n, xp.full((n,), t, dtype=xp.int64)
    lengths = rest[0].reshape(-1)
    if lengths.shape[0] != n:
        raise ShapeError("%s: sequence_length has %d entries but the batch has %d (data shape %s, axis %d)"
                         % (op, lengths.shape[0], n, tuple(data.shape), axis))
    return t, n, xp.clip(lengths.astype(xp.int64), 0, t)


def _valid(xp, data, t, lengths, axis):
    """Boolean mask broadcastable to ``data``: True where the step is within its sequence."""
    steps = xp.arange(t)
    valid = steps[:, None] < lengths[None, :] if int(axis) == 0 else lengths[:, None] > steps[None, :]
    return valid.reshape(valid.shape + (1,) * (data.ndim - 2))


@register("SequenceMask", inputs=_inputs)
def sequence_mask(xp, data, *rest, use_sequence_length=False, value=0.0, axis=0):
    """``data`` with the steps past each sequence's length set to ``value``."""
    t, _, lengths = _lengths(xp, "SequenceMask", data, rest, use_sequence_length, axis)
    return xp.where(_valid(xp, data, t, lengths, axis), data, data.dtype.type(value))


@sequence_mask.def_grad
def _sequence_mask_grad(inputs, outputs, ograds, attrs):
    masked = G.nd().invoke(sequence_mask, [ograds[0]] + list(inputs[1:]), dict(attrs, value=0.0))
    return [masked] + [None] * (len(inputs) - 1)


def _last_index(xp, data, rest, use_sequence_length, axis, op):
    t, n, lengths = _lengths(xp, op, data, rest, use_sequence_length, axis)
    return n, xp.maximum(lengths - 1, 0)


@register("SequenceLast", inputs=_inputs)
def sequence_last(xp, data, *rest, use_sequence_length=False, axis=0):
    """The last valid step of each sequence: shape ``data.shape`` without the time axis."""
    n, last = _last_index(xp, data, rest, use_sequence_length, axis, "SequenceLast")
    batch = xp.arange(n)
    return data[last, batch] if int(axis) == 0 else data[batch, last]


@sequence_last.def_grad
def _sequence_last_grad(inputs, outputs, ograds, attrs):
    nd = G.nd()
    data = inputs[0]
    xp = data.context.backend.xp
    n, last = _last_index(xp, data._data, [x._data for x in inputs[1:]], attrs["use_sequence_length"],
                          attrs["axis"], "SequenceLast")
    batch = xp.arange(n)
    key = (last, batch) if int(attrs["axis"]) == 0 else (batch, last)
    gx = nd.invoke(nd.registry.get("_scatter_getitem"), [ograds[0]], {"key": key, "shape": data.shape})
    return [gx] + [None] * (len(inputs) - 1)


def _reverse_index(xp, t, lengths):
    """(T, N) source time index: reversed within each length, unchanged beyond it."""
    steps = xp.arange(t)[:, None]
    return xp.where(steps < lengths[None, :], lengths[None, :] - 1 - steps, steps)


@register("SequenceReverse", inputs=_inputs)
def sequence_reverse(xp, data, *rest, use_sequence_length=False, axis=0):
    """Each sequence reversed in time over its valid length (time axis 0)."""
    if int(axis) != 0:
        raise MXNetError("SequenceReverse: only axis=0 (TN... layout) is supported, as in MXNet; got %r" % (axis,))
    t, n, lengths = _lengths(xp, "SequenceReverse", data, rest, use_sequence_length, axis)
    return data[_reverse_index(xp, t, lengths), xp.arange(n)[None, :]]


@sequence_reverse.def_grad
def _sequence_reverse_grad(inputs, outputs, ograds, attrs):
    rev = G.nd().invoke(sequence_reverse, [ograds[0]] + list(inputs[1:]), attrs)
    return [rev] + [None] * (len(inputs) - 1)
