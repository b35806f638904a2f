"""CTCLoss (the op and gluon.loss.CTCLoss) against a brute-force sum over alignments,
MXNet 1.9.1's values, and central finite differences."""
import itertools

import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, NotSupportedError, ShapeError


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def brute_ctc(acts, labels, blank):
    """-log sum over every alignment of length T (C^T of them) that collapses to ``labels``
    (merge repeats, then drop blanks); ``acts`` (T, C) unnormalised."""
    prob = _softmax(acts.astype(np.float64))
    t_len, c = prob.shape
    total = 0.0
    for path in itertools.product(range(c), repeat=t_len):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != blank] == list(labels):
            total += np.prod(prob[np.arange(t_len), list(path)])
    return -np.log(total)


def _data(shape=(4, 2, 5), seed=0, dtype="float32"):
    return np.random.RandomState(seed).randn(*shape).astype(dtype)


def ctc(data, label, *lengths, **attrs):
    return mx.nd.CTCLoss(mx.nd.array(data, dtype=data.dtype), mx.nd.array(label), *lengths, **attrs).asnumpy()


# ------------------------------------------------------------------ brute force
@pytest.mark.parametrize("labels", [[1], [1, 2], [2, 2], [1, 2, 1], []])
def test_matches_brute_force_blank_first(labels):
    t_len, n_class = 5, 3
    data = _data((t_len, 1, n_class), seed=len(labels), dtype="float64")
    width = 3
    row = labels + [0] * (width - len(labels))
    got = ctc(data, np.array([row], dtype=np.float64))
    np.testing.assert_allclose(got, [brute_ctc(data[:, 0], labels, 0)], rtol=1e-10)


@pytest.mark.parametrize("labels", [[0], [0, 1], [1, 1], [2, 0, 2]])
def test_matches_brute_force_blank_last(labels):
    t_len, n_class = 5, 4                 # blank is class 3, labels 0..2, padding -1
    data = _data((t_len, 1, n_class), seed=7, dtype="float64")
    row = labels + [-1] * (3 - len(labels))
    got = ctc(data, np.array([row], dtype=np.float64), blank_label="last")
    np.testing.assert_allclose(got, [brute_ctc(data[:, 0], labels, 3)], rtol=1e-10)


def test_brute_force_with_data_and_label_lengths_per_element():
    data = _data((5, 3, 3), seed=3, dtype="float64")
    label = np.array([[1, 2, 2], [2, 1, 1], [1, 1, 2]], dtype=np.float64)
    dlen, llen = [5, 3, 4], [3, 1, 2]
    got = ctc(data, label, mx.nd.array(dlen), mx.nd.array(llen),
              use_data_lengths=True, use_label_lengths=True)
    want = [brute_ctc(data[:dlen[b], b], list(label[b, :llen[b]].astype(int)), 0) for b in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


# ------------------------------------------------------------------ MXNet 1.9.1's values
MX_DATA_LABEL = np.array([[1, 2], [3, 0]], dtype=np.float32)
MX_CASES = [   # (label, length inputs by name, attrs, MXNet 1.9.1's loss) on _data() in float32
    ([[1, 2], [3, 0]], {}, {}, [4.492916, 5.590951]),
    ([[1, 2], [3, -1]], {}, {"blank_label": "last"}, [3.887403, 4.926638]),
    ([[1, 0], [0, 3]], {}, {}, [4.334605, 10.5463]),              # padding 0: label lengths 1 and 0
    ([[1, -1], [-1, 0]], {}, {"blank_label": "last"}, [3.259102, 7.881118]),
    ([[1, 2], [3, 0]], {"data_lengths": [3, 4]}, {"use_data_lengths": True}, [3.79868, 5.590951]),
    ([[1, 2], [3, 0]], {"data_lengths": [3, 4], "label_lengths": [1, 1]},
     {"use_data_lengths": True, "use_label_lengths": True}, [3.928802, 5.590951]),
    # label_lengths win over padding: the second row's 0 is used as a label (the blank class)
    ([[1, 2], [3, 0]], {"label_lengths": [2, 2]}, {"use_label_lengths": True}, [4.492916, 8.193285]),
    # float labels and lengths round to the nearest integer (1.5 -> 2, 0.7 -> 1, 2.5 -> 3)
    ([[1.5, 2], [1, 0.7]], {"data_lengths": [2.5, 3.3]}, {"use_data_lengths": True}, [6.270358, 5.041121]),
]


@pytest.mark.parametrize("label, lengths, attrs, want", MX_CASES)
def test_values_match_mxnet(label, lengths, attrs, want):
    arrays = {k: mx.nd.array(v) for k, v in lengths.items()}
    got = mx.nd.CTCLoss(mx.nd.array(_data()), mx.nd.array(label), **arrays, **attrs).asnumpy()
    assert got.dtype == np.float32 and got.shape == (2,)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)


def test_aliases_give_the_same_op():
    data, label = mx.nd.array(_data()), mx.nd.array(MX_DATA_LABEL)
    want = mx.nd.CTCLoss(data, label).asnumpy()
    np.testing.assert_allclose(want, [4.492916, 5.590951], rtol=2e-6)
    for name in ("ctc_loss", "_contrib_CTCLoss", "_contrib_ctc_loss"):
        np.testing.assert_array_equal(getattr(mx.nd, name)(data, label).asnumpy(), want)


def test_too_short_sequence_gives_zero_loss_and_gradient_as_mxnet():
    # [1, 1] needs 3 frames (a blank between the repeats); MXNet 1.9.1 returns 0 for it
    x = mx.nd.array(_data()[:2])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.CTCLoss(x, mx.nd.array([[1, 1], [1, 2]]))
    y.backward()
    np.testing.assert_allclose(y.asnumpy(), [0.0, 3.219926], rtol=2e-6)
    assert np.all(x.grad.asnumpy()[:, 0] == 0) and np.any(x.grad.asnumpy()[:, 1] != 0)


def test_impossible_label_gives_inf_as_mxnet_and_zero_gradient():
    # label_lengths 2 takes the padding 0 (the blank class) as a label: no alignment of 2 frames
    x = mx.nd.array(_data()[:2])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.CTCLoss(x, mx.nd.array([[1, 2], [1, 0]]), label_lengths=mx.nd.array([2, 2]),
                          use_label_lengths=True)
    y.backward()
    np.testing.assert_allclose(y.asnumpy(), [4.420364, np.inf], rtol=2e-6)   # MXNet 1.9.1
    assert np.all(x.grad.asnumpy()[:, 1] == 0) and np.all(np.isfinite(x.grad.asnumpy()))


def test_zero_data_length_gives_zero_loss_and_gradient():
    x = mx.nd.array(_data())
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.CTCLoss(x, mx.nd.array(MX_DATA_LABEL), mx.nd.array([0, 4]), use_data_lengths=True)
    y.backward()
    np.testing.assert_allclose(y.asnumpy(), [0.0, 5.590951], rtol=2e-6)
    assert np.all(x.grad.asnumpy()[:, 0] == 0) and np.any(x.grad.asnumpy()[:, 1] != 0)


MX_GRAD = np.array([   # MXNet 1.9.1: d/d data of CTCLoss(data, label, [3, 4]) with head gradient [1, 2]
    -0.4608614, -0.2557997, 0.1028905, 0.3635148, 0.2502561, -0.7754877, 0.829962, 0.2758712,
    -0.8142513, 0.4839056, 0.06516625, -0.4449373, 0.1178978, 0.1100241, 0.1518492, -0.1535218,
    1.053356, 0.1925775, -1.193053, 0.1006412, 0.002480936, 0.1323377, -0.8337267, 0.03277197,
    0.6661357, -0.04670994, 0.1888353, 0.1495952, -1.075773, 0.7840522, 0.0, 0.0, 0.0, 0.0, 0.0,
    -1.039347, 0.733009, 0.712833, -0.5648065, 0.1583115]).reshape(4, 2, 5)


def test_gradient_matches_mxnet_and_is_zero_past_the_data_length():
    x = mx.nd.array(_data())
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.CTCLoss(x, mx.nd.array(MX_DATA_LABEL), mx.nd.array([3, 4]), use_data_lengths=True)
    y.backward(mx.nd.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.asnumpy(), MX_GRAD, rtol=1e-5, atol=2e-6)
    assert np.all(x.grad.asnumpy()[3, 0] == 0)


# ------------------------------------------------------------------ gradient by finite differences
@pytest.mark.parametrize("blank_label, label", [("first", [[1, 2, 0], [2, 2, 1]]),
                                                ("last", [[0, 1, -1], [1, 1, 2]])])
def test_gradient_matches_finite_differences(blank_label, label):
    rs = np.random.RandomState(5)
    data = rs.randn(6, 2, 4)
    head = np.array([0.7, -1.3])
    label = mx.nd.array(label, dtype="float64")
    dlen = mx.nd.array([6, 5], dtype="float64")

    def loss(arr):
        out = mx.nd.CTCLoss(mx.nd.array(arr, dtype="float64"), label, dlen, use_data_lengths=True,
                            blank_label=blank_label)
        return float((out.asnumpy() * head).sum())

    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.CTCLoss(x, label, dlen, use_data_lengths=True, blank_label=blank_label)
    y.backward(mx.nd.array(head, dtype="float64"))
    num = np.zeros_like(data)
    eps = 1e-6
    for idx in np.ndindex(*data.shape):
        up, down = data.copy(), data.copy()
        up[idx] += eps
        down[idx] -= eps
        num[idx] = (loss(up) - loss(down)) / (2 * eps)
    np.testing.assert_allclose(x.grad.asnumpy(), num, rtol=1e-6, atol=1e-8)
    assert np.all(x.grad.asnumpy()[5, 1] == 0)


def test_second_order_is_not_supported():
    x = mx.nd.array(_data(dtype="float64"), dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.CTCLoss(x, mx.nd.array(MX_DATA_LABEL))
        with pytest.raises(NotSupportedError, match="CTCLoss.*second-order"):
            mx.autograd.grad(y, [x], create_graph=True)


# ------------------------------------------------------------------ symbols
def test_symbol_arguments_shapes_and_executor():
    s = mx.sym.CTCLoss(mx.sym.var("d"), mx.sym.var("l"), name="ctc")
    assert s.list_arguments() == ["d", "l"]
    assert s.list_outputs() == ["ctc_output0"]
    s2 = mx.sym.CTCLoss(name="ctc", use_data_lengths=True, use_label_lengths=True)
    assert s2.list_arguments() == ["ctc_data", "ctc_label", "ctc_data_lengths", "ctc_label_lengths"]
    assert mx.sym.CTCLoss(name="ctc", use_label_lengths=True).list_arguments() == \
        ["ctc_data", "ctc_label", "ctc_label_lengths"]
    assert s2.infer_shape(ctc_data=(4, 2, 5), ctc_label=(2, 2))[0][2:] == [(2,), (2,)]
    assert s.infer_shape(d=(4, 2, 5), l=(2, 2))[1] == [(2,)]
    ex = s.simple_bind(mx.cpu(), d=(4, 2, 5), l=(2, 2))
    ex.arg_dict["d"][:] = _data()
    ex.arg_dict["l"][:] = MX_DATA_LABEL
    np.testing.assert_allclose(ex.forward(is_train=True)[0].asnumpy(), [4.492916, 5.590951], rtol=2e-6)
    ex.backward(mx.nd.ones((2,)))
    ref = mx.nd.array(_data())
    ref.attach_grad()
    with mx.autograd.record():
        y = mx.nd.CTCLoss(ref, mx.nd.array(MX_DATA_LABEL))
    y.backward()
    np.testing.assert_allclose(ex.grad_dict["d"].asnumpy(), ref.grad.asnumpy(), rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ gluon
def test_gluon_ctc_loss_matches_mxnet_and_hybridized_equals_imperative():
    pred = np.random.RandomState(1).randn(2, 5, 4).astype(np.float32)
    label = mx.nd.array([[0, 1, -1], [2, 2, 1]])
    plen, llen, sw = mx.nd.array([4, 5]), mx.nd.array([1, 3]), mx.nd.array([0.5, 2])
    for hybrid in (False, True):
        loss = mx.gluon.loss.CTCLoss()
        if hybrid:
            loss.hybridize()
        np.testing.assert_allclose(loss(mx.nd.array(pred), label).asnumpy(), [4.756586, 6.557705], rtol=2e-6)
        loss = mx.gluon.loss.CTCLoss()
        if hybrid:
            loss.hybridize()
        np.testing.assert_allclose(loss(mx.nd.array(pred), label, plen, llen, sw).asnumpy(),
                                   [2.263711, 13.11541], rtol=2e-6)

    losses = [mx.gluon.loss.CTCLoss(weight=3.0), mx.gluon.loss.CTCLoss(weight=3.0)]
    losses[1].hybridize()
    for step in range(3):            # later steps replay the hybridized graph and its gradient
        batch = pred * (1 + 0.5 * step)     # (a constant shift would not change the softmax)
        grads = []
        for loss in losses:
            x = mx.nd.array(batch)
            x.attach_grad()
            with mx.autograd.record():
                y = loss(x, label, plen)
            y.backward()
            grads.append((y.asnumpy(), x.grad.asnumpy()))
        np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-6)
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-7)
        assert np.all(grads[0][1][0, 4] == 0)        # past pred_lengths[0] = 4
        assert np.any(grads[0][1][1, 4] != 0)


def test_gluon_tnc_layout_equals_ntc():
    pred = np.random.RandomState(2).randn(3, 6, 5).astype(np.float32)
    label = np.array([[0, 1, 2], [3, -1, -1], [2, 2, -1]], dtype=np.float32)
    ntc = mx.gluon.loss.CTCLoss()(mx.nd.array(pred), mx.nd.array(label)).asnumpy()
    tnc = mx.gluon.loss.CTCLoss(layout="TNC", label_layout="TN")(
        mx.nd.array(pred.transpose(1, 0, 2)), mx.nd.array(label.T)).asnumpy()
    np.testing.assert_allclose(tnc, ntc, rtol=1e-6)
    want = [brute_ctc(pred[b], [int(v) for v in label[b] if v >= 0], 4) for b in range(3)]
    np.testing.assert_allclose(ntc, want, rtol=1e-5)
    with pytest.raises(MXNetError, match="layout"):
        mx.gluon.loss.CTCLoss(layout="NCT")


# ------------------------------------------------------------------ errors
def test_errors_name_the_shapes():
    data = mx.nd.array(_data())
    with pytest.raises(ShapeError, match=r"label shape \(2, 5\).*data shape \(4, 2, 5\)"):
        mx.nd.CTCLoss(data, mx.nd.zeros((2, 5)))              # labels longer than T = 4
    with pytest.raises(ShapeError, match=r"data must be 3-D.*\(2, 5\)"):
        mx.nd.CTCLoss(data[0], mx.nd.zeros((2, 2)))
    with pytest.raises(ShapeError, match=r"label must be 2-D.*\(2,\)"):
        mx.nd.CTCLoss(data, mx.nd.zeros((2,)))
    with pytest.raises(ShapeError, match=r"batch size 3 but data has 2"):
        mx.nd.CTCLoss(data, mx.nd.zeros((3, 2)))
    with pytest.raises(ShapeError, match=r"data_lengths must have shape \(2,\).*got \(3,\)"):
        mx.nd.CTCLoss(data, mx.nd.zeros((2, 2)), mx.nd.array([1, 2, 3]), use_data_lengths=True)
    with pytest.raises(ShapeError, match="CTCLoss"):
        mx.sym.CTCLoss(mx.sym.var("d"), mx.sym.var("l")).infer_shape(d=(2, 2, 5), l=(2, 3))


def test_errors_on_out_of_range_values():
    data = mx.nd.array(_data())
    with pytest.raises(MXNetError, match=r"labels must lie in \[0, 5\)"):
        mx.nd.CTCLoss(data, mx.nd.array([[1, 7], [1, 0]]))
    with pytest.raises(MXNetError, match=r"labels must lie in \[0, 5\)"):
        mx.nd.CTCLoss(data, mx.nd.array([[-2, 1], [1, -1]]), blank_label="last")
    with pytest.raises(MXNetError, match=r"data_lengths must lie in \[0, 4\]"):
        mx.nd.CTCLoss(data, mx.nd.array([[1, 2], [1, 0]]), mx.nd.array([5, 2]), use_data_lengths=True)
    with pytest.raises(MXNetError, match=r"label_lengths must lie in \[0, 2\]"):
        mx.nd.CTCLoss(data, mx.nd.array([[1, 2], [1, 0]]), label_lengths=mx.nd.array([3, 1]),
                      use_label_lengths=True)
    with pytest.raises(MXNetError, match="blank_label"):
        mx.nd.CTCLoss(data, mx.nd.array([[1, 2], [1, 0]]), blank_label="middle")
