"""The 'local' and 'device' stores: MXNet's tutorial transcript, a NumPy model, errors, updaters."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError

SHAPE = (2, 3)
STORES = ["local", "device"]


@pytest.mark.parametrize("kvtype", STORES)
def test_kvstore_tutorial_transcript(kvtype, capsys):
    """MXNet's "Distributed Key-Value Store" tutorial, with its printed numbers."""
    kv = mx.kv.create(kvtype)
    kv.init(3, mx.nd.ones(SHAPE) * 2)
    a = mx.nd.zeros(SHAPE)
    kv.pull(3, out=a)
    np.testing.assert_array_equal(a.asnumpy(), np.full(SHAPE, 2.0))
    kv.push(3, mx.nd.ones(SHAPE) * 8)
    kv.pull(3, out=a)
    np.testing.assert_array_equal(a.asnumpy(), np.full(SHAPE, 8.0))
    contexts = [mx.cpu(i) for i in range(4)]
    b = [mx.nd.ones(SHAPE, ctx) for ctx in contexts]
    kv.push(3, b)
    kv.pull(3, out=a)
    np.testing.assert_array_equal(a.asnumpy(), np.full(SHAPE, 4.0))

    def update(key, input, stored):
        print("update on key: %d" % key)
        stored += input * 2
    kv._set_updater(update)
    kv.pull(3, out=a)
    np.testing.assert_array_equal(a.asnumpy(), np.full(SHAPE, 4.0))
    kv.push(3, mx.nd.ones(SHAPE))
    kv.pull(3, out=a)
    np.testing.assert_array_equal(a.asnumpy(), np.full(SHAPE, 6.0))
    assert capsys.readouterr().out == "update on key: 3\n"

    keys = [5, 7, 9]
    kv.init(keys, [mx.nd.ones(SHAPE)] * len(keys))
    kv.push(keys, [mx.nd.ones(SHAPE)] * len(keys))
    b = [mx.nd.zeros(SHAPE)] * len(keys)
    kv.pull(keys, out=b)
    np.testing.assert_array_equal(b[1].asnumpy(), np.full(SHAPE, 3.0))
    b = [[mx.nd.ones(SHAPE, ctx) for ctx in contexts]] * len(keys)
    kv.push(keys, b)
    kv.pull(keys, out=b)
    np.testing.assert_array_equal(b[1][1].asnumpy(), np.full(SHAPE, 11.0))
    assert capsys.readouterr().out == "update on key: 5\nupdate on key: 7\nupdate on key: 9\n" * 2


def test_properties_and_create():
    kv = mx.kv.create("device")
    assert (kv.type, kv.rank, kv.num_workers) == ("device", 0, 1)
    assert kv.is_capable(mx.kv.KVStoreBase.OPTIMIZER) and not kv.is_capable("sparse")
    assert mx.kv.create(kv) is kv
    with pytest.raises(KeyError, match="nosuchstore"):
        mx.kv.create("nosuchstore")


@pytest.mark.parametrize("seed", range(6))
def test_random_traffic_against_numpy_model(seed):
    """Random keys, shapes and numbers of devices; pushes sum, pulls broadcast, 'device' == 'local'."""
    rs = np.random.RandomState(seed)
    str_keys = seed % 2 == 1
    local, device = mx.kv.create("local"), mx.kv.create("device")
    model = {}
    for _ in range(25):
        op = rs.choice(["init", "push", "pull", "pushpull"]) if model else "init"
        if op == "init":
            key = ("k%d" if str_keys else "%d") % len(model)
            key = key if str_keys else int(key)
            shape = tuple(rs.randint(1, 5, size=rs.randint(1, 4)))
            model[key] = rs.randn(*shape).astype(np.float32)
            for kv in (local, device):
                kv.init(key, mx.nd.array(model[key], ctx=mx.cpu(rs.randint(3))))
            continue
        key = list(model)[rs.randint(len(model))]
        ndev = rs.randint(1, 5)
        if op in ("push", "pushpull"):
            vals = [rs.randn(*model[key].shape).astype(np.float32) for _ in range(ndev)]
            model[key] = np.sum(vals, axis=0, dtype=np.float32)
        outs = {}
        for name, kv in (("local", local), ("device", device)):
            nd_vals = [mx.nd.array(v, ctx=mx.cpu(i)) for i, v in enumerate(vals)] if op != "pull" else None
            out = [mx.nd.zeros(model[key].shape, ctx=mx.cpu(i)) for i in range(ndev)]
            if op == "push":
                kv.push(key, nd_vals)
                kv.pull(key, out=out)
            elif op == "pushpull":
                kv.pushpull(key, nd_vals, out=out)
            else:
                kv.pull(key, out=out)
            outs[name] = [o.asnumpy() for o in out]
            for o in outs[name]:
                np.testing.assert_allclose(o, model[key], rtol=1e-5, atol=1e-6)
        for a, b in zip(outs["local"], outs["device"]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kvtype", STORES)
def test_push_takes_a_copy(kvtype):
    kv = mx.kv.create(kvtype)
    kv.init("w", mx.nd.zeros(SHAPE))
    v = mx.nd.ones(SHAPE)
    kv.push("w", v)
    v[:] = 100.0
    out = mx.nd.zeros(SHAPE)
    kv.pull("w", out=out)
    np.testing.assert_array_equal(out.asnumpy(), np.ones(SHAPE))
    init = mx.nd.ones(SHAPE)
    kv.init("x", init)
    init[:] = 5
    kv.pull("x", out=out)
    np.testing.assert_array_equal(out.asnumpy(), np.ones(SHAPE))


@pytest.mark.parametrize("kvtype", STORES)
def test_errors_name_the_key_and_never_corrupt(kvtype):
    kv = mx.kv.create(kvtype)
    kv.init(1, mx.nd.ones(SHAPE))
    cases = [
        (KeyError, "key 2 has not been initialised", lambda: kv.push(2, mx.nd.ones(SHAPE))),
        (KeyError, "key 2 has not been initialised", lambda: kv.pull(2, out=mx.nd.ones(SHAPE))),
        (MXNetError, "already initialised", lambda: kv.init(1, mx.nd.ones(SHAPE))),
        (ValueError, r"key 1 holds shape \(2, 3\) but got an array of shape \(3, 2\)",
         lambda: kv.push(1, [mx.nd.ones(SHAPE, mx.cpu(1)), mx.nd.ones((3, 2))])),
        (TypeError, "key 1 holds dtype float32 but got an array of dtype int32",
         lambda: kv.push(1, mx.nd.ones(SHAPE, dtype="int32"))),
        (ValueError, r"key 1 holds shape \(2, 3\) but got an array of shape \(6,\)",
         lambda: kv.pull(1, out=mx.nd.ones((6,)))),
        (KeyError, "mix int and str", lambda: kv.init("a", mx.nd.ones(SHAPE))),
        (KeyError, "mix int and str", lambda: kv.push([1, "a"], [mx.nd.ones(SHAPE)] * 2)),
        (KeyError, "not been initialised", lambda: kv.push([1, 4], [mx.nd.full(SHAPE, 7)] * 2)),
    ]
    for exc, msg, fn in cases:
        with pytest.raises(exc, match=msg):
            fn()
        assert isinstance(pytest.raises(MXNetError, fn).value, MXNetError)
        out = mx.nd.zeros(SHAPE)
        kv.pull(1, out=out)
        np.testing.assert_array_equal(out.asnumpy(), np.ones(SHAPE))


@pytest.mark.parametrize("kvtype", STORES)
def test_broadcast_and_pushpull_in_place(kvtype):
    kv = mx.kv.create(kvtype)
    outs = [mx.nd.zeros(SHAPE, mx.cpu(i)) for i in range(3)]
    kv.broadcast("p", mx.nd.full(SHAPE, 3.0), out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full(SHAPE, 3.0))
    grads = [mx.nd.full(SHAPE, float(i + 1), mx.cpu(i)) for i in range(3)]
    kv.pushpull("p", grads)
    for g in grads:
        np.testing.assert_array_equal(g.asnumpy(), np.full(SHAPE, 6.0))


@pytest.mark.parametrize("kvtype", STORES)
def test_set_optimizer_matches_trainer_style_update(kvtype, tmp_path):
    """The store's optimizer gives exactly what an Updater with the same optimizer gives."""
    rs = np.random.RandomState(0)
    w0 = rs.randn(4, 3).astype(np.float32)
    grads = [[rs.randn(4, 3).astype(np.float32) for _ in range(2)] for _ in range(3)]
    kv = mx.kv.create(kvtype)
    kv.set_optimizer(mx.optimizer.create("adam", learning_rate=0.05, wd=0.01))
    kv.init(0, mx.nd.array(w0))
    upd = mx.optimizer.get_updater(mx.optimizer.create("adam", learning_rate=0.05, wd=0.01))
    ref = mx.nd.array(w0)
    out = mx.nd.zeros((4, 3))
    for step in grads:
        kv.push(0, [mx.nd.array(g, ctx=mx.cpu(i)) for i, g in enumerate(step)])
        upd(0, mx.nd.array(step[0] + step[1]), ref)
    kv.pull(0, out=out)
    np.testing.assert_array_equal(out.asnumpy(), ref.asnumpy())

    fname = str(tmp_path / "opt.states")
    kv.save_optimizer_states(fname, dump_optimizer=True)
    assert open(fname, "rb").read(8) == b"PSNETOPT"
    kv2 = mx.kv.create(kvtype)
    kv2.set_optimizer(mx.optimizer.create("sgd"))
    kv2.init(0, out)
    kv2.load_optimizer_states(fname)
    g = mx.nd.array(grads[0][0])
    kv.push(0, g)
    kv2.push(0, g)
    a, b = mx.nd.zeros((4, 3)), mx.nd.zeros((4, 3))
    kv.pull(0, out=a)
    kv2.pull(0, out=b)
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


def test_optimizer_states_need_an_optimizer(tmp_path):
    kv = mx.kv.create("local")
    with pytest.raises(MXNetError, match="set_optimizer"):
        kv.save_optimizer_states(str(tmp_path / "x"))


def test_user_registered_optimizer_by_name_in_store():
    @mx.optimizer.register
    class KvTestDouble(mx.optimizer.Optimizer):
        """stored -= lr * 2 * grad."""

        def update(self, index, weight, grad, state):
            self._update_count(index)
            weight[:] = weight - self._get_lr(index) * 2 * grad

    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.create("kvtestdouble", learning_rate=0.5))
    kv.init("w", mx.nd.ones((2,)))
    kv.push("w", [mx.nd.ones((2,)), mx.nd.ones((2,), ctx=mx.cpu(1))])
    out = mx.nd.zeros((2,))
    kv.pull("w", out=out)
    np.testing.assert_array_equal(out.asnumpy(), [-1.0, -1.0])


def test_user_store_class_plugs_in():
    @mx.kv.KVStoreBase.register
    class SumTwice(mx.kv.KVStoreBase):
        """A toy store: pushpull writes twice the sum into every out."""

        def broadcast(self, key, value, out, priority=0):
            for o in out if isinstance(out, list) else [out]:
                o[:] = value

        def pushpull(self, key, value, out=None, priority=0):
            values = value if isinstance(value, list) else [value]
            total = sum(v.asnumpy() for v in values) * 2
            for o in (out if out is not None else values):
                o[:] = mx.nd.array(total, ctx=o.context)

    kv = mx.kv.create("sumtwice")
    assert isinstance(kv, SumTwice) and kv.type == "sumtwice"
    assert not kv.is_capable(mx.kv.KVStoreBase.OPTIMIZER)
    vals = [mx.nd.ones((2,)), mx.nd.ones((2,), ctx=mx.cpu(1))]
    kv.pushpull(0, vals)
    np.testing.assert_array_equal(vals[1].asnumpy(), [4.0, 4.0])


def test_failed_push_does_not_fix_the_key_kind():
    kv = mx.kv.create("local")
    with pytest.raises(KeyError, match="not been initialised"):
        kv.push("a", mx.nd.ones(SHAPE))
    kv.init(3, mx.nd.ones(SHAPE))  # the store's key kind is set by init only
    with pytest.raises(KeyError, match="mix int and str"):
        kv.init("b", mx.nd.ones(SHAPE))
