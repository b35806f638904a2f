"""mx.autograd: scopes, variables, backward, grad (incl. second order), Function."""
import gc

import numpy as np
import pytest

import psnet as mx
from psnet import autograd as ag


def _x(values, dtype="float64"):
    x = mx.nd.array(values, dtype=dtype)
    x.attach_grad()
    return x


# ---------------------------------------------------------------------------- scopes
def test_record_pause_and_mode_flags():
    assert not ag.is_recording() and not ag.is_training()
    with ag.record():
        assert ag.is_recording() and ag.is_training()
        with ag.pause():
            assert not ag.is_recording() and not ag.is_training()
        with ag.pause(train_mode=True):
            assert not ag.is_recording() and ag.is_training()
        with ag.predict_mode():
            assert ag.is_recording() and not ag.is_training()
    with ag.record(train_mode=False):
        assert ag.is_recording() and not ag.is_training()
        with ag.train_mode():
            assert ag.is_training()
    assert not ag.is_recording() and not ag.is_training()


def test_set_recording_and_training_return_previous_state():
    assert ag.set_recording(True) is False
    assert ag.set_training(True) is False
    assert ag.set_recording(False) is True
    assert ag.set_training(False) is True


def test_scopes_restore_state_after_an_exception():
    with pytest.raises(RuntimeError):
        with ag.record():
            raise RuntimeError("boom")
    assert not ag.is_recording() and not ag.is_training()


def test_training_flag_drives_dropout():
    x = mx.nd.ones((50, 40))
    assert (mx.nd.Dropout(x, p=0.5).asnumpy() == 1).all()  # prediction: identity
    with ag.train_mode():
        y = mx.nd.Dropout(x, p=0.5).asnumpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6
    with ag.record(train_mode=False):
        assert (mx.nd.Dropout(x, p=0.5).asnumpy() == 1).all()


# ---------------------------------------------------------------------------- backward
def test_backward_of_a_scalar_and_grad_buffer_identity():
    x = _x([1.0, 2.0, 3.0])
    buf = x.grad
    with ag.record():
        y = (x * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2, 4, 6])
    assert x.grad is buf  # the buffer is written in place (optimizers keep references)


def test_backward_of_a_non_scalar_uses_ones_or_head_grads():
    x = _x([[1.0, 2.0], [3.0, 4.0]])
    with ag.record():
        y = x * x * 3
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * x.asnumpy())
    with ag.record():
        y = x * x * 3
    y.backward(mx.nd.array([[1, 0], [2, -1]], dtype="float64"))
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * x.asnumpy() * [[1, 0], [2, -1]])


def test_head_grad_on_a_scalar_scales_the_gradient():
    x = _x([1.0, -2.0])
    with ag.record():
        y = (x * x).sum()
    y.backward(mx.nd.array([0.5], dtype="float64"))
    np.testing.assert_allclose(x.grad.asnumpy(), [1.0, -2.0])


def test_head_grad_of_the_wrong_shape_is_an_error():
    x = _x([1.0, 2.0])
    with ag.record():
        y = x * 2
    with pytest.raises(mx.MXNetError, match="shape"):
        y.backward(mx.nd.ones((3,), dtype="float64"))


def test_grad_req_write_add_null():
    x = _x([1.0, 2.0])
    z = mx.nd.array([1.0, 2.0], dtype="float64")
    z.attach_grad(grad_req="add")
    n = mx.nd.array([1.0, 2.0], dtype="float64")
    n.attach_grad(grad_req="null")
    for _ in range(3):
        with ag.record():
            y = (x * 2 + z * 3 + n * 4).sum()
        y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2, 2])
    np.testing.assert_allclose(z.grad.asnumpy(), [9, 9])
    np.testing.assert_allclose(n.grad.asnumpy(), [0, 0])
    with pytest.raises(mx.MXNetError, match="grad_req"):
        x.attach_grad(grad_req="sometimes")


def test_a_variable_used_twice_accumulates():
    x = _x([3.0])
    with ag.record():
        y = x * x + x * 2 + mx.nd.exp(x)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2 * 3 + 2 + np.exp(3)])


def test_detach_cuts_the_graph():
    x = _x([1.0, 2.0])
    with ag.record():
        y = x * x
        z = y.detach() * x
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [1, 4])  # y treated as a constant
    assert z.detach()._ag is None


def test_retain_graph_and_the_freed_graph_error():
    x = _x([1.0, 2.0])
    with ag.record():
        y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2, 4])
    with pytest.raises(mx.MXNetError, match="retain_graph"):
        y.backward()


def test_backward_without_variables_is_a_clear_error():
    with pytest.raises(mx.MXNetError, match="attach_grad"):
        mx.nd.ones(2).backward()


def test_autograd_backward_on_several_heads():
    x = _x([1.0, 2.0])
    with ag.record():
        a = x * x
        b = x * 3
    ag.backward([a, b], [mx.nd.ones(2, dtype="float64"), mx.nd.array([2, 2], dtype="float64")])
    np.testing.assert_allclose(x.grad.asnumpy(), [2 + 6, 4 + 6])
    with ag.record():
        c = x * 5
    ag.backward(c)
    np.testing.assert_allclose(x.grad.asnumpy(), [5, 5])


def test_unused_variable_is_an_error_in_grad_and_keeps_its_buffer_in_backward():
    x, w = _x([1.0, 2.0]), _x([7.0])
    w.grad[:] = 5
    with ag.record():
        y = (x * 2).sum()
    with pytest.raises(mx.MXNetError, match=r"variable #1 \(shape \(1,\)\) is not in the graph"):
        ag.grad(y, [x, w], retain_graph=True)
    np.testing.assert_allclose(ag.grad(y, [x])[0].asnumpy(), [2, 2])
    with ag.record():
        y2 = (x * 2).sum()
    y2.backward()
    np.testing.assert_allclose(w.grad.asnumpy(), [5])


def test_mark_variables():
    x = mx.nd.array([1.0, 2.0], dtype="float64")
    g = mx.nd.zeros(2, dtype="float64")
    ag.mark_variables([x], [g], grad_reqs="add")
    for _ in range(2):
        with ag.record():
            y = (x * x).sum()
        y.backward()
    np.testing.assert_allclose(g.asnumpy(), [4, 8])
    assert x.grad is g
    with pytest.raises(mx.MXNetError):
        ag.mark_variables([x], [g, g])


def test_in_place_update_of_a_leaf_outside_record():
    """The tutorial's manual SGD: param[:] = param - lr * param.grad keeps the variable."""
    rs = np.random.RandomState(0)
    X = rs.randn(64, 3)
    w_true = np.array([[2.0], [-3.0], [0.5]])
    Y = X @ w_true
    w = mx.nd.zeros((3, 1), dtype="float64")
    w.attach_grad()
    data, label = mx.nd.array(X, dtype="float64"), mx.nd.array(Y, dtype="float64")
    for _ in range(200):
        with ag.record():
            loss = ((mx.nd.dot(data, w) - label) ** 2).mean()
        loss.backward()
        w[:] = w - 0.1 * w.grad
    np.testing.assert_allclose(w.asnumpy(), w_true, atol=1e-4)
    with ag.record():
        with pytest.raises(mx.MXNetError, match="in-place"):
            w[:] = 0


def test_grads_for_several_ops_match_numpy():
    xv = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])
    wv = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.1]])
    x, w = _x(xv), _x(wv)
    with ag.record():
        h = mx.nd.dot(x, w)
        y = (mx.nd.Activation(h, act_type="tanh") * mx.nd.exp(x[:, :2])).sum()
    y.backward()
    t = np.tanh(xv @ wv)
    e = np.exp(xv[:, :2])
    dh = (1 - t * t) * e
    gx = dh @ wv.T
    gx[:, :2] += t * e
    np.testing.assert_allclose(x.grad.asnumpy(), gx, rtol=1e-10)
    np.testing.assert_allclose(w.grad.asnumpy(), xv.T @ dh, rtol=1e-10)


# ---------------------------------------------------------------------------- second order
def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for j in range(x.size):
        xp_, xm = x.copy(), x.copy()
        xp_.reshape(-1)[j] += eps
        xm.reshape(-1)[j] -= eps
        g.reshape(-1)[j] = (f(xp_) - f(xm)) / (2 * eps)
    return g


SECOND_ORDER = {
    # name: (psnet expression, first derivative in NumPy, input domain)
    "exp": (lambda x: mx.nd.exp(x), lambda v: np.exp(v), (-1, 1)),
    "log": (lambda x: mx.nd.log(x), lambda v: 1 / v, (0.5, 2)),
    "square_mul": (lambda x: x * x * x, lambda v: 3 * v * v, (-1, 1)),
    "div": (lambda x: 1.0 / (x + 2), lambda v: -1 / (v + 2) ** 2, (-1, 1)),
    "power": (lambda x: x ** 2.5, lambda v: 2.5 * v ** 1.5, (0.5, 2)),
    "sigmoid": (lambda x: mx.nd.Activation(x, act_type="sigmoid"),
                lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2, (-2, 2)),
    "tanh": (lambda x: mx.nd.Activation(x, act_type="tanh"), lambda v: 1 - np.tanh(v) ** 2, (-2, 2)),
    "softrelu": (lambda x: mx.nd.Activation(x, act_type="softrelu"), lambda v: 1 / (1 + np.exp(-v)), (-2, 2)),
    "elu": (lambda x: mx.nd.LeakyReLU(x, act_type="elu", slope=0.7),
            lambda v: np.where(v > 0, 1.0, 0.7 * np.exp(v)), (-2, 2)),
    "gelu": (lambda x: mx.nd.LeakyReLU(x, act_type="gelu"),
             lambda v: 0.5 * (1 + np.vectorize(__import__("math").erf)(v / np.sqrt(2)))
             + v * np.exp(-v * v / 2) / np.sqrt(2 * np.pi), (-2, 2)),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_gradient_of_elementwise_ops(name):
    fn, d1, (lo, hi) = SECOND_ORDER[name]
    v = np.random.RandomState(1).uniform(lo, hi, (2, 3))
    v[np.abs(v) < 0.05] = 0.3  # keep away from ELU's kink
    x = _x(v)
    with ag.record():
        y = fn(x)
        dx = ag.grad(y, [x], create_graph=True)[0]
        z = (dx * dx).sum()
    np.testing.assert_allclose(dx.asnumpy(), d1(v), rtol=1e-7)
    z.backward()
    expected = _numeric_grad(lambda u: float((d1(u) ** 2).sum()), v)
    np.testing.assert_allclose(x.grad.asnumpy(), expected, rtol=1e-5, atol=1e-8)


def test_second_order_gradient_through_dot():
    rs = np.random.RandomState(2)
    xv, wv = rs.randn(2, 3), rs.randn(3, 4)
    x, w = _x(xv), _x(wv)
    with ag.record():
        y = (mx.nd.dot(x, w) ** 2).sum()
        gx, gw = ag.grad(y, [x, w], create_graph=True)
        z = (gx * gx).sum() + (gw * mx.nd.exp(w)).sum()
    np.testing.assert_allclose(gx.asnumpy(), 2 * (xv @ wv) @ wv.T, rtol=1e-10)
    z.backward()

    def zf(xu, wu):
        h = xu @ wu
        return ((2 * h @ wu.T) ** 2).sum() + ((2 * xu.T @ h) * np.exp(wu)).sum()
    np.testing.assert_allclose(x.grad.asnumpy(), _numeric_grad(lambda u: zf(u, wv), xv), rtol=1e-5)
    np.testing.assert_allclose(w.grad.asnumpy(), _numeric_grad(lambda u: zf(xv, u), wv), rtol=1e-5)


def test_grad_without_create_graph_is_not_recorded():
    x = _x([1.0, 2.0])
    with ag.record():
        y = (x * x).sum()
        g = ag.grad(y, x)
    assert g._ag is None
    np.testing.assert_allclose(g.asnumpy(), [2, 4])
    with pytest.raises(mx.MXNetError, match="attach_grad"):
        ag.grad(y, mx.nd.ones(2))


# ---------------------------------------------------------------------------- Function
class _Sigmoid(ag.Function):
    def forward(self, x):
        y = 1 / (1 + mx.nd.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


class _SplitScale(ag.Function):
    def forward(self, a, b):
        return a * 2, a * b

    def backward(self, da, dab):
        a, b = self._inputs
        return da * 2 + dab * b, dab * a

    def __call__(self, a, b):
        self._inputs = (a, b)
        return super().__call__(a, b)


def test_function_forward_and_backward():
    v = np.array([-1.0, 0.0, 2.0])
    x = _x(v)
    with ag.record():
        y = _Sigmoid()(x)
        z = (y * 3).sum()
    z.backward()
    s = 1 / (1 + np.exp(-v))
    np.testing.assert_allclose(y.asnumpy(), s)
    np.testing.assert_allclose(x.grad.asnumpy(), 3 * s * (1 - s))


def test_function_with_two_inputs_and_outputs():
    a, b = _x([1.0, 2.0]), _x([3.0, -1.0])
    with ag.record():
        p, q = _SplitScale()(a, b)
        loss = (p * 5 + q).sum()
    loss.backward()
    np.testing.assert_allclose(a.grad.asnumpy(), [10 + 3, 10 - 1])
    np.testing.assert_allclose(b.grad.asnumpy(), [1, 2])


def test_function_outside_record_is_plain_computation():
    y = _Sigmoid()(mx.nd.array([0.0]))
    assert y._ag is None
    np.testing.assert_allclose(y.asnumpy(), [0.5])


def test_tape_is_released_after_backward():
    """Without retain_graph, nodes drop their inputs, so big intermediates can be freed."""
    import weakref
    x = _x(np.ones(4))
    with ag.record():
        h = x * 2
        y = (h * h).sum()
    ref = weakref.ref(h)
    del h
    y.backward()
    gc.collect()
    assert ref() is None


LAYER_SECOND_ORDER = {
    # name: (function of one float64 NDArray, input shape)
    "softmax": (lambda x: mx.nd.softmax(x, axis=1, temperature=1.5), (2, 3)),
    "log_softmax": (lambda x: mx.nd.log_softmax(x), (2, 3)),
    "FullyConnected": (lambda x: mx.nd.FullyConnected(
        x * x, mx.nd.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]], dtype="float64"),
        mx.nd.array([0.1, -0.1], dtype="float64"), num_hidden=2), (2, 3)),
    "LayerNorm": (lambda x: mx.nd.LayerNorm(x, mx.nd.array([1.0, 2.0, 0.5], dtype="float64"),
                                            mx.nd.zeros(3, dtype="float64")), (2, 3)),
    "BatchNorm": (lambda x: mx.nd.BatchNorm(x, mx.nd.array([1.0, 2.0], dtype="float64"),
                                            mx.nd.zeros(2, dtype="float64"), mx.nd.zeros(2, dtype="float64"),
                                            mx.nd.ones(2, dtype="float64"), fix_gamma=False), (3, 2)),
    "softrelu": (lambda x: mx.nd.Activation(x, act_type="softrelu"), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(LAYER_SECOND_ORDER))
def test_second_order_gradient_of_layers(name):
    """d/dx sum(W * d(sum(V * f(x)))/dx) against finite differences of the first gradient."""
    fn, shape = LAYER_SECOND_ORDER[name]
    rs = np.random.RandomState(3)
    v = rs.uniform(-1, 1, shape)
    V = mx.nd.array(rs.uniform(0.5, 1.5, fn(mx.nd.array(v, dtype="float64")).shape), dtype="float64")
    W = rs.uniform(0.5, 1.5, shape)

    def first(u):
        x = _x(u)
        with ag.record():
            y = (fn(x) * V).sum()
        return ag.grad(y, [x])[0].asnumpy()
    x = _x(v)
    with ag.record():
        y = (fn(x) * V).sum()
        g = ag.grad(y, [x], create_graph=True)[0]
        z = (g * mx.nd.array(W, dtype="float64")).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), _numeric_grad(lambda u: float((first(u) * W).sum()), v),
                               rtol=1e-5, atol=1e-7)
