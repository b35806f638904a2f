"""gluon.Parameter / Constant / ParameterDict: data, gradients, deferred init, contexts, save/load."""
import numpy as np
import pytest

import psnet as mx
from psnet import autograd
from psnet.base import MXKeyError, MXNetError, ShapeError
from psnet.gluon import Constant, DeferredInitializationError, Parameter, ParameterDict


def test_initialize_data_grad_and_repr():
    p = Parameter("fc_weight", shape=(3, 4), init=mx.init.Constant(2.0))
    assert repr(p) == "Parameter fc_weight (shape=(3, 4), dtype=<class 'numpy.float32'>)"
    p.initialize()
    np.testing.assert_array_equal(p.data().asnumpy(), np.full((3, 4), 2.0))
    np.testing.assert_array_equal(p.grad().asnumpy(), np.zeros((3, 4)))
    assert p.list_ctx() == [mx.cpu(0)]
    assert p.data(mx.cpu(0)) is p.list_data()[0]
    assert p.grad(mx.cpu(0)) is p.list_grad()[0]
    with pytest.warns(UserWarning, match="already initialized"):
        p.initialize()
    p.initialize(mx.init.Zero(), force_reinit=True)
    assert (p.data().asnumpy() == 0).all()


def test_not_initialized_error_names_parameter():
    p = Parameter("dense9_weight", shape=(2, 2))
    with pytest.raises(RuntimeError, match="Parameter 'dense9_weight' has not been initialized"):
        p.data()
    with pytest.raises(MXNetError, match="dense9_weight.*invalid shape"):
        Parameter("dense9_weight", shape=(2, 0)).initialize()


def test_gradient_flows_into_parameter_buffer():
    p = Parameter("w_weight", shape=(3,), init=mx.init.Constant(1.5))
    p.initialize()
    with autograd.record():
        y = (p.data() * p.data()).sum()
    y.backward()
    np.testing.assert_allclose(p.grad().asnumpy(), [3.0, 3.0, 3.0])
    p.zero_grad()
    assert (p.grad().asnumpy() == 0).all()


def test_grad_req_add_and_null():
    p = Parameter("w_weight", shape=(2,), init=mx.init.One(), grad_req="add")
    p.initialize()
    for _ in range(2):
        with autograd.record():
            y = (p.data() * 3).sum()
        y.backward()
    np.testing.assert_allclose(p.grad().asnumpy(), [6.0, 6.0])
    p.grad_req = "null"
    with pytest.raises(MXNetError, match="grad_req='null'"):
        p.grad()
    p.grad_req = "write"
    assert (p.grad().asnumpy() == 0).all()
    with pytest.raises(MXNetError, match="grad_req"):
        p.grad_req = "sometimes"


def test_deferred_init_and_set_data():
    p = Parameter("fc_weight", shape=(4, 0), allow_deferred_init=True, init=mx.init.One())
    p.initialize(ctx=mx.cpu(0))
    with pytest.raises(DeferredInitializationError, match="fc_weight"):
        p.data()
    assert p.list_ctx() == [mx.cpu(0)]
    p.shape = (4, 5)
    p._finish_deferred_init()
    assert p.data().shape == (4, 5) and (p.data().asnumpy() == 1).all()
    p.set_data(mx.nd.full((4, 5), 7.0))
    assert (p.data().asnumpy() == 7).all()
    with pytest.raises(ShapeError, match="fc_weight"):
        p.shape = (4, 6)


def test_several_contexts_and_reset_ctx():
    ctxs = [mx.cpu(0), mx.cpu(1)]
    p = Parameter("w_weight", shape=(2, 2), init=mx.init.Normal(1.0))
    p.initialize(ctx=ctxs)
    assert p.list_ctx() == ctxs
    a, b = p.list_data()
    assert a.context == mx.cpu(0) and b.context == mx.cpu(1)
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    assert p.data(mx.cpu(1)) is b
    with pytest.raises(MXNetError, match="not initialized on context cpu\\(2\\)"):
        p.data(mx.cpu(2))
    before = a.asnumpy()
    p.reset_ctx(mx.cpu(3))
    assert p.list_ctx() == [mx.cpu(3)]
    np.testing.assert_array_equal(p.data().asnumpy(), before)


def test_cast_keeps_values():
    p = Parameter("w_weight", shape=(2,), init=mx.init.Constant(0.5))
    p.initialize()
    p.cast("float16")
    assert p.data().dtype == np.float16 and p.grad().dtype == np.float16
    assert (p.data().asnumpy() == 0.5).all()


def test_constant():
    c = Constant("const", [[1, 2], [3, 4]])
    assert c.grad_req == "null"
    c.initialize()
    np.testing.assert_array_equal(c.data().asnumpy(), [[1, 2], [3, 4]])
    with pytest.warns(UserWarning, match="does not support grad_req"):
        c.grad_req = "write"
    assert c.grad_req == "null"


def test_parameter_dict_get_shares_and_checks():
    pd = ParameterDict("net_")
    w = pd.get("weight", shape=(3, 0), allow_deferred_init=True)
    assert w.name == "net_weight"
    assert pd.get("weight", shape=(3, 5)) is w and w.shape == (3, 5)
    assert pd.get("weight", dtype="float32") is w
    with pytest.raises(MXNetError, match="net_weight.*'shape'"):
        pd.get("weight", shape=(4, 5))
    shared = ParameterDict("net_", shared=pd)
    assert shared.get("weight") is w
    const = pd.get_constant("table", [1.0, 2.0])
    assert pd.get_constant("table") is const
    with pytest.raises(MXKeyError, match="net_nothing"):
        pd.get_constant("nothing")
    assert list(pd.keys()) == ["net_weight", "net_table"]
    assert pd["net_weight"] is w and "net_table" in pd and len(pd) == 2
    with pytest.raises(KeyError, match="net_missing"):
        pd["net_missing"]


def test_parameter_dict_repr_initialize_setattr():
    pd = ParameterDict("m_")
    pd.get("weight", shape=(2, 3), dtype="float32")
    pd.get("bias", shape=(2,), dtype="float32")
    assert repr(pd) == ("m_ (\n  Parameter m_weight (shape=(2, 3), dtype=float32)\n"
                        "  Parameter m_bias (shape=(2,), dtype=float32)\n)")
    pd.initialize(mx.init.One())
    assert (pd["m_weight"].data().asnumpy() == 1).all()
    # as in MXNet, a ParameterDict initializer fills every parameter without its own init
    assert (pd["m_bias"].data().asnumpy() == 1).all()
    pd.setattr("lr_mult", 0.1)
    assert all(p.lr_mult == 0.1 for p in pd.values())
    other = ParameterDict("m_")
    other.get("weight", shape=(2, 3))
    with pytest.raises(MXNetError, match="m_weight"):
        pd.update(other)


def test_parameter_dict_save_load(tmp_path):
    pd = ParameterDict("m_")
    pd.get("weight", shape=(2, 3), init=mx.init.Normal(1.0))
    pd.initialize()
    f = str(tmp_path / "p.params")
    pd.save(f, strip_prefix="m_")
    assert sorted(mx.nd.load(f)) == ["weight"]
    fresh = ParameterDict("m_")
    fresh.get("weight", shape=(2, 0), allow_deferred_init=True)
    fresh.load(f, restore_prefix="m_")
    np.testing.assert_array_equal(fresh["m_weight"].data().asnumpy(), pd["m_weight"].data().asnumpy())
    extra = ParameterDict("m_")
    extra.get("weight", shape=(2, 3))
    extra.get("bias", shape=(2,))
    with pytest.raises(MXKeyError, match="'bias' is missing"):
        extra.load(f, restore_prefix="m_")
    extra.load(f, restore_prefix="m_", allow_missing=True)
