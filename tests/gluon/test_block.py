"""gluon.Block / HybridBlock / Sequential: naming, registration, hooks, save/load, summary, training."""
import numpy as np
import pytest

import psnet as mx
from psnet import autograd, gluon
from psnet.base import DTypeError, MXKeyError, MXNetError, ShapeError
from psnet.gluon import nn


def _mlp():
    net = nn.Sequential()
    with net.name_scope():
        net.add(nn.Dense(8, activation="relu"), nn.Dense(3))
    return net


def test_name_scopes_and_prefixes():
    net = _mlp()
    assert net.prefix.startswith("sequential") and net.name == net.prefix[:-1]
    assert net[0].prefix == net.prefix + "dense0_"
    assert net[1].prefix == net.prefix + "dense1_"
    assert net[0].act.prefix == net.prefix + "dense0_relu_"
    assert list(net.collect_params().keys()) == [net.prefix + n for n in (
        "dense0_weight", "dense0_bias", "dense1_weight", "dense1_bias")]
    assert list(net.collect_params(".*weight").keys()) == [net.prefix + "dense0_weight",
                                                           net.prefix + "dense1_weight"]
    assert nn.Dense(2, prefix="head_").weight.name == "head_weight"


def test_top_level_counters_increase():
    a, b = nn.Dense(1), nn.Dense(1)
    na, nb = int(a.name[len("dense"):]), int(b.name[len("dense"):])
    assert nb == na + 1


def test_repr_like_mxnet():
    net = nn.Sequential()
    net.add(nn.Dense(64, activation="relu"), nn.Dense(64, activation="relu"), nn.Dense(10))
    assert repr(net) == ("Sequential(\n  (0): Dense(None -> 64, Activation(relu))\n"
                         "  (1): Dense(None -> 64, Activation(relu))\n  (2): Dense(None -> 10, linear)\n)")
    net.initialize()
    net(mx.nd.ones((2, 5)))
    assert repr(net).splitlines()[1] == "  (0): Dense(5 -> 64, Activation(relu))"


class _WithList(gluon.Block):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.layers = [nn.Dense(2), nn.Dense(3)]
            self.out = nn.Dense(4)

    def forward(self, x):
        return self.out(x)


def test_plain_list_is_not_registered_and_warns():
    blk = _WithList()
    assert list(blk._children) == ["out"]
    assert repr(blk) == "_WithList(\n  (out): Dense(None -> 4, linear)\n)"
    with pytest.warns(UserWarning, match="_WithList.layers\" is an unregistered container"):
        params = blk.collect_params()
    assert len(params) == 2
    blk.register_child(blk.layers[0], "first")
    with pytest.warns(UserWarning, match="unregistered container"):  # layers[1] still is not
        assert len(blk.collect_params()) == 4


def test_attribute_type_change_rejected():
    d = nn.Dense(2)
    with pytest.raises(TypeError, match="Changing attribute type for weight"):
        d.weight = 3


def test_forward_before_initialize_names_parameter():
    net = _mlp()
    with pytest.raises(RuntimeError, match="Parameter '%sdense0_weight' has not been initialized"
                       % net.prefix):
        net(mx.nd.ones((2, 4)))


def test_hooks_apply_zero_grad():
    net = _mlp()
    net.initialize()
    seen = []
    h1 = net[0].register_forward_pre_hook(lambda blk, args: seen.append(("pre", args[0].shape)))
    h2 = net[0].register_forward_hook(lambda blk, args, out: seen.append(("post", out.shape)))
    net(mx.nd.ones((2, 4)))
    assert seen == [("pre", (2, 4)), ("post", (2, 8))]
    h1.detach()
    h2.detach()
    net(mx.nd.ones((2, 4)))
    assert len(seen) == 2
    names = []
    net.apply(lambda b: names.append(type(b).__name__))
    assert names == ["Activation", "Dense", "Dense", "Sequential"]
    with autograd.record():
        y = net(mx.nd.ones((2, 4))).sum()
    y.backward()
    assert np.abs(net[1].weight.grad().asnumpy()).sum() > 0
    net.zero_grad()
    assert all((p.grad().asnumpy() == 0).all() for p in net.collect_params().values())


def test_sequential_indexing_slicing_len():
    net = nn.HybridSequential()
    net.add(nn.Dense(4, in_units=3), nn.Activation("tanh"), nn.Dense(2, in_units=4))
    assert len(net) == 3 and isinstance(net[1], nn.Activation)
    sub = net[1:]
    assert isinstance(sub, nn.HybridSequential) and len(sub) == 2 and sub[1] is net[2]
    with pytest.raises(MXNetError, match="HybridSequential instead"):
        net.add(_WithList())


def test_save_load_round_trip_and_errors(tmp_path):
    net = _mlp()
    net.initialize(mx.init.Normal(0.5))
    x = mx.nd.array(np.random.RandomState(0).randn(5, 4))
    y = net(x).asnumpy()
    f = str(tmp_path / "mlp.params")
    net.save_parameters(f)
    assert sorted(mx.nd.load(f)) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    other = _mlp()
    other.load_parameters(f)
    np.testing.assert_allclose(other(x).asnumpy(), y, rtol=1e-6)
    # shape mismatch names the parameter and both shapes
    wide = nn.Sequential()
    wide.add(nn.Dense(9, in_units=4), nn.Dense(3))
    with pytest.raises(ShapeError, match=r"dense\d+_weight.*\(9, 4\).*\(8, 4\)"):
        wide.load_parameters(f)
    # a parameter missing from the file
    bigger = _mlp()
    bigger.add(nn.Dense(2))
    with pytest.raises(MXKeyError, match="Parameter '2.weight' is missing in file"):
        bigger.load_parameters(f)
    bigger.load_parameters(f, allow_missing=True)
    # an extra parameter in the file
    smaller = nn.Sequential()
    smaller.add(nn.Dense(8, activation="relu"))
    with pytest.raises(MXKeyError, match="Parameter '1.weight' loaded from file"):
        smaller.load_parameters(f)
    smaller.load_parameters(f, ignore_extra=True)
    np.testing.assert_array_equal(smaller[0].weight.data().asnumpy(), net[0].weight.data().asnumpy())


def test_load_dtype_and_legacy_names(tmp_path):
    net = _mlp()
    net.initialize()
    net(mx.nd.ones((1, 4)))
    f = str(tmp_path / "a.params")
    net.save_parameters(f)
    half = _mlp()
    half.cast("float16")
    with pytest.raises(DTypeError, match="dtype incompatible expected float16 vs saved float32"):
        half.load_parameters(f)
    half.load_parameters(f, cast_dtype=True)
    assert half[0].weight.data().dtype == np.float16
    legacy = str(tmp_path / "legacy.params")
    net.save_params(legacy)
    assert sorted(mx.nd.load(legacy)) == ["dense0_bias", "dense0_weight", "dense1_bias", "dense1_weight"]
    again = _mlp()
    again.load_params(legacy)
    np.testing.assert_array_equal(again[1].bias.data().asnumpy(), net[1].bias.data().asnumpy())


def test_cast_changes_parameter_dtype():
    net = _mlp()
    net.initialize()
    net(mx.nd.ones((1, 4)))
    net.cast("float64")
    assert net[0].weight.data().dtype == np.float64
    assert net(mx.nd.ones((1, 4), dtype="float64")).dtype == np.float64


def test_summary_output(capsys):
    net = nn.Sequential()
    net.add(nn.Dense(4, activation="relu", in_units=3), nn.Dense(2))
    net.initialize()
    net.summary(mx.nd.ones((2, 3)))
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "        Layer (type)                                Output Shape         Param #"
    assert lines[3:7] == [
        "               Input                                      (2, 3)               0",
        "        Activation-1                                      (2, 4)               0",
        "             Dense-2                                      (2, 4)              16",
        "             Dense-3                                      (2, 2)              10"]
    assert "   Total params: 26" in lines and "Unique parameters in model: 26" in lines
    assert not net[0]._forward_hooks


class _Scale(gluon.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.k = self.params.get("k", shape=(0,), init=mx.init.One(), allow_deferred_init=True)

    def hybrid_forward(self, F, x, k):
        return F.broadcast_mul(x, k)


def test_hybrid_forward_params_by_attribute_and_infer_shape_error():
    blk = _Scale()
    blk.initialize()
    with pytest.raises(MXNetError, match=r"_Scale.*%sk" % blk.prefix):
        blk(mx.nd.ones((2, 3)))

    class Fixed(_Scale):
        def infer_shape(self, x):
            self.k.shape = (x.shape[-1],)

    fixed = Fixed()
    fixed.initialize()
    np.testing.assert_array_equal(fixed(mx.nd.full((2, 3), 2.0)).asnumpy(), np.full((2, 3), 2.0))


def test_hybridize_sets_flags_recursively_and_matches_imperative():
    net = nn.HybridSequential()
    net.add(nn.Dense(4, in_units=3, activation="sigmoid"), nn.Dense(2, in_units=4))
    net.initialize()
    x = mx.nd.array(np.arange(6).reshape(2, 3))
    before = net(x).asnumpy()
    net.hybridize(static_alloc=True)
    assert net._active and net[0]._active and net[0].act._active
    assert ("static_alloc", True) in net[1]._flags
    np.testing.assert_array_equal(net(x).asnumpy(), before)
    net.hybridize(active=False)
    assert not net[1]._active


def test_training_loop_reduces_loss():
    rs = np.random.RandomState(0)
    X = rs.randn(64, 5).astype("float32")
    true_w = rs.randn(5, 3).astype("float32")
    Y = (X @ true_w).argmax(axis=1).astype("float32")
    x, y = mx.nd.array(X), mx.nd.array(Y)
    net = _mlp()
    net.initialize(mx.init.Xavier())
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    params = list(net.collect_params().values())
    losses = []
    for _ in range(60):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        losses.append(loss.mean().asscalar())
        for p in params:
            p.data()[:] = p.data() - 0.5 * p.grad() / len(X)
    assert losses[-1] < 0.5 * losses[0]
