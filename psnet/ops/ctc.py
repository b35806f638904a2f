"""Connectionist Temporal Classification loss: ``CTCLoss`` (MXNet 1.9.1's ``ctc_loss``).

``data`` (T, N, C) holds unnormalised activations (softmax is applied inside over the
alphabet axis), ``label`` (N, L) the label sequences.  With ``blank_label='first'`` the
blank is class 0, labels are 1..C-1 and a label row ends at its first 0; with ``'last'``
the blank is class C-1, labels are 0..C-2 and a row ends at its first -1.  Optional inputs
``data_lengths`` / ``label_lengths`` (N,), switched on by ``use_data_lengths`` /
``use_label_lengths``, give each sequence's length instead.  As in MXNet, float labels and
lengths are rounded to the nearest integer, a label row wider than the sequence is an
error, and a sequence too short for its labels (fewer frames than labels plus repeated
neighbours) gets loss 0 and gradient 0.  A label that no alignment produces (a blank class
inside ``label_lengths``, say) gets loss inf, as in MXNet, and gradient 0.

The forward pass runs the log-space alpha recursion over the extended label sequence
(blank, l1, blank, l2, ..., blank) for the whole batch and every label position at once,
looping only over time; the beta recursion runs in the same pass and gives the gradient
with respect to the activations, ``softmax - posterior occupancy``, kept as a hidden
second output (zero past each sequence's length).  The op's gradient is then
``ograd[None, :, None] * hidden``.
"""
import numpy as np

from ..base import MXNetError, NotSupportedError, ShapeError
from .registry import register
from . import _grad_util as G
from .nn import _log_softmax_np

_OP = "CTCLoss"


def _truthy(v):
    return v in (True, "True", "true", 1, "1")


def _inputs(attrs):
    names = ["data", "label"]
    if _truthy(attrs.get("use_data_lengths", False)):
        names.append("data_lengths")
    if _truthy(attrs.get("use_label_lengths", False)):
        names.append("label_lengths")
    return names


def _blank_first(blank_label):
    if blank_label not in ("first", "last"):
        raise MXNetError("%s: blank_label must be 'first' or 'last', got %r" % (_OP, blank_label))
    return blank_label == "first"


def _check_shapes(data, label, lengths):
    """Raise ShapeError naming the shapes when the inputs do not fit together (MXNet's checks)."""
    if len(data) != 3:
        raise ShapeError("%s: data must be 3-D (sequence_length, batch, alphabet_size), got shape %s"
                         % (_OP, tuple(data)))
    if label is not None:
        if len(label) != 2:
            raise ShapeError("%s: label must be 2-D (batch, label_length), got shape %s (data shape %s)"
                             % (_OP, tuple(label), tuple(data)))
        if label[0] != data[1]:
            raise ShapeError("%s: label has batch size %d but data has %d (label shape %s, data shape %s)"
                             % (_OP, label[0], data[1], tuple(label), tuple(data)))
        if label[1] > data[0]:
            raise ShapeError("%s: labels of length %d (label shape %s) cannot be longer than the data "
                             "sequence of length %d (data shape %s)"
                             % (_OP, label[1], tuple(label), data[0], tuple(data)))
    for name, s in lengths:
        if s is not None and (len(s) != 1 or s[0] != data[1]):
            raise ShapeError("%s: %s must have shape (%d,) (the batch size of data %s), got %s"
                             % (_OP, name, data[1], tuple(data), tuple(s)))


def _rounded(xp, x):
    """Integer values of ``x`` (int64), rounding floats half away from zero as MXNet does."""
    if x.dtype.kind in "iub":
        return x.astype(xp.int64)
    return (xp.sign(x) * xp.floor(xp.abs(x) + 0.5)).astype(xp.int64)


def _lengths_in(xp, name, arr, hi, what):
    """Rounded (N,) lengths, checked to lie in [0, hi]."""
    v = _rounded(xp, arr.reshape(-1))
    if v.size and (int(v.min()) < 0 or int(v.max()) > hi):
        raise MXNetError("%s: %s must lie in [0, %d] (%s), got values from %d to %d"
                         % (_OP, name, hi, what, int(v.min()), int(v.max())))
    return v


def _lse3(a, b, c, xp):
    """Elementwise log(exp(a) + exp(b) + exp(c)); -inf where all three are -inf."""
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(xp.isfinite(m), m, 0)
    return m + xp.log(xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m))


def _ctc(xp, data, label, data_lengths, label_lengths, first):
    """(loss (N,), gradient w.r.t. data (T, N, C)), both in ``data``'s dtype."""
    t_max, n, c = data.shape
    width = label.shape[1]
    wdt = np.float64 if data.dtype == np.float64 else np.float32
    if t_max == 0 or n == 0:
        return xp.zeros((n,), data.dtype), xp.zeros(data.shape, data.dtype)
    x = data.astype(wdt, copy=False)
    blank, pad = (0, 0) if first else (c - 1, -1)
    lab = _rounded(xp, label)
    if label_lengths is None:
        is_pad = lab == pad
        ll = xp.where(is_pad.any(axis=1), is_pad.argmax(axis=1), width) if width else xp.zeros(n, xp.int64)
    else:
        ll = _lengths_in(xp, "label_lengths", label_lengths, width, "the label width")
    dl = xp.full((n,), t_max, dtype=xp.int64) if data_lengths is None else \
        _lengths_in(xp, "data_lengths", data_lengths, t_max, "the sequence length of data")
    inside = xp.arange(width)[None, :] < ll[:, None]              # (N, L) labels in use
    if inside.any():
        used = lab[inside]
        lo, hi = int(used.min()), int(used.max())
        if lo < 0 or hi >= c:
            raise MXNetError("%s: labels must lie in [0, %d) (alphabet_size %d, blank_label=%r), got "
                             "values from %d to %d" % (_OP, c, c, "first" if first else "last", lo, hi))
    lab = xp.where(inside, lab, blank)
    # extended sequence: blank, l1, blank, l2, ..., blank  (S = 2L + 1)
    s_len = 2 * width + 1
    ext = xp.full((n, s_len), blank, dtype=xp.int64)
    ext[:, 1::2] = lab
    skip = xp.zeros((n, s_len), dtype=bool)                       # s may be entered from s - 2
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    repeats = (inside[:, 1:] & (lab[:, 1:] == lab[:, :-1])).sum(axis=1) if width > 1 else 0
    dead = (ll + repeats > dl) | (dl == 0)                        # MXNet: loss 0, gradient 0

    logp = _log_softmax_np(xp, x, 2)                               # (T, N, C)
    bidx = xp.arange(n)
    lp = logp[:, bidx[:, None], ext]                               # (T, N, S): log p of each state
    ninf = wdt(-np.inf)
    # alpha (log-space forward variables), two -inf guard columns on the left
    alpha = xp.full((t_max, n, s_len + 2), ninf, dtype=wdt)
    alpha[0, :, 2] = lp[0, :, 0]
    if s_len > 1:
        alpha[0, :, 3] = xp.where(ll > 0, lp[0, :, 1], ninf)
    no_skip = ~skip
    for t in range(1, t_max):
        prev = alpha[t - 1]
        two = xp.where(no_skip, ninf, prev[:, :-2])
        alpha[t, :, 2:] = _lse3(prev[:, 2:], prev[:, 1:-1], two, xp) + lp[t]
    # beta (log-space, excluding frame t's own emission); s + 1 and s + 2 past the end are -inf
    end = xp.full((n, s_len), ninf, dtype=wdt)                    # at each sequence's last frame
    end[bidx, 2 * ll] = 0
    some = ll > 0
    end[bidx[some], 2 * ll[some] - 1] = 0
    beta = xp.full((t_max, n, s_len), ninf, dtype=wdt)
    guard = xp.full((n, 2), ninf, dtype=wdt)
    skip_next = xp.zeros((n, s_len), dtype=bool)                  # s + 2 may be entered from s
    skip_next[:, :-2] = skip[:, 2:]
    last = (dl - 1)[:, None]
    for t in range(t_max - 1, -1, -1):
        if t < t_max - 1:
            nxt = xp.concatenate([beta[t + 1] + lp[t + 1], guard], axis=1)
            rec = _lse3(nxt[:, :s_len], nxt[:, 1:s_len + 1], xp.where(skip_next, nxt[:, 2:], ninf), xp)
            beta[t] = xp.where(t < last, rec, ninf)
        beta[t] = xp.where(t == last, end, beta[t])
    # log Z from alpha at each sequence's last frame: states 2L and 2L - 1
    a_last = alpha[xp.maximum(dl - 1, 0), bidx]                   # (N, S + 2)
    z1 = a_last[bidx, 2 * ll + 2]
    z2 = xp.where(ll > 0, a_last[bidx, 2 * ll + 1], ninf)
    log_z = _lse3(z1, z2, xp.full_like(z1, ninf), xp)
    finite = xp.isfinite(log_z) & ~dead
    loss = xp.where(dead, wdt(0), -log_z)
    # gradient: softmax - sum over the states of each class of their occupancy
    occ = xp.exp(alpha[:, :, 2:] + beta - xp.where(finite, log_z, 0)[None, :, None])
    keep = (xp.arange(t_max)[:, None] < dl[None, :]) & finite[None, :]   # (T, N)
    occ = xp.where(keep[:, :, None], occ, 0)
    flat = (xp.arange(t_max * n).reshape(t_max, n, 1) * c + ext[None]).reshape(-1)
    scat = xp.bincount(flat, weights=occ.reshape(-1), minlength=t_max * n * c).reshape(t_max, n, c)
    grad = xp.exp(logp) * keep[:, :, None] - scat.astype(wdt, copy=False)
    return loss.astype(data.dtype, copy=False), grad.astype(data.dtype, copy=False)


def _infer_shape(attrs, in_shapes):
    """data (T, N, C), label (N, L), lengths (N,); outputs (N,) and the hidden (T, N, C)."""
    data = in_shapes[0]
    if data is None:
        return None
    names = _inputs(attrs)
    shapes = dict(zip(names, in_shapes))
    _check_shapes(data, shapes.get("label"),
                  [(k, shapes.get(k)) for k in names[2:]])
    ins = [tuple(data), shapes.get("label")] + [(data[1],)] * (len(names) - 2)
    return ins, [(data[1],), tuple(data)]


@register(_OP, aliases=("ctc_loss", "_contrib_CTCLoss", "_contrib_ctc_loss"), inputs=_inputs,
          num_outputs=2, num_visible_outputs=1, output_names=("output0",), infer_shape=_infer_shape)
def ctc_loss(xp, data, label, *lengths, use_data_lengths=False, use_label_lengths=False,
             blank_label="first"):
    """CTC loss per batch element (N,) of activations ``data`` (T, N, C) (softmax applied
    inside) against ``label`` (N, L); optional ``data_lengths`` / ``label_lengths`` (N,)
    inputs follow when ``use_data_lengths`` / ``use_label_lengths`` are set.  The blank is
    class 0 (labels padded with 0) for ``blank_label='first'``, class C-1 (labels padded
    with -1) for ``'last'``.  A hidden second output holds d loss / d data."""
    first = _blank_first(blank_label)
    rest = list(lengths)
    dlen = rest.pop(0) if _truthy(use_data_lengths) else None
    llen = rest.pop(0) if _truthy(use_label_lengths) else None
    _check_shapes(data.shape, label.shape,
                  [("data_lengths", None if dlen is None else dlen.shape),
                   ("label_lengths", None if llen is None else llen.shape)])
    if data.dtype.kind != "f":
        raise MXNetError("%s: data must be a floating-point array, got dtype %s" % (_OP, data.dtype))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _ctc(xp, data, label, dlen, llen, first)


@ctc_loss.def_grad
def _ctc_loss_grad(inputs, outputs, ograds, attrs):
    """``ograd[None, :, None] * hidden``; no gradient for the label and the lengths."""
    if type(outputs[1]._ag) is tuple:
        raise NotSupportedError("%s: second-order gradients (autograd with create_graph=True) are "
                                "not supported; the gradient is precomputed in the forward pass"
                                % _OP)
    nd = G.nd()
    og = nd.reshape(ograds[0], shape=(1, -1, 1))
    return [nd.broadcast_mul(og, outputs[1])] + [None] * (len(inputs) - 1)
