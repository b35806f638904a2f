"""gluon.Trainer: MXNet 1.9.1's numbers and kvstore decisions, 1 vs 4 contexts, fused updates, states."""
import numpy as np
import pytest

import psnet as mx
from psnet import autograd, gluon
from psnet.base import MXNetError

W0 = [[0.1, -0.2, 0.3, 0.05], [0.4, 0.0, -0.1, 0.2], [-0.3, 0.25, 0.15, -0.05]]
B0 = [0.01, -0.02, 0.03]
X = [[0.5, 0.1, 0.9, 0.3], [0.2, 0.8, 0.4, 0.6], [0.7, 0.3, 0.1, 0.5], [0.9, 0.6, 0.2, 0.4],
     [0.1, 0.4, 0.7, 0.8], [0.3, 0.9, 0.5, 0.2]]

# (contexts, optimizer, kvstore, update_on_kvstore, optimizer_params): weight and bias after
# three steps of loss = sum(dense(x)^2) on X split over the contexts, from MXNet 1.9.1
RESULTS = {
    (1, 'sgd', 'device', None, (('learning_rate', 0.1), ('wd', 0.01), ('momentum', 0.9))): ([[0.0607321, -0.2168714, 0.2302184, 0.006599266], [0.2901117, -0.07526464, -0.1475795, 0.1247307], [-0.2852764, 0.1961001, 0.1041744, -0.07827188]],
        [-0.08069694, -0.1821998, -0.02466207]),
    (2, 'adam', 'device', None, (('learning_rate', 0.1), ('wd', 0.01))): ([[0.07463819, -0.1760172, 0.1996682, 0.0195656], [0.2115885, -0.09542875, -0.1510816, 0.08696112], [-0.04163305, 0.1512491, 0.07184634, -0.07402071]],
        [-0.01870679, -0.1354009, 0.006476294]),
    (2, 'nag', 'local', False, (('learning_rate', 0.1), ('wd', 0.01), ('momentum', 0.9))): ([[0.06270936, -0.2024405, 0.2208049, 0.007966483], [0.2783508, -0.06725466, -0.1327268, 0.1283425], [-0.2676054, 0.1879583, 0.09802198, -0.07725396]],
        [-0.07707367, -0.1747067, -0.02044318]),
    (3, 'rmsprop', 'device', True, (('learning_rate', 0.1), ('wd', 0.01))): ([[0.05538571, -0.2213845, 0.2262006, 0.003247716], [0.2650128, -0.07640939, -0.1551776, 0.1145253], [0.137411, 0.06678471, -0.0132169, -0.2075527]],
        [-0.03603065, -0.106593, -0.1435267]),
}



def _dense(ctxs):
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize(ctx=ctxs)
    net.weight.set_data(mx.nd.array(W0))
    net.bias.set_data(mx.nd.array(B0))
    return net


def _train(net, trainer, ctxs, x, steps=3):
    for _ in range(steps):
        xs = gluon.utils.split_and_load(mx.nd.array(x), ctxs)
        with autograd.record():
            losses = [(net(a) ** 2).sum() for a in xs]
        for loss in losses:
            loss.backward()
        trainer.step(len(x))


@pytest.mark.parametrize("case", list(RESULTS), ids=lambda c: "%s-%dctx-%s" % (c[1], c[0], c[2]))
def test_matches_mxnet(case):
    nctx, opt, kv, upd, params = case
    ctxs = [mx.cpu(i) for i in range(nctx)]
    net = _dense(ctxs)
    trainer = gluon.Trainer(net.collect_params(), opt, dict(params), kvstore=kv, update_on_kvstore=upd)
    _train(net, trainer, ctxs, X)
    weight, bias = RESULTS[case]
    for c in ctxs:
        np.testing.assert_allclose(net.weight.data(c).asnumpy(), weight, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(net.bias.data(c).asnumpy(), bias, rtol=1e-4, atol=1e-5)


def test_kvstore_decision_follows_mxnet():
    one = gluon.Trainer(_dense([mx.cpu()]).collect_params(), "sgd")
    one._init_kvstore()
    assert one._kvstore is None
    four = gluon.Trainer(_dense([mx.cpu(i) for i in range(4)]).collect_params(), "sgd")
    four._init_kvstore()
    assert four._kvstore.type == "device" and four._update_on_kvstore is True
    off = gluon.Trainer(_dense([mx.cpu(0), mx.cpu(1)]).collect_params(), "sgd", kvstore="local",
                        update_on_kvstore=False)
    off._init_kvstore()
    assert off._kvstore.type == "local" and off._update_on_kvstore is False
    none = gluon.Trainer(_dense([mx.cpu(0), mx.cpu(1)]).collect_params(), "sgd", kvstore=None)
    none._init_kvstore()
    assert none._kvstore is None


def _mlp(ctxs, seed=3):
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Dense(16, activation="relu", in_units=10), gluon.nn.Dense(4, in_units=16))
    net.initialize(ctx=ctxs)
    rs = np.random.RandomState(seed)
    for p in net.collect_params().values():
        p.set_data(mx.nd.array(rs.uniform(-0.3, 0.3, p.shape)))
    return net


@pytest.mark.parametrize("opt,kv,upd", [("sgd", "device", None), ("adam", "local", False),
                                        ("nag", "device", True), ("rmsprop", "local", None)])
def test_one_context_equals_four_contexts(opt, kv, upd):
    rs = np.random.RandomState(0)
    x = rs.rand(32, 10).astype(np.float32)
    y = rs.randint(0, 4, 32).astype(np.float32)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    results = []
    for ctxs in ([mx.cpu()], [mx.cpu(i) for i in range(4)]):
        net = _mlp(ctxs)
        params = {"learning_rate": 0.05, "wd": 0.001}
        if opt in ("sgd", "nag"):
            params["momentum"] = 0.9
        trainer = gluon.Trainer(net.collect_params(), opt, params, kvstore=kv, update_on_kvstore=upd)
        for _ in range(4):
            xs = gluon.utils.split_and_load(mx.nd.array(x), ctxs)
            ys = gluon.utils.split_and_load(mx.nd.array(y), ctxs)
            with autograd.record():
                losses = [loss_fn(net(a), b) for a, b in zip(xs, ys)]
            for loss in losses:
                loss.backward()
            trainer.step(32)
        results.append([[p.data(c).asnumpy() for c in ctxs] for p in net.collect_params().values()])
    for single, multi in zip(*results):
        for copy in multi:
            np.testing.assert_allclose(copy, single[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opt", ["sgd", "adam", "adagrad", "nadam"])
def test_fused_update_is_identical_to_per_parameter(opt, monkeypatch):
    rs = np.random.RandomState(1)
    x = rs.rand(8, 10).astype(np.float32)
    results = []
    for fused in ("1", "0"):
        monkeypatch.setenv("PSNET_FUSED_UPDATE", fused)
        net = _mlp([mx.cpu()])
        trainer = gluon.Trainer(net.collect_params(), opt, {"learning_rate": 0.1, "wd": 0.01})
        _train(net, trainer, [mx.cpu()], x, steps=3)
        results.append([p.data().asnumpy() for p in net.collect_params().values()])
        groups = trainer._fused[0][0]
        assert bool(groups) == (fused == "1" and opt != "nadam")
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_fused_buffers_keep_the_user_arrays():
    net = _mlp([mx.cpu()])
    weight = net[0].weight.data()
    grad = net[0].weight.grad()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0})
    _train(net, trainer, [mx.cpu()], np.ones((2, 10), np.float32), steps=1)
    assert net[0].weight.data() is weight and net[0].weight.grad() is grad
    before = weight.asnumpy()
    weight[:] = 0.5  # writes through the view into the flat buffer
    _train(net, trainer, [mx.cpu()], np.ones((2, 10), np.float32), steps=1)
    assert not np.allclose(weight.asnumpy(), before)
    np.testing.assert_allclose(weight.asnumpy(), 0.5 - grad.asnumpy() / 2, rtol=1e-5)


def test_allreduce_grads_then_update_with_clipping():
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net = _dense(ctxs)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}, update_on_kvstore=False)
    xs = gluon.utils.split_and_load(mx.nd.array(X), ctxs)
    with autograd.record():
        losses = [(net(a) ** 2).sum() for a in xs]
    for loss in losses:
        loss.backward()
    trainer.allreduce_grads()
    g0, g1 = (net.weight.grad(c).asnumpy() for c in ctxs)
    np.testing.assert_array_equal(g0, g1)
    expected = net.weight.data(ctxs[0]).asnumpy() - 0.1 * g0 / 6
    trainer.update(6)
    for c in ctxs:
        np.testing.assert_allclose(net.weight.data(c).asnumpy(), expected, rtol=1e-6)
    on_store = gluon.Trainer(net.collect_params(), "sgd", update_on_kvstore=True)
    with pytest.raises(MXNetError, match="update_on_kvstore"):
        on_store.allreduce_grads()
    with pytest.raises(MXNetError, match="update_on_kvstore"):
        on_store.update(6)


def test_learning_rate_and_errors():
    net = _dense([mx.cpu()])
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.3})
    assert trainer.learning_rate == pytest.approx(0.3)
    trainer.set_learning_rate(0.1)
    assert trainer.optimizer.lr == pytest.approx(0.1)
    with pytest.raises(MXNetError, match="list or dict of Parameters"):
        gluon.Trainer(net.weight, "sgd")
    with pytest.raises(MXNetError, match="optimizer_params must be None"):
        gluon.Trainer(net.collect_params(), mx.optimizer.SGD(), {"learning_rate": 0.1})
    with pytest.raises(ValueError, match="nosuchopt"):
        gluon.Trainer(net.collect_params(), "nosuchopt")
    other = _dense([mx.cpu(1)])
    with pytest.raises(MXNetError, match="same set of contexts"):
        gluon.Trainer([net.weight, other.weight], "sgd")


@pytest.mark.parametrize("ctxs,upd", [([0], None), ([0, 1], True), ([0, 1], False)])
def test_save_and_load_states_continue_identically(tmp_path, ctxs, upd):
    ctxs = [mx.cpu(i) for i in ctxs]
    fname = str(tmp_path / "trainer.states")
    net = _dense(ctxs)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01}, update_on_kvstore=upd)
    _train(net, trainer, ctxs, X, steps=2)
    trainer.save_states(fname)
    assert open(fname, "rb").read(8) == b"PSNETOPT"
    net2 = _dense(ctxs)
    for p, q in zip(net.collect_params().values(), net2.collect_params().values()):
        q.set_data(p.data(ctxs[0]))
    trainer2 = gluon.Trainer(net2.collect_params(), "sgd", update_on_kvstore=upd)
    trainer2.load_states(fname)
    assert isinstance(trainer2.optimizer, mx.optimizer.Adam)
    _train(net, trainer, ctxs, X, steps=2)
    _train(net2, trainer2, ctxs, X, steps=2)
    for p, q in zip(net.collect_params().values(), net2.collect_params().values()):
        np.testing.assert_allclose(p.data(ctxs[0]).asnumpy(), q.data(ctxs[0]).asnumpy(), rtol=1e-6)


def test_user_optimizer_and_store_by_name():
    @mx.optimizer.register
    class TrainerTestSign(mx.optimizer.Optimizer):
        """w -= lr * sign(g)."""

        def update(self, index, weight, grad, state):
            self._update_count(index)
            weight[:] = weight - self._get_lr(index) * mx.nd.sign(grad)

    ctxs = [mx.cpu(0), mx.cpu(1)]
    net = _dense(ctxs)
    trainer = gluon.Trainer(net.collect_params(), "trainertestsign", {"learning_rate": 0.01},
                            kvstore=mx.kv.create("local"))
    _train(net, trainer, ctxs, X, steps=1)
    assert trainer._update_on_kvstore is True
    delta = net.weight.data(ctxs[1]).asnumpy() - np.array(W0, np.float32)
    np.testing.assert_allclose(np.abs(delta), 0.01, rtol=1e-4)


def test_compression_params_reach_the_store():
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net = _dense(ctxs)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0},
                            compression_params={"type": "2bit", "threshold": 100.0},
                            update_on_kvstore=False)
    _train(net, trainer, ctxs, X, steps=1)  # every gradient is below the threshold: nothing moves
    np.testing.assert_array_equal(net.weight.data(ctxs[0]).asnumpy(), np.array(W0, np.float32))
    assert trainer._kvstore._compression.get_params() == {"type": "2bit", "threshold": 100.0}


@pytest.mark.parametrize("nctx", [1, 2])
def test_stale_gradients(nctx):
    ctxs = [mx.cpu(i) for i in range(nctx)]
    used, unused = _dense(ctxs), _dense(ctxs)
    params = list(used.collect_params().values()) + list(unused.collect_params().values())
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.1}, update_on_kvstore=False)
    xs = gluon.utils.split_and_load(mx.nd.array(X), ctxs)
    with autograd.record():
        losses = [(used(a) ** 2).sum() for a in xs]
    for loss in losses:
        loss.backward()
    with pytest.raises(UserWarning, match="`%s`.*has not been updated by backward" % unused.weight.name):
        trainer.step(6)
    trainer.step(6, ignore_stale_grad=True)
    for c in ctxs:
        np.testing.assert_array_equal(unused.weight.data(c).asnumpy(), np.array(W0, np.float32))
        assert not np.allclose(used.weight.data(c).asnumpy(), W0)
    with pytest.raises(UserWarning, match=used.weight.name):  # used once, now stale too
        trainer.step(6)


def test_replanned_after_parameters_change_arrays():
    net = _mlp([mx.cpu()])
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = np.ones((2, 10), np.float32)
    _train(net, trainer, [mx.cpu()], x, steps=1)
    first = trainer._fused
    net.collect_params().reset_ctx(mx.cpu())  # new arrays for every parameter
    before = net[0].weight.data().asnumpy()
    _train(net, trainer, [mx.cpu()], x, steps=1)
    assert trainer._fused is not first
    assert not np.allclose(net[0].weight.data().asnumpy(), before)


@pytest.mark.parametrize("nctx", [1, 2])
def test_trainer_created_before_deferred_initialization(nctx):
    """The tutorial's order: initialize, make the Trainer, then the first forward fixes the shapes."""
    ctxs = [mx.cpu(i) for i in range(nctx)]
    net = gluon.nn.Dense(2)
    net.initialize(mx.init.One(), ctx=ctxs)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    x = np.ones((4, 3), np.float32)
    _train(net, trainer, ctxs, x, steps=1)
    # weights 1, bias 0 (One initialises biases to zero, as in MXNet): y = 3 everywhere and
    # dL/dw = sum over the batch of 2 * y * x = 24
    for c in ctxs:
        np.testing.assert_allclose(net.weight.data(c).asnumpy(), np.full((2, 3), 1 - 0.5 * 24 / 4))


def test_fused_plan_follows_reinitialised_parameters():
    """Re-initialising a Parameter gives it new arrays: the next step must update those
    (the fused plan is rebuilt), with the same result as a fresh Trainer."""
    x = np.random.RandomState(2).rand(4, 10).astype(np.float32)
    net = _mlp([mx.cpu()])
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    _train(net, trainer, [mx.cpu()], x, steps=1)
    old_groups = trainer._fused[0][0]
    net[0].weight.initialize(mx.init.Constant(0.05), force_reinit=True)
    _train(net, trainer, [mx.cpu()], x, steps=1)
    assert trainer._fused[0][0] is not old_groups
    got = [p.data().asnumpy() for p in net.collect_params().values()]

    ref = _mlp([mx.cpu()])
    ref_trainer = gluon.Trainer(ref.collect_params(), "sgd", {"learning_rate": 0.1})
    _train(ref, ref_trainer, [mx.cpu()], x, steps=1)
    ref[0].weight.set_data(mx.nd.full(ref[0].weight.shape, 0.05))
    _train(ref, gluon.Trainer(ref.collect_params(), "sgd", {"learning_rate": 0.1}), [mx.cpu()], x, steps=1)
    for a, b in zip(got, [p.data().asnumpy() for p in ref.collect_params().values()]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert not np.allclose(got[0], 0.05)  # the new weight array was updated
