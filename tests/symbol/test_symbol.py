"""mx.sym: construction, naming, composition and attributes (values from MXNet 1.9.1)."""
import pytest

import psnet as mx
from psnet.base import MXNetError, NotSupportedError


def mlp():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=10)
    act = mx.sym.Activation(fc1, name="relu1", act_type="relu")
    fc2 = mx.sym.FullyConnected(act, name="fc2", num_hidden=3)
    return mx.sym.SoftmaxOutput(fc2, name="out")


def test_two_layer_perceptron_arguments():
    net = mlp()
    assert net.list_arguments() == ["data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias", "out_label"]
    assert net.list_outputs() == ["out_output"]
    assert net.name == "out"


def test_automatic_names_and_aux_states():
    with mx.sym.NameManager():
        x = mx.sym.var("x")
        bn = mx.sym.BatchNorm(mx.sym.Convolution(x, kernel=(3, 3), num_filter=4))
        assert bn.name == "batchnorm0"
        assert bn.list_arguments() == ["x", "convolution0_weight", "convolution0_bias",
                                       "batchnorm0_gamma", "batchnorm0_beta"]
        assert bn.list_auxiliary_states() == ["batchnorm0_moving_mean", "batchnorm0_moving_var"]
        assert bn.list_inputs() == ["x", "convolution0_weight", "convolution0_bias", "batchnorm0_gamma",
                                    "batchnorm0_beta", "batchnorm0_moving_mean", "batchnorm0_moving_var"]
        assert (x + 1).name == "_plusscalar0"
        assert (x * x).name == "_mul0"
        assert mx.sym.FullyConnected(x, num_hidden=2, no_bias=True).list_arguments() == \
            ["x", "fullyconnected0_weight"]


def test_group_internals_and_getitem():
    net = mlp()
    internals = net.get_internals()
    assert internals.list_outputs() == ["data", "fc1_weight", "fc1_bias", "fc1_output", "relu1_output",
                                        "fc2_weight", "fc2_bias", "fc2_output", "out_label", "out_output"]
    fc1 = internals["fc1_output"]
    assert fc1.name == "fc1" and fc1.list_arguments() == ["data", "fc1_weight", "fc1_bias"]
    g = mx.sym.Group([net, fc1])
    assert g.list_outputs() == ["out_output", "fc1_output"]
    assert g[1].name == "fc1" and len(g) == 2
    with pytest.raises(IndexError):
        g[2]
    with pytest.raises(IndexError, match="nope"):
        internals["nope"]


def test_composition_by_call():
    x = mx.sym.var("x")
    fc = mx.sym.FullyConnected(x, num_hidden=3, name="fc")
    q = mx.sym.Activation(mx.sym.var("q"), act_type="tanh", name="act")
    z = fc(x=q, name="compose")
    assert z.list_arguments() == ["q", "fc_weight", "fc_bias"]
    assert z.name == "compose"
    assert fc.name == "fc" and fc.list_arguments() == ["x", "fc_weight", "fc_bias"]
    with pytest.raises(MXNetError, match="nope"):
        fc(nope=q)


def test_attributes():
    data = mx.sym.Variable("data", shape=(2, 3), lr_mult=2, dtype="float16")
    assert data.attr("__shape__") == "(2, 3)"
    assert data.list_attr() == {"__shape__": "(2, 3)", "__lr_mult__": "2", "lr_mult": "2", "__dtype__": "2"}
    fc = mx.sym.FullyConnected(data, num_hidden=4, name="fc", attr={"__ctx_group__": "dev1"})
    assert fc.attr("num_hidden") == "4"
    d = fc.attr_dict()
    assert d["fc"] == {"num_hidden": "4", "__ctx_group__": "dev1"}
    assert d["fc_weight"] == {"num_hidden": "4"}  # MXNet copies the op's attributes to new variables


def test_symbol_has_no_values():
    x = mx.sym.var("x")
    with pytest.raises(NotSupportedError, match="Python bool"):
        if x.sum() > 0:
            pass
    with pytest.raises(NotSupportedError, match="shape"):
        x.shape
    with pytest.raises(NotSupportedError, match="asnumpy"):
        x.asnumpy()


def test_arithmetic_ops_and_fluent():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    av, bv = mx.nd.array([[1.0, 2.0], [3.0, 4.0]]), mx.nd.array([[2.0, 2.0], [0.5, 1.0]])
    expr = (a + b) * 2 - a / b + 1 - (3 - a) ** 2 + a.reshape((4,)).reshape((2, 2)) - (-b)
    out = expr.eval(a=av, b=bv)[0].asnumpy()
    x, y = av.asnumpy(), bv.asnumpy()
    expect = (x + y) * 2 - x / y + 1 - (3 - x) ** 2 + x + y
    assert abs(out - expect).max() < 1e-5
    s = a.sum(axis=1)
    assert s.eval(a=av)[0].asnumpy().tolist() == [3.0, 7.0]
    assert mx.sym.Cast(a, dtype="int32").eval(a=av)[0].dtype.__name__ == "int32"


def test_positional_inputs_beyond_op_raise():
    with pytest.raises(MXNetError, match="input"):
        mx.sym.relu(mx.sym.var("a"), mx.sym.var("b"))


def test_constant_nodes_and_like_ops():
    a = mx.sym.var("a")
    s = mx.sym.zeros((2, 3)) + a + mx.sym.ones((2, 3)) * 2 + mx.sym.full((2, 3), 5) + mx.sym.zeros_like(a)
    assert s.list_arguments() == ["a"]
    assert s.infer_shape(a=(2, 3)) == ([(2, 3)], [(2, 3)], [])
    assert s.eval(a=mx.nd.ones((2, 3)))[0].asnumpy().tolist() == [[8.0] * 3] * 2
    assert mx.sym.arange(0, 3, repeat=2).eval()[0].asnumpy().tolist() == [0, 0, 1, 1, 2, 2]
    assert mx.sym.load_json(s.tojson()).tojson() == s.tojson()


def test_name_prefix_scope():
    with mx.name.Prefix("mlp_"):
        s = mx.sym.FullyConnected(mx.sym.var("x"), num_hidden=2)
    assert s.name == "mlp_fullyconnected0"
    assert s.list_arguments() == ["x", "mlp_fullyconnected0_weight", "mlp_fullyconnected0_bias"]


def test_symbol_or_scalar_functions():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    av, bv = mx.nd.array([1.0, 5.0]), mx.nd.array([3.0, 2.0])
    assert mx.sym.maximum(a, b).eval(a=av, b=bv)[0].asnumpy().tolist() == [3.0, 5.0]
    assert mx.sym.minimum(2.5, a).eval(a=av)[0].asnumpy().tolist() == [1.0, 2.5]
    assert mx.sym.pow(2, a).eval(a=av)[0].asnumpy().tolist() == [2.0, 32.0]
    assert mx.sym.power(a, 2).name.startswith("_powerscalar")
    assert mx.sym.maximum(2, 3) == 3


def test_pickle_and_deepcopy():
    import copy
    import pickle
    s = mx.sym.FullyConnected(mx.sym.var("x"), num_hidden=3, name="fc")
    back = pickle.loads(pickle.dumps(s))
    assert back.tojson() == s.tojson() and back.list_arguments() == ["x", "fc_weight", "fc_bias"]
    dup = copy.deepcopy(s)
    assert dup.tojson() == s.tojson() and dup._outputs[0][0] is not s._outputs[0][0]
