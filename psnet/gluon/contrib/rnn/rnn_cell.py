"""``VariationalDropoutCell`` and ``LSTMPCell`` of MXNet 1.9.1's ``gluon.contrib.rnn``.

``VariationalDropoutCell(base_cell, drop_inputs, drop_states, drop_outputs)`` applies one
dropout mask per sequence (Gal & Ghahramani): the masks are drawn at the first step after
``reset()`` (which ``unroll`` calls) and reused at every later step; the state mask applies
to the first state only.  ``LSTMPCell(hidden_size, projection_size)`` is an LSTM whose
output and recurrent state is projected by ``h2r_weight`` (projection_size, hidden_size)
without bias; states ``[r (N, P), c (N, H)]``.
"""
from ....base import MXNetError
from .... import ndarray as _nd
from ... import hybrid as _hybrid
from .conv_rnn_cell import _symbol_zero_states
from ...rnn.rnn_cell import (HybridRecurrentCell, ModifierCell, BidirectionalCell, SequentialRNNCell,
                             _format_sequence, _mask_sequence_variable_length, _is_tensor)

__all__ = ["VariationalDropoutCell", "LSTMPCell"]


class VariationalDropoutCell(ModifierCell):
    """Variational dropout of a cell's inputs, first state and outputs, with masks fixed over
    a sequence (reset by :meth:`reset`); rates ``drop_inputs``, ``drop_states``, ``drop_outputs``.
    Outside training (``autograd.train_mode``) the masks are ones."""

    def __init__(self, base_cell, drop_inputs=0.0, drop_states=0.0, drop_outputs=0.0):
        if drop_states and isinstance(base_cell, BidirectionalCell):
            raise MXNetError("BidirectionalCell doesn't support variational state dropout. "
                             "Please add VariationalDropoutCell to the cells underneath instead.")
        if drop_states and isinstance(base_cell, SequentialRNNCell) and getattr(base_cell, "_bidirectional", False):
            raise MXNetError("Bidirectional SequentialRNNCell doesn't support variational state dropout. "
                             "Please add VariationalDropoutCell to the cells underneath instead.")
        super().__init__(base_cell)
        self.drop_inputs = drop_inputs
        self.drop_states = drop_states
        self.drop_outputs = drop_outputs
        self.drop_inputs_mask = None
        self.drop_states_mask = None
        self.drop_outputs_mask = None

    def _alias(self):
        return "vardrop"

    def reset(self):
        """Reset the counters and forget the masks (new ones are drawn at the next step)."""
        super().reset()
        self.drop_inputs_mask = None
        self.drop_states_mask = None
        self.drop_outputs_mask = None

    def hybrid_forward(self, F, inputs, states):
        """The base step on masked inputs / first state, then the masked output."""
        if self.drop_states and self.drop_states_mask is None:
            self.drop_states_mask = F.Dropout(F.ones_like(states[0]), p=self.drop_states)
        if self.drop_inputs and self.drop_inputs_mask is None:
            self.drop_inputs_mask = F.Dropout(F.ones_like(inputs), p=self.drop_inputs)
        if self.drop_states:
            states = list(states)
            states[0] = states[0] * self.drop_states_mask
        if self.drop_inputs:
            inputs = inputs * self.drop_inputs_mask
        next_output, next_states = self.base_cell(inputs, states)
        if self.drop_outputs and self.drop_outputs_mask is None:
            self.drop_outputs_mask = F.Dropout(F.ones_like(next_output), p=self.drop_outputs)
        if self.drop_outputs:
            next_output = next_output * self.drop_outputs_mask
        return next_output, next_states

    def __repr__(self):
        return "{name}(p_out = {o}, p_state = {s})".format(name=self.__class__.__name__, o=self.drop_outputs,
                                                           s=self.drop_states)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Unroll; without state dropout the input and output masks are applied to the whole
        merged sequence at once (one Dropout shared along the time axis) around the base
        cell's own ``unroll``."""
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        if begin_state is None and _hybrid.is_symbol(first):
            begin_state = _symbol_zero_states(inputs, layout, self.state_info())
        if self.drop_states:
            return super().unroll(length, inputs, begin_state, layout, merge_outputs, valid_length=valid_length)
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, True)
        if begin_state is None and F is _nd:
            begin_state = self.begin_state(batch_size=batch_size, ctx=inputs.context, dtype=inputs.dtype)
        if self.drop_inputs:
            inputs = F.Dropout(inputs, p=self.drop_inputs, axes=(axis,))
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(length, inputs, begin_state, layout, merge_outputs=True,
                                                    valid_length=valid_length)
        finally:
            self.base_cell._modified = True
        if self.drop_outputs:
            outputs = F.Dropout(outputs, p=self.drop_outputs, axes=(axis,))
        merge_outputs = _is_tensor(outputs) if merge_outputs is None else merge_outputs
        outputs, _, _, _ = _format_sequence(length, outputs, layout, merge_outputs)
        if valid_length is not None:
            outputs = _mask_sequence_variable_length(F, outputs, length, valid_length, axis, merge_outputs)
        return outputs, states


class LSTMPCell(HybridRecurrentCell):
    """LSTM with a projected recurrent state (gates i, f, c, o; ``r' = h2r_weight . h'``).

    Arguments as MXNet's: ``hidden_size``, ``projection_size``, the i2h / h2h / h2r weight
    initializers, the i2h / h2h bias initializers, ``input_size`` (0: inferred on the first
    step), ``prefix``, ``params``.  Parameters ``i2h_weight`` (4H, I), ``h2h_weight``
    (4H, P), ``h2r_weight`` (P, H), ``i2h_bias`` and ``h2h_bias`` (4H,).
    """

    def __init__(self, hidden_size, projection_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 h2r_weight_initializer=None, i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 input_size=0, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._hidden_size = hidden_size
        self._input_size = input_size
        self._projection_size = projection_size
        self.i2h_weight = self.params.get("i2h_weight", shape=(4 * hidden_size, input_size),
                                          init=i2h_weight_initializer, allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=(4 * hidden_size, projection_size),
                                          init=h2h_weight_initializer, allow_deferred_init=True)
        self.h2r_weight = self.params.get("h2r_weight", shape=(projection_size, hidden_size),
                                          init=h2r_weight_initializer, allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(4 * hidden_size,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(4 * hidden_size,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def _alias(self):
        return "lstmp"

    def state_info(self, batch_size=0):
        """States ``[r (batch, projection_size), c (batch, hidden_size)]``."""
        return [{"shape": (batch_size, self._projection_size), "__layout__": "NC"},
                {"shape": (batch_size, self._hidden_size), "__layout__": "NC"}]

    def infer_shape(self, inputs, *args):
        """The input size from ``inputs``' last axis."""
        self.i2h_weight.shape = (4 * self._hidden_size, inputs.shape[-1])

    def __repr__(self):
        shape = self.i2h_weight.shape
        proj = self.h2r_weight.shape
        return "{name}({i} -> {h} -> {p})".format(name=self.__class__.__name__, i=shape[1] if shape[1] else None,
                                                  h=shape[0], p=proj[0])

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, h2r_weight, i2h_bias, h2h_bias):
        """One step: the LSTM update of ``c``, ``h = o tanh(c')``, output and state ``r' = W_hr h``."""
        n = 4 * self._hidden_size
        i2h = F.FullyConnected(inputs, i2h_weight, i2h_bias, num_hidden=n)
        h2h = F.FullyConnected(states[0], h2h_weight, h2h_bias, num_hidden=n)
        gates = F.SliceChannel(i2h + h2h, num_outputs=4, axis=1)
        in_gate = F.sigmoid(gates[0])
        forget_gate = F.sigmoid(gates[1])
        in_transform = F.tanh(gates[2])
        out_gate = F.sigmoid(gates[3])
        next_c = forget_gate * states[1] + in_gate * in_transform
        hidden = out_gate * F.tanh(next_c)
        next_r = F.FullyConnected(hidden, h2r_weight, num_hidden=self._projection_size, no_bias=True)
        return next_r, [next_r, next_c]
