"""Recurrent cells (one time step) and their ``unroll`` (MXNet 1.9.1's ``gluon.rnn`` cells).

A cell is called as ``output, new_states = cell(x_t, states)``; ``unroll(length, inputs,
begin_state, layout, merge_outputs, valid_length)`` applies it over a sequence given as
one (T, N, C) / (N, T, C) tensor or a list of (N, C) steps.  Cells run with NDArrays or
Symbols (inside a hybridized parent); a cell's own ``hybridize()`` keeps it imperative.
Parameter names and gate orders equal MXNet's (``lstm0_i2h_weight`` (4H, I), gates
i, f, c, o; GRU r, z, n), so cells and the fused layers share weights.
"""
from ...base import MXNetError, NotSupportedError
from ...ndarray import ndarray as _nd_mod
from ...ndarray.ndarray import NDArray
from ... import ndarray as _nd
from ... import symbol as _sym
from ..block import Block, HybridBlock
from .. import hybrid as _hybrid

__all__ = ["RecurrentCell", "HybridRecurrentCell", "RNNCell", "LSTMCell", "GRUCell",
           "SequentialRNNCell", "HybridSequentialRNNCell", "DropoutCell", "ModifierCell",
           "ZoneoutCell", "ResidualCell", "BidirectionalCell"]


def _namespace(x):
    """``mx.nd`` for NDArrays, ``mx.sym`` for Symbols."""
    return _nd if isinstance(x, NDArray) else _sym


def _is_tensor(x):
    return isinstance(x, NDArray) or _hybrid.is_symbol(x)


def _format_sequence(length, inputs, layout, merge):
    """(inputs as a list of steps or one merged tensor, time axis, F, batch size).

    ``merge`` True stacks a list into one tensor, False splits a tensor into steps,
    None keeps the given form.
    """
    axis = layout.find("T")
    if _is_tensor(inputs):
        F = _namespace(inputs)
        batch = inputs.shape[layout.find("N")] if F is _nd else 0
        if merge is False:
            steps = inputs.shape[axis] if F is _nd else length
            if length is not None and steps != length:
                raise MXNetError("unroll: the inputs have %d steps along axis %d but length=%d"
                                 % (steps, axis, length))
            inputs = _steps(F, inputs, steps, axis)
    else:
        if length is not None and len(inputs) != length:
            raise MXNetError("unroll: got %d input steps but length=%d" % (len(inputs), length))
        F = _namespace(inputs[0])
        batch = inputs[0].shape[0] if F is _nd else 0
        if merge is True:
            inputs = F.stack(*inputs, axis=axis)
    return inputs, axis, F, batch


def _steps(F, merged, length, axis):
    """A merged tensor as a list of ``length`` steps."""
    if length == 1:
        return [F.squeeze(merged, axis=axis)]
    return list(F.split(merged, num_outputs=length, axis=axis, squeeze_axis=True))


def _zero_state_like(F, step, info):
    """A zero (N, H) state for a Symbol step of shape (N, C) (the batch size is unknown)."""
    first = F.zeros_like(F.slice_axis(step, axis=1, begin=0, end=1))
    return F.tile(first, reps=(1, info["shape"][1]))


def _get_begin_state(cell, F, begin_state, inputs, batch_size, time_axis):
    """``begin_state``, or zeros: from ``cell.begin_state`` for NDArrays, built from the
    first step inside the graph for Symbols (whose batch size is unknown)."""
    if begin_state is not None:
        return begin_state
    if F is _nd:
        x = inputs if isinstance(inputs, NDArray) else inputs[0]
        return cell.begin_state(func=_nd_mod.zeros, batch_size=batch_size, ctx=x.context, dtype=x.dtype)
    if isinstance(inputs, (list, tuple)):
        step = inputs[0]
    else:
        step = F.squeeze(F.slice_axis(inputs, axis=time_axis, begin=0, end=1), axis=time_axis)
    return [_zero_state_like(F, step, info) for info in cell.state_info()]


def _mask_sequence_variable_length(F, data, length, valid_length, time_axis, merge):
    if not merge:
        data = F.stack(*data, axis=time_axis)
    out = F.SequenceMask(data, valid_length, use_sequence_length=True, axis=time_axis)
    return out if merge else _steps(F, out, length, time_axis)


def _reverse_sequences(sequences, length, valid_length):
    F = _namespace(sequences[0])
    stacked = F.stack(*sequences, axis=0)
    rev = F.SequenceReverse(stacked, valid_length, use_sequence_length=True, axis=0)
    return _steps(F, rev, length, 0)


def _cells_state_info(cells, batch_size):
    return sum([c.state_info(batch_size) for c in cells], [])


def _cells_begin_state(cells, **kwargs):
    return sum([c.begin_state(**kwargs) for c in cells], [])


def _activation(F, x, activation):
    fn = {"tanh": F.tanh, "relu": F.relu, "sigmoid": F.sigmoid, "softsign": F.softsign}.get(activation)
    if fn is not None:
        return fn(x)
    if isinstance(activation, str):
        return F.Activation(x, act_type=activation)
    return activation(x)


class RecurrentCell(Block):
    """Base of the cells: step counter, ``begin_state``, ``unroll``, ``reset``."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._modified = False
        self.reset()

    def reset(self):
        """Reset the step and begin-state counters (before unrolling a new sequence)."""
        self._init_counter = -1
        self._counter = -1
        for cell in self._children.values():
            cell.reset()

    def state_info(self, batch_size=0):
        """A list of ``{'shape': ..., '__layout__': ...}``, one per state."""
        raise NotImplementedError("%s must implement state_info()" % type(self).__name__)

    def begin_state(self, batch_size=0, func=_nd_mod.zeros, **kwargs):
        """Initial states, made by ``func(name=..., shape=..., **kwargs)`` (zeros by default)."""
        if self._modified:
            raise MXNetError("After applying modifier cells (e.g. ZoneoutCell) the base cell cannot "
                             "be called directly. Call the modifier cell instead.")
        states = []
        for info in self.state_info(batch_size):
            self._init_counter += 1
            info = dict(info or {})
            info.pop("__layout__", None)
            info.update(kwargs)
            states.append(func(name="%sbegin_state_%d" % (self.prefix, self._init_counter), **info))
        return states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Apply the cell ``length`` steps; returns ``(outputs, states)``.

        ``merge_outputs`` True gives one tensor in ``layout``, False a list of steps, None
        the inputs' form.  ``valid_length`` (N,) masks outputs past each sequence's end
        and returns the states at its last valid step.
        """
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, False)
        states = _get_begin_state(self, F, begin_state, inputs, batch_size, axis)
        outputs, all_states = [], []
        for i in range(length):
            output, states = self(inputs[i], states)
            outputs.append(output)
            if valid_length is not None:
                all_states.append(states)
        if valid_length is not None:
            states = [F.SequenceLast(F.stack(*steps, axis=0), valid_length, use_sequence_length=True, axis=0)
                      for steps in zip(*all_states)]
            outputs = _mask_sequence_variable_length(F, outputs, length, valid_length, axis, False)
        outputs, _, _, _ = _format_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def forward(self, inputs, states):
        """One step: ``(output, new_states)``."""
        self._counter += 1
        return self._step(inputs, states)

    def _step(self, inputs, states):
        """One time step on ``inputs`` and ``states``; returns (output, new states)."""
        raise NotImplementedError("%s must implement _step()" % type(self).__name__)


class HybridRecurrentCell(RecurrentCell, HybridBlock):
    """A cell computing in ``hybrid_forward(F, inputs, states, **params)``."""

    def _step(self, inputs, states):
        if _hybrid.is_symbol(inputs):
            return _hybrid.call_symbolic(self, inputs, states)
        return self._forward_imperative(inputs, states)

    def hybrid_forward(self, F, inputs, states, **params):
        """One step written with ``F`` operators; override in subclasses."""
        raise NotImplementedError("%s must implement hybrid_forward()" % type(self).__name__)


class _GatedCell(HybridRecurrentCell):
    """Cells with i2h/h2h weights and biases of ``ngates * hidden_size`` rows.

    Arguments (MXNet's LSTMCell/GRUCell signature): ``hidden_size``, the four
    initializers, ``input_size`` (0: inferred on the first step), ``prefix``, ``params``,
    ``activation`` (of candidate and output) and ``recurrent_activation`` (of the gates).
    """

    ngates = 1
    _n_states = 1

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0, prefix=None,
                 params=None, activation="tanh", recurrent_activation="sigmoid"):
        super().__init__(prefix=prefix, params=params)
        self._activation = activation
        self._recurrent_activation = recurrent_activation
        self._hidden_size = hidden_size
        rows = self.ngates * hidden_size
        self.i2h_weight = self.params.get("i2h_weight", shape=(rows, input_size), init=i2h_weight_initializer,
                                          allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=(rows, hidden_size), init=h2h_weight_initializer,
                                          allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(rows,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(rows,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def state_info(self, batch_size=0):
        """``_n_states`` states of shape (batch, hidden)."""
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"} for _ in range(self._n_states)]

    def infer_shape(self, inputs, *args):
        """The input size from ``inputs``' last axis."""
        self.i2h_weight.shape = (self.ngates * self._hidden_size, inputs.shape[-1])

    def _projections(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        n = self.ngates * self._hidden_size
        i2h = F.FullyConnected(inputs, i2h_weight, i2h_bias, num_hidden=n)
        h2h = F.FullyConnected(states[0], h2h_weight, h2h_bias, num_hidden=n)
        return i2h, h2h

    def __repr__(self):
        shape = self.i2h_weight.shape
        return "{name}({i} -> {o})".format(name=self.__class__.__name__, i=shape[1] if shape[1] else None,
                                           o=shape[0])


class RNNCell(_GatedCell):
    """Elman cell ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``; state ``[h]``."""

    def __init__(self, hidden_size, activation="tanh", i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 input_size=0, prefix=None, params=None):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, input_size, prefix, params, activation=activation)

    def _alias(self):
        return "rnn"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        """One Elman step."""
        i2h, h2h = self._projections(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        output = _activation(F, i2h + h2h, self._activation)
        return output, [output]


class LSTMCell(_GatedCell):
    """LSTM cell (gates i, f, c, o); states ``[h, c]``; arguments as :class:`_GatedCell`."""

    ngates = 4
    _n_states = 2

    def _alias(self):
        return "lstm"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        """One LSTM step: ``c' = f c + i g``, ``h' = o act(c')``."""
        i2h, h2h = self._projections(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        gates = F.SliceChannel(i2h + h2h, num_outputs=4, axis=1)
        ra = self._recurrent_activation
        in_gate, forget_gate, out_gate = (_activation(F, gates[k], ra) for k in (0, 1, 3))
        in_transform = _activation(F, gates[2], self._activation)
        next_c = forget_gate * states[1] + in_gate * in_transform
        next_h = out_gate * _activation(F, next_c, self._activation)
        return next_h, [next_h, next_c]


class GRUCell(_GatedCell):
    """GRU cell (gates r, z, n as cuDNN / MXNet); state ``[h]``; arguments as :class:`_GatedCell`."""

    ngates = 3

    def _alias(self):
        return "gru"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        """One GRU step: ``h' = (1 - z) n + z h``, ``n = act(x_n + r h_n)``."""
        i2h, h2h = self._projections(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        i2h_r, i2h_z, i2h_n = F.SliceChannel(i2h, num_outputs=3, axis=1)
        h2h_r, h2h_z, h2h_n = F.SliceChannel(h2h, num_outputs=3, axis=1)
        ra = self._recurrent_activation
        reset_gate = _activation(F, i2h_r + h2h_r, ra)
        update_gate = _activation(F, i2h_z + h2h_z, ra)
        candidate = _activation(F, i2h_n + reset_gate * h2h_n, self._activation)
        next_h = (F.ones_like(update_gate) - update_gate) * candidate + update_gate * states[0]
        return next_h, [next_h]


class _SequentialMixin:
    """Stacking of cells: states are the children's states concatenated."""

    def add(self, cell):
        """Append a cell to the stack."""
        self.register_child(cell)

    def state_info(self, batch_size=0):
        """The children's state infos, concatenated."""
        return _cells_state_info(self._children.values(), batch_size)

    def begin_state(self, **kwargs):
        """The children's begin states, concatenated."""
        if self._modified:
            raise MXNetError("After applying modifier cells (e.g. ZoneoutCell) the base cell cannot "
                             "be called directly. Call the modifier cell instead.")
        return _cells_begin_state(self._children.values(), **kwargs)

    def _chain(self, inputs, states):
        next_states, p = [], 0
        for cell in self._children.values():
            n = len(cell.state_info())
            inputs, state = cell(inputs, states[p:p + n])
            p += n
            next_states.extend(state)
        return inputs, next_states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Unroll each child over the whole sequence in turn."""
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, None)
        begin_state = _get_begin_state(self, F, begin_state, inputs, batch_size, axis)
        cells = list(self._children.values())
        p, next_states = 0, []
        for i, cell in enumerate(cells):
            n = len(cell.state_info())
            inputs, states = cell.unroll(length, inputs=inputs, begin_state=begin_state[p:p + n], layout=layout,
                                         merge_outputs=None if i < len(cells) - 1 else merge_outputs,
                                         valid_length=valid_length)
            p += n
            next_states.extend(states)
        return inputs, next_states

    def __getitem__(self, i):
        return list(self._children.values())[i]

    def __len__(self):
        return len(self._children)


class SequentialRNNCell(_SequentialMixin, RecurrentCell):
    """A stack of cells applied one after the other at each step."""

    def _step(self, inputs, states):
        return self._chain(inputs, states)


class HybridSequentialRNNCell(_SequentialMixin, HybridRecurrentCell):
    """A stack of hybrid cells applied one after the other at each step."""

    def hybrid_forward(self, F, inputs, states):
        """Chain the children."""
        return self._chain(inputs, states)


class DropoutCell(HybridRecurrentCell):
    """Dropout on the step inputs (rate ``rate``, shared along ``axes``); no states."""

    def __init__(self, rate, axes=(), prefix=None, params=None):
        super().__init__(prefix, params)
        if not isinstance(rate, (int, float)):
            raise MXNetError("DropoutCell: rate must be a number, got %r" % (rate,))
        self._rate = rate
        self._axes = axes

    def _alias(self):
        return "dropout"

    def state_info(self, batch_size=0):
        """No states."""
        return []

    def hybrid_forward(self, F, inputs, states):
        """Dropout of ``inputs``; states pass through."""
        if self._rate > 0:
            inputs = F.Dropout(inputs, p=self._rate, axes=self._axes)
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """One Dropout over a merged sequence; step by step otherwise."""
        self.reset()
        inputs, _, F, _ = _format_sequence(length, inputs, layout, merge_outputs)
        if _is_tensor(inputs):
            return self.hybrid_forward(F, inputs, begin_state if begin_state else [])
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout,
                              merge_outputs=merge_outputs, valid_length=valid_length)


class ModifierCell(HybridRecurrentCell):
    """Base of cells wrapping another cell (its Parameters are the base cell's)."""

    def __init__(self, base_cell):
        if base_cell._modified:
            raise MXNetError("Cell %s is already modified. One cell cannot be modified twice" % base_cell.name)
        base_cell._modified = True
        super().__init__(prefix=base_cell.prefix + self._alias(), params=None)
        self.base_cell = base_cell

    @property
    def params(self):
        """The base cell's ParameterDict."""
        return self.base_cell.params

    def state_info(self, batch_size=0):
        """The base cell's state info."""
        return self.base_cell.state_info(batch_size)

    def begin_state(self, func=_nd_mod.zeros, **kwargs):
        """The base cell's begin state."""
        self.base_cell._modified = False
        try:
            return self.base_cell.begin_state(func=func, **kwargs)
        finally:
            self.base_cell._modified = True

    def hybrid_forward(self, F, inputs, states):
        """The modified step; override in subclasses."""
        raise NotImplementedError("%s must implement hybrid_forward()" % type(self).__name__)


class ZoneoutCell(ModifierCell):
    """Zoneout: in training, each output / state unit keeps its previous value with
    probability ``zoneout_outputs`` / ``zoneout_states``."""

    def __init__(self, base_cell, zoneout_outputs=0.0, zoneout_states=0.0):
        if isinstance(base_cell, BidirectionalCell):
            raise NotSupportedError("BidirectionalCell doesn't support zoneout since it doesn't support "
                                    "step. Please add ZoneoutCell to the cells underneath instead.")
        self.zoneout_outputs = zoneout_outputs
        self.zoneout_states = zoneout_states
        self._prev_output = None
        super().__init__(base_cell)

    def _alias(self):
        return "zoneout"

    def reset(self):
        """Reset the counters and forget the previous output."""
        super().reset()
        self._prev_output = None

    def hybrid_forward(self, F, inputs, states):
        """The base step, then keep old values where the zoneout mask is zero."""
        next_output, next_states = self.base_cell(inputs, states)

        def mask(p, like):
            return F.Dropout(F.ones_like(like), p=p)

        prev_output = self._prev_output if self._prev_output is not None else F.zeros_like(next_output)
        output = (F.where(mask(self.zoneout_outputs, next_output), next_output, prev_output)
                  if self.zoneout_outputs != 0.0 else next_output)
        new_states = ([F.where(mask(self.zoneout_states, new), new, old) for new, old in zip(next_states, states)]
                      if self.zoneout_states != 0.0 else next_states)
        self._prev_output = output
        return output, new_states


class ResidualCell(ModifierCell):
    """Adds the step input to the base cell's output (``output = cell(x) + x``)."""

    def _alias(self):
        return "residual"

    def hybrid_forward(self, F, inputs, states):
        """The base step plus the input."""
        output, states = self.base_cell(inputs, states)
        return output + inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Unroll the base cell, then add the inputs (masked by ``valid_length``)."""
        self.reset()
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(length, inputs=inputs, begin_state=begin_state, layout=layout,
                                                    merge_outputs=merge_outputs, valid_length=valid_length)
        finally:
            self.base_cell._modified = True
        merge = _is_tensor(outputs) if merge_outputs is None else merge_outputs
        inputs, axis, F, _ = _format_sequence(length, inputs, layout, merge)
        if valid_length is not None:
            inputs = _mask_sequence_variable_length(F, inputs, length, valid_length, axis, merge)
        if merge:
            return outputs + inputs, states
        return [o + i for o, i in zip(outputs, inputs)], states


class BidirectionalCell(HybridRecurrentCell):
    """Runs ``l_cell`` forward and ``r_cell`` backward in time; outputs concatenated on the
    feature axis, states ``l_states + r_states``.  Only ``unroll`` is defined."""

    def __init__(self, l_cell, r_cell, output_prefix="bi_"):
        super().__init__(prefix="", params=None)
        self.register_child(l_cell, "l_cell")
        self.register_child(r_cell, "r_cell")
        self._output_prefix = output_prefix

    def __call__(self, inputs, states):
        raise NotSupportedError("Bidirectional cannot be stepped. Please use unroll")

    def state_info(self, batch_size=0):
        """Both cells' state infos."""
        return _cells_state_info(self._children.values(), batch_size)

    def begin_state(self, **kwargs):
        """Both cells' begin states."""
        return _cells_begin_state(self._children.values(), **kwargs)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Unroll both directions over the sequence (reversed within ``valid_length``)."""
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, False)
        if valid_length is None:
            reversed_inputs = list(reversed(inputs))
        else:
            reversed_inputs = _reverse_sequences(inputs, length, valid_length)
        states = _get_begin_state(self, F, begin_state, inputs, batch_size, axis)
        l_cell, r_cell = self._children.values()
        n_l = len(l_cell.state_info(batch_size))
        l_outputs, l_states = l_cell.unroll(length, inputs=inputs, begin_state=states[:n_l], layout=layout,
                                            merge_outputs=merge_outputs, valid_length=valid_length)
        r_outputs, r_states = r_cell.unroll(length, inputs=reversed_inputs, begin_state=states[n_l:],
                                            layout=layout, merge_outputs=False, valid_length=valid_length)
        if valid_length is None:
            reversed_r = list(reversed(r_outputs))
        else:
            reversed_r = _reverse_sequences(r_outputs, length, valid_length)
        if merge_outputs is None:
            merge_outputs = _is_tensor(l_outputs)
            l_outputs, _, _, _ = _format_sequence(None, l_outputs, layout, merge_outputs)
            reversed_r, _, _, _ = _format_sequence(None, reversed_r, layout, merge_outputs)
        if merge_outputs:
            if not _is_tensor(reversed_r):
                reversed_r = F.stack(*reversed_r, axis=axis)
            outputs = F.concat(l_outputs, reversed_r, dim=2)
        else:
            outputs = [F.concat(lo, ro, dim=1) for lo, ro in zip(l_outputs, reversed_r)]
        if valid_length is not None:
            outputs = _mask_sequence_variable_length(F, outputs, length, valid_length, axis, merge_outputs)
        return outputs, l_states + r_states
