"""Single-direction, single-layer recurrence kernels of the fused ``RNN`` op (raw arrays).

One kernel per mode (``rnn_relu``, ``rnn_tanh``, ``lstm``, ``gru``).  The input
projection of all time steps is one GEMM; each step adds one GEMM of the previous
state with all the gates' recurrent weights, then elementwise updates written into
preallocated buffers (views of the op's reserve space, which the backward reads).
Gate orders follow MXNet / cuDNN: LSTM ``i, f, c, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.

``forward(xp, x, h0, c0, wi, wh, bi, bh, buf, valid)`` fills ``buf`` (a dict of
``(T, N, k)`` arrays named by :attr:`Kernel.buffers`) and returns the final ``(h, c)``
(``c`` None without a cell).  ``backward(xp, x, h0, c0, wi, wh, buf, dy, dhT, dcT,
valid)`` returns ``(dx, dwi, dwh, dbi, dbh, dh0, dc0)``.  ``valid`` is None or a boolean
``(T, N, 1)`` step mask (variable-length sequences): past a sequence's end its states
carry over unchanged, so the stored ``h``/``c`` buffers are the carried states.
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


class Kernel:
    """Interface of a recurrence kernel: gate count, buffer names, forward, backward."""

    ngates = 1
    buffers = ("h",)
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
        n_h = h0.shape[1]
        _project(xp, x, wi, g)
        g += bi + bh
        wht = wh.T
        h, c = h0, c0
        for t in range(x.shape[0]):
            gt = g[t]
            gt += h @ wht
            _sigmoid_(xp, gt[:, :2 * n_h])
            _sigmoid_(xp, gt[:, 3 * n_h:])
            cand = gt[:, 2 * n_h:3 * n_h]
            xp.tanh(cand, out=cand)
            ct = cs[t]
            xp.multiply(gt[:, n_h:2 * n_h], c, out=ct)
            ct += gt[:, :n_h] * cand
            ht = hs[t]
            xp.tanh(ct, out=ht)
            ht *= gt[:, 3 * n_h:]
            if valid is not None:
                _keep_where_invalid(xp, ct, c, valid[t])
                _keep_where_invalid(xp, ht, h, valid[t])
            h, c = ht, ct
        return h, c

    def backward(self, xp, x, h0, c0, wi, wh, buf, dy, dht, dct, valid=None):
        g, cs, hs = buf["g"], buf["c"], buf["h"]
        n_h = h0.shape[1]
        dg = xp.empty_like(g)
        dh, dc = dht, dct.copy()
        for t in range(x.shape[0] - 1, -1, -1):
            gt, d = g[t], dg[t]
            i, f, cand, o = gt[:, :n_h], gt[:, n_h:2 * n_h], gt[:, 2 * n_h:3 * n_h], gt[:, 3 * n_h:]
            valid_t = None if valid is None else valid[t]
            dh, carry_h = _split_grad(dh, dy[t], valid_t)
            if valid_t is not None:
                carry_c = dc * ~valid_t
                dc *= valid_t
            tc = xp.tanh(cs[t])
            do = d[:, 3 * n_h:]
            xp.multiply(dh, tc, out=do)
            do *= o * (1.0 - o)
            tc *= tc
            dc += dh * o * (1.0 - tc)
            c_prev = cs[t - 1] if t else c0
            xp.multiply(dc, cand * i * (1.0 - i), out=d[:, :n_h])
            xp.multiply(dc, c_prev * f * (1.0 - f), out=d[:, n_h:2 * n_h])
            xp.multiply(dc, i * (1.0 - cand * cand), out=d[:, 2 * n_h:3 * n_h])
            dc *= f
            dh = d @ wh
            if valid_t is not None:
                dh += carry_h
                dc += carry_c
        dx, dwi, dwh, dbi, dbh = _weight_grads(xp, x, h0, hs, wi, dg, dg)
        return dx, dwi, dwh, dbi, dbh, dh, dc


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


def kernel(mode):
    """The kernel of ``mode``; MXNetError naming the valid modes otherwise."""
    try:
        return KERNELS[mode]
    except KeyError:
        raise MXNetError("RNN: mode must be one of %s, got %r" % (", ".join(sorted(KERNELS)), mode)) from None
