"""The fused ``RNN`` operator (MXNet 1.9.1's signature and flat parameter layout).

``RNN(data, parameters, state[, state_cell], state_size, num_layers, mode,
bidirectional, p, state_outputs)`` runs a stack of ``num_layers`` recurrent layers
(modes ``rnn_relu``, ``rnn_tanh``, ``lstm``, ``gru``) over ``data`` of shape
``(T, N, I)`` and returns the top layer's outputs ``(T, N, D*H)`` and, with
``state_outputs``, the final states ``(L*D, N, H)``.  ``parameters`` is one flat vector:
every weight first (for each layer, for each direction: i2h ``(G*H, I_l)`` then h2h
``(G*H, H)``), then every bias in the same order (i2h ``(G*H,)`` then h2h), ``G`` the
number of gates.  With ``projection_size`` P (LSTMP, mode ``lstm`` only) each layer's
hidden state ``o tanh(c)`` is projected to ``r = W_r h`` (P), which is both the output
and the recurrent state: h2h weights are ``(4H, P)``, each layer-direction's weights are
followed by its h2r weight ``(P, H)``, layers 1.. read ``D*P`` inputs, outputs have
``D*P`` features, ``state`` and the final hidden states are ``(L*D, N, P)`` while the
cell states keep ``(L*D, N, H)``.  Dropout ``p`` applies to the inputs of layers 1.. in training.
With ``use_sequence_length`` a trailing ``sequence_length`` (N,) input gives each
sequence's valid length, with cuDNN's semantics (MXNet 1.9.1's CPU kernel ignores it):
outputs past the end are zero, the final states are those of the last valid step, and
the reverse direction starts from each sequence's last valid step.

The recurrences are :mod:`psnet.ops._rnn_kernels`; the forward writes what the
gradient needs into a hidden *reserve* output (one flat array), which
``_backward_RNN`` reads to run backpropagation through time on raw arrays.
"""
from ..base import NotSupportedError, ShapeError
from .registry import register
from ._rnn_kernels import kernel
from . import _grad_util as G

_BACKWARD_ATTRS = ("state_size", "num_layers", "bidirectional", "mode", "p", "use_sequence_length",
                   "projection_size")


def _truthy(v):
    return v in (True, "True", "true", 1, "1")


def _projection(v):
    """The projection size as an int, or None (absent, ``None``, ``'None'``)."""
    if v in (None, "None", ""):
        return None
    p = int(v)
    if p <= 0:
        raise ShapeError("RNN: projection_size must be a positive integer, got %r" % (v,))
    return p


def _is_lstm(attrs):
    return attrs.get("mode") == "lstm"


def _inputs(attrs):
    names = ["data", "parameters", "state"] + (["state_cell"] if _is_lstm(attrs) else [])
    return names + (["sequence_length"] if _truthy(attrs.get("use_sequence_length", False)) else [])


def _n_visible(attrs):
    if not _truthy(attrs.get("state_outputs", False)):
        return 1
    return 3 if _is_lstm(attrs) else 2


def _output_names(attrs):
    return ["output", "state_output", "statecell_output"][:_n_visible(attrs)]


class _Geometry:
    """Sizes of one RNN call: T, N, I, H, L, D, the projection P (None without), the
    output width ``out`` (H or P), the kernel and the flat parameter offsets."""

    def __init__(self, data_shape, state_size, num_layers, bidirectional, mode, projection_size=None):
        if len(data_shape) != 3:
            raise ShapeError("RNN: data must be 3-D (T, N, I) in TNC layout, got shape %s" % (tuple(data_shape),))
        self.t, self.n, self.i = (int(s) for s in data_shape)
        self.h, self.l = int(state_size), int(num_layers)
        self.d = 2 if _truthy(bidirectional) else 1
        self.proj = _projection(projection_size)
        self.mode, self.k = mode, kernel(mode, self.proj)
        self.out = self.h if self.proj is None else self.proj
        gh = self.k.ngates * self.h
        self.weights, self.biases, off = [], [], 0
        for layer in range(self.l):
            width = self.i if layer == 0 else self.d * self.out
            for _ in range(self.d):
                entries = ((off, (gh, width)), (off + gh * width, (gh, self.out)))
                off += gh * (width + self.out)
                if self.proj is not None:
                    entries += ((off, (self.proj, self.h)),)
                    off += self.proj * self.h
                self.weights.append(entries)
        for _ in range(self.l * self.d):
            self.biases.append(((off, (gh,)), (off + gh, (gh,))))
            off += 2 * gh
        self.param_size = off

    def state_shape(self):
        """Shape of ``state`` and of the final hidden states (P wide with a projection)."""
        return (self.l * self.d, self.n, self.out)

    def cell_shape(self):
        """Shape of ``state_cell`` and of the final cell states."""
        return (self.l * self.d, self.n, self.h)

    def unpack(self, flat, j):
        """(wi, wh, bi, bh) views of layer-direction ``j`` in the flat parameter vector,
        followed by the projection weight wr with a projection."""
        views = []
        for off, shape in self.weights[j][:2] + self.biases[j] + self.weights[j][2:]:
            size = 1
            for s in shape:
                size *= s
            views.append(flat[off:off + size].reshape(shape))
        return views

    def reserve_layout(self, dropout):
        """[(key, shape)] of the reserve: per layer the dropout mask (layers 1..), per
        layer-direction the kernel's buffers."""
        entries = []
        for layer in range(self.l):
            if dropout and layer:
                entries.append(((layer, "mask"), (self.t, self.n, self.d * self.out)))
            widths = self.k.buffer_widths(self.h)
            for d in range(self.d):
                entries += [((layer, d, b), (self.t, self.n, widths[b])) for b in self.k.buffers]
        return entries

    def split_reserve(self, flat, dropout):
        """{key: view} of a flat reserve array."""
        views, off = {}, 0
        for key, shape in self.reserve_layout(dropout):
            size = shape[0] * shape[1] * shape[2]
            views[key] = flat[off:off + size].reshape(shape)
            off += size
        if off != flat.shape[0]:
            raise ShapeError("_backward_RNN: reserve has %d elements, expected %d" % (flat.shape[0], off))
        return views

    def reserve_size(self, dropout):
        """Number of elements of the reserve."""
        return sum(s[0] * s[1] * s[2] for _, s in self.reserve_layout(dropout))

    def buffers(self, views, layer, d):
        """The kernel buffers of one layer-direction."""
        return {b: views[(layer, d, b)] for b in self.k.buffers}

    def layer_output(self, order, views, layer):
        """Output of ``layer`` (T, N, D*H, or D*P with a projection): the directions'
        (projected) hidden states side by side."""
        outs = [order.output(views[(layer, d, self.k.out_buffer)], d) for d in range(self.d)]
        return outs[0] if self.d == 1 else order.xp.concatenate(outs, axis=2)


class _TimeOrder:
    """Step order of each direction, with the step mask of variable-length sequences.

    Without lengths the reverse direction reads the sequence backwards; with lengths
    (``sequence_length``, (N,)) it reads each sequence backwards from its last valid step,
    the steps past the end are masked (``valid``, (T, N, 1) bool) and the outputs there
    are zero.
    """

    def __init__(self, xp, t, n, lengths):
        self.xp = xp
        self.valid = self._rev = None
        if lengths is not None:
            steps = xp.arange(t)[:, None]
            lens = xp.clip(lengths.reshape(-1).astype(xp.int64), 0, t)[None, :]
            self.valid = (steps < lens)[:, :, None]
            self._rev = (xp.where(steps < lens, lens - 1 - steps, steps), xp.arange(n)[None, :])

    def directed(self, a, d):
        """``a`` (T, N, ...) in the step order of direction ``d`` (its own inverse)."""
        if d == 0:
            return a
        return a[::-1] if self._rev is None else a[self._rev]

    def output(self, hs, d):
        """Direction ``d``'s outputs in time order from its (carried) hidden states."""
        return self.directed(hs if self.valid is None else hs * self.valid, d)


def _check(geo, parameters, state, state_cell):
    if parameters.ndim != 1 or parameters.shape[0] != geo.param_size:
        raise ShapeError("RNN: parameters must be a flat vector of %d elements for mode=%s, "
                         "state_size=%d, num_layers=%d, bidirectional=%s and input size %d; got shape %s"
                         % (geo.param_size, geo.mode, geo.h, geo.l, geo.d == 2, geo.i,
                            tuple(parameters.shape)))
    for name, s, shape, what in (("state", state, geo.state_shape(),
                                   "state_size" if geo.proj is None else "projection_size"),
                                  ("state_cell", state_cell, geo.cell_shape(), "state_size")):
        if s is not None and tuple(s.shape) != shape:
            raise ShapeError("RNN: %s must have shape %s (layers*directions, batch, %s), got %s"
                             % (name, shape, what, tuple(s.shape)))


def _unsupported(clip_min, clip_max):
    if clip_min not in (None, "None") or clip_max not in (None, "None"):
        raise NotSupportedError("RNN: lstm_state_clip_min/max are not supported")


def _rnn_forward(xp, data, parameters, state, *rest, state_size, num_layers, mode="lstm",
                 bidirectional=False, p=0.0, state_outputs=False, projection_size=None,
                 lstm_state_clip_min=None, lstm_state_clip_max=None, lstm_state_clip_nan=False,
                 use_sequence_length=False, is_train=False, rng=None):
    """Multi-layer (bidirectional) RNN / LSTM / GRU over TNC ``data`` (see the module doc)."""
    _unsupported(lstm_state_clip_min, lstm_state_clip_max)
    geo = _Geometry(data.shape, state_size, num_layers, bidirectional, mode, projection_size)
    state_cell = rest[0] if geo.k.has_cell else None
    _check(geo, parameters, state, state_cell)
    order = _TimeOrder(xp, geo.t, geo.n, rest[-1] if _truthy(use_sequence_length) else None)
    p = float(p)
    dropout = p > 0 and geo.l > 1
    reserve = xp.empty((geo.reserve_size(dropout),), dtype=data.dtype)
    views = geo.split_reserve(reserve, dropout)
    hy = xp.empty(geo.state_shape(), dtype=data.dtype)
    cy = xp.empty(geo.cell_shape(), dtype=data.dtype) if geo.k.has_cell else None
    x = data
    for layer in range(geo.l):
        if layer and dropout:
            mask = views[(layer, "mask")]
            if is_train:
                keep = rng.random(mask.shape, dtype=xp.float32) >= p
                xp.multiply(keep, data.dtype.type(1.0 / (1.0 - p)), out=mask)
                x = x * mask
            else:
                mask.fill(1)
        for d in range(geo.d):
            j = layer * geo.d + d
            w = geo.unpack(parameters, j)
            extra = {} if geo.proj is None else {"wr": w[4]}
            hT, cT = geo.k.forward(xp, order.directed(x, d), state[j], None if cy is None else state_cell[j],
                                   *w[:4], geo.buffers(views, layer, d), order.valid, **extra)
            hy[j] = hT
            if cy is not None:
                cy[j] = cT
        x = geo.layer_output(order, views, layer)
    out = xp.array(x, copy=True)  # never a view of the reserve
    return (out, hy) + ((cy,) if cy is not None else ()) + (reserve,)


def _rnn_infer_shape(attrs, in_shapes):
    data = in_shapes[0]
    if data is None:
        return None
    geo = _Geometry(data, attrs["state_size"], attrs["num_layers"], attrs.get("bidirectional", False),
                    attrs.get("mode", "lstm"), attrs.get("projection_size"))
    st, sc = geo.state_shape(), geo.cell_shape()
    ins = [tuple(data), (geo.param_size,), st] + ([sc] if geo.k.has_cell else [])
    ins += [(geo.n,)] if len(in_shapes) > len(ins) else []
    outs = [(geo.t, geo.n, geo.d * geo.out), st] + ([sc] if geo.k.has_cell else [])
    return ins, outs


RNN = register("RNN", inputs=_inputs, num_outputs=lambda a: 4 if _is_lstm(a) else 3,
               num_visible_outputs=_n_visible, output_names=_output_names,
               infer_shape=_rnn_infer_shape)(_rnn_forward)


def _backward_inputs(attrs):
    lstm = _is_lstm(attrs)
    return (["dy", "dhy"] + (["dcy"] if lstm else []) + ["data", "parameters", "state"]
            + (["state_cell"] if lstm else []) + ["reserve"]
            + (["sequence_length"] if _truthy(attrs.get("use_sequence_length", False)) else []))


def _rnn_backward(xp, *arrays, state_size, num_layers, mode="lstm", bidirectional=False, p=0.0,
                  use_sequence_length=False, projection_size=None):
    """Backpropagation through time of :data:`RNN`: gradients of data, parameters, states."""
    lengths = arrays[-1] if _truthy(use_sequence_length) else None
    arrays = arrays[:-1] if lengths is not None else arrays
    if mode == "lstm":
        dy, dhy, dcy, data, parameters, state, state_cell, reserve = arrays
    else:
        (dy, dhy, data, parameters, state, reserve), dcy, state_cell = arrays, None, None
    geo = _Geometry(data.shape, state_size, num_layers, bidirectional, mode, projection_size)
    order = _TimeOrder(xp, geo.t, geo.n, lengths)
    dropout = float(p) > 0 and geo.l > 1
    views = geo.split_reserve(reserve, dropout)
    dparams = xp.empty_like(parameters)
    dstate = xp.empty_like(state)
    dcell = xp.empty_like(state_cell) if geo.k.has_cell else None
    dtop = dy
    for layer in range(geo.l - 1, -1, -1):
        if layer == 0:
            x = data
        else:
            x = geo.layer_output(order, views, layer - 1)
            if dropout:
                x = x * views[(layer, "mask")]
        dx = None
        for d in range(geo.d):
            j = layer * geo.d + d
            w = geo.unpack(parameters, j)
            extra = {} if geo.proj is None else {"wr": w[4]}
            dyd = dtop[:, :, d * geo.out:(d + 1) * geo.out]
            res = geo.k.backward(xp, order.directed(x, d), state[j], None if dcell is None else state_cell[j],
                                 w[0], w[1], geo.buffers(views, layer, d), order.directed(dyd, d), dhy[j],
                                 None if dcy is None else dcy[j], order.valid, **extra)
            gx = order.directed(res[0], d)
            dx = gx if dx is None else dx + gx
            for view, g in zip(geo.unpack(dparams, j), res[1:5] + res[7:]):
                view[...] = g
            dstate[j] = res[5]
            if dcell is not None:
                dcell[j] = res[6]
        dtop = dx * views[(layer, "mask")] if layer and dropout else dx
    return (dtop, dparams, dstate) + ((dcell,) if dcell is not None else ())


_backward_RNN = register("_backward_RNN", inputs=_backward_inputs,
                         num_outputs=lambda a: 4 if _is_lstm(a) else 3)(_rnn_backward)


@RNN.def_grad
def _rnn_grad(inputs, outputs, ograds, attrs):
    nd = G.nd()
    lstm = _is_lstm(attrs)
    heads = list(ograds)
    for k in range(len(heads), 3 if lstm else 2):  # final states the caller did not ask for
        heads.append(nd.zeros_like(outputs[k]))
    bw_attrs = {k: attrs[k] for k in _BACKWARD_ATTRS if k in attrs}
    n_in = 4 if lstm else 3
    grads = nd.invoke(_backward_RNN, heads + list(inputs[:n_in]) + [outputs[-1]] + list(inputs[n_in:]), bw_attrs)
    return list(grads) + [None] * (len(inputs) - n_in)



def _param_concat_infer_shape(attrs, in_shapes):
    data = in_shapes[0]
    if data is None:
        return None
    rows = kernel(attrs.get("mode", "lstm")).ngates * int(attrs["state_size"])
    shapes = [tuple(data)] + [tuple(s) if s is not None and all(s) else (rows, data[-1])
                              for s in in_shapes[1:]]
    total = sum(_size(s) for s in shapes[1:])
    return shapes, [(total,)]


def _size(shape):
    n = 1
    for s in shape:
        n *= s
    return n


@register("_rnn_param_concat", infer_shape=_param_concat_infer_shape)
def _rnn_param_concat(xp, *arrays, num_args=0, state_size=0, mode="lstm"):
    """The RNN Parameters ``arrays[1:]`` flattened into the fused op's flat vector.

    ``arrays[0]`` is the RNN's data: it only serves shape inference, filling the input
    size of first-layer i2h weights left unknown (``(G*state_size, 0)``) by Gluon.
    """
    return xp.concatenate([a.reshape(-1) for a in arrays[1:]])


@_rnn_param_concat.def_grad
def _rnn_param_concat_grad(inputs, outputs, ograds, attrs):
    nd = G.nd()
    grads, off = [None], 0
    for x in inputs[1:]:
        n = _size(x.shape)
        grads.append(nd.slice_axis(ograds[0], axis=0, begin=off, end=off + n).reshape(x.shape))
        off += n
    return grads


_GATE_NAMES = {"lstm": ("i", "f", "c", "o"), "gru": ("r", "z", "o"), "rnn_relu": ("",), "rnn_tanh": ("",)}


def gate_blocks(size, state_size, num_layers, mode, bidirectional=False):
    """``[(name, offset, shape)]`` of every gate's weight and bias in a flat RNN parameter
    vector of ``size`` elements, named as MXNet's FusedRNNCell (``l0_i2h_f_weight``).

    The input size is solved from ``size``; a size no input size gives is an error.
    """
    h, layers = int(state_size), int(num_layers)
    dirs = 2 if _truthy(bidirectional) else 1
    gh = kernel(mode).ngates * h
    upper = (layers - 1) * dirs * gh * (dirs * h + h + 2)
    inp, rem = divmod(size - upper, dirs * gh)
    inp -= h + 2
    if rem or inp <= 0:
        raise ShapeError("RNN parameters of %d elements do not fit mode=%s, state_size=%d, num_layers=%d, "
                         "bidirectional=%s" % (size, mode, h, layers, dirs == 2))
    geo = _Geometry((1, 1, inp), h, layers, dirs == 2, mode)
    blocks = []
    for j in range(layers * dirs):
        tag = "%s%d" % ("lr"[j % dirs], j // dirs)
        for kind, entries in (("weight", geo.weights[j]), ("bias", geo.biases[j])):
            for group, (off, shape) in zip(("i2h", "h2h"), entries):
                width = shape[1] if len(shape) == 2 else 1
                for k, gate in enumerate(_GATE_NAMES[mode]):
                    name = "%s_%s%s_%s" % (tag, group, "_" + gate if gate else "", kind)
                    blocks.append((name, off + k * h * width, (h, width) if len(shape) == 2 else (h,)))
    return blocks
