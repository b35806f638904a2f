"""Optimizer update ops (psnet/ops/update_ops.py): NumPy formulas, MXNet 1.9.1 constants,
in-place state updates, out= and errors."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, NotSupportedError, ShapeError

W = [0.5, -1.0, 2.0, 0.25]
G = [1.0, -2.0, 0.5, 3.0]
M = [0.1, 0.2, -0.3, 0.0]


def nd(x, dtype="float32"):
    return mx.nd.array(x, dtype=dtype)


def f32(x):
    return np.asarray(x, dtype=np.float32)


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(a.asnumpy() if hasattr(a, "asnumpy") else a, b, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ NumPy formulas
def test_sgd_update_formula_and_clip():
    w, g = f32(W), f32(G)
    r = mx.nd.sgd_update(nd(W), nd(G), lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=0.6)
    close(r, (1 - 0.1 * 0.01) * w - 0.1 * np.clip(0.5 * g, -0.6, 0.6))
    r = mx.nd.sgd_update(nd(W), nd(G), lr=0.1)
    close(r, w - 0.1 * g)


def test_sgd_update_out_writes_weight_in_place():
    w = nd(W)
    ret = mx.nd.sgd_update(w, nd(G), lr=0.5, out=w)
    assert ret is w
    close(w, f32(W) - 0.5 * f32(G))


def test_sgd_mom_update_updates_mom_in_place():
    w, g, m = f32(W), f32(G), f32(M)
    mom = nd(M)
    r = mx.nd.sgd_mom_update(nd(W), nd(G), mom, lr=0.1, momentum=0.9, wd=0.01)
    m_ref = 0.9 * m - 0.1 * 0.01 * w - 0.1 * g
    close(mom, m_ref)
    close(r, w + m_ref)


def test_adam_update_formula():
    w, g = f32(W), f32(G)
    mean, var = nd(M), nd([0.1, 0.2, 0.3, 0.4])
    r = mx.nd.adam_update(nd(W), nd(G), mean, var, lr=0.01, wd=0.1, clip_gradient=1.5)
    gg = np.clip(g + 0.1 * w, -1.5, 1.5)
    m_ref = 0.9 * f32(M) + 0.1 * gg
    v_ref = 0.999 * f32([0.1, 0.2, 0.3, 0.4]) + 0.001 * gg * gg
    close(mean, m_ref)
    close(var, v_ref)
    close(r, w - 0.01 * m_ref / (np.sqrt(v_ref) + 1e-8))


def test_rmsprop_update_formula_and_clip_weights():
    w, g = f32(W), f32(G)
    n = nd([1.0, 2.0, 3.0, 4.0])
    r = mx.nd.rmsprop_update(nd(W), nd(G), n, lr=0.5, gamma1=0.9, epsilon=0.01, clip_weights=1.2)
    n_ref = 0.1 * g * g + 0.9 * f32([1, 2, 3, 4])
    close(n, n_ref)
    close(r, np.clip(w - 0.5 * g / np.sqrt(n_ref + 0.01), -1.2, 1.2))


def test_signsgd_update_formula():
    r = mx.nd.signsgd_update(nd(W), nd(G), lr=0.1, wd=0.5)
    close(r, 0.95 * f32(W) - 0.1 * np.sign(f32(G)))


def test_mp_sgd_update_float16_weight_and_float32_master():
    w32 = nd(W)
    r = mx.nd.mp_sgd_update(nd(W, "float16"), nd(G, "float16"), w32, lr=0.1)
    ref = f32(W) - 0.1 * f32(G)
    close(w32, ref)
    assert r.dtype == np.float16
    close(r, ref.astype(np.float16), rtol=1e-3)


# ------------------------------------------------------------------ MXNet 1.9.1 constants
def test_nag_mom_update_matches_mxnet():
    mom = nd(M)
    r = mx.nd.nag_mom_update(nd(W), nd(G), mom, lr=0.1, momentum=0.9, wd=0.01,
                             rescale_grad=0.5, clip_gradient=0.6)
    close(r, [0.4850499927997589, -0.7220999598503113, 1.7056999206542969, 0.13552498817443848])
    close(mom, [0.03949999436736107, 0.2409999966621399, -0.2970000207424164, -0.06025000289082527])


def test_mp_nag_mom_update_matches_mxnet_stored_momentum():
    mom, w32 = nd(M), nd(W)
    r = mx.nd.mp_nag_mom_update(nd(W, "float16"), nd(G, "float16"), mom, w32, lr=0.1,
                                momentum=0.9, wd=0.1)
    close(r, [0.381591796875, -0.43896484375, 1.6240234375, -0.32470703125])
    close(mom, [-0.013815000653266907, 0.3843899965286255, -0.3362400233745575, -0.2967525124549866])
    close(w32, [0.3815000057220459, -0.4390000104904175, 1.6239999532699585, -0.32475000619888306])


def test_ftml_update_matches_mxnet():
    d, v, z = nd([1.0, 2, 3, 4]), nd([0.1, 0.2, 0.3, 0.4]), nd(M)
    r = mx.nd.ftml_update(nd(W), nd(G), d, v, z, lr=0.1, t=2, wd=0.1, clip_grad=1.0)
    close(r, [0.48328566551208496, -0.9769271016120911, 1.952823281288147, 0.23896260559558868])
    close(d, [45.46982955932617, 64.14452362060547, 78.4288558959961, 90.6010513305664])
    close(v, [0.10089998692274094, 0.20079998672008514, 0.3001900017261505, 0.40059998631477356])
    close(z, [-21.974916458129883, 62.66452407836914, -153.15769958496094, -21.6502628326416], rtol=1e-4)


def test_rmspropalex_update_matches_mxnet():
    n, g, de = nd([2.0, 3, 4, 5]), nd([0.1, 0.2, 0.3, 0.4]), nd(M)
    r = mx.nd.rmspropalex_update(nd(W), nd(G), n, g, de, lr=0.1, clip_weights=0.5)
    close(r, [0.5, -0.5, 0.5, 0.11473718285560608])
    close(n, [1.9500000476837158, 3.049999952316284, 3.8125, 5.200000286102295])
    close(g, [0.14500001072883606, 0.0899999737739563, 0.3100000023841858, 0.5300000309944153])
    close(de, [0.017999298870563507, 0.29467201232910156, -0.29593634605407715, -0.13526281714439392])


def test_ftrl_update_matches_mxnet():
    z, n = nd(M), nd([1.0, 2, 3, 4])
    r = mx.nd.ftrl_update(nd(W), nd(G), z, n, lr=0.1, lamda1=0.5)
    close(r, [0.019512256607413292, -0.23344795405864716, 0.02549247443675995, 0.011157792992889881])
    close(z, [-0.9710675477981567, 8.552762985229492, -1.2144968509674072, -1.0138778686523438])
    close(n, [2.0, 6.0, 3.25, 13.0])


def test_signum_update_matches_mxnet():
    m = nd(M)
    r = mx.nd.signum_update(nd(W), nd(G), m, lr=0.1, momentum=0.9, wd=0.1, wd_lh=0.2)
    close(r, [0.39000001549720764, -0.8799999952316284, 1.8600000143051147, 0.14500001072883606])
    close(m, [-0.015000030398368835, 0.39000004529953003, -0.3400000333786011, -0.30250006914138794])


# ------------------------------------------------------------------ multi-tensor ops
def test_multi_sgd_mom_update_equals_single_ops_and_writes_out():
    w0, g0, m0 = nd([1.0, 2.0]), nd([0.5, -1.0]), nd([0.1, 0.1])
    w1, g1, m1 = nd([[3.0]]), nd([[2.0]]), nd([[0.0]])
    rm0, rm1 = m0.copy(), m1.copy()
    r0 = mx.nd.sgd_mom_update(w0, g0, rm0, lr=0.1, momentum=0.9, wd=0.01)
    r1 = mx.nd.sgd_mom_update(w1, g1, rm1, lr=0.2, momentum=0.9, wd=0.0)
    o0, o1 = w0.copy(), w1.copy()
    mx.nd.multi_sgd_mom_update(o0, g0, m0, o1, g1, m1, lrs=(0.1, 0.2), wds=(0.01, 0.0),
                               momentum=0.9, num_weights=2, out=[o0, o1])
    close(o0, r0.asnumpy())
    close(o1, r1.asnumpy())
    close(m0, rm0.asnumpy())
    close(m1, rm1.asnumpy())


def test_multi_mp_sgd_update_updates_master_weights():
    a0, a1 = nd([1.0, 2.0]), nd([3.0])
    outs = mx.nd.multi_mp_sgd_update(nd([1.0, 2.0], "float16"), nd([1.0, 1.0], "float16"), a0,
                                     nd([3.0], "float16"), nd([2.0], "float16"), a1,
                                     lrs=[0.5, 0.25], wds=[0.0, 0.0], num_weights=2)
    close(a0, [0.5, 1.5])
    close(a1, [2.5])
    assert [o.dtype for o in outs] == [np.float16, np.float16]
    close(outs[1], [2.5])


def test_multi_sgd_update_errors():
    w, g = nd([1.0]), nd([1.0])
    with pytest.raises(MXNetError, match="lrs and wds"):
        mx.nd.multi_sgd_update(w, g, lrs=(0.1, 0.2), wds=(0.0,), num_weights=1)
    with pytest.raises(MXNetError, match="takes 4 array input"):
        mx.nd.multi_sgd_update(w, g, lrs=(0.1, 0.2), wds=(0.0, 0.0), num_weights=2)


def test_shape_mismatch_names_the_input():
    with pytest.raises(ShapeError, match=r"mom has shape \(3,\) but weight has shape \(4,\)"):
        mx.nd.sgd_mom_update(nd(W), nd(G), nd([1.0, 2, 3]), lr=0.1)


# ------------------------------------------------------------------ AMP / LAMB helpers
def test_all_finite_and_multi_all_finite():
    assert mx.nd.all_finite(nd([1.0, np.inf])).asnumpy().tolist() == [0.0]
    r = mx.nd.all_finite(nd([[1.0, 2.0]]))
    assert r.dtype == np.float32 and r.asnumpy().tolist() == [1.0]
    assert mx.nd.multi_all_finite(nd([1.0]), nd([np.nan]), num_arrays=2).asnumpy().tolist() == [0.0]
    assert mx.nd.multi_all_finite(nd([1.0]), nd([2.0]), num_arrays=2).asnumpy().tolist() == [1.0]
    with pytest.raises(NotSupportedError, match="init_output"):
        mx.nd.all_finite(nd([1.0]), init_output=False)


def test_multi_sum_sq_and_reset_arrays():
    r = mx.nd.multi_sum_sq(nd([1.0, 2.0]), nd([[3.0], [0.5]]), num_arrays=2)
    assert r.dtype == np.float32
    close(r, [5.0, 9.25])
    a, b = nd([1.0, 2.0]), nd([[3.0, 4.0]])
    assert mx.nd.reset_arrays(a, b, num_arrays=2) == []
    assert a.asnumpy().tolist() == [0.0, 0.0] and b.asnumpy().tolist() == [[0.0, 0.0]]
    with pytest.raises(MXNetError, match="takes 3 array input"):
        mx.nd.multi_sum_sq(a, b, num_arrays=3)


def test_symbol_adam_update_infers_state_shapes():
    s = mx.sym.adam_update(mx.sym.var("w"), mx.sym.var("g"), mx.sym.var("m"), mx.sym.var("v"), lr=0.1)
    args, outs, _ = s.infer_shape(w=(2, 3))
    assert args == [(2, 3)] * 4 and outs == [(2, 3)]
