"""Shape and type inference, including parameter shapes inferred backwards from the data."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import ShapeError


def test_mlp_weights_from_data():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=10)
    out = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.relu(fc1), name="fc2", num_hidden=4), name="out")
    args, outs, aux = out.infer_shape(data=(100, 100))
    assert dict(zip(out.list_arguments(), args)) == {
        "data": (100, 100), "fc1_weight": (10, 100), "fc1_bias": (10,), "fc2_weight": (4, 10),
        "fc2_bias": (4,), "out_label": (100,)}
    assert outs == [(100, 4)] and aux == []


def test_conv_bn_embedding_shapes():
    x = mx.sym.var("x")
    net = mx.sym.BatchNorm(mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=8, name="c"), name="bn")
    net = mx.sym.Pooling(net, kernel=(2, 2), stride=(2, 2), pool_type="max")
    args, outs, aux = net.infer_shape(x=(2, 3, 8, 8))
    assert dict(zip(net.list_arguments(), args)) == {
        "x": (2, 3, 8, 8), "c_weight": (8, 3, 3, 3), "c_bias": (8,), "bn_gamma": (8,), "bn_beta": (8,)}
    assert outs == [(2, 8, 4, 4)] and aux == [(8,), (8,)]
    emb = mx.sym.Embedding(mx.sym.var("i"), input_dim=7, output_dim=5, name="e")
    assert emb.infer_shape(i=(2, 3)) == ([(2, 3), (7, 5)], [(2, 3, 5)], [])


def test_fallback_and_variable_shape_attr():
    a = mx.sym.var("a", shape=(2, 3))
    b = mx.sym.var("b")
    c = mx.sym.dot(a, b).sum(axis=0)
    assert c.infer_shape(b=(3, 4)) == ([(2, 3), (3, 4)], [(4,)], [])
    assert c.infer_shape() == (None, None, None)
    assert c.infer_shape_partial() == ([(2, 3), ()], [()], [])


def test_elemwise_backward_and_inconsistent_error():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    assert (a + b).infer_shape(a=(2, 3)) == ([(2, 3), (2, 3)], [(2, 3)], [])
    c = mx.sym.FullyConnected(a, num_hidden=3, name="fc") + mx.sym.var("z")
    with pytest.raises(ShapeError) as e:
        c.infer_shape(a=(2, 5), z=(3, 4))
    msg = str(e.value)
    assert "elemwise_add" in msg and "(2, 3)" in msg and "(3, 4)" in msg
    w = mx.sym.FullyConnected(a, num_hidden=3, name="fc")
    with pytest.raises(ShapeError, match=r"FullyConnected.*\(3, 7\).*\(3, 5\)|FullyConnected.*\(3, 5\).*\(3, 7\)"):
        w.infer_shape(a=(2, 5), fc_weight=(3, 7))


def test_infer_type():
    a = mx.sym.var("a", dtype="float16")
    b = mx.sym.var("b")
    c = mx.sym.Cast(a + b, dtype="int32")
    assert c.infer_type() == ([np.float16, np.float16], [np.int32], [])
    assert mx.sym.var("q").infer_type() == (None, None, None)
