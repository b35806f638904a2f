"""Optimizer update rules against MXNet 1.9.1, the registry, plain-data configs and the Updater."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError

W = [[0.1, 0.43, 0.21], [0.09, -0.15, 0.29]]
G = [[[-0.25, 1.57, 1.85], [-0.47, 1.17, 0.12]],
     [[0.27, 1.7, -1.72], [-1.65, -1.92, 1.33]],
     [[1.11, 1.48, 1.91], [1.2, -0.15, 1.12]]]

# weights after three updates from W with the gradients G, as MXNet 1.9.1 computes them
CASES = {
    'sgd': ('sgd', {'learning_rate': 0.1},
        [[-0.013, -0.045, 0.005999997], [0.182, -0.06000002, 0.03299999]]),
    'sgd_mom': ('sgd', {'learning_rate': 0.1, 'momentum': 0.9, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.05213049, 0.09127772, 0.1003908], [0.2070312, -0.186032, 0.1021973]]),
    'nag': ('nag', {'learning_rate': 0.1, 'momentum': 0.9, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[4.570931e-05, -0.0552521, 0.05109661], [0.2180591, -0.1726249, -0.001570582]]),
    'adam': ('adam', {'learning_rate': 0.01, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.1027043, 0.3999999, 0.1971683], [0.1103084, -0.1582394, 0.2629651]]),
    'adamax': ('adamax', {'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.1010438, 0.424, 0.2074337], [0.0935817, -0.1516915, 0.2854274]]),
    'nadam': ('nadam', {'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.09925199, 0.4274276, 0.2089904], [0.09135082, -0.1502418, 0.2870693]]),
    'adagrad': ('adagrad', {'learning_rate': 0.1, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.03127714, 0.2005362, 0.1224755], [0.2144045, -0.1689078, 0.02187774]]),
    'adadelta': ('adadelta', {'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.07971472, 0.3868366, 0.1936823], [0.09680154, -0.1434067, 0.2441837]]),
    'rmsprop': ('rmsprop', {'learning_rate': 0.01, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6, 'clip_weights': 0.9},
        [[0.07745326, 0.3562262, 0.1821093], [0.1290476, -0.1552687, 0.2047424]]),
    'rmsprop_centered': ('rmsprop', {'learning_rate': 0.01, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6, 'centered': True},
        [[0.1129555, 0.2687361, 0.1437573], [0.2195764, -0.1930247, 0.1111032]]),
    'ftrl': ('ftrl', {'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[-0.0238172, 0.06119895, 0.04363189], [0.03989131, -0.05488506, -0.05706078]]),
    'signum': ('signum', {'learning_rate': 0.01, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6, 'wd_lh': 0.1},
        [[0.08969032, 0.3987413, 0.1993806], [0.1197003, -0.1395405, 0.2591609]]),
    'signsgd': ('signum', {'learning_rate': 0.01, 'momentum': 0.0, 'wd': 0.05, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.08984508, 0.3993703, 0.1996901], [0.09985007, -0.1397701, 0.2595802]]),
    'lamb': ('lamb', {'learning_rate': 0.01, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.09965944, 0.4199791, 0.2064564], [0.09625213, -0.1517559, 0.2811238]]),
    'lamb_bounds': ('lamb', {'learning_rate': 0.01, 'wd': 0.01, 'lower_bound': 0.1, 'upper_bound': 1.0, 'bias_correction': False},
        [[0.0997125, 0.4200825, 0.2062093], [0.09652992, -0.1503617, 0.2812485]]),
    'ftml': ('ftml', {'learning_rate': 0.01, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.09508102, 0.408648, 0.2011479], [0.1022103, -0.1528586, 0.2651853]]),
    'dcasgd': ('dcasgd', {'learning_rate': 0.1, 'wd': 0.01, 'rescale_grad': 0.5, 'clip_gradient': 0.6},
        [[0.04320468, 0.249065, 0.1494309], [0.1130034, -0.1404109, 0.1672875]]),
}


# float16 weights, sgd(learning_rate=0.1, momentum=0.9, multi_precision=True), MXNet 1.9.1
MP16 = [[0.0053863525390625, -0.466796875, -0.155517578125],
        [0.410888671875, -0.0872802734375, -0.107177734375]]


def _run(name, kwargs, steps=3, dtype="float32"):
    opt = mx.optimizer.create(name, **kwargs)
    w = mx.nd.array(W, dtype=dtype)
    state = opt.create_state_multi_precision(0, w)
    for g in G[:steps]:
        opt.update_multi_precision(0, w, mx.nd.array(g, dtype=dtype), state)
    return w, opt, state


@pytest.mark.parametrize("case", sorted(CASES))
def test_update_rule_matches_mxnet(case):
    name, kwargs, expected = CASES[case]
    w, _, _ = _run(name, kwargs)
    np.testing.assert_allclose(w.asnumpy(), expected, rtol=2e-5, atol=2e-6)


def test_sgd_momentum_formula_float64():
    """SGD with momentum against the documented formula, in float64."""
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5, clip_gradient=0.6)
    w = mx.nd.array(W, dtype="float64")
    state = opt.create_state(0, w)
    ref_w, mom = np.array(W), np.zeros((2, 3))
    for g in G:
        opt.update(0, w, mx.nd.array(g, dtype="float64"), state)
        gg = np.clip(0.5 * np.array(g), -0.6, 0.6) + 0.01 * ref_w
        mom = 0.9 * mom - 0.1 * gg
        ref_w = ref_w + mom
    np.testing.assert_allclose(w.asnumpy(), ref_w, rtol=1e-12)
    np.testing.assert_allclose(state.asnumpy(), mom, rtol=1e-12)


def test_adam_formula_float64():
    """Adam's bias-corrected step against the documented formula, in float64."""
    opt = mx.optimizer.Adam(learning_rate=0.01, wd=0.01)
    w = mx.nd.array(W, dtype="float64")
    state = opt.create_state(0, w)
    ref_w, m, v = np.array(W), np.zeros((2, 3)), np.zeros((2, 3))
    for t, g in enumerate(G, 1):
        opt.update(0, w, mx.nd.array(g, dtype="float64"), state)
        gg = np.array(g) + 0.01 * ref_w
        m = 0.9 * m + 0.1 * gg
        v = 0.999 * v + 0.001 * gg * gg
        ref_w = ref_w - 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(w.asnumpy(), ref_w, rtol=1e-12)


def test_multi_precision_float16_matches_mxnet():
    w, _, state = _run("sgd", dict(learning_rate=0.1, momentum=0.9, multi_precision=True), dtype="float16")
    assert w.dtype == np.float16 and state[0].dtype == np.float32
    np.testing.assert_allclose(w.asnumpy().astype(np.float32), MP16, rtol=1e-3)


def test_gradient_is_not_modified():
    for name in ("sgd", "adadelta", "adam", "nag"):
        g = mx.nd.array(G[0])
        opt = mx.optimizer.create(name, rescale_grad=0.5, clip_gradient=0.1, momentum=0.9) \
            if name in ("sgd", "nag") else mx.optimizer.create(name, rescale_grad=0.5, clip_gradient=0.1)
        w = mx.nd.array(W)
        opt.update(0, w, g, opt.create_state(0, w))
        np.testing.assert_array_equal(g.asnumpy(), np.array(G[0], dtype=np.float32))


def test_lr_and_wd_multipliers_by_index_and_name():
    opt = mx.optimizer.SGD(learning_rate=0.5, wd=0.1, param_idx2name={0: "fc_weight", 1: "fc_bias"})
    assert opt._get_wd(0) == pytest.approx(0.1) and opt._get_wd(1) == 0.0  # bias: no decay by default
    opt.set_lr_mult({"fc_weight": 0.2, 1: 3.0})
    assert opt._get_lr(0) == pytest.approx(0.1) and opt._get_lr(1) == pytest.approx(1.5)
    w = mx.nd.array([1.0])
    opt.update(0, w, mx.nd.array([1.0]), None)
    np.testing.assert_allclose(w.asnumpy(), [1.0 - 0.1 * (1.0 + 0.1)], rtol=1e-6)


def test_update_counts_and_scheduler():
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    opt = mx.optimizer.SGD(lr_scheduler=sched)
    w = mx.nd.zeros((1,))
    for _ in range(5):
        opt.update(0, w, mx.nd.ones((1,)), None)
    # lr for updates 1..5: 1, 1, 0.5, 0.5, 0.25
    np.testing.assert_allclose(w.asnumpy(), [-3.25])
    assert opt.num_update == 5
    with pytest.raises(UserWarning):
        opt.set_learning_rate(0.1)


def test_create_unknown_and_register_custom():
    with pytest.raises(ValueError, match="nosuchopt"):
        mx.optimizer.create("nosuchopt")

    @mx.optimizer.register
    class HalfStep(mx.optimizer.Optimizer):
        """w -= lr * g / 2."""

        def __init__(self, scale=0.5, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def update(self, index, weight, grad, state):
            self._update_count(index)
            weight[:] = weight - self._get_lr(index) * self.scale * grad

    opt = mx.optimizer.create("halfstep", learning_rate=1.0, scale=0.25)
    w = mx.nd.ones((2,))
    opt.update(0, w, mx.nd.ones((2,)), None)
    np.testing.assert_allclose(w.asnumpy(), [0.75, 0.75])
    again = mx.optimizer.from_config(opt.to_config())
    assert type(again) is HalfStep and again.scale == 0.25 and again.lr == 1.0


@pytest.mark.parametrize("name", ["sgd", "nag", "signum", "dcasgd", "adam", "adamax", "nadam", "lamb", "ftml",
                                  "adagrad", "adadelta", "rmsprop", "ftrl"])
def test_config_round_trip_continues_identically(name):
    """to_config -> msgpack -> from_config gives an optimizer that continues the same way."""
    import msgpack
    sched = mx.lr_scheduler.MultiFactorScheduler(step=[1, 2], factor=0.5, base_lr=0.1)
    opt = mx.optimizer.create(name, learning_rate=0.1, lr_scheduler=sched, wd=0.01, rescale_grad=0.5,
                              param_idx2name={0: "a_weight"})
    upd = mx.optimizer.Updater(opt)
    w1 = mx.nd.array(W)
    upd(0, mx.nd.array(G[0]), w1)
    cfg = msgpack.unpackb(msgpack.packb(opt.to_config()), strict_map_key=False)
    assert cfg["name"] == name
    upd2 = mx.optimizer.Updater(mx.optimizer.from_config(cfg))
    upd2.set_states(upd.get_states())
    w2 = w1.copy()
    for g in G[1:]:
        upd(0, mx.nd.array(g), w1)
        upd2(0, mx.nd.array(g), w2)
    np.testing.assert_array_equal(w1.asnumpy(), w2.asnumpy())


def test_updater_states_round_trip_without_pickle(tmp_path):
    opt = mx.optimizer.Adam(learning_rate=0.01)
    upd = mx.optimizer.get_updater(opt)
    weights = {0: mx.nd.array(W), "b": mx.nd.array([1.0, 2.0])}
    upd(0, mx.nd.array(G[0]), weights[0])
    upd("b", mx.nd.array([0.5, -0.5]), weights["b"])
    blob = upd.get_states(dump_optimizer=True)
    assert blob.startswith(b"PSNETOPT") and b"pickle" not in blob
    other = mx.optimizer.Updater(mx.optimizer.SGD())
    other.set_states(blob)
    assert isinstance(other.optimizer, mx.optimizer.Adam)
    assert set(other.states) == {0, "b"}
    for k in (0, "b"):
        for a, b in zip(upd.states[k], other.states[k]):
            np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    with pytest.raises(MXNetError, match="not a psnet optimizer state"):
        other.set_states(b"\x80\x04garbage")


def test_unregistered_class_cannot_travel():
    class Local(mx.optimizer.SGD):
        """Not registered."""
    with pytest.raises(KeyError, match="register"):
        Local().to_config()


def test_lr_and_wd_mults_from_symbol_attributes():
    # values from MXNet 1.9.1 for the same symbol and param_idx2name
    w = mx.sym.Variable("fc_weight", lr_mult=2.0, wd_mult=0.5)
    b = mx.sym.Variable("fc_bias", lr_mult=3)
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), weight=w, bias=b, num_hidden=3, name="fc")
    o = mx.optimizer.SGD(learning_rate=0.1, wd=0.01, sym=net,
                         param_idx2name={0: "fc_weight", 1: "fc_bias", 2: "other"})
    assert o.lr_mult == {"fc_weight": 2.0, "fc_bias": 3.0}
    assert o.wd_mult == {"fc_weight": 0.5, "fc_bias": 0.0, "other": 0.0}
    np.testing.assert_allclose([o._get_lr(i) for i in range(3)], [0.2, 0.3, 0.1])
    np.testing.assert_allclose([o._get_wd(i) for i in range(3)], [0.005, 0.0, 0.0])
    o.set_lr_mult({"fc_bias": 5.0})
    assert o.lr_mult == {"fc_weight": 2.0, "fc_bias": 5.0}
