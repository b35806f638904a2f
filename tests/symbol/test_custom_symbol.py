"""Custom Python operators in Symbol graphs, JSON and hybridized blocks."""
import numpy as np

import psnet as mx
from psnet import autograd, gluon


class _Scale(mx.operator.CustomOp):
    def __init__(self, factor):
        self.factor = factor

    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] * self.factor)

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], out_grad[0] * self.factor)


@mx.operator.register("symtest_scale")
class _ScaleProp(mx.operator.CustomOpProp):
    def __init__(self, factor="1"):
        super().__init__(need_top_grad=True)
        self.factor = float(factor)

    def create_operator(self, ctx, shapes, dtypes):
        return _Scale(self.factor)


def test_custom_in_symbol_json_and_executor():
    x = mx.sym.var("x")
    s = mx.sym.Custom(x, op_type="symtest_scale", factor=3, name="sc")
    back = mx.sym.load_json(s.tojson())
    assert back.tojson() == s.tojson() and back.list_outputs() == ["sc_output"]
    ex = back.simple_bind(mx.cpu(), x=(2,))
    out = ex.forward(is_train=True, x=np.array([1.0, 2.0]))[0]
    ex.backward(mx.nd.array([1.0, 1.0]))
    assert out.asnumpy().tolist() == [3.0, 6.0]
    assert ex.grad_dict["x"].asnumpy().tolist() == [3.0, 3.0]


def test_custom_in_hybridized_block():
    class Blk(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            return F.Custom(x, op_type="symtest_scale", factor=2) + 1

    blk = Blk()
    blk.hybridize()
    x = mx.nd.array([1.0, -1.0])
    x.attach_grad()
    for _ in range(2):  # traced, then replayed
        with autograd.record():
            y = blk(x)
        y.backward()
        assert y.asnumpy().tolist() == [3.0, -1.0]
        assert x.grad.asnumpy().tolist() == [2.0, 2.0]
