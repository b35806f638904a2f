"""LARS, LBSGD and SGLD: update rules against MXNet 1.9.1 and NumPy, states, configs, errors."""
import math

import msgpack
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError
from psnet.optimizer.fused import can_fuse

W = [[[0.1, 0.43, 0.21], [0.09, -0.15, 0.29]], [0.5, -0.3, 0.8, 0.05]]
G = [[[[-0.25, 1.57, 1.85], [-0.47, 1.17, 0.12]], [0.3, -0.7, 1.1, 0.4]],
     [[[0.27, 1.7, -1.72], [-1.65, -1.92, 1.33]], [-0.2, 0.9, -1.3, 0.6]],
     [[[1.11, 1.48, 1.91], [1.2, -0.15, 1.12]], [0.8, 0.1, -0.5, -0.9]],
     [[[-0.6, 0.2, 0.95], [0.33, -1.4, 0.7]], [-1.0, 0.35, 0.45, 0.2]]]


def _sched():
    return mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=0.3)


# name, constructor arguments, and the two weights (flattened) after the four steps of G
# (each step updates weight 0 then weight 1 with fresh gradient arrays), by MXNet 1.9.1
CASES = {
    'lars': ('lars', lambda: dict(learning_rate=0.1, momentum=0.9, wd=0.01, eta=0.05),
             [[0.09924668, 0.4175527, 0.2019583, 0.09262484, -0.14787823, 0.28364095],
              [0.49626613, -0.30062547, 0.7982396, 0.04601881]]),
    'lars_clip': ('lars', lambda: dict(learning_rate=0.5, wd=0.05, rescale_grad=0.5, clip_gradient=0.3,
                                       eta=0.02, eps=1e-3),
                  [[0.10065836, 0.42573783, 0.20662396, 0.08977519, -0.14818272, 0.2857058],
                   [0.4982334, -0.30193147, 0.7971599, 0.04660043]]),
    'lars_names': ('lars', lambda: dict(learning_rate=0.2, momentum=0.9, wd=0.1, eta=0.05,
                                        param_idx2name={0: 'fc_weight', 1: 'fc_bias'}),
                   [[0.09833823, 0.40491897, 0.19400348, 0.09506059, -0.14566849, 0.27711225],
                    [0.29805994, -0.41433996, 0.84801996, -0.24832]]),
    'lars_sched': ('lars', lambda: dict(momentum=0.9, wd=0.01, eta=0.1, lr_scheduler=_sched()),
                   [[0.09873174, 0.3794529, 0.17891827, 0.10477216, -0.1468374, 0.2675291],
                    [0.48218188, -0.2962285, 0.783223, 0.00969351]]),
    'lbsgd_linear': ('lbsgd', lambda: dict(learning_rate=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5,
                                           clip_gradient=0.8, warmup_strategy='linear', warmup_epochs=2,
                                           updates_per_epoch=2, batch_scale=2),
                     [[0.0725918, 0.1161558, 0.05672938, 0.16395476, -0.0183917, 0.09439062],
                      [0.500459, -0.33528093, 0.8128574, 0.01358265]]),
    'lbsgd_power2': ('lbsgd', lambda: dict(learning_rate=0.1, momentum=0.9, wd=0.01, warmup_strategy='power2',
                                           warmup_epochs=2, updates_per_epoch=3, batch_scale=4),
                     [[0.06885, 0.14024669, 0.03509334, 0.12420666, -0.01548335, 0.09857331],
                      [0.5046667, -0.33721668, 0.81271666, 0.03238333]]),
    'lbsgd_sqrt': ('lbsgd', lambda: dict(learning_rate=0.1, wd=0.02, warmup_strategy='sqrt', warmup_epochs=3,
                                         updates_per_epoch=2, batch_scale=3, begin_epoch=1),
                   [[0.04091779, -0.03822955, -0.05425114, 0.13862379, 0.10503052, -0.03773078],
                    [0.51060295, -0.37576652, 0.8383704, 0.02746364]]),
    'lbsgd_lars': ('lbsgd', lambda: dict(learning_rate=0.1, momentum=0.5, wd=0.01, rescale_grad=0.5,
                                         warmup_strategy='lars', batch_scale=2),
                   [[0.09639214, 0.38425705, 0.18981907, 0.10230938, -0.13187182, 0.262632],
                    [0.5018043, -0.3379185, 0.81275344, 0.01951039]]),
    'lbsgd_default': ('lbsgd', lambda: dict(),
                      [[0.09469999, 0.3805, 0.18010001, 0.0959, -0.12700002, 0.2573],
                       [0.50100005, -0.30650002, 0.80250007, 0.047]]),
}

# lbsgd(learning_rate=0.1, momentum=0.9, wd=0.01, batch_scale=2, warmup_epochs=1,
# updates_per_epoch=2) fed through one reused gradient buffer per weight, MXNet 1.9.1: the
# first accumulator is the buffer itself, so the first large batch uses 2 * G[1]
REUSED = [[-0.0540716, -0.38581228, 0.57569486, 0.56281835, 0.7347014, -0.39854884],
          [0.59302205, -0.68490124, 1.2938433, -0.10804982]]


def _run(opt, steps=G, reuse=False, updater=None):
    upd = updater or mx.optimizer.get_updater(opt)
    ws = [mx.nd.array(w) for w in W]
    bufs = [mx.nd.zeros(w.shape) for w in ws]
    for step in steps:
        for i, g in enumerate(step):
            if reuse:
                bufs[i][:] = mx.nd.array(g)
                upd(i, bufs[i], ws[i])
            else:
                upd(i, mx.nd.array(g), ws[i])
    return ws, upd


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_mxnet(case):
    name, kwargs, expected = CASES[case]
    ws, _ = _run(mx.optimizer.create(name, **kwargs()))
    for w, e in zip(ws, expected):
        np.testing.assert_allclose(w.asnumpy().ravel(), e, rtol=1e-5, atol=1e-7)


def test_lbsgd_reused_gradient_buffer_matches_mxnet():
    opt = mx.optimizer.create('lbsgd', learning_rate=0.1, momentum=0.9, wd=0.01, batch_scale=2,
                              warmup_epochs=1, updates_per_epoch=2)
    ws, _ = _run(opt, reuse=True)
    for w, e in zip(ws, REUSED):
        np.testing.assert_allclose(w.asnumpy().ravel(), e, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- NumPy re-implementations
def _np_lars(lr, momentum, wd, eta, eps, rescale, clip):
    ws = [np.array(w, dtype=np.float64) for w in W]
    moms = [np.zeros_like(w) for w in ws]
    for step in G:
        for i, g in enumerate(step):
            g = np.array(g, dtype=np.float64)
            w_norm, g_norm = np.linalg.norm(ws[i]), np.linalg.norm(g) * rescale
            layer_lr = lr * eta * w_norm / (g_norm + wd * w_norm + eps)
            d = rescale * g
            if clip is not None:
                d = np.clip(d, -clip, clip)
            d = d + wd * ws[i]
            moms[i] = momentum * moms[i] - layer_lr * d
            ws[i] = ws[i] + moms[i]
    return ws


def test_lars_against_numpy():
    kw = dict(learning_rate=0.3, momentum=0.8, wd=0.02, eta=0.04, eps=1e-2, rescale_grad=0.7,
              clip_gradient=0.9)
    ws, _ = _run(mx.optimizer.create('lars', **kw))
    expected = _np_lars(0.3, 0.8, 0.02, 0.04, 1e-2, 0.7, 0.9)
    for w, e in zip(ws, expected):
        np.testing.assert_allclose(w.asnumpy(), e, rtol=1e-5, atol=1e-7)


def _np_lbsgd(lr, momentum, wd, strategy, nwup, scale):
    ws = [np.array(w, dtype=np.float64) for w in W]
    moms = [np.zeros_like(w) for w in ws]
    acc = [0.0, 0.0]
    for n, step in enumerate(G, start=1):
        for i, g in enumerate(step):
            acc[i] = acc[i] + np.array(g, dtype=np.float64)
            if n % scale:
                continue
            mean = acc[i] / scale
            acc[i] = 0.0
            if strategy == 'lars':
                w2, g2 = np.sum(ws[i] ** 2), np.sum(mean ** 2)
                mult = min(max(math.sqrt(w2 / (g2 + wd * w2 + 1e-18)), 0.01), 100)
            else:
                mult = scale if n >= nwup else 1 + (scale - 1) * (n / nwup) ** 2
            moms[i] = momentum * moms[i] - lr * mult * (mean + wd * ws[i])
            ws[i] = ws[i] + moms[i]
    return ws


@pytest.mark.parametrize("strategy", ["power2", "lars"])
def test_lbsgd_against_numpy(strategy):
    opt = mx.optimizer.create('lbsgd', learning_rate=0.2, momentum=0.7, wd=0.03, batch_scale=2,
                              warmup_strategy=strategy, warmup_epochs=2, updates_per_epoch=3)
    ws, _ = _run(opt)
    expected = _np_lbsgd(0.2, 0.7, 0.03, strategy, 6, 2)
    for w, e in zip(ws, expected):
        np.testing.assert_allclose(w.asnumpy(), e, rtol=1e-5, atol=1e-7)


def test_lbsgd_warmup_multipliers():
    opt = mx.optimizer.LBSGD(batch_scale=5, warmup_epochs=2, updates_per_epoch=4)
    assert opt._get_lbmult(2) == pytest.approx(1 + 4 * 2 / 8)
    assert opt._get_lbmult(8) == 5.0 and opt._get_lbmult(20) == 5.0
    opt.warmup_strategy = 'sqrt'
    assert opt._get_lbmult(2) == pytest.approx(1 + 4 * math.sqrt(0.25))
    opt.warmup_strategy = 'power2'
    assert opt._get_lbmult(2) == pytest.approx(1 + 4 / 16)
    assert mx.optimizer.LBSGD(batch_scale=5, warmup_epochs=0)._get_lbmult(0) == 5.0


def test_lars_skips_gamma_beta_bias_and_decays_weights_only():
    opt = mx.optimizer.LARS(wd=0.1, param_idx2name={0: 'a_weight', 1: 'a_bias', 2: 'bn_gamma', 3: 'bn_beta'})
    assert opt.wd_mult == {'a_bias': 0.0, 'bn_gamma': 0.0, 'bn_beta': 0.0}
    assert [opt._uses_lars(i) for i in range(5)] == [True, False, False, False, True]
    # a bias is updated with the plain learning rate and no weight decay: w -= lr * g
    w, g = mx.nd.array([1.0, 2.0]), mx.nd.array([0.5, -1.0])
    mx.optimizer.get_updater(opt)(1, g, w)
    np.testing.assert_allclose(w.asnumpy(), [1.0 - 0.01 * 0.5, 2.0 + 0.01], rtol=1e-6)


def test_lars_zero_weight_uses_plain_lr():
    opt = mx.optimizer.create('lars', learning_rate=0.1)
    w = mx.nd.zeros((3,))
    mx.optimizer.get_updater(opt)(0, mx.nd.array([1.0, 2.0, 3.0]), w)
    np.testing.assert_allclose(w.asnumpy(), [-0.1, -0.2, -0.3], rtol=1e-6)


def test_lars_momentum_correction_follows_lr_changes():
    opt = mx.optimizer.LARS(momentum=0.9, lr_scheduler=_sched())
    _run(opt, steps=G[:3])
    # the third step's first update saw the learning rate halve
    assert (opt.last_lr, opt.cur_lr) == (0.15, 0.15)
    assert opt._effective_momentum() == pytest.approx(0.9)
    opt.cur_lr = 0.075
    assert opt._effective_momentum() == pytest.approx(0.45)
    opt.momentum_correction = False
    assert opt._effective_momentum() == 0.9


# lars_sched with both weights passed to one update_multi_precision call per step (as
# MXNet's Updater groups up to aggregate_num weights): the momentum correction at the
# learning-rate change then applies to weight 1 too, MXNet 1.9.1
GROUPED = [[0.09873174, 0.3794529, 0.17891827, 0.10477216, -0.1468374, 0.2675291],
           [0.48433024, -0.294712, 0.7825882, 0.0248791]]


def test_lars_list_update_is_one_aggregated_call():
    opt = mx.optimizer.create('lars', **CASES['lars_sched'][1]())
    assert opt.aggregate_num == 4
    ws = [mx.nd.array(w) for w in W]
    states = [opt.create_state_multi_precision(i, w) for i, w in enumerate(ws)]
    for step in G:
        opt.update_multi_precision([0, 1], ws, [mx.nd.array(g) for g in step], states)
    for w, e in zip(ws, GROUPED):
        np.testing.assert_allclose(w.asnumpy().ravel(), e, rtol=1e-5, atol=1e-7)
    assert opt.num_update == 4


def test_multi_precision_float16():
    for name, kw in (('lars', dict(momentum=0.9, eta=0.05)), ('lbsgd', dict(momentum=0.9))):
        opt = mx.optimizer.create(name, learning_rate=0.1, multi_precision=True, **kw)
        upd = mx.optimizer.get_updater(opt)
        w16 = mx.nd.array(W[0], dtype='float16')
        ref = mx.optimizer.create(name, learning_rate=0.1, **kw)
        w32 = mx.nd.array(w16.asnumpy().astype(np.float32))
        rupd = mx.optimizer.get_updater(ref)
        for step in G:
            upd(0, mx.nd.array(step[0], dtype='float16'), w16)
            rupd(0, mx.nd.array(step[0], dtype='float16').astype('float32'), w32)
        master = upd.states[0][0]
        assert w16.dtype == np.float16 and master.dtype == np.float32
        np.testing.assert_allclose(master.asnumpy(), w32.asnumpy(), rtol=2e-3, atol=1e-4)
        np.testing.assert_array_equal(w16.asnumpy(), master.asnumpy().astype(np.float16))


# ---------------------------------------------------------------- SGLD
def test_sgld_is_drift_plus_context_generator_noise():
    lr, wd, rescale, clip = 0.04, 0.1, 0.5, 0.3
    w0 = np.array(W[0], dtype=np.float32)
    g = np.array(G[0][0], dtype=np.float32)
    opt = mx.optimizer.create('sgld', learning_rate=lr, wd=wd, rescale_grad=rescale, clip_gradient=clip)
    mx.random.seed(7)
    w = mx.nd.array(w0)
    mx.optimizer.get_updater(opt)(0, mx.nd.array(g), w)
    mx.random.seed(7)
    noise = mx.nd.random.normal(0, math.sqrt(lr), shape=w0.shape).asnumpy()
    drift = w0 - lr / 2 * (np.clip(rescale * g, -clip, clip) + wd * w0)
    np.testing.assert_allclose(w.asnumpy(), drift + noise, rtol=1e-6, atol=1e-7)
    # reproducible under the same seed, different under another
    mx.random.seed(7)
    w2 = mx.nd.array(w0)
    mx.optimizer.get_updater(opt)(0, mx.nd.array(g), w2)
    np.testing.assert_array_equal(w.asnumpy(), w2.asnumpy())
    mx.random.seed(8)
    w3 = mx.nd.array(w0)
    mx.optimizer.get_updater(opt)(0, mx.nd.array(g), w3)
    assert not np.allclose(w3.asnumpy(), w.asnumpy())


def test_sgld_noise_statistics():
    lr, n = 0.01, 40000
    rs = np.random.RandomState(0)
    w0 = rs.randn(n).astype(np.float32)
    g = rs.randn(n).astype(np.float32)
    mx.random.seed(3)
    w = mx.nd.array(w0)
    mx.optimizer.get_updater(mx.optimizer.SGLD(learning_rate=lr))(0, mx.nd.array(g), w)
    resid = (w.asnumpy() - (w0 - lr / 2 * g)) / math.sqrt(lr)
    assert abs(resid.mean()) < 4 / math.sqrt(n)          # mean 0 (4 standard errors)
    assert abs(resid.std() - 1.0) < 0.02                  # standard deviation sqrt(lr)
    assert w.dtype == np.float32 and mx.optimizer.SGLD().create_state(0, w) is None


# ---------------------------------------------------------------- states, configs, registry
@pytest.mark.parametrize("case", ["lars_sched", "lbsgd_linear", "lbsgd_lars"])
def test_states_save_load_round_trip(case):
    name, kwargs, expected = CASES[case]
    ws, upd = _run(mx.optimizer.create(name, **kwargs()), steps=G[:2])
    blob = upd.get_states(dump_optimizer=True)
    upd2 = mx.optimizer.get_updater(mx.optimizer.create('sgd'))
    upd2.set_states(blob)
    assert type(upd2.optimizer).__name__ == name.upper()
    for step in G[2:]:
        for i, g in enumerate(step):
            upd2(i, mx.nd.array(g), ws[i])
    for w, e in zip(ws, expected):
        np.testing.assert_allclose(w.asnumpy().ravel(), e, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name,kwargs", [
    ('lars', dict(learning_rate=0.2, momentum=0.9, eta=0.02, eps=1e-4, momentum_correction=False,
                  lazy_update=False, wd=0.1, param_idx2name={0: 'x_weight', 1: 'x_bias'})),
    ('lbsgd', dict(learning_rate=0.3, momentum=0.5, warmup_strategy='sqrt', warmup_epochs=3, batch_scale=4,
                   updates_per_epoch=7, begin_epoch=2, num_epochs=9, multi_precision=True)),
    ('sgld', dict(learning_rate=0.05, wd=0.01, clip_gradient=2.0, rescale_grad=0.25)),
])
def test_config_round_trip(name, kwargs):
    opt = mx.optimizer.create(name, **kwargs)
    cfg = msgpack.unpackb(msgpack.packb(opt.to_config()), raw=False, strict_map_key=False)
    assert cfg['name'] == name
    opt2 = mx.optimizer.from_config(cfg)
    assert type(opt2) is type(opt)
    for k, v in kwargs.items():
        if k not in ('param_idx2name', 'begin_epoch'):  # begin_epoch: kept as init_updates
            assert getattr(opt2, k if k != 'learning_rate' else 'lr') == v, k
    assert opt2.to_config() == opt.to_config()
    if name == 'lbsgd':
        assert opt2.init_updates == 14
    if name == 'lars':
        assert opt2.wd_mult == {'x_bias': 0.0}


def test_registry_and_defaults():
    lars, lbsgd, sgld = (mx.optimizer.create(n) for n in ('LARS', 'lbsgd', 'sgld'))
    assert isinstance(lars, mx.optimizer.LARS) and isinstance(lbsgd, mx.optimizer.LBSGD)
    assert isinstance(sgld, mx.optimizer.SGLD)
    assert (lars.momentum, lars.eta, lars.eps, lars.momentum_correction, lars.lr) == (0.0, 0.001, 0, True, 0.01)
    assert (lbsgd.warmup_strategy, lbsgd.warmup_epochs, lbsgd.batch_scale, lbsgd.updates_per_epoch,
            lbsgd.init_updates, lbsgd.num_epochs) == ('linear', 5, 1, 32, 0, 60)
    assert not any(can_fuse(o) for o in (lars, lbsgd, sgld))
    assert lars.create_state(0, mx.nd.zeros((2,))) is None
    assert mx.optimizer.LBSGD(momentum=0.9).create_state(0, mx.nd.zeros((2,))).shape == (2,)


def test_kvstore_and_trainer_use_them():
    kv = mx.kv.create('local')
    kv.set_optimizer(mx.optimizer.create('lars', learning_rate=0.1, eta=0.05))
    kv.init(3, mx.nd.array(W[1]))
    kv.push(3, mx.nd.array(G[0][1]))
    out = mx.nd.zeros((4,))
    kv.pull(3, out=out)
    ref = mx.nd.array(W[1])
    mx.optimizer.get_updater(mx.optimizer.create('lars', learning_rate=0.1, eta=0.05))(3, mx.nd.array(G[0][1]), ref)
    np.testing.assert_allclose(out.asnumpy(), ref.asnumpy(), rtol=1e-6)
    assert not np.allclose(out.asnumpy(), W[1])

    net = mx.gluon.nn.Dense(2, in_units=3)
    net.initialize(mx.init.Constant(0.5))
    trainer = mx.gluon.Trainer(net.collect_params(), 'lbsgd', {'learning_rate': 0.1, 'warmup_strategy': 'lars'})
    with mx.autograd.record():
        loss = net(mx.nd.array([[1.0, 2.0, 3.0]])).sum()
    loss.backward()
    trainer.step(1)
    # weight 0.5 everywhere, gradient [1, 2, 3] per row: mult = sqrt(|w|^2 / |g|^2)
    mult = math.sqrt(6 * 0.25 / (2 * 14))
    np.testing.assert_allclose(net.weight.data().asnumpy(),
                               0.5 - 0.1 * mult * np.array([[1.0, 2.0, 3.0]] * 2), rtol=1e-5)


def test_bad_arguments_name_the_argument():
    with pytest.raises(MXNetError, match="warmup_strategy"):
        mx.optimizer.create('lbsgd', warmup_strategy='cosine')
    with pytest.raises(MXNetError, match="batch_scale"):
        mx.optimizer.LBSGD(batch_scale=0)
    with pytest.raises(MXNetError, match="updates_per_epoch"):
        mx.optimizer.LBSGD(updates_per_epoch=-1)
    with pytest.raises(MXNetError, match="lbsgdx"):
        mx.optimizer.create('lbsgdx')
