"""Gluon training, hybridize, optimizers and the KVStores on (fake) GPUs give the CPU's numbers.

Runs psnet's real GPU code paths on the CuPy double of tests/backend/fake_cupy.py; the
``fake_gpu`` fixture fails a test in which any array was used from another device.
"""
import numpy as np
import pytest

import psnet as mx
from psnet import autograd, gluon
from psnet.backend import cupy_backend


def _net(hybrid=False):
    net = gluon.nn.HybridSequential() if hybrid else gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.nn.Conv2D(4, kernel_size=3, padding=1, activation="relu"),
                gluon.nn.MaxPool2D(2), gluon.nn.BatchNorm(), gluon.nn.Flatten(),
                gluon.nn.Dense(8, activation="tanh"), gluon.nn.Dense(3))
    return net


def _data(n=8):
    rs = np.random.RandomState(1)
    return rs.uniform(-1, 1, (n, 1, 6, 6)).astype(np.float32), rs.randint(0, 3, n).astype(np.float32)


def train_params(ctxs, steps=3, hybrid=False, kvstore="device", optimizer="sgd", update_on_kvstore=None):
    """Params after ``steps`` steps on ``ctxs`` (the batch split over them), as NumPy."""
    mx.random.seed(5)
    net = _net(hybrid)
    net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    x, y = _data()
    net(mx.nd.array(x))  # shapes known: copy the same initial values to every device
    net.collect_params().reset_ctx(ctxs)
    if hybrid:
        net.hybridize()
    opt = {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3} if optimizer == "sgd" else {"learning_rate": 0.01}
    trainer = gluon.Trainer(net.collect_params(), optimizer, opt, kvstore=kvstore,
                            update_on_kvstore=update_on_kvstore)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for _ in range(steps):
        xs = gluon.utils.split_and_load(mx.nd.array(x), ctxs)
        ys = gluon.utils.split_and_load(mx.nd.array(y), ctxs)
        with autograd.record():
            losses = [loss_fn(net(a), b) for a, b in zip(xs, ys)]
        for loss in losses:
            loss.backward()
        trainer.step(len(x))
    mx.nd.waitall()
    out = []
    for p in net.collect_params().values():
        datas = p.list_data()
        for d, c in zip(datas, ctxs):
            assert d.context == c
        out.append(datas[-1].asnumpy())
    return out


@pytest.mark.parametrize("hybrid", [False, True], ids=["imperative", "hybridized"])
def test_conv_dense_training_on_one_gpu_matches_cpu(fake_gpu, hybrid):
    want = train_params([mx.cpu()], hybrid=hybrid)
    got = train_params([mx.gpu(1)], hybrid=hybrid)
    assert len(got) == len(want) == 10  # conv, batchnorm (4), two dense layers
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg="parameter %d" % k)


@pytest.mark.parametrize("kvstore,on_kv", [("device", None), ("local", None), ("device", False)],
                         ids=["device", "local", "device-fused-updates-per-gpu"])
def test_data_parallel_training_over_two_gpus_matches_two_cpus(fake_gpu, kvstore, on_kv):
    want = train_params([mx.cpu(0), mx.cpu(1)], kvstore=kvstore, optimizer="adam", update_on_kvstore=on_kv)
    got = train_params([mx.gpu(0), mx.gpu(1)], kvstore=kvstore, optimizer="adam", update_on_kvstore=on_kv)
    assert len(got) == len(want) == 10  # conv, batchnorm (4), two dense layers
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg="parameter %d" % k)


def test_device_kvstore_reduces_on_the_gpus_without_host_copies(fake_gpu, monkeypatch):
    kv = mx.kv.create("device")
    kv.init("w", mx.nd.zeros((2, 3), ctx=mx.gpu(0)))
    grads = [mx.nd.full((2, 3), float(i + 1), ctx=mx.gpu(i % 2)) for i in range(4)]
    outs = [mx.nd.zeros((2, 3), ctx=mx.gpu(1)), mx.nd.zeros((2, 3), ctx=mx.gpu(0))]

    def no_host_trip(self, array):
        raise AssertionError("the 'device' store copied GPU data to the host")
    monkeypatch.setattr(cupy_backend.CupyBackend, "asnumpy", no_host_trip)
    kv.push("w", grads)
    kv.pull("w", out=outs)
    monkeypatch.undo()
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full((2, 3), 10.0))
    assert [o._data._dev for o in outs] == [1, 0]


def test_local_kvstore_with_an_optimizer_updates_gpu_weights(fake_gpu):
    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.5))
    kv.init(3, mx.nd.ones((4,), ctx=mx.gpu(1)))
    kv.push(3, [mx.nd.ones((4,), ctx=mx.gpu(0)), mx.nd.ones((4,), ctx=mx.gpu(1))])
    w = mx.nd.zeros((4,), ctx=mx.gpu(1))
    kv.pull(3, out=w)
    np.testing.assert_allclose(w.asnumpy(), np.zeros(4))  # 1 - 0.5 * (1 + 1)


def test_every_elementwise_optimizer_steps_a_gpu_weight_like_the_cpu(fake_gpu):
    rs = np.random.RandomState(0)
    w0, g0 = rs.randn(5).astype(np.float32), rs.randn(5).astype(np.float32)
    for name in ("sgd", "nag", "adam", "adagrad", "rmsprop", "adadelta", "ftrl", "signum", "lamb"):
        res = []
        for ctx in (mx.cpu(), mx.gpu(1)):
            opt = mx.optimizer.create(name, learning_rate=0.1)
            upd = mx.optimizer.get_updater(opt)
            w = mx.nd.array(w0, ctx=ctx)
            for _ in range(2):
                upd(0, mx.nd.array(g0, ctx=ctx), w)
            res.append(w.asnumpy())
        np.testing.assert_allclose(res[1], res[0], rtol=1e-5, atol=1e-6, err_msg=name)


def test_dist_worker_sums_gpu_gradients_on_device_and_sends_pinned_host_memory(fake_gpu, monkeypatch):
    from psnet.kvstore.dist import client
    grads = [mx.nd.full((2, 2), float(i + 1), ctx=mx.gpu(i % 2)) for i in range(3)]
    calls = []
    real = cupy_backend.CupyBackend.asnumpy
    monkeypatch.setattr(cupy_backend.CupyBackend, "asnumpy",
                        lambda self, a, pinned=False: calls.append(pinned) or real(self, a, pinned))
    host = client._reduce(grads)
    assert isinstance(host, np.ndarray) and calls == [True]  # one copy, into page-locked memory
    assert fake_gpu.pinned_allocs == 1
    np.testing.assert_array_equal(host, np.full((2, 2), 6.0))


def test_dist_worker_writes_pulled_values_straight_into_gpu_arrays(fake_gpu):
    from psnet.kvstore.dist import client
    out = mx.nd.zeros((2, 3), ctx=mx.gpu(1))
    mx.nd.ones((1,), ctx=mx.gpu(0))  # another device is current
    client._write(out, -1, 0, 6, np.arange(6, dtype=np.float32))
    client._write(out, 1, 2, 4, np.array([-1.0, -2.0], dtype=np.float32))  # a slice of a big key
    np.testing.assert_array_equal(out.asnumpy(), [[0, 1, -1], [-2, 4, 5]])
    assert out._data._dev == 1
    from psnet.ndarray.ndarray import from_backend
    column = from_backend(out._data[:, 1:2], out.context)  # a non-contiguous view
    client._write(column, -1, 0, 2, np.array([7.0, 8.0], dtype=np.float32))
    np.testing.assert_array_equal(out.asnumpy(), [[0, 7, -1], [-2, 8, 5]])


class _Square(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] * in_data[0])

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], 2 * in_data[0] * out_grad[0])


@mx.operator.register("backend_test_square")
class _SquareProp(mx.operator.CustomOpProp):
    def create_operator(self, ctx, shapes, dtypes):
        return _Square()


def test_custom_operator_runs_on_the_gpu(fake_gpu):
    x = mx.nd.array([1.0, -2.0, 3.0], ctx=mx.gpu(1))
    x.attach_grad()
    with autograd.record():
        y = mx.nd.Custom(x, op_type="backend_test_square")
    y.backward()
    assert y.context == mx.gpu(1) and y._data._dev == 1
    np.testing.assert_allclose(y.asnumpy(), [1, 4, 9])
    np.testing.assert_allclose(x.grad.asnumpy(), [2, -4, 6])


def test_symbol_executor_on_the_gpu(fake_gpu):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(mx.sym.Activation(data, act_type="tanh"), num_hidden=2, name="fc")
    x = np.array([[0.5, -1.0, 2.0]], np.float32)
    w, b = np.ones((2, 3), np.float32), np.array([0.0, 1.0], np.float32)
    results = []
    for ctx in (mx.cpu(), mx.gpu(1)):
        exe = net.simple_bind(ctx, data=(1, 3))
        for name, value in (("data", x), ("fc_weight", w), ("fc_bias", b)):
            exe.arg_dict[name][:] = mx.nd.array(value, ctx=ctx)
        out = exe.forward(is_train=True)[0]
        exe.backward(mx.nd.ones((1, 2), ctx=ctx))
        assert out.context == ctx and exe.grad_dict["data"].context == ctx
        results.append((out.asnumpy(), exe.grad_dict["data"].asnumpy(), exe.grad_dict["fc_weight"].asnumpy()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("init", [mx.init.Xavier(), mx.init.Normal(0.5), mx.init.Uniform(0.3), mx.init.Orthogonal(),
                                  mx.init.MSRAPrelu(), mx.init.Constant(0.25), mx.init.One()],
                         ids=lambda i: type(i).__name__)
def test_initializers_fill_gpu_parameters_on_their_device(fake_gpu, init):
    mx.nd.ones((1,), ctx=mx.gpu(0))  # another device is current
    p = gluon.Parameter("w", shape=(6, 4))
    p.initialize(init=init, ctx=mx.gpu(1))
    w = p.data(mx.gpu(1))
    mx.nd.ones((1,), ctx=mx.gpu(0))
    init(mx.init.InitDesc("w_weight"), w)  # re-initialise in place while gpu(0) is current
    assert w._data._dev == 1 and np.isfinite(w.asnumpy()).all()


def test_grad_req_add_accumulates_on_the_leafs_device(fake_gpu):
    x = mx.nd.array([1.0, 2.0], ctx=mx.gpu(1))
    x.attach_grad(grad_req="add")
    for _ in range(2):
        with autograd.record():
            y = (x.as_in_context(mx.gpu(0)) * 3).sum()  # the graph ends on gpu(0)
        y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [6, 6])
    assert x.grad._data._dev == 1


def test_clip_global_norm_and_zero_grad_over_two_gpus(fake_gpu):
    arrays = [mx.nd.full((2,), 3.0, ctx=mx.gpu(1)), mx.nd.full((2,), 4.0, ctx=mx.gpu(0))]
    norm = gluon.utils.clip_global_norm(arrays, 1.0)
    assert abs(norm - np.sqrt(50)) < 1e-4
    np.testing.assert_allclose(arrays[0].asnumpy(), 3 / np.sqrt(50), rtol=1e-5)
    p = gluon.Parameter("w", shape=(3,))
    p.initialize(init=mx.init.One(), ctx=[mx.gpu(1), mx.gpu(0)])
    for g in p.list_grad():
        g[:] = 5
    p.zero_grad()
    assert [g.asnumpy().tolist() for g in p.list_grad()] == [[0, 0, 0], [0, 0, 0]]


def test_nccl_store_all_reduces_values_on_distinct_gpus(fake_gpu):
    kv = mx.kv.create("nccl")
    assert kv.type == "nccl"
    kv.init("w", mx.nd.zeros((2, 3), ctx=mx.gpu(1)))
    kv.push("w", [mx.nd.full((2, 3), 2.0, ctx=mx.gpu(0)), mx.nd.full((2, 3), 5.0, ctx=mx.gpu(1))])
    assert fake_gpu.nccl_allreduces == 1
    outs = [mx.nd.zeros((2, 3), ctx=mx.gpu(0)), mx.nd.zeros((2, 3), ctx=mx.gpu(1))]
    kv.pull("w", out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full((2, 3), 7.0))
    # two values on one GPU: NCCL needs one buffer per device, so the device tree sums them
    kv.push("w", [mx.nd.ones((2, 3), ctx=mx.gpu(0)) for _ in range(2)])
    assert fake_gpu.nccl_allreduces == 1
    kv.pull("w", out=outs[1])
    np.testing.assert_array_equal(outs[1].asnumpy(), np.full((2, 3), 2.0))


def test_nccl_store_without_nccl_is_the_device_store(fake_gpu, monkeypatch):
    import sys
    monkeypatch.setattr(sys.modules["cupy"].cuda.nccl, "available", False)
    kv = mx.kv.create("nccl")
    kv.init(0, mx.nd.zeros((3,), ctx=mx.gpu(0)))
    kv.pushpull(0, [mx.nd.ones((3,), ctx=mx.gpu(0)), mx.nd.ones((3,), ctx=mx.gpu(1))])
    assert fake_gpu.nccl_allreduces == 0


def test_training_with_the_nccl_store_matches_the_device_store(fake_gpu):
    want = train_params([mx.cpu(0), mx.cpu(1)], kvstore="device")
    got = train_params([mx.gpu(0), mx.gpu(1)], kvstore="nccl")
    assert fake_gpu.nccl_allreduces > 0
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg="parameter %d" % k)


def test_module_fit_over_two_gpus_matches_two_cpus(fake_gpu):
    data, label = mx.sym.Variable("data"), mx.sym.Variable("softmax_label")
    sym = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), label, name="softmax")
    rs = np.random.RandomState(0)
    x, y = rs.rand(20, 4).astype(np.float32), rs.randint(0, 3, 20).astype(np.float32)
    weights = []
    for ctxs in ([mx.cpu(0), mx.cpu(1)], [mx.gpu(0), mx.gpu(1)]):
        mx.random.seed(2)
        mod = mx.mod.Module(sym, context=ctxs)
        mod.fit(mx.io.NDArrayIter(x, y, batch_size=10), num_epoch=2, optimizer="sgd",
                initializer=mx.init.Constant(0.1), optimizer_params={"learning_rate": 0.1})
        weights.append(mod.get_params()[0]["fc_weight"].asnumpy())
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-5)
    assert not np.allclose(weights[0], 0.1)  # it trained
