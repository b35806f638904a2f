"""export() and SymbolBlock / SymbolBlock.imports give the exported network's outputs."""
import json

import numpy as np
import pytest

import psnet as mx
from psnet import autograd, gluon
from psnet.base import MXNetError
from psnet.gluon import nn


def _trained_net(x):
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(8, activation="relu"), nn.BatchNorm(), nn.Dense(3))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    with autograd.record():  # move the BatchNorm statistics away from their defaults
        net(x)
    return net


def test_export_and_imports_identical(tmp_path):
    x = mx.nd.array(np.random.RandomState(0).normal(size=(4, 5)))
    net = _trained_net(x)
    expect = net(x).asnumpy()
    prefix = str(tmp_path / "model")
    sym_file, param_file = net.export(prefix, epoch=2)
    assert sym_file.endswith("model-symbol.json") and param_file.endswith("model-0002.params")
    saved = mx.nd.load(param_file)
    names = {p.name for p in net.collect_params().values()}
    aux = {n for n in names if "running" in n}
    assert set(saved) == {("aux:" if n in aux else "arg:") + n for n in names}
    doc = json.loads(open(sym_file).read())
    assert doc["nodes"][0]["name"] == "data"
    blk = gluon.SymbolBlock.imports(sym_file, ["data"], param_file)
    np.testing.assert_array_equal(blk(x).asnumpy(), expect)
    assert sorted(p.name for p in blk.collect_params().values()) == sorted(names)


def test_symbol_block_shares_params_and_trains():
    x = mx.nd.array(np.random.RandomState(1).normal(size=(6, 5)))
    net = _trained_net(x)
    data = mx.sym.var("data")
    blk = gluon.SymbolBlock(net(data), data, params=net.collect_params())
    np.testing.assert_allclose(blk(x).asnumpy(), net(x).asnumpy(), rtol=1e-6)
    with autograd.record():
        loss = (blk(x) ** 2).sum()
    loss.backward()
    w = net[0].weight
    assert np.abs(w.grad().asnumpy()).sum() > 0
    fc1 = net(data).get_internals()[net[0].prefix + "fullyconnected0_output"]
    hidden = gluon.SymbolBlock(fc1, data, params=net.collect_params())(x)
    assert hidden.shape == (6, 8)


def test_symbol_block_from_sym_api_infers_shapes_and_composes():
    data = mx.sym.var("data")
    out = mx.sym.FullyConnected(data, num_hidden=2, name="fc")
    blk = gluon.SymbolBlock(out, data)
    blk.initialize(mx.init.One())
    y = blk(mx.nd.ones((3, 4)))
    assert y.asnumpy().tolist() == [[5.0, 5.0]] * 3  # One() initialises the bias too (as MXNet)
    assert blk.collect_params()["fc_weight"].shape == (2, 4)
    composed = blk(mx.sym.relu(mx.sym.var("z")))
    assert composed.list_arguments() == ["z", "fc_weight", "fc_bias"]
    with pytest.raises(MXNetError, match="nope"):
        gluon.SymbolBlock(out, mx.sym.var("nope"))
