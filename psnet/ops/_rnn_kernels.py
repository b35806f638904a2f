"""Single-direction, single-layer recurrence kernels of the fused ``RNN`` op (raw arrays).

One kernel per mode (``rnn_relu``, ``rnn_tanh``, ``lstm``, ``gru``).  The input
projection of all time steps is one GEMM; each step adds one GEMM of the previous
state with all the gates' recurrent weights, then elementwise updates written into
preallocated buffers (views of the op's reserve space, which the backward reads).
Gate orders follow MXNet / cuDNN: LSTM ``i, f, c, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.  LSTMP (LSTM with ``projection_size``
P) feeds back and outputs ``r = W_r h`` (P) instead of ``h``; its kernels take the
projection weight ``wr`` as a trailing keyword and its ``backward`` returns ``dwr`` last.

``forward(xp, x, h0, c0, wi, wh, bi, bh, buf, valid)`` fills ``buf`` (a dict of
``(T, N, k)`` arrays named by :attr:`Kernel.buffers`) and returns the final ``(h, c)``
(``c`` None without a cell).  ``backward(xp, x, h0, c0, wi, wh, buf, dy, dhT, dcT,
valid)`` returns ``(dx, dwi, dwh, dbi, dbh, dh0, dc0)``.  ``valid`` is None or a boolean
``(T, N, 1)`` step mask (variable-length sequences): past a sequence's end its states
carry over unchanged, so the stored ``h``/``c`` buffers are the carried states.
A kernel's layer output is its :attr:`Kernel.out_buffer` (``h``, or ``r`` for LSTMP).
"""
from ..base import MXNetError


def _sigmoid_(xp, a):
    """In-place logistic sigmoid through tanh (no overflow for large |a|)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


def _project(xp, x, w, out):
    """``out[t] = x[t] @ w.T`` for all steps in one GEMM (out is a contiguous (T, N, G) array)."""
    t, n, i = x.shape
    xp.matmul(x.reshape(t * n, i), w.T, out=out.reshape(t * n, -1))


def _keep_where_invalid(xp, new, old, valid_t):
    """Past a sequence's end (``valid_t`` False) the state keeps its previous value."""
    if valid_t is not None:
        xp.copyto(new, old, where=~valid_t)


def _split_grad(dh, dyt, valid_t):
    """(gradient into this step's new state, gradient carried past the step).

    The output of a step is its new state where valid (zero elsewhere) and the carried
    state is the new state where valid, the previous one elsewhere."""
    if valid_t is None:
        return dh + dyt, None
    return (dh + dyt) * valid_t, dh * ~valid_t


def _weight_grads(xp, x, h0, hs, wi, dgi, dgh):
    """(dx, dwi, dwh, dbi, dbh) from the per-step pre-activation gradients (three GEMMs)."""
    t, n, i = x.shape
    hprev = xp.concatenate([h0[None], hs[:-1]], axis=0).reshape(t * n, -1)
    gi = dgi.reshape(t * n, -1)
    gh = dgh.reshape(t * n, -1)
    dx = (gi @ wi).reshape(t, n, i)
    return dx, gi.T @ x.reshape(t * n, i), gh.T @ hprev, gi.sum(axis=0), gh.sum(axis=0)


def _lstm_cell(xp, gt, c, ct, ht, n_h):
    """One LSTM step from the pre-activations ``gt`` (N, 4H, activated in place) and the
    previous cell ``c``: writes the new cell into ``ct`` and ``o tanh(ct)`` into ``ht``."""
    _sigmoid_(xp, gt[:, :2 * n_h])
    _sigmoid_(xp, gt[:, 3 * n_h:])
    cand = gt[:, 2 * n_h:3 * n_h]
    xp.tanh(cand, out=cand)
    xp.multiply(gt[:, n_h:2 * n_h], c, out=ct)
    ct += gt[:, :n_h] * cand
    xp.tanh(ct, out=ht)
    ht *= gt[:, 3 * n_h:]


def _lstm_cell_grad(xp, gt, d, ct, c_prev, dh, dc, n_h):
    """Backward of :func:`_lstm_cell`: writes the pre-activation gradients into ``d``
    (N, 4H) from ``dh`` (into ``o tanh(c)``) and ``dc`` (into the cell; updated in place
    to the gradient into ``c_prev``)."""
    i, f, cand, o = gt[:, :n_h], gt[:, n_h:2 * n_h], gt[:, 2 * n_h:3 * n_h], gt[:, 3 * n_h:]
    tc = xp.tanh(ct)
    do = d[:, 3 * n_h:]
    xp.multiply(dh, tc, out=do)
    do *= o * (1.0 - o)
    tc *= tc
    dc += dh * o * (1.0 - tc)
    xp.multiply(dc, cand * i * (1.0 - i), out=d[:, :n_h])
    xp.multiply(dc, c_prev * f * (1.0 - f), out=d[:, n_h:2 * n_h])
    xp.multiply(dc, i * (1.0 - cand * cand), out=d[:, 2 * n_h:3 * n_h])
    dc *= f


class Kernel:
    """Interface of a recurrence kernel: gate count, buffer names, forward, backward."""

    ngates = 1
    buffers = ("h",)
    out_buffer = "h"
    has_cell = False

    def buffer_widths(self, h):
        """Width (last dimension) of each buffer for hidden size ``h``."""
        return {"h": h}


class _Vanilla(Kernel):
    """Elman RNN: ``h' = act(W_i x + b_i + W_h h + b_h)`` with act relu or tanh."""

    def __init__(self, act):
        self.act = act

    def forward(self, xp, x, h0, c0, wi, wh, bi, bh, buf, valid=None):
        hs = buf["h"]
        _project(xp, x, wi, hs)
        hs += bi + bh
        wht = wh.T
        h = h0
        for t in range(x.shape[0]):
            ht = hs[t]
            ht += h @ wht
            if self.act == "tanh":
                xp.tanh(ht, out=ht)
            else:
                xp.maximum(ht, 0, out=ht)
            _keep_where_invalid(xp, ht, h, None if valid is None else valid[t])
            h = ht
        return h, None

    def backward(self, xp, x, h0, c0, wi, wh, buf, dy, dht, dct, valid=None):
        hs = buf["h"]
        dg = xp.empty_like(hs)
        dh = dht
        for t in range(x.shape[0] - 1, -1, -1):
            d = dg[t]
            d[...], carry = _split_grad(dh, dy[t], None if valid is None else valid[t])
            if self.act == "tanh":
                d *= 1.0 - hs[t] * hs[t]
            else:
                d *= hs[t] > 0
            dh = d @ wh
            if carry is not None:
                dh += carry
        dx, dwi, dwh, dbi, dbh = _weight_grads(xp, x, h0, hs, wi, dg, dg)
        return dx, dwi, dwh, dbi, dbh, dh, None


class _LSTM(Kernel):
    """LSTM: gates i, f, c (candidate), o; ``c' = f c + i g``, ``h' = o tanh(c')``."""

    ngates = 4
    buffers = ("g", "c", "h")
    has_cell = True

    def buffer_widths(self, h):
        """Activated gates (4H), cell states (H), hidden states (H)."""
        return {"g": 4 * h, "c": h, "h": h}

    def forward(self, xp, x, h0, c0, wi, wh, bi, bh, buf, valid=None):
        g, cs, hs = buf["g"], buf["c"], buf["h"]
        n_h = c0.shape[1]
        _project(xp, x, wi, g)
        g += bi + bh
        wht = wh.T
        h, c = h0, c0
        for t in range(x.shape[0]):
            gt = g[t]
            gt += h @ wht
            ct, ht = cs[t], hs[t]
            _lstm_cell(xp, gt, c, ct, ht, n_h)
            if valid is not None:
                _keep_where_invalid(xp, ct, c, valid[t])
                _keep_where_invalid(xp, ht, h, valid[t])
            h, c = ht, ct
        return h, c

    def backward(self, xp, x, h0, c0, wi, wh, buf, dy, dht, dct, valid=None):
        g, cs, hs = buf["g"], buf["c"], buf["h"]
        n_h = c0.shape[1]
        dg = xp.empty_like(g)
        dh, dc = dht, dct.copy()
        for t in range(x.shape[0] - 1, -1, -1):
            valid_t = None if valid is None else valid[t]
            dh, carry_h = _split_grad(dh, dy[t], valid_t)
            if valid_t is not None:
                carry_c = dc * ~valid_t
                dc *= valid_t
            _lstm_cell_grad(xp, g[t], dg[t], cs[t], cs[t - 1] if t else c0, dh, dc, n_h)
            dh = dg[t] @ wh
            if valid_t is not None:
                dh += carry_h
                dc += carry_c
        dx, dwi, dwh, dbi, dbh = _weight_grads(xp, x, h0, hs, wi, dg, dg)
        return dx, dwi, dwh, dbi, dbh, dh, dc


class _LSTMP(_LSTM):
    """LSTM with a recurrent projection (LSTMP): ``r' = W_r (o tanh(c'))`` of size P is the
    output and the recurrent state; the cell state keeps size H.

    ``forward``/``backward`` take the projection weight ``wr`` (P, H) as a trailing
    argument; ``backward`` returns its gradient after the others.
    """

    buffers = ("g", "c", "h", "r")
    out_buffer = "r"

    def __init__(self, projection_size):
        self.p = int(projection_size)

    def buffer_widths(self, h):
        """Activated gates (4H), cell states (H), unprojected (H) and projected (P) states."""
        return {"g": 4 * h, "c": h, "h": h, "r": self.p}

    def forward(self, xp, x, h0, c0, wi, wh, bi, bh, buf, valid=None, wr=None):
        g, cs, hs, rs = buf["g"], buf["c"], buf["h"], buf["r"]
        n_h = c0.shape[1]
        _project(xp, x, wi, g)
        g += bi + bh
        wht, wrt = wh.T, wr.T
        r, c = h0, c0
        for t in range(x.shape[0]):
            gt = g[t]
            gt += r @ wht
            ct, ht, rt = cs[t], hs[t], rs[t]
            _lstm_cell(xp, gt, c, ct, ht, n_h)
            xp.matmul(ht, wrt, out=rt)
            if valid is not None:
                _keep_where_invalid(xp, ct, c, valid[t])
                _keep_where_invalid(xp, rt, r, valid[t])
            r, c = rt, ct
        return r, c

    def backward(self, xp, x, h0, c0, wi, wh, buf, dy, dht, dct, valid=None, wr=None):
        g, cs, hs, rs = buf["g"], buf["c"], buf["h"], buf["r"]
        t_len, n, n_h = hs.shape
        dg = xp.empty_like(g)
        drs = xp.empty_like(rs)  # gradient into each step's projected state
        dr, dc = dht, dct.copy()
        for t in range(t_len - 1, -1, -1):
            valid_t = None if valid is None else valid[t]
            drs[t], carry_r = _split_grad(dr, dy[t], valid_t)
            if valid_t is not None:
                carry_c = dc * ~valid_t
                dc *= valid_t
            dh = drs[t] @ wr
            _lstm_cell_grad(xp, g[t], dg[t], cs[t], cs[t - 1] if t else c0, dh, dc, n_h)
            dr = dg[t] @ wh
            if valid_t is not None:
                dr += carry_r
                dc += carry_c
        dx, dwi, dwh, dbi, dbh = _weight_grads(xp, x, h0, rs, wi, dg, dg)
        dwr = drs.reshape(t_len * n, -1).T @ hs.reshape(t_len * n, n_h)
        return dx, dwi, dwh, dbi, dbh, dr, dc, dwr


class _GRU(Kernel):
    """GRU (cuDNN form): gates r, z, n; ``h' = (1 - z) n + z h``."""

    ngates = 3
    buffers = ("g", "hn", "h")

    def buffer_widths(self, h):
        """Activated gates (3H), recurrent part of n before the reset gate (H), hidden states (H)."""
        return {"g": 3 * h, "hn": h, "h": h}

    def forward(self, xp, x, h0, c0, wi, wh, bi, bh, buf, valid=None):
        g, hn, hs = buf["g"], buf["hn"], buf["h"]
        n_h = h0.shape[1]
        _project(xp, x, wi, g)
        g += bi
        wht = wh.T
        h = h0
        for t in range(x.shape[0]):
            gt = g[t]
            gh = h @ wht
            gh += bh
            gt[:, :2 * n_h] += gh[:, :2 * n_h]
            _sigmoid_(xp, gt[:, :2 * n_h])
            hn[t] = gh[:, 2 * n_h:]
            n = gt[:, 2 * n_h:]
            n += gt[:, :n_h] * hn[t]
            xp.tanh(n, out=n)
            ht = hs[t]
            xp.subtract(h, n, out=ht)
            ht *= gt[:, n_h:2 * n_h]
            ht += n
            _keep_where_invalid(xp, ht, h, None if valid is None else valid[t])
            h = ht
        return h, None

    def backward(self, xp, x, h0, c0, wi, wh, buf, dy, dht, dct, valid=None):
        g, hn, hs = buf["g"], buf["hn"], buf["h"]
        n_h = h0.shape[1]
        dgi = xp.empty_like(g)
        dgh = xp.empty_like(g)
        dh = dht
        for t in range(x.shape[0] - 1, -1, -1):
            gt, di, dhh = g[t], dgi[t], dgh[t]
            r, z, n = gt[:, :n_h], gt[:, n_h:2 * n_h], gt[:, 2 * n_h:]
            h_prev = hs[t - 1] if t else h0
            dh, carry = _split_grad(dh, dy[t], None if valid is None else valid[t])
            dn = di[:, 2 * n_h:]
            xp.multiply(dh, (1.0 - z) * (1.0 - n * n), out=dn)
            xp.multiply(dn, r, out=dhh[:, 2 * n_h:])
            xp.multiply(dn, hn[t] * r * (1.0 - r), out=di[:, :n_h])
            xp.multiply(dh, (h_prev - n) * z * (1.0 - z), out=di[:, n_h:2 * n_h])
            dhh[:, :2 * n_h] = di[:, :2 * n_h]
            dh = dh * z + dhh @ wh
            if carry is not None:
                dh += carry
        dx, dwi, dwh, dbi, dbh = _weight_grads(xp, x, h0, hs, wi, dgi, dgh)
        return dx, dwi, dwh, dbi, dbh, dh, None


KERNELS = {"rnn_relu": _Vanilla("relu"), "rnn_tanh": _Vanilla("tanh"), "lstm": _LSTM(), "gru": _GRU()}


def kernel(mode, projection_size=None):
    """The kernel of ``mode`` (LSTMP for ``lstm`` with a ``projection_size``); MXNetError
    naming the valid modes otherwise."""
    if projection_size is not None:
        if mode != "lstm":
            raise MXNetError("RNN: projection_size is only supported for mode='lstm', got mode=%r" % (mode,))
        return _LSTMP(projection_size)
    try:
        return KERNELS[mode]
    except KeyError:
        raise MXNetError("RNN: mode must be one of %s, got %r" % (", ".join(sorted(KERNELS)), mode)) from None
