"""Fused recurrent layers ``RNN``, ``LSTM`` and ``GRU`` (MXNet 1.9.1's ``gluon.rnn`` layers).

Each layer keeps MXNet's Parameters (``l0_i2h_weight`` of shape (G*H, I), ``l0_h2h_weight``
(G*H, H), ``l0_i2h_bias``, ``l0_h2h_bias``, ``r0_...`` for the reverse direction; gates
in the order i, f, c, o for LSTM and r, z, n for GRU) and computes with the fused
``RNN`` operator (:mod:`psnet.ops.rnn`) on the parameters concatenated into its flat
vector.  ``layer(x)`` returns the outputs; ``layer(x, states)`` returns
``(outputs, new_states)``.  A layer made with ``use_sequence_length=True`` takes
``layer(x, states, sequence_length)`` for variable-length batches.  ``LSTM(...,
projection_size=P)`` is MXNet's LSTMP: ``l0_h2h_weight`` becomes (4H, P), each
layer-direction gets an ``l0_h2r_weight`` (P, H), the outputs have P features per
direction and the states are ``[h (L*D, N, P), c (L*D, N, H)]``.
"""
from ...base import MXNetError, NotSupportedError, ShapeError
from ...ndarray import ndarray as _nd_mod
from ...ndarray.ndarray import NDArray
from ..block import HybridBlock

__all__ = ["RNN", "LSTM", "GRU"]

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


class _RNNLayer(HybridBlock):
    """Implementation of the fused layers; see :class:`RNN`, :class:`LSTM`, :class:`GRU`."""

    def __init__(self, hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                 h2h_bias_initializer, mode, dtype, use_sequence_length=False, projection_size=None,
                 h2r_weight_initializer=None, **kwargs):
        super().__init__(**kwargs)
        if layout not in ("TNC", "NTC"):
            raise ShapeError("Invalid layout %r; must be one of ['TNC' or 'NTC']" % (layout,))
        self._hidden_size = hidden_size
        self._num_layers = num_layers
        self._mode = mode
        self._layout = layout
        self._dropout = dropout
        self._dir = 2 if bidirectional else 1
        self._use_sequence_length = use_sequence_length
        self._dtype = dtype
        self._projection_size = projection_size
        ng, nh = _GATES[mode], hidden_size
        nr = nh if projection_size is None else projection_size  # recurrent state / output width
        with self.name_scope():
            ni = input_size
            for i in range(num_layers):
                for j in ["l", "r"][:self._dir]:
                    for group, shape_in in (("i2h", ni), ("h2h", nr)):
                        init = i2h_weight_initializer if group == "i2h" else h2h_weight_initializer
                        self._register_param("%s%d_%s_weight" % (j, i, group), (ng * nh, shape_in), init)
                    self._register_param("%s%d_i2h_bias" % (j, i), (ng * nh,), i2h_bias_initializer)
                    self._register_param("%s%d_h2h_bias" % (j, i), (ng * nh,), h2h_bias_initializer)
                    if projection_size is not None:
                        self._register_param("%s%d_h2r_weight" % (j, i), (projection_size, nh),
                                             h2r_weight_initializer)
                ni = nr * self._dir

    def _register_param(self, name, shape, init):
        p = self.params.get(name, shape=shape, init=init, allow_deferred_init=True, dtype=self._dtype)
        setattr(self, name, p)
        return p

    def _flat_order(self):
        """Parameter attribute names in the fused op's flat order (weights, then biases;
        with a projection each layer-direction's h2r weight follows its h2h weight)."""
        groups = ("i2h", "h2h") if self._projection_size is None else ("i2h", "h2h", "h2r")
        return ["%s%d_%s_%s" % (d, l, g, t) for t in ("weight", "bias") for l in range(self._num_layers)
                for d in ["l", "r"][:self._dir] for g in groups if t == "weight" or g != "h2r"]

    def __repr__(self):
        shape = self.l0_i2h_weight.shape
        mapping = "{0} -> {1}".format(shape[1] if shape[1] else None, shape[0] // _GATES[self._mode])
        s = "{name}({mapping}, {layout}"
        if self._num_layers != 1:
            s += ", num_layers={num_layers}"
        if self._dropout != 0:
            s += ", dropout={dropout}"
        if self._dir == 2:
            s += ", bidirectional"
        return (s + ")").format(name=self.__class__.__name__, mapping=mapping, layout=self._layout,
                                num_layers=self._num_layers, dropout=self._dropout)

    def state_info(self, batch_size=0):
        """Shape and layout of each state (h, and c for LSTM): (layers*directions, batch, hidden);
        with a projection h is (layers*directions, batch, projection_size)."""
        lead = self._num_layers * self._dir
        info = [{"shape": (lead, batch_size, self._hidden_size), "__layout__": "LNC"}
                for _ in range(2 if self._mode == "lstm" else 1)]
        if self._projection_size is not None:
            info[0]["shape"] = (lead, batch_size, self._projection_size)
        return info

    def begin_state(self, batch_size=0, func=_nd_mod.zeros, **kwargs):
        """Initial states made by ``func(name=..., shape=..., **kwargs)`` (zeros by default)."""
        states = []
        for i, info in enumerate(self.state_info(batch_size)):
            info.pop("__layout__", None)
            info.update(kwargs)
            states.append(func(name="%sh0_%d" % (self.prefix, i), **info))
        return states

    def infer_shape(self, inputs, *states):
        """The first layer's input size from ``inputs``' last axis."""
        ni = inputs.shape[2]
        for j in ["l", "r"][:self._dir]:
            p = getattr(self, "%s0_i2h_weight" % j)
            p.shape = (p.shape[0], ni)

    def forward(self, inputs, states=None, sequence_length=None):
        """Run the layer; returns the outputs, or ``(outputs, states)`` when ``states`` is given.

        With ``use_sequence_length``, ``sequence_length`` (N,) gives each sequence's valid
        length: outputs past it are zero and the states are those at its last valid step.
        """
        if (sequence_length is not None) != bool(self._use_sequence_length):
            raise MXNetError("%s: pass sequence_length exactly when the layer was made with "
                             "use_sequence_length=True" % self.name)
        if states is None:
            states = []
        elif not isinstance(states, (list, tuple)):
            states = [states]
        if type(inputs) is NDArray:
            self._check_states(inputs, states)
            if any(p._deferred_init for p in self._reg_params.values()):
                self.infer_shape(inputs if self._layout == "TNC" else inputs.swapaxes(0, 1))
                for p in self._reg_params.values():
                    p._finish_deferred_init()
        extra = [] if sequence_length is None else [sequence_length]
        out = super().forward(inputs, *(list(states) + extra))
        if not states:
            return out
        return out[0], list(out[1:])

    def _check_states(self, inputs, states):
        if not states:
            return
        batch = inputs.shape[self._layout.find("N")]
        expected = self.state_info(batch)
        if len(states) != len(expected):
            raise ShapeError("%s: expected %d state arrays, got %d" % (self.name, len(expected), len(states)))
        for s, info in zip(states, expected):
            if tuple(s.shape) != info["shape"]:
                raise ShapeError("Invalid recurrent state shape. Expecting %s, got %s."
                                 % (info["shape"], tuple(s.shape)))

    def _zero_states(self, F, inputs):
        """Zero states (L*D, N, H) built from TNC ``inputs`` inside the graph (any batch size);
        with a projection h is (L*D, N, P)."""
        first = F.zeros_like(F.slice_axis(F.slice_axis(inputs, axis=0, begin=0, end=1), axis=2, begin=0, end=1))
        lead = self._num_layers * self._dir
        zero = F.tile(first, reps=(lead, 1, self._hidden_size))
        states = [zero] * (2 if self._mode == "lstm" else 1)
        if self._projection_size is not None:
            states[0] = F.tile(first, reps=(lead, 1, self._projection_size))
        return states

    def hybrid_forward(self, F, inputs, *args, **params):
        """Swap to TNC, concatenate the parameters, run the fused ``RNN`` op.

        ``args``: the states (none: zeros), then ``sequence_length`` with use_sequence_length.
        """
        states, lengths = (args[:-1], args[-1:]) if self._use_sequence_length else (args, ())
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, dim1=0, dim2=1)
        rnn_states = list(states) if states else self._zero_states(F, inputs)
        order = self._flat_order()
        flat = F._rnn_param_concat(inputs, *[params[n] for n in order], num_args=len(order) + 1,
                                   state_size=self._hidden_size, mode=self._mode)
        rnn = F.RNN(inputs, flat, *(rnn_states + list(lengths)), state_size=self._hidden_size,
                    num_layers=self._num_layers, bidirectional=self._dir == 2, p=self._dropout,
                    state_outputs=True, mode=self._mode, use_sequence_length=self._use_sequence_length,
                    projection_size=self._projection_size)
        outputs = rnn[0]
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, dim1=0, dim2=1)
        if not states:
            return outputs
        return [outputs] + [rnn[k] for k in range(1, len(rnn_states) + 1)]


class RNN(_RNNLayer):
    """Multi-layer Elman RNN, ``h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)``, act relu or tanh.

    Parameters follow MXNet: ``hidden_size``, ``num_layers``, ``activation`` ('relu' or
    'tanh'), ``layout`` ('TNC' or 'NTC'), ``dropout`` (between layers, in training),
    ``bidirectional``, initializers, ``input_size`` (0 = inferred on the first call).
    """

    def __init__(self, hidden_size, num_layers=1, activation="relu", layout="TNC", dropout=0,
                 bidirectional=False, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 dtype="float32", **kwargs):
        if activation not in ("relu", "tanh"):
            raise NotSupportedError("RNN: activation must be 'relu' or 'tanh', got %r" % (activation,))
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "rnn_" + activation, dtype, **kwargs)


class LSTM(_RNNLayer):
    """Multi-layer LSTM (gates i, f, c, o); states ``[h, c]`` each (layers*directions, N, H).

    Same arguments as :class:`RNN` without ``activation``, plus ``projection_size`` P
    (LSTMP: the output and the recurrent state h are ``W_r (o tanh(c))`` of size P; extra
    Parameters ``l0_h2r_weight`` (P, H) initialized by ``h2r_weight_initializer``).
    State clipping (``state_clip_min/max``) is not supported.
    """

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False,
                 input_size=0, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", projection_size=None,
                 h2r_weight_initializer=None, state_clip_min=None, state_clip_max=None,
                 state_clip_nan=False, dtype="float32", **kwargs):
        if state_clip_min is not None or state_clip_max is not None:
            raise NotSupportedError("LSTM: state clipping (state_clip_min/max) is not supported")
        if projection_size is not None and (int(projection_size) != projection_size or projection_size <= 0):
            raise ShapeError("LSTM: projection_size must be a positive integer, got %r" % (projection_size,))
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "lstm", dtype, projection_size=projection_size,
                         h2r_weight_initializer=h2r_weight_initializer, **kwargs)


class GRU(_RNNLayer):
    """Multi-layer GRU (gates r, z, n; ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``).

    Same arguments as :class:`RNN` without ``activation``.
    """

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False,
                 input_size=0, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "gru", dtype, **kwargs)
