"""Custom Python operators through mx.nd.Custom and autograd."""
import numpy as np
import pytest

import psnet as mx


class _Sigmoid(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        self.saw_train = is_train
        self.assign(out_data[0], req[0], 1 / (1 + mx.nd.exp(-in_data[0])))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        y = out_data[0]
        self.assign(in_grad[0], req[0], out_grad[0] * y * (1 - y))


@mx.operator.register("test_sigmoid")
class _SigmoidProp(mx.operator.CustomOpProp):
    def __init__(self):
        super().__init__(need_top_grad=True)

    def create_operator(self, ctx, shapes, dtypes):
        return _Sigmoid()


class _ScaledAdd(mx.operator.CustomOp):
    def __init__(self, scale):
        self.scale = scale

    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] + self.scale * in_data[1])
        self.assign(out_data[1], req[1], in_data[0] * 0 + self.scale)

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], out_grad[0])
        self.assign(in_grad[1], req[1], out_grad[0] * self.scale)


@mx.operator.register("test_scaled_add")
class _ScaledAddProp(mx.operator.CustomOpProp):
    def __init__(self, scale="1"):
        super().__init__()
        self.scale = float(scale)   # MXNet passes keyword arguments as strings

    def list_arguments(self):
        return ["a", "b"]

    def list_outputs(self):
        return ["sum", "scale"]

    def create_operator(self, ctx, shapes, dtypes):
        return _ScaledAdd(self.scale)


def test_forward_values_and_gradient():
    x = mx.nd.array([[-1.0, 0.0, 2.0]])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Custom(x, op_type="test_sigmoid")
    y.backward()
    s = 1 / (1 + np.exp(-x.asnumpy()))
    np.testing.assert_allclose(y.asnumpy(), s, rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), s * (1 - s), rtol=1e-6)


def test_two_inputs_two_outputs_and_string_kwargs():
    a, b = mx.nd.array([1.0, 2.0]), mx.nd.array([10.0, 20.0])
    a.attach_grad(); b.attach_grad()
    with mx.autograd.record():
        out, scale = mx.nd.Custom(a, b, op_type="test_scaled_add", scale=0.5)
        loss = (out * mx.nd.array([1.0, 3.0])).sum()
    loss.backward()
    np.testing.assert_allclose(out.asnumpy(), [6.0, 12.0])
    np.testing.assert_allclose(scale.asnumpy(), [0.5, 0.5])
    np.testing.assert_allclose(a.grad.asnumpy(), [1.0, 3.0])
    np.testing.assert_allclose(b.grad.asnumpy(), [0.5, 1.5])


def test_runs_on_other_cpu_context():
    x = mx.nd.array([0.0, 1.0], ctx=mx.cpu(1))
    y = mx.nd.Custom(x, op_type="test_sigmoid")
    assert y.context == mx.cpu(1)
    np.testing.assert_allclose(y.asnumpy(), 1 / (1 + np.exp(-np.array([0.0, 1.0]))), rtol=1e-6)


def test_unknown_op_type_is_named():
    with pytest.raises(mx.MXNetError, match="no_such_op"):
        mx.nd.Custom(mx.nd.ones((2,)), op_type="no_such_op")


def test_wrong_number_of_inputs_is_clear():
    with pytest.raises(mx.MXNetError, match=r"takes 2 (array )?input"):
        mx.nd.Custom(mx.nd.ones((2,)), op_type="test_scaled_add")
