"""Convolutional recurrent cells of MXNet 1.9.1's ``gluon.contrib.rnn``.

``Conv{1,2,3}D{RNN,LSTM,GRU}Cell(input_shape, hidden_channels, i2h_kernel, h2h_kernel,
i2h_pad, i2h_dilate, h2h_dilate, ...)``: the i2h and h2h transforms of the plain cells are
convolutions (stride 1).  ``input_shape`` is one step's shape without the batch axis
(``(C, W)``, ``(C, H, W)``, ``(C, D, H, W)``); the state keeps ``hidden_channels`` channels
and the i2h convolution's output size; the h2h convolution is padded with
``dilate * (kernel - 1) // 2`` so it keeps the state's size, which needs odd h2h kernels.
Parameter names, shapes and gate orders equal MXNet's (``conv_lstm0_i2h_weight`` of shape
``(4 * hidden_channels, C) + i2h_kernel``; LSTM gates i, f, c, o; GRU r, z, n).  Only the
channels-first layouts (``NCW``, ``NCHW``, ``NCDHW``) are supported.
"""
from numbers import Integral

from ....base import MXNetError, NotSupportedError
from ...rnn.rnn_cell import HybridRecurrentCell, _activation
from ... import hybrid as _hybrid
from .... import symbol as _sym

__all__ = ["Conv1DRNNCell", "Conv2DRNNCell", "Conv3DRNNCell", "Conv1DLSTMCell", "Conv2DLSTMCell",
           "Conv3DLSTMCell", "Conv1DGRUCell", "Conv2DGRUCell", "Conv3DGRUCell"]

_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _as_tuple(spec, dims, name):
    """An int or a length-``dims`` sequence as a tuple of ``dims`` ints."""
    if isinstance(spec, Integral):
        return (int(spec),) * dims
    spec = tuple(spec)
    if len(spec) != dims:
        raise MXNetError("For %dD convolution, the convolution settings can only be either int or "
                         "list/tuple of length %d; got %s=%s" % (dims, dims, name, spec))
    return spec


def _symbol_zero_states(inputs, layout, state_info):
    """Zero begin states of any ``(batch,) + shape`` built from the first step of Symbol
    ``inputs`` (a traced graph does not know the batch size)."""
    if isinstance(inputs, (list, tuple)):
        step = inputs[0]
    else:
        axis = layout.find("T")
        step = _sym.squeeze(_sym.slice_axis(inputs, axis=axis, begin=0, end=1), axis=axis)
    per_sample = _sym.sum(_sym.zeros_like(step), axis=0, exclude=True)  # (N,) zeros
    states = []
    for info in state_info:
        rest = tuple(info["shape"][1:])
        zero = _sym.reshape(per_sample, shape=(-1,) + (1,) * len(rest))
        states.append(_sym.tile(zero, reps=(1,) + rest))
    return states


class _BaseConvRNNCell(HybridRecurrentCell):
    """Shared construction, shapes, ``state_info``, repr and the two convolutions."""

    _gate_names = ()
    _n_states = 1

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad, i2h_dilate, h2h_dilate,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                 dims, conv_layout, activation, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        if conv_layout != _LAYOUTS[dims]:
            raise NotSupportedError("%s: conv_layout=%r is not supported; only %r (channels first) is"
                                    % (type(self).__name__, conv_layout, _LAYOUTS[dims]))
        input_shape = tuple(input_shape)
        if len(input_shape) != dims + 1:
            raise MXNetError("%s: input_shape must be (channels,) + %d spatial sizes without the batch axis, "
                             "got %s" % (type(self).__name__, dims, input_shape))
        self._hidden_channels = hidden_channels
        self._input_shape = input_shape
        self._conv_layout = conv_layout
        self._activation = activation
        self._i2h_kernel = _as_tuple(i2h_kernel, dims, "i2h_kernel")
        self._i2h_pad = _as_tuple(i2h_pad, dims, "i2h_pad")
        self._i2h_dilate = _as_tuple(i2h_dilate, dims, "i2h_dilate")
        self._h2h_kernel = _as_tuple(h2h_kernel, dims, "h2h_kernel")
        self._h2h_dilate = _as_tuple(h2h_dilate, dims, "h2h_dilate")
        if not all(k % 2 == 1 for k in self._h2h_kernel):
            raise MXNetError("Only support odd number, get h2h_kernel= %s" % str(h2h_kernel))
        self._stride = (1,) * dims
        self._channel_axis = 1
        self._in_channels = input_shape[0]
        self._h2h_pad = tuple(d * (k - 1) // 2 for d, k in zip(self._h2h_dilate, self._h2h_kernel))
        out_size = tuple(x + 2 * p - d * (k - 1) if x else 0 for x, k, p, d in
                         zip(input_shape[1:], self._i2h_kernel, self._i2h_pad, self._i2h_dilate))
        if any(s <= 0 for x, s in zip(input_shape[1:], out_size) if x):
            raise MXNetError("%s: the i2h convolution (kernel %s, pad %s, dilate %s) leaves no output for "
                             "input_shape %s" % (type(self).__name__, self._i2h_kernel, self._i2h_pad,
                                                 self._i2h_dilate, input_shape))
        self._state_shape = (hidden_channels,) + out_size
        total = hidden_channels * len(self._gate_names)
        self.i2h_weight = self.params.get("i2h_weight", shape=(total, self._in_channels) + self._i2h_kernel,
                                          init=i2h_weight_initializer, allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=(total, hidden_channels) + self._h2h_kernel,
                                          init=h2h_weight_initializer, allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(total,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(total,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def state_info(self, batch_size=0):
        """``_n_states`` states of shape ``(batch, hidden_channels) + i2h output size``."""
        return [{"shape": (batch_size,) + self._state_shape, "__layout__": self._conv_layout}
                for _ in range(self._n_states)]

    def infer_shape(self, inputs, *args):
        """The input channels from ``inputs``' channel axis."""
        self.i2h_weight.shape = (self.i2h_weight.shape[0], inputs.shape[1]) + self._i2h_kernel

    def __repr__(self):
        shape = self.i2h_weight.shape
        return "{name}({i} -> {o}, {act}, {layout})".format(
            name=self.__class__.__name__, i=shape[1] if shape[1] else None, o=shape[0],
            act=self._activation, layout=self._conv_layout)

    def _conv_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        n = self._hidden_channels * len(self._gate_names)
        i2h = F.Convolution(inputs, i2h_weight, i2h_bias, num_filter=n, kernel=self._i2h_kernel,
                            stride=self._stride, pad=self._i2h_pad, dilate=self._i2h_dilate,
                            layout=self._conv_layout)
        h2h = F.Convolution(states[0], h2h_weight, h2h_bias, num_filter=n, kernel=self._h2h_kernel,
                            stride=self._stride, pad=self._h2h_pad, dilate=self._h2h_dilate,
                            layout=self._conv_layout)
        return i2h, h2h

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """As :meth:`RecurrentCell.unroll`; inside a traced graph the zero begin states are
        built with the state's spatial shape."""
        if begin_state is None:
            first = inputs if not isinstance(inputs, (list, tuple)) else inputs[0]
            if _hybrid.is_symbol(first):
                begin_state = _symbol_zero_states(inputs, layout, self.state_info())
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout,
                              merge_outputs=merge_outputs, valid_length=valid_length)


class _ConvRNNCell(_BaseConvRNNCell):
    """Convolutional Elman cell: ``h' = act(conv(x) + conv(h))``."""

    _gate_names = ("",)

    def _alias(self):
        return "conv_rnn"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        """One step; returns ``(h', [h'])``."""
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        output = _activation(F, i2h + h2h, self._activation)
        return output, [output]


class _ConvLSTMCell(_BaseConvRNNCell):
    """Convolutional LSTM cell (gates i, f, c, o along the channel axis); states ``[h, c]``."""

    _gate_names = ("_i", "_f", "_c", "_o")
    _n_states = 2

    def _alias(self):
        return "conv_lstm"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        """One step: ``c' = f c + i act(g)``, ``h' = o act(c')``."""
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        gates = F.SliceChannel(i2h + h2h, num_outputs=4, axis=self._channel_axis)
        in_gate = F.sigmoid(gates[0])
        forget_gate = F.sigmoid(gates[1])
        in_transform = _activation(F, gates[2], self._activation)
        out_gate = F.sigmoid(gates[3])
        next_c = forget_gate * states[1] + in_gate * in_transform
        next_h = out_gate * _activation(F, next_c, self._activation)
        return next_h, [next_h, next_c]


class _ConvGRUCell(_BaseConvRNNCell):
    """Convolutional GRU cell (gates r, z, n along the channel axis); state ``[h]``."""

    _gate_names = ("_r", "_z", "_o")

    def _alias(self):
        return "conv_gru"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        """One step: ``h' = (1 - z) act(x_n + r h_n) + z h``."""
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        i2h_r, i2h_z, i2h_n = F.SliceChannel(i2h, num_outputs=3, axis=self._channel_axis)
        h2h_r, h2h_z, h2h_n = F.SliceChannel(h2h, num_outputs=3, axis=self._channel_axis)
        reset_gate = F.sigmoid(i2h_r + h2h_r)
        update_gate = F.sigmoid(i2h_z + h2h_z)
        candidate = _activation(F, i2h_n + reset_gate * h2h_n, self._activation)
        next_h = (F.ones_like(update_gate) - update_gate) * candidate + update_gate * states[0]
        return next_h, [next_h]


def _make(base, dims, doc):
    defaults_pad = (0,) * dims
    defaults_dil = (1,) * dims

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad=defaults_pad,
                 i2h_dilate=defaults_dil, h2h_dilate=defaults_dil, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 conv_layout=_LAYOUTS[dims], activation="tanh", prefix=None, params=None):
        base.__init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad, i2h_dilate,
                      h2h_dilate, i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                      h2h_bias_initializer, dims, conv_layout, activation, prefix=prefix, params=params)

    __init__.__doc__ = ("Arguments as MXNet's: ``input_shape`` (one step without the batch axis), "
                        "``hidden_channels``, kernels, ``i2h_pad``, dilations, the four initializers, "
                        "``conv_layout`` (%r only), ``activation``, ``prefix``, ``params``." % _LAYOUTS[dims])
    return __init__, doc


def _define(name, base, dims, what):
    init, doc = _make(base, dims, "%dD convolutional %s cell (layout %s); see the module docstring."
                      % (dims, what, _LAYOUTS[dims]))
    return type(name, (base,), {"__init__": init, "__doc__": doc, "__module__": __name__})


Conv1DRNNCell = _define("Conv1DRNNCell", _ConvRNNCell, 1, "Elman RNN")
Conv2DRNNCell = _define("Conv2DRNNCell", _ConvRNNCell, 2, "Elman RNN")
Conv3DRNNCell = _define("Conv3DRNNCell", _ConvRNNCell, 3, "Elman RNN")
Conv1DLSTMCell = _define("Conv1DLSTMCell", _ConvLSTMCell, 1, "LSTM")
Conv2DLSTMCell = _define("Conv2DLSTMCell", _ConvLSTMCell, 2, "LSTM")
Conv3DLSTMCell = _define("Conv3DLSTMCell", _ConvLSTMCell, 3, "LSTM")
Conv1DGRUCell = _define("Conv1DGRUCell", _ConvGRUCell, 1, "GRU")
Conv2DGRUCell = _define("Conv2DGRUCell", _ConvGRUCell, 2, "GRU")
Conv3DGRUCell = _define("Conv3DGRUCell", _ConvGRUCell, 3, "GRU")
