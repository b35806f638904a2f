"""bind / simple_bind executors: forward, backward vs finite differences, grad_req, reshape."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError


def test_c_equals_a_times_b():
    a, b = mx.sym.Variable("A"), mx.sym.Variable("B")
    c = a * b
    ex = c.bind(mx.cpu(), {"A": mx.nd.ones((3,)) * 4, "B": mx.nd.ones((3,)) * 2})
    assert ex.forward()[0].asnumpy().tolist() == [8.0, 8.0, 8.0]


def test_missing_argument_named():
    c = mx.sym.FullyConnected(mx.sym.var("a"), num_hidden=3, name="fc")
    with pytest.raises(MXNetError, match="fc_weight"):
        c.bind(mx.cpu(), {"a": mx.nd.ones((2, 5))})


def _numeric_grad(f, x, eps=1e-3):
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        hi = f()
        x[i] = old - eps
        lo = f()
        x[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g


def test_backward_matches_finite_differences():
    rs = np.random.RandomState(0)
    x = mx.sym.var("x")
    h = mx.sym.Activation(mx.sym.FullyConnected(x, num_hidden=4, name="fc1"), act_type="tanh")
    y = mx.sym.sum(mx.sym.FullyConnected(h, num_hidden=2, name="fc2") ** 2 * mx.sym.var("w"))
    ex = y.simple_bind(mx.cpu(), x=(3, 5), w=(3, 2))
    vals = {k: rs.uniform(-1, 1, v.shape).astype(np.float64) for k, v in ex.arg_dict.items()}
    for k, v in vals.items():
        ex.arg_dict[k][:] = v
    ex.forward(is_train=True)
    ex.backward()

    def f():
        for k, v in vals.items():
            ex.arg_dict[k][:] = v
        return float(ex.forward()[0].asnumpy()[0])
    for name in ("x", "fc1_weight", "fc1_bias", "fc2_weight", "w"):
        analytic = ex.grad_dict[name].asnumpy()
        numeric = _numeric_grad(f, vals[name])
        np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-3, err_msg=name)


def test_grad_req_add_null_and_out_grads():
    a = mx.sym.var("a")
    b = mx.sym.var("b")
    c = a * b
    av, bv = mx.nd.array([1.0, 2.0]), mx.nd.array([3.0, 5.0])
    ga, gb = mx.nd.ones((2,)), mx.nd.ones((2,))
    ex = c.bind(mx.cpu(), {"a": av, "b": bv}, args_grad={"a": ga, "b": gb}, grad_req={"a": "add", "b": "null"})
    ex.forward(is_train=True)
    ex.backward(mx.nd.array([1.0, 10.0]))
    assert ga.asnumpy().tolist() == [4.0, 51.0]
    assert gb.asnumpy().tolist() == [1.0, 1.0]
    assert ex.grad_dict["a"] is ga


def test_softmax_output_training_step_and_aux():
    rs = np.random.RandomState(1)
    data = mx.sym.var("data")
    net = mx.sym.BatchNorm(mx.sym.FullyConnected(data, num_hidden=8, name="fc1"), name="bn")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.relu(net), num_hidden=3, name="fc2"), name="out")
    ex = net.simple_bind(mx.cpu(), data=(16, 4))
    assert set(ex.aux_dict) == {"bn_moving_mean", "bn_moving_var"}
    for k, v in ex.arg_dict.items():
        if k.endswith("weight"):
            v[:] = rs.normal(0, 0.5, v.shape)
    ex.aux_dict["bn_moving_var"][:] = 1
    ex.arg_dict["bn_gamma"][:] = 1
    x = rs.normal(size=(16, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32) + (x[:, 1] > 0)
    losses = []
    for _ in range(30):
        p = ex.forward(is_train=True, data=x, out_label=y)[0].asnumpy()
        losses.append(-np.log(p[np.arange(16), y.astype(int)] + 1e-8).mean())
        ex.backward()
        for k, g in ex.grad_dict.items():
            if k not in ("data", "out_label"):
                ex.arg_dict[k][:] = ex.arg_dict[k] - 0.1 * g
    assert losses[-1] < 0.5 * losses[0]
    assert abs(ex.aux_dict["bn_moving_mean"].asnumpy()).sum() > 0


def test_reshape_shares_parameters():
    net = mx.sym.FullyConnected(mx.sym.var("x"), num_hidden=2, name="fc")
    ex = net.simple_bind(mx.cpu(), x=(4, 3))
    ex.arg_dict["fc_weight"][:] = 1
    ex2 = ex.reshape(x=(6, 3))
    assert ex2.arg_dict["fc_weight"] is ex.arg_dict["fc_weight"]
    assert ex2.forward(x=np.ones((6, 3)))[0].shape == (6, 2)
    ex.copy_params_from({"fc_bias": mx.nd.array([1.0, 2.0])})
    assert ex2.forward(x=np.ones((6, 3)))[0].asnumpy()[0].tolist() == [4.0, 5.0]


@pytest.mark.parametrize("x_shape", [(4, 3), (4, 3, 2)])  # 3-d: the FC gradient reshapes
def test_replayed_gradients_equal_traced_ones(x_shape):
    """The second backward replays traced programs; it must give the first-call results."""
    x = mx.sym.var("x")
    net = mx.sym.LeakyReLU(mx.sym.FullyConnected(x, num_hidden=5, name="fc"), act_type="elu")
    net = mx.sym.mean(mx.sym.log_softmax(net) * mx.sym.var("w"), axis=1)
    shapes = {"x": x_shape, "w": (4, 5)}
    runs = []
    for _ in range(2):
        ex = net.simple_bind(mx.cpu(), grad_req={"x": "write", "fc_weight": "write", "fc_bias": "write",
                                                  "w": "write"}, **shapes)
        for seed in (0, 1):
            vals = {k: np.random.RandomState(seed + len(k)).uniform(-1, 1, s) for k, s in
                    [(k, v.shape) for k, v in ex.arg_dict.items()]}
            ex.forward(is_train=True, **vals)
            ex.backward()
            runs.append({k: g.asnumpy().copy() for k, g in ex.grad_dict.items()})
    first_exec_seed1, second_exec_seed1 = runs[1], runs[3]
    fresh = net.simple_bind(mx.cpu(), **shapes)
    vals = {k: np.random.RandomState(1 + len(k)).uniform(-1, 1, v.shape) for k, v in fresh.arg_dict.items()}
    fresh.forward(is_train=True, **vals)
    fresh.backward()
    for k in ("x", "fc_weight", "fc_bias", "w"):
        np.testing.assert_allclose(first_exec_seed1[k], fresh.grad_dict[k].asnumpy(), rtol=1e-6)
        np.testing.assert_allclose(second_exec_seed1[k], fresh.grad_dict[k].asnumpy(), rtol=1e-6)


def test_non_differentiable_nodes_stop_gradients():
    a = mx.sym.var("a")
    y = mx.sym.sum(a * 3 + mx.sym.zeros_like(a) + mx.sym.broadcast_mod(a, mx.sym.ones((2,)) * 5))
    ex = y.simple_bind(mx.cpu(), a=(2,))
    ex.forward(is_train=True, a=np.array([1.0, 2.0]))
    ex.backward()
    assert ex.grad_dict["a"].asnumpy().tolist() == [3.0, 3.0]


def test_linked_backward_program_sums_zero_fills_and_head_grads():
    """From the second backward on, the whole graph's gradient runs as one linked program:
    a slot reached twice (p0 * p0) is summed, an unused split output is zero-filled, a
    missing head gradient is ones; every call must give the analytic gradients."""
    a, b = mx.sym.var("a"), mx.sym.var("b")
    p0 = mx.sym.split(a, num_outputs=2, axis=1)[0]
    net = mx.sym.Group([mx.sym.sum(p0 * p0 * b), mx.sym.exp(p0)])
    ex = net.simple_bind(mx.cpu(), a=(4, 6), b=(4, 3))
    for seed in range(3):
        rs = np.random.RandomState(seed)
        av, bv, g = rs.uniform(-1, 1, (4, 6)), rs.uniform(-1, 1, (4, 3)), rs.uniform(-1, 1, (4, 3))
        ex.forward(is_train=True, a=av, b=bv)
        ex.backward([None, mx.nd.array(g)])
        left = av[:, :3]
        want_a = np.concatenate([2 * left * bv + np.exp(left) * g, np.zeros((4, 3))], axis=1)
        np.testing.assert_allclose(ex.grad_dict["a"].asnumpy(), want_a, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ex.grad_dict["b"].asnumpy(), left * left, rtol=1e-5, atol=1e-6)
    assert any(type(p) is tuple for p in ex._plan._programs.values())  # the linked program ran


def test_first_layer_fully_connected_skips_its_data_gradient_when_replayed():
    """FullyConnected's gradient is one _backward_FullyConnected step; where the data
    gradient is not wanted (grad_req null) the replayed step is told to skip that product,
    and the weight and bias gradients stay exact on every call."""
    x = mx.sym.var("x")
    y = mx.sym.sum(mx.sym.FullyConnected(x, num_hidden=3, name="fc") ** 2)
    ex = y.simple_bind(mx.cpu(), grad_req={"fc_weight": "write", "fc_bias": "write"}, x=(4, 5))
    for seed in range(3):
        rs = np.random.RandomState(seed)
        xv, w, b = rs.uniform(-1, 1, (4, 5)), rs.uniform(-1, 1, (3, 5)), rs.uniform(-1, 1, 3)
        ex.forward(is_train=True, x=xv, fc_weight=w, fc_bias=b)
        ex.backward()
        og = 2 * (xv @ w.T + b)
        np.testing.assert_allclose(ex.grad_dict["fc_weight"].asnumpy(), og.T @ xv, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ex.grad_dict["fc_bias"].asnumpy(), og.sum(0), rtol=1e-5, atol=1e-6)
    flat = next(p for p in ex._plan._programs.values() if type(p) is tuple)[0]
    fc_steps = [s for s in flat.steps if s[0].__name__ == "_fc_backward"]
    assert [s[3]["need_data"] for s in fc_steps] == [False]


def _cross_entropy(x, label, extra_reader=False):
    logp = mx.sym.log_softmax(x, axis=-1)
    loss = mx.sym.mean(-mx.sym.pick(logp, label, axis=-1, keepdims=True), axis=0, exclude=True)
    return mx.sym.Group([loss, mx.sym.exp(logp)]) if extra_reader else loss


def test_log_softmax_pick_runs_fused_with_the_pair_s_values_and_gradients():
    """A log_softmax read only by a pick runs as one _log_softmax_pick step; loss and data
    gradient equal the analytic -log softmax[label] and softmax - onehot (per row),
    on the first (traced) and later (replayed) backward calls."""
    x, label = mx.sym.var("x"), mx.sym.var("label")
    ex = _cross_entropy(x, label).simple_bind(mx.cpu(), grad_req={"x": "write"}, x=(4, 5), label=(4,))
    assert [s[-1].op_name for s in ex._plan.steps][:1] == ["_log_softmax_pick"]
    lab = np.array([0, 4, 2, 9])  # 9 is clipped to 4, as pick does
    for seed in range(3):
        xv = np.random.RandomState(seed).uniform(-3, 3, (4, 5))
        out = ex.forward(is_train=True, x=xv, label=lab)[0].asnumpy()
        p = np.exp(xv - xv.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        idx = np.minimum(lab, 4)
        np.testing.assert_allclose(out, -np.log(p[np.arange(4), idx]), rtol=1e-5)
        ex.backward()
        want = p.copy()
        want[np.arange(4), idx] -= 1
        np.testing.assert_allclose(ex.grad_dict["x"].asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_log_softmax_with_another_reader_is_not_fused():
    x, label = mx.sym.var("x"), mx.sym.var("label")
    ex = _cross_entropy(x, label, extra_reader=True).simple_bind(mx.cpu(), x=(2, 3), label=(2,))
    names = [s[-1].op_name for s in ex._plan.steps]
    assert "log_softmax" in names and "pick" in names and "_log_softmax_pick" not in names


def test_fully_connected_relu_runs_fused_and_keeps_both_gradients():
    """A ReLU Activation of a FullyConnected that nothing else reads runs as one
    _FullyConnected_relu step; outputs and gradients (data, weight, bias) match NumPy on
    the traced and the replayed backward; a FullyConnected output that is also a head is
    not fused."""
    x = mx.sym.var("x")
    h = mx.sym.Activation(mx.sym.FullyConnected(x, num_hidden=3, name="fc"), act_type="relu")
    ex = mx.sym.sum(h * h).simple_bind(mx.cpu(), x=(4, 5))
    assert [s[-1].op_name for s in ex._plan.steps][0] == "_FullyConnected_relu"
    for seed in range(3):
        rs = np.random.RandomState(seed)
        xv, w, b = rs.uniform(-1, 1, (4, 5)), rs.uniform(-1, 1, (3, 5)), rs.uniform(-1, 1, 3)
        ex.forward(is_train=True, x=xv, fc_weight=w, fc_bias=b)
        ex.backward()
        y = np.maximum(xv @ w.T + b, 0)
        og = 2 * y
        np.testing.assert_allclose(ex.grad_dict["x"].asnumpy(), og @ w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ex.grad_dict["fc_weight"].asnumpy(), og.T @ xv, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ex.grad_dict["fc_bias"].asnumpy(), og.sum(0), rtol=1e-5, atol=1e-6)
    fc = mx.sym.FullyConnected(x, num_hidden=3, name="fc")
    plan = mx.sym.Group([fc, mx.sym.Activation(fc, act_type="relu")]).simple_bind(mx.cpu(), x=(4, 5))._plan
    assert [s[-1].op_name for s in plan.steps] == ["FullyConnected", "Activation"]
