"""mx.init: dispatch by name, registry, dumps/create, and every initializer's values/statistics."""
import json

import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, ShapeError


def _fill(init, name, shape, dtype="float32"):
    arr = mx.nd.zeros(shape, dtype=dtype)
    init(mx.init.InitDesc(name), arr)
    return arr.asnumpy()


def test_dispatch_by_name_suffix():
    init = mx.init.Uniform(0.5)
    w = _fill(init, "fc_weight", (50, 40))
    assert np.abs(w).max() <= 0.5 and w.std() > 0.2
    assert (_fill(init, "fc_bias", (7,)) == 0).all()
    assert (_fill(init, "bn_gamma", (7,)) == 1).all()
    assert (_fill(init, "bn_beta", (7,)) == 0).all()
    assert (_fill(init, "bn_moving_mean", (7,)) == 0).all()
    assert (_fill(init, "bn_moving_var", (7,)) == 1).all()
    assert (_fill(init, "bn_running_var", (7,)) == 1).all()
    with pytest.raises(MXNetError, match="Unknown initialization pattern for mystery"):
        _fill(init, "mystery", (3,))


def test_init_attr_overrides_name():
    # Gluon passes its initializer in '__init__': it fills any name with _init_weight
    arr = mx.nd.zeros((3,))
    mx.init.Uniform()(mx.init.InitDesc("fc_bias", {"__init__": mx.init.One()}), arr)
    assert (arr.asnumpy() == 1).all()
    mx.init.Uniform()(mx.init.InitDesc("x_bias", {"__init__": "zeros"}), arr)
    assert (arr.asnumpy() == 0).all()


def test_uniform_default_scale_and_normal_sigma():
    u = _fill(mx.init.Uniform(), "w_weight", (200, 200))
    assert np.abs(u).max() <= 0.07 and abs(u.std() - 0.07 / np.sqrt(3)) < 0.002
    n = _fill(mx.init.Normal(sigma=0.3), "w_weight", (200, 200))
    assert abs(n.std() - 0.3) < 0.01 and abs(n.mean()) < 0.01
    assert _fill(mx.init.Normal(), "w_weight", (4, 4), "float64").dtype == np.float64


@pytest.mark.parametrize("rnd,factor,shape", [("uniform", "avg", (300, 200)), ("gaussian", "in", (64, 8, 3, 3)),
                                              ("uniform", "out", (100, 400))])
def test_xavier_scale(rnd, factor, shape):
    w = _fill(mx.init.Xavier(rnd_type=rnd, factor_type=factor, magnitude=2), "c_weight", shape)
    hw = np.prod(shape[2:]) if len(shape) > 2 else 1
    fan = {"avg": (shape[0] + shape[1]) * hw / 2, "in": shape[1] * hw, "out": shape[0] * hw}[factor]
    scale = np.sqrt(2 / fan)
    expected_std = scale / np.sqrt(3) if rnd == "uniform" else scale
    assert abs(w.std() - expected_std) / expected_std < 0.05
    if rnd == "uniform":
        assert np.abs(w).max() <= scale


def test_xavier_rejects_vectors():
    with pytest.raises(ShapeError, match="v_weight"):
        _fill(mx.init.Xavier(), "v_weight", (5,))


def test_msraprelu_std():
    w = _fill(mx.init.MSRAPrelu(factor_type="in", slope=0.0), "w_weight", (256, 512))
    assert abs(w.std() - np.sqrt(2 / 512)) / np.sqrt(2 / 512) < 0.05


def test_orthogonal_rows_are_orthonormal():
    w = _fill(mx.init.Orthogonal(scale=1.0), "w_weight", (6, 10))
    np.testing.assert_allclose(w @ w.T, np.eye(6), atol=1e-5)
    w = _fill(mx.init.Orthogonal(scale=2.0, rand_type="normal"), "w_weight", (10, 2, 2))
    m = w.reshape(10, 4)
    np.testing.assert_allclose(m.T @ m, 4 * np.eye(4), atol=1e-4)


def test_constant_zero_one():
    assert (_fill(mx.init.Constant(2.5), "w_weight", (2, 3)) == 2.5).all()
    np.testing.assert_array_equal(_fill(mx.init.Constant([1, 2, 3]), "w_weight", (2, 3)), [[1, 2, 3]] * 2)
    assert (_fill(mx.init.Zero(), "w_weight", (3,)) == 0).all()
    assert (_fill(mx.init.One(), "w_weight", (3,)) == 1).all()


def test_lstmbias_sets_forget_gate():
    b = _fill(mx.init.LSTMBias(forget_bias=1.5), "lstm_bias_weight", (8,))
    np.testing.assert_array_equal(b, [0, 0, 1.5, 1.5, 0, 0, 0, 0])


def test_mixed_and_load():
    mixed = mx.init.Mixed([".*special", ".*"], [mx.init.Constant(3), mx.init.One()])
    a = mx.nd.zeros((2,))
    mixed("special_weight", a)
    assert (a.asnumpy() == 3).all()
    mixed("fc_weight", a)
    assert (a.asnumpy() == 1).all()
    with pytest.raises(MXNetError, match="did not match any pattern"):
        mx.init.Mixed(["^x"], [mx.init.One()])("y", a)
    load = mx.init.Load({"arg:fc_weight": mx.nd.array([4.0, 5.0])}, default_init=mx.init.Zero())
    load("fc_weight", a)
    np.testing.assert_array_equal(a.asnumpy(), [4, 5])
    load("other_weight", a)
    assert (a.asnumpy() == 0).all()
    with pytest.raises(ShapeError, match="fc_weight"):
        load("fc_weight", mx.nd.zeros((3,)))


def test_user_subclass_and_registry():
    @mx.init.register
    class Halves(mx.init.Initializer):
        def _init_weight(self, _, arr):
            arr[:] = 0.5

        def _init_bias(self, _, arr):
            arr[:] = -1

    assert (_fill(Halves(), "d_weight", (2,)) == 0.5).all()
    assert (_fill(Halves(), "d_bias", (2,)) == -1).all()
    assert isinstance(mx.init.create("halves"), Halves)
    assert isinstance(mx.init.create("xavier"), mx.init.Xavier)
    with pytest.raises(KeyError, match="nosuch"):
        mx.init.create("nosuch")


def test_dumps_round_trip():
    s = mx.init.Xavier(factor_type="in", magnitude=2.34).dumps()
    assert json.loads(s) == ["xavier", {"rnd_type": "uniform", "factor_type": "in", "magnitude": 2.34}]
    again = mx.init.create(s)
    assert isinstance(again, mx.init.Xavier) and again.magnitude == 2.34
    assert mx.init.Uniform().dumps() == '["uniform", {"scale": 0.07}]'


def test_seed_makes_init_reproducible():
    mx.random.seed(7)
    a = _fill(mx.init.Normal(1.0), "w_weight", (5,))
    mx.random.seed(7)
    b = _fill(mx.init.Normal(1.0), "w_weight", (5,))
    np.testing.assert_array_equal(a, b)


def test_load_from_file(tmp_path):
    f = str(tmp_path / "init.params")
    mx.nd.save(f, {"aux:bn_moving_var": mx.nd.array([2.0, 3.0])})
    a = mx.nd.zeros((2,))
    mx.init.Load(f)("bn_moving_var", a)
    np.testing.assert_array_equal(a.asnumpy(), [2, 3])
    with pytest.raises(KeyError, match="bn_gamma"):
        mx.init.Load(f)("bn_gamma", a)


def test_verbose_logs_each_parameter(caplog):
    import logging
    caplog.set_level(logging.INFO)
    net = mx.gluon.nn.Dense(2, in_units=3)
    net.initialize(mx.init.One(), verbose=True)
    assert any(net.weight.name in r.getMessage() and ": 1.0" in r.getMessage() for r in caplog.records)


def test_bilinear_upsampling_kernel():
    # MXNet 1.9.1: mx.init.Bilinear() on (1, 1, 4, 4) gives outer([.25, .75, .75, .25]) twice
    k = np.array([0.25, 0.75, 0.75, 0.25])
    a = _fill(mx.init.create("bilinear"), "up_weight", (2, 3, 4, 4))
    np.testing.assert_allclose(a, np.broadcast_to(np.outer(k, k), (2, 3, 4, 4)), rtol=1e-6)
    # odd width 3: f = 2, c = 0.75 -> [0.25, 0.75, 0.75] per axis of the same f
    b = _fill(mx.init.Bilinear(), "up_weight", (1, 1, 2, 3))
    np.testing.assert_allclose(b[0, 0], np.outer([0.25, 0.75], [0.25, 0.75, 0.75]), rtol=1e-6)
    with pytest.raises(ShapeError, match="up_weight"):
        _fill(mx.init.Bilinear(), "up_weight", (4,))
