"""MXNet's JSON layout and exact round trips."""
import json

import pytest

import psnet as mx
from psnet.base import MXNetError


def _net():
    data = mx.sym.Variable("data", shape=(2, 3), lr_mult=2)
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=10)
    bn = mx.sym.BatchNorm(mx.sym.Activation(fc1, act_type="relu", name="act"), fix_gamma=False, name="bn")
    return mx.sym.SoftmaxOutput(bn + 1, name="out")


def test_layout_matches_mxnet():
    doc = json.loads(_net().tojson())
    names = [n["name"] for n in doc["nodes"]]
    assert names[:6] == ["data", "fc1_weight", "fc1_bias", "fc1", "act", "bn_gamma"]
    assert doc["nodes"][0] == {"op": "null", "name": "data",
                               "attrs": {"__lr_mult__": "2", "__shape__": "(2, 3)"}, "inputs": []}
    fc = doc["nodes"][3]
    assert fc == {"op": "FullyConnected", "name": "fc1", "attrs": {"num_hidden": "10"},
                  "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]}
    assert doc["nodes"][7]["attrs"] == {"__init__": '["zero", {}]', "fix_gamma": "False"}
    bn = doc["nodes"][9]
    assert bn["inputs"] == [[4, 0, 0], [5, 0, 0], [6, 0, 0], [7, 0, 1], [8, 0, 1]]
    assert doc["arg_nodes"] == [0, 1, 2, 5, 6, 7, 8, 11]
    assert doc["node_row_ptr"] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15]
    assert doc["heads"] == [[12, 0, 0]]
    assert doc["nodes"][10]["op"] == "_plus_scalar" and doc["nodes"][10]["attrs"] == {"scalar": "1"}


def test_round_trip_exact(tmp_path):
    net = _net()
    text = net.tojson()
    back = mx.sym.load_json(text)
    assert back.tojson() == text
    assert back.list_arguments() == net.list_arguments()
    assert back.list_auxiliary_states() == ["bn_moving_mean", "bn_moving_var"]
    assert back.infer_shape(data=(4, 7))[0][1] == (10, 7)
    path = tmp_path / "net-symbol.json"
    net.save(str(path))
    assert mx.sym.load(str(path)).tojson() == text


def test_loaded_graph_computes_the_same():
    x = mx.sym.var("x")
    y = mx.sym.Convolution(x, kernel=(2, 2), num_filter=2, stride=(1, 1), name="c")
    args = {"x": mx.nd.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]),
            "c_weight": mx.nd.array([[[[1.0, 0.0], [0.0, 1.0]]], [[[0.5, 0.5], [0.5, 0.5]]]]),
            "c_bias": mx.nd.array([0.0, 1.0])}
    a = y.eval(**args)[0].asnumpy()
    b = mx.sym.load_json(y.tojson()).eval(**args)[0].asnumpy()
    assert (a == b).all()
    assert a[0, 0].tolist() == [[6.0, 8.0], [12.0, 14.0]]


def test_unknown_op_named():
    doc = json.loads(mx.sym.relu(mx.sym.var("x"), name="r").tojson())
    doc["nodes"][1]["op"] = "NoSuchOp"
    with pytest.raises(MXNetError, match="NoSuchOp"):
        mx.sym.load_json(json.dumps(doc))


# MXNet 1.9.1's tojson() of the network built in test_same_text_as_mxnet, byte for byte
MXNET_JSON = (
    '{\n'
    '  "nodes": [\n'
    '    {\n'
    '      "op": "null", \n'
    '      "name": "data", \n'
    '      "inputs": []\n'
    '    }, \n'
    '    {\n'
    '      "op": "null", \n'
    '      "name": "fc_weight", \n'
    '      "attrs": {"num_hidden": "3"}, \n'
    '      "inputs": []\n'
    '    }, \n'
    '    {\n'
    '      "op": "null", \n'
    '      "name": "fc_bias", \n'
    '      "attrs": {"num_hidden": "3"}, \n'
    '      "inputs": []\n'
    '    }, \n'
    '    {\n'
    '      "op": "FullyConnected", \n'
    '      "name": "fc", \n'
    '      "attrs": {"num_hidden": "3"}, \n'
    '      "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]\n'
    '    }, \n'
    '    {\n'
    '      "op": "null", \n'
    '      "name": "bn_gamma", \n'
    '      "inputs": []\n'
    '    }, \n'
    '    {\n'
    '      "op": "null", \n'
    '      "name": "bn_beta", \n'
    '      "inputs": []\n'
    '    }, \n'
    '    {\n'
    '      "op": "null", \n'
    '      "name": "bn_moving_mean", \n'
    '      "attrs": {"__init__": "[\\"zero\\", {}]"}, \n'
    '      "inputs": []\n'
    '    }, \n'
    '    {\n'
    '      "op": "null", \n'
    '      "name": "bn_moving_var", \n'
    '      "attrs": {"__init__": "[\\"one\\", {}]"}, \n'
    '      "inputs": []\n'
    '    }, \n'
    '    {\n'
    '      "op": "BatchNorm", \n'
    '      "name": "bn", \n'
    '      "inputs": [[3, 0, 0], [4, 0, 0], [5, 0, 0], [6, 0, 1], [7, 0, 1]]\n'
    '    }, \n'
    '    {\n'
    '      "op": "null", \n'
    '      "name": "out_label", \n'
    '      "inputs": []\n'
    '    }, \n'
    '    {\n'
    '      "op": "SoftmaxOutput", \n'
    '      "name": "out", \n'
    '      "inputs": [[8, 0, 0], [9, 0, 0]]\n'
    '    }\n'
    '  ], \n'
    '  "arg_nodes": [0, 1, 2, 4, 5, 6, 7, 9], \n'
    '  "node_row_ptr": [\n'
    '    0, \n'
    '    1, \n'
    '    2, \n'
    '    3, \n'
    '    4, \n'
    '    5, \n'
    '    6, \n'
    '    7, \n'
    '    8, \n'
    '    11, \n'
    '    12, \n'
    '    13\n'
    '  ], \n'
    '  "heads": [[10, 0, 0]], \n'
    '  "attrs": {"mxnet_version": ["int", 10901]}\n'
    '}')


def test_same_text_as_mxnet():
    d = mx.sym.var("data")
    net = mx.sym.SoftmaxOutput(mx.sym.BatchNorm(mx.sym.FullyConnected(d, num_hidden=3, name="fc"), name="bn"),
                               name="out")
    assert net.tojson() == MXNET_JSON
    loaded = mx.sym.load_json(MXNET_JSON)
    assert loaded.list_auxiliary_states() == ["bn_moving_mean", "bn_moving_var"]
    assert loaded.infer_shape(data=(5, 4)) == ([(5, 4), (3, 4), (3,), (3,), (3,), (5,)], [(5, 3)], [(3,), (3,)])


def test_long_lists_span_lines_as_in_mxnet():
    vs = [mx.sym.var("v%d" % i) for i in range(11)]
    text = mx.sym.concat(*vs, dim=0, name="cc").tojson()
    assert '"op": "Concat", \n' in text  # the canonical name, as MXNet writes it
    assert '"inputs": [\n        [0, 0, 0], \n' in text and '"arg_nodes": [\n    0, \n' in text
    assert '"heads": [[11, 0, 0]]' in text
