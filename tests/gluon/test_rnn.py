"""gluon.rnn: fused layers and cells against a NumPy reference of the equations and each other."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, NotSupportedError, ShapeError
from psnet.gluon import nn, rnn

T, N, I, H = 4, 3, 5, 6


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_step(mode, x, states, wi, wh, bi, bh):
    """One step of the reference equations (gate orders i,f,c,o and r,z,n)."""
    gi, gh = x @ wi.T + bi, states[0] @ wh.T + bh
    if mode in ("rnn_tanh", "rnn_relu"):
        h = np.tanh(gi + gh) if mode == "rnn_tanh" else np.maximum(gi + gh, 0)
        return [h]
    if mode == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c = _sig(f) * states[1] + _sig(i) * np.tanh(g)
        return [_sig(o) * np.tanh(c), c]
    r = _sig(gi[:, :H] + gh[:, :H])
    z = _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return [(1 - z) * n + z * states[0]]


def np_layer(mode, block, x, states, num_layers, dirs):
    """Reference multi-layer (bidirectional) recurrence from the block's Parameters."""
    p = {k[len(block.prefix):]: v.data().asnumpy().astype(np.float64) for k, v in block.collect_params().items()}
    finals = [[None] * (num_layers * dirs) for _ in states]
    for layer in range(num_layers):
        outs = []
        for d, tag in enumerate("lr"[:dirs]):
            j = layer * dirs + d
            st = [s[j] for s in states]
            seq = x if d == 0 else x[::-1]
            hs = []
            for t in range(seq.shape[0]):
                st = np_step(mode, seq[t], st, *(p["%s%d_%s" % (tag, layer, n)] for n in
                                                 ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")))
                hs.append(st[0])
            hs = np.stack(hs)
            outs.append(hs if d == 0 else hs[::-1])
            for k, s in enumerate(st):
                finals[k][j] = s
        x = np.concatenate(outs, axis=2)
    return x, [np.stack(f) for f in finals]


LAYERS = [("lstm", lambda **kw: rnn.LSTM(H, **kw)), ("gru", lambda **kw: rnn.GRU(H, **kw)),
          ("rnn_tanh", lambda **kw: rnn.RNN(H, activation="tanh", **kw)),
          ("rnn_relu", lambda **kw: rnn.RNN(H, **kw))]


def _init(block, seed=0):
    block.initialize(mx.init.Uniform(0.4))
    rs = np.random.RandomState(seed)
    for p in block.collect_params().values():
        p.set_data(mx.nd.array(rs.uniform(-0.4, 0.4, p.shape)))
    return block


@pytest.mark.parametrize("mode,make", LAYERS, ids=[m for m, _ in LAYERS])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
def test_layer_matches_numpy_reference(mode, make, num_layers, bidirectional):
    layer = _init(make(num_layers=num_layers, bidirectional=bidirectional, input_size=I))
    rs = np.random.RandomState(1)
    x = rs.uniform(-1, 1, (T, N, I))
    dirs = 2 if bidirectional else 1
    states = [rs.uniform(-1, 1, (num_layers * dirs, N, H)) for _ in range(2 if mode == "lstm" else 1)]
    out, new = layer(mx.nd.array(x), [mx.nd.array(s) for s in states])
    ref_out, ref_states = np_layer(mode, layer, x, states, num_layers, dirs)
    np.testing.assert_allclose(out.asnumpy(), ref_out, rtol=1e-4, atol=1e-5)
    assert len(new) == len(ref_states)
    for a, b in zip(new, ref_states):
        np.testing.assert_allclose(a.asnumpy(), b, rtol=1e-4, atol=1e-5)


def test_parameter_names_and_shapes_follow_mxnet():
    layer = rnn.LSTM(H, num_layers=2, bidirectional=True)
    assert layer.prefix.startswith("lstm")
    shapes = {k[len(layer.prefix):]: v.shape for k, v in layer.collect_params().items()}
    assert shapes["l0_i2h_weight"] == (4 * H, 0)          # input size deferred
    assert shapes["r0_h2h_weight"] == (4 * H, H)
    assert shapes["l1_i2h_weight"] == (4 * H, 2 * H)
    assert shapes["r1_h2h_bias"] == (4 * H,)
    assert len(shapes) == 16
    assert rnn.GRU(H, input_size=I).l0_i2h_weight.shape == (3 * H, I)
    assert repr(layer) == "LSTM(None -> 6, TNC, num_layers=2, bidirectional)"


def test_deferred_input_size_and_states_only_when_given():
    layer = rnn.GRU(H, num_layers=2)
    layer.initialize()
    x = mx.nd.random.uniform(shape=(T, N, I))
    out = layer(x)
    assert isinstance(out, mx.nd.NDArray) and out.shape == (T, N, H)
    assert layer.l0_i2h_weight.shape == (3 * H, I)
    begin = layer.begin_state(batch_size=N)
    assert [s.shape for s in begin] == [(2, N, H)]
    out2, states = layer(x, begin)
    np.testing.assert_allclose(out2.asnumpy(), out.asnumpy(), rtol=1e-6)
    assert [s.shape for s in states] == [(2, N, H)]
    with pytest.raises(ShapeError, match="Invalid recurrent state shape"):
        layer(x, [mx.nd.zeros((1, N, H))])


def test_ntc_layout_is_swapped_tnc():
    tnc = _init(rnn.LSTM(H, input_size=I))
    ntc = rnn.LSTM(H, input_size=I, layout="NTC", params=tnc.collect_params())
    x = mx.nd.random.uniform(shape=(T, N, I))
    a = tnc(x).asnumpy()
    b = ntc(x.swapaxes(0, 1)).asnumpy()
    np.testing.assert_allclose(b.swapaxes(0, 1), a, rtol=1e-6)
    with pytest.raises(ShapeError):
        rnn.LSTM(H, layout="CTN")


@pytest.mark.parametrize("mode,make", LAYERS, ids=[m for m, _ in LAYERS])
def test_hybridized_layer_equals_imperative_with_gradients(mode, make):
    layer = _init(make(num_layers=2, bidirectional=True, input_size=I))
    x = mx.nd.random.uniform(-1, 1, shape=(T, N, I))
    states = layer.begin_state(batch_size=N)

    def run():
        x.attach_grad()
        with mx.autograd.record():
            out, st = layer(x, states)
            loss = (out * out).sum() + sum((s * 2).sum() for s in st)
        loss.backward()
        return ([out.asnumpy(), x.grad.asnumpy()] +
                [p.grad().asnumpy() for _, p in sorted(layer.collect_params().items())])

    ref = run()
    layer.hybridize()
    got = run()
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


CELLS = [("lstm", rnn.LSTMCell, rnn.LSTM), ("gru", rnn.GRUCell, rnn.GRU),
         ("rnn_tanh", lambda h, **kw: rnn.RNNCell(h, **kw), lambda h, **kw: rnn.RNN(h, activation="tanh", **kw))]


def _copy_layer_weights_to_cell(layer, cell, tag="l0"):
    for name in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
        getattr(cell, name).set_data(getattr(layer, "%s_%s" % (tag, name)).data())


@pytest.mark.parametrize("mode,cell_cls,layer_cls", CELLS, ids=[c[0] for c in CELLS])
def test_cell_unroll_agrees_with_layer_values_and_gradients(mode, cell_cls, layer_cls):
    layer = _init(layer_cls(H, input_size=I))
    cell = cell_cls(H, input_size=I)
    cell.initialize()
    _copy_layer_weights_to_cell(layer, cell)
    x = mx.nd.random.uniform(-1, 1, shape=(N, T, I))
    heads = []
    for run in (lambda: layer(x.swapaxes(0, 1)).swapaxes(0, 1),
                lambda: cell.unroll(T, x, layout="NTC", merge_outputs=True)[0]):
        with mx.autograd.record():
            out = run()
            loss = (out * out).sum()
        loss.backward()
        heads.append(out.asnumpy())
    np.testing.assert_allclose(heads[1], heads[0], rtol=1e-5, atol=1e-6)
    for name in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
        np.testing.assert_allclose(getattr(cell, name).grad().asnumpy(),
                                   getattr(layer, "l0_" + name).grad().asnumpy(), rtol=1e-4, atol=1e-5)


def test_bidirectional_cell_agrees_with_bidirectional_layer():
    layer = _init(rnn.LSTM(H, bidirectional=True, input_size=I))
    bi = rnn.BidirectionalCell(rnn.LSTMCell(H, input_size=I), rnn.LSTMCell(H, input_size=I))
    bi.initialize()
    l_cell, r_cell = bi._children.values()
    _copy_layer_weights_to_cell(layer, l_cell, "l0")
    _copy_layer_weights_to_cell(layer, r_cell, "r0")
    x = mx.nd.random.uniform(-1, 1, shape=(T, N, I))
    out, states = bi.unroll(T, x, layout="TNC", merge_outputs=True)
    ref, ref_states = layer(x, layer.begin_state(N))
    np.testing.assert_allclose(out.asnumpy(), ref.asnumpy(), rtol=1e-5, atol=1e-6)
    # cell states [l_h, l_c, r_h, r_c]; layer states [h (2,N,H), c (2,N,H)]
    np.testing.assert_allclose(states[2].asnumpy(), ref_states[0][1].asnumpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states[1].asnumpy(), ref_states[1][0].asnumpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(NotSupportedError):
        bi(x[0], states)


def test_unroll_valid_length_masks_outputs_and_picks_last_states():
    cell = _init(rnn.GRUCell(H, input_size=I))
    x = mx.nd.random.uniform(-1, 1, shape=(N, T, I))
    lengths = [4, 2, 3]
    out, states = cell.unroll(T, x, layout="NTC", merge_outputs=True, valid_length=mx.nd.array(lengths))
    full, _ = cell.unroll(T, x, layout="NTC", merge_outputs=True)
    o, f = out.asnumpy(), full.asnumpy()
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(o[b, :n], f[b, :n], rtol=1e-6)
        assert not o[b, n:].any()
        np.testing.assert_allclose(states[0].asnumpy()[b], f[b, n - 1], rtol=1e-6)
    steps, _ = cell.unroll(T, x, layout="NTC", merge_outputs=False)
    assert len(steps) == T and steps[0].shape == (N, H)
    with pytest.raises(MXNetError):
        cell.unroll(T + 1, x, layout="NTC")


def test_sequential_residual_and_dropout_cells():
    seq = rnn.SequentialRNNCell()
    seq.add(rnn.LSTMCell(H, input_size=I))
    seq.add(rnn.DropoutCell(0.5))
    seq.add(rnn.ResidualCell(rnn.GRUCell(H, input_size=H)))
    _init(seq)
    assert len(seq.state_info(N)) == 3
    x = mx.nd.random.uniform(-1, 1, shape=(N, T, I))
    out, states = seq.unroll(T, x, layout="NTC", merge_outputs=True)   # predict mode: dropout is identity
    lstm, _, res = seq[0], seq[1], seq[2]
    h1, s1 = lstm.unroll(T, x, layout="NTC", merge_outputs=True)
    h2, s2 = res.base_cell.unroll(T, h1, layout="NTC", merge_outputs=True, begin_state=res.begin_state(batch_size=N))
    np.testing.assert_allclose(out.asnumpy(), (h2 + h1).asnumpy(), rtol=1e-5, atol=1e-6)
    assert [s.shape for s in states] == [(N, H)] * 3
    # one step of the stack equals the unrolled first step
    seq.reset()
    step_out, _ = seq(x[:, 0], seq.begin_state(batch_size=N))
    np.testing.assert_allclose(step_out.asnumpy(), out.asnumpy()[:, 0], rtol=1e-5, atol=1e-6)
    with pytest.raises(MXNetError, match="modifier"):
        res.base_cell.begin_state(batch_size=N)
    # the dropout cell drops in training
    drop = rnn.DropoutCell(0.5)
    with mx.autograd.record():
        y, _ = drop(mx.nd.ones((100, 10)), [])
    assert 0.3 < (y.asnumpy() == 0).mean() < 0.7


def test_hybrid_sequential_cell_in_a_hybridized_block():
    class Net(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.cells = rnn.HybridSequentialRNNCell()
                self.cells.add(rnn.LSTMCell(H, input_size=I))
                self.cells.add(rnn.RNNCell(H, input_size=H))

        def hybrid_forward(self, F, x):
            out, _ = self.cells.unroll(T, x, layout="NTC", merge_outputs=True)
            return out

    net = _init(Net())
    x = mx.nd.random.uniform(-1, 1, shape=(N, T, I))
    ref = net(x).asnumpy()
    net.hybridize()
    np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=1e-5, atol=1e-6)


def test_zoneout_cell():
    base = _init(rnn.RNNCell(H, input_size=I))
    x = mx.nd.random.uniform(-1, 1, shape=(N, T, I))
    ref, _ = base.unroll(T, x, layout="NTC", merge_outputs=True)
    zone = rnn.ZoneoutCell(base, zoneout_outputs=0.5, zoneout_states=0.5)
    out, _ = zone.unroll(T, x, layout="NTC", merge_outputs=True)   # no zoneout outside training
    np.testing.assert_allclose(out.asnumpy(), ref.asnumpy(), rtol=1e-6)
    always = rnn.ZoneoutCell(rnn.RNNCell(H, input_size=I, params=base.collect_params(), prefix=base.prefix),
                             zoneout_outputs=1.0)
    with mx.autograd.train_mode():
        out, _ = always.unroll(T, x, layout="NTC", merge_outputs=True)
    assert not out.asnumpy().any()       # every output keeps the (zero) previous output
    with pytest.raises(NotSupportedError):
        rnn.ZoneoutCell(rnn.BidirectionalCell(rnn.RNNCell(H), rnn.RNNCell(H)))


def test_layer_dropout_between_layers_only_in_training():
    layer = _init(rnn.LSTM(H, num_layers=2, dropout=0.5, input_size=I))
    x = mx.nd.random.uniform(-1, 1, shape=(T, N, I))
    a, b = layer(x).asnumpy(), layer(x).asnumpy()
    np.testing.assert_array_equal(a, b)
    with mx.autograd.record():
        c = layer(x)
    assert not np.allclose(c.asnumpy(), a)


def test_lstm_language_model_trains_and_saves(tmp_path):
    vocab, emb = 12, 8
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Embedding(vocab, emb), rnn.LSTM(16, layout="NTC"), nn.Dense(vocab, flatten=False))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    rs = np.random.RandomState(0)
    seq = np.tile(np.arange(vocab), 8)
    starts = rs.randint(0, len(seq) - 9, 16)
    data = mx.nd.array(np.stack([seq[s:s + 8] for s in starts]))
    label = mx.nd.array(np.stack([seq[s + 1:s + 9] for s in starts]))
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.05})
    losses = []
    for _ in range(30):
        with mx.autograd.record():
            loss = loss_fn(net(data), label).mean()
        loss.backward()
        trainer.step(1)
        losses.append(float(loss.asscalar()))
    assert losses[-1] < 0.3 * losses[0]
    path = str(tmp_path / "lm.params")
    net.save_parameters(path)
    other = nn.HybridSequential()
    with other.name_scope():
        other.add(nn.Embedding(vocab, emb), rnn.LSTM(16, layout="NTC"), nn.Dense(vocab, flatten=False))
    other.load_parameters(path)
    np.testing.assert_allclose(other(data).asnumpy(), net(data).asnumpy(), rtol=1e-5, atol=1e-6)


def test_unsupported_options_are_clear_errors():
    with pytest.raises(NotSupportedError):
        rnn.LSTM(H, state_clip_min=-1, state_clip_max=1)
    with pytest.raises(NotSupportedError):
        rnn.RNN(H, activation="sigmoid")
    layer = _init(rnn.GRU(H, input_size=I))
    with pytest.raises(MXNetError, match="use_sequence_length"):
        layer(mx.nd.zeros((T, N, I)), layer.begin_state(N), mx.nd.array([1, 2, 3]))
    with pytest.raises(MXNetError, match="mode"):
        mx.nd.RNN(mx.nd.zeros((2, 1, 1)), mx.nd.zeros((3,)), mx.nd.zeros((1, 1, 1)), state_size=1,
                  num_layers=1, mode="bogus")
    with pytest.raises(ShapeError, match="flat vector"):
        mx.nd.RNN(mx.nd.zeros((2, 1, 1)), mx.nd.zeros((3,)), mx.nd.zeros((1, 1, 1)), state_size=1,
                  num_layers=1, mode="gru")


def test_symbolic_rnn_op_trains_with_module():
    steps, batch, vocab, hidden = 6, 4, 5, 16
    emb = mx.sym.Embedding(mx.sym.var("data"), input_dim=vocab, output_dim=8, name="emb")
    states = dict(state=mx.sym.zeros((1, batch, hidden)), state_cell=mx.sym.zeros((1, batch, hidden)))
    out = mx.sym.RNN(mx.sym.swapaxes(emb, dim1=0, dim2=1), state_size=hidden, num_layers=1, mode="lstm",
                     name="lstm", **states,
                     parameters=mx.sym.var("lstm_parameters", init=mx.init.FusedRNN(None, hidden, 1, "lstm")))
    fc = mx.sym.FullyConnected(mx.sym.reshape(mx.sym.swapaxes(out, dim1=0, dim2=1), shape=(-1, hidden)),
                               num_hidden=vocab, name="fc")
    net = mx.sym.SoftmaxOutput(fc, mx.sym.reshape(mx.sym.var("softmax_label"), shape=(-1,)), name="softmax")
    assert net.list_arguments()[:3] == ["data", "emb_weight", "lstm_parameters"]
    seq = np.tile(np.arange(vocab), 20)
    X = np.stack([seq[i:i + steps] for i in range(32)]).astype(np.float32)
    Y = np.stack([seq[i + 1:i + steps + 1] for i in range(32)]).astype(np.float32)
    mod = mx.mod.Module(net)
    mod.fit(mx.io.NDArrayIter(X, Y, batch, shuffle=True), num_epoch=3, optimizer="adam",
            optimizer_params={"learning_rate": 0.05}, initializer=mx.init.Xavier())
    assert mod.get_params()[0]["lstm_parameters"].shape == (4 * hidden * (8 + hidden + 2),)
    score = dict(mod.score(mx.io.NDArrayIter(X, Y, batch), "acc"))
    assert score["accuracy"] > 0.95


def test_fused_rnn_initializer_fills_gate_blocks():
    arr = mx.nd.zeros((4 * 2 * (1 + 2 + 2),))    # LSTM, 1 layer, hidden 2, input 1
    desc = mx.init.InitDesc("lstm_parameters", global_init=mx.init.Uniform())
    mx.init.FusedRNN(mx.init.Constant(0.5), 2, 1, "lstm")._init_weight(desc, arr)
    np.testing.assert_array_equal(arr.asnumpy(), [0.5] * 24 + [0, 0, 1, 1, 0, 0, 0, 0] * 2)
    gru = mx.nd.zeros((3 * 2 * (1 + 2 + 2),))
    mx.init.FusedRNN(None, 2, 1, "gru")._init_weight(mx.init.InitDesc("p", global_init=mx.init.One()), gru)
    np.testing.assert_array_equal(gru.asnumpy(), [1] * 18 + [0] * 12)
    with pytest.raises(ShapeError, match="do not fit"):
        mx.init.FusedRNN(None, 2, 1, "gru")._init_weight(desc, mx.nd.zeros((7,)))


@pytest.mark.parametrize("mode,cell_cls,layer_cls", CELLS, ids=[c[0] for c in CELLS])
def test_sequence_length_layer_agrees_with_cells_unrolled_with_valid_length(mode, cell_cls, layer_cls):
    layer = _init(layer_cls(H, input_size=I, bidirectional=True, use_sequence_length=True, layout="NTC"))
    bi = rnn.BidirectionalCell(cell_cls(H, input_size=I), cell_cls(H, input_size=I))
    bi.initialize()
    l_cell, r_cell = bi._children.values()
    _copy_layer_weights_to_cell(layer, l_cell, "l0")
    _copy_layer_weights_to_cell(layer, r_cell, "r0")
    x = mx.nd.random.uniform(-1, 1, shape=(N, T, I))
    lengths = mx.nd.array([4, 2, 3])
    heads = []
    for run, forward_h in ((lambda: layer(x, layer.begin_state(N), lengths), lambda st: st[0][0]),
                           (lambda: bi.unroll(T, x, layout="NTC", merge_outputs=True, valid_length=lengths),
                            lambda st: st[0])):
        x.attach_grad()
        with mx.autograd.record():
            out, states = run()
            loss = (out * out).sum() + (forward_h(states) * 2).sum()
        loss.backward()
        heads.append((out.asnumpy(), [s.asnumpy() for s in states], x.grad.asnumpy()))
    (out, states, gx), (ref, ref_states, ref_gx) = heads
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert not out[1, 2:].any()                               # past the end: zeros
    np.testing.assert_allclose(states[0][0], ref_states[0], rtol=1e-5, atol=1e-6)   # forward h at the end
    n_l = len(l_cell.state_info())
    np.testing.assert_allclose(states[0][1], ref_states[n_l], rtol=1e-5, atol=1e-6)  # reverse h
    np.testing.assert_allclose(gx, ref_gx, rtol=1e-4, atol=1e-5)
    for name in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
        np.testing.assert_allclose(getattr(r_cell, name).grad().asnumpy(),
                                   getattr(layer, "r0_" + name).grad().asnumpy(), rtol=1e-4, atol=1e-5)
    layer.hybridize()
    np.testing.assert_allclose(layer(x, layer.begin_state(N), lengths)[0].asnumpy(), ref, rtol=1e-5, atol=1e-6)
