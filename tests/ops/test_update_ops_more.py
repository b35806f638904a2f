"""LAMB, LARS and preloaded multi-SGD update ops (psnet/ops/update_ops.py): values against
constants printed by MXNet 1.9.1, NumPy formulas, in-place state, shape inference, errors."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import DTypeError, MXNetError, ShapeError

W = [0.5, -1.0, 2.0, 0.25]
G = [1.0, -2.0, 0.5, 3.0]
M = [0.1, 0.2, -0.3, 0.0]
V = [0.01, 0.2, 0.05, 0.3]
W32 = [0.51, -1.01, 2.01, 0.26]


def nd(x, dtype="float32"):
    return mx.nd.array(x, dtype=dtype)


def close(a, b, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(a.asnumpy() if hasattr(a, "asnumpy") else a, b, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ LAMB (MXNet 1.9.1 constants)
def test_lamb_phase1_matches_mxnet_and_updates_moments_in_place():
    mean, var = nd(M), nd(V)
    g = mx.nd.lamb_update_phase1(nd(W), nd(G), mean, var, t=3, wd=0.01, beta1=0.8, beta2=0.99,
                                 epsilon=1e-4, rescale_grad=0.5, clip_gradient=0.8)
    close(g, [0.575768768787384, -0.009999988600611687, -0.27968063950538635, 0.10508037358522415])
    close(mean, [0.18000000715255737, 1.4901161193847656e-08, -0.1900000125169754, 0.1599999964237213])
    close(var, [0.012399997562170029, 0.2043999880552292, 0.05012499913573265, 0.3034000098705292])


def test_lamb_phase1_formula_float64_with_and_without_bias_correction():
    w, gr = np.array(W), np.array(G)
    f32 = lambda v: float(np.float32(v))  # MXNet passes float attributes as C floats
    for bc in (True, False):
        mean, var = nd(M, "float64"), nd(V, "float64")
        out = mx.nd.lamb_update_phase1(nd(W, "float64"), nd(G, "float64"), mean, var, t=2,
                                       wd=0.1, bias_correction=bc)
        b1, b2 = f32(0.9), f32(0.999)
        m = b1 * np.array(M) + (1 - b1) * gr
        v = b2 * np.array(V) + (1 - b2) * gr * gr
        if bc:
            m, v = m / (1 - b1 ** 2), v / (1 - b2 ** 2)
        ref = m / (np.sqrt(v) + f32(1e-6)) + f32(0.1) * w
        assert out.dtype == np.float64
        close(out, ref, rtol=1e-12, atol=1e-12)


def test_lamb_phase2_matches_mxnet_and_trust_ratio_rules():
    w, g = nd(W), nd([0.5, 1.0, -1.0, 2.0])
    r = mx.nd.lamb_update_phase2(nd(W), nd([0.575768768787384, -0.009999988600611687,
                                            -0.27968063950538635, 0.10508037358522415]),
                                 nd([2.0]), nd([4.0]), lr=0.1)
    close(r, [0.4712115526199341, -0.9994999766349792, 2.013983964920044, 0.24474598467350006])
    wn, gn = np.array(W, np.float32), np.array([0.5, 1.0, -1.0, 2.0], np.float32)
    # r1 or r2 zero: plain lr; bounds clamp r1 (lower_bound applies to r1 = 0 too)
    close(mx.nd.lamb_update_phase2(w, g, nd([0.0]), nd([4.0]), lr=0.1), wn - 0.1 * gn)
    close(mx.nd.lamb_update_phase2(w, g, nd([3.0]), nd([0.0]), lr=0.1), wn - 0.1 * gn)
    close(mx.nd.lamb_update_phase2(w, g, nd([0.0]), nd([4.0]), lr=0.1, lower_bound=2.0),
          wn - 0.1 * 2.0 / 4.0 * gn)
    close(mx.nd.lamb_update_phase2(w, g, nd([8.0]), nd([4.0]), lr=0.1, upper_bound=1.0),
          wn - 0.1 * 1.0 / 4.0 * gn)
    close(mx.nd.lamb_update_phase2(w, g, nd([[8.0, 99.0]]), nd([4.0]), lr=0.1),
          wn - 0.1 * 2.0 * gn)  # only r1[0] is read, as in MXNet


def test_mp_lamb_matches_mxnet_and_phase2_leaves_weight32():
    mean, var, w32 = nd(M), nd(V), nd(W32)
    g = mx.nd.mp_lamb_update_phase1(nd(W, "float16"), nd(G, "float16"), mean, var, w32, t=2,
                                    wd=0.1, rescale_grad=1 / 3.)
    assert g.dtype == np.float32
    close(g, [0.33974647521972656, -0.04139422997832298, -0.06566083431243896, 0.06891229748725891])
    close(mean, [0.12332519888877869, 0.11334958672523499, -0.25333741307258606, 0.10000002384185791])
    close(var, [0.010101055726408958, 0.2002442181110382, 0.04997776448726654, 0.30070000886917114])
    w16 = nd(W, "float16")
    r = mx.nd.mp_lamb_update_phase2(w16, g, nd([3.0]), nd([1.5]), w32, lr=0.05, out=w16)
    assert r is w16 and w16.dtype == np.float16
    close(w16, [0.47607421875, -1.005859375, 2.015625, 0.253173828125], rtol=0, atol=0)
    close(w32, W32)  # MXNet 1.9.1 does not write the master weight back


def test_lamb_errors():
    w, g = nd(W), nd(G)
    with pytest.raises(MXNetError, match="needs attribute.*wd"):
        mx.nd.lamb_update_phase1(w, g, nd(M), nd(V), t=1)
    with pytest.raises(MXNetError, match="needs attribute.*t"):
        mx.nd.mp_lamb_update_phase1(w, g, nd(M), nd(V), w, wd=0.1)
    with pytest.raises(MXNetError, match="needs attribute lr"):
        mx.nd.lamb_update_phase2(w, g, nd([1.0]), nd([1.0]))
    with pytest.raises(ShapeError, match="var"):
        mx.nd.lamb_update_phase1(w, g, nd(M), nd(V[:2]), t=1, wd=0.0)
    with pytest.raises(ShapeError, match="r1"):
        mx.nd.lamb_update_phase2(w, g, nd([1.0, 2.0]), nd([1.0]), lr=0.1)
    with pytest.raises(DTypeError, match="g has dtype float64"):
        mx.nd.lamb_update_phase2(w, nd(G, "float64"), nd([1.0]), nd([1.0]), lr=0.1)
    with pytest.raises(DTypeError, match="weight has dtype float32, expected float16"):
        mx.nd.mp_lamb_update_phase1(w, g, nd(M), nd(V), w, t=1, wd=0.0)
    with pytest.raises(DTypeError, match="g has dtype float16"):
        mx.nd.mp_lamb_update_phase2(nd(W, "float16"), nd(G, "float16"), nd([1.0]), nd([1.0]),
                                    nd(W), lr=0.1)


# ------------------------------------------------------------------ LARS
def test_multi_lars_matches_mxnet_and_keeps_lr_when_norms_vanish():
    lrs = nd([0.1, 0.2, 0.3, 0.4])
    wss, gss = nd([4.0, 0.0, 9.0, 2.5]), nd([1.0, 1.0, 0.0, 7.3])
    wds = nd([0.01, 0.02, 0.03, 0.0])
    r = mx.nd.multi_lars(lrs, wss, gss, wds, eta=0.5, eps=1e-3, rescale_grad=0.25)
    close(r, [0.3690037131309509, 0.2, 0.3, 0.46747249364852905])
    # formula on the valid entries
    wn, gn = np.sqrt([4.0, 2.5]), np.sqrt([1.0, 7.3])
    ref = np.array([0.1, 0.4]) * 0.5 * wn / (gn * 0.25 + np.array([0.01, 0.0]) * wn + 1e-3)
    close(r.asnumpy()[[0, 3]], ref, rtol=1e-6)


def test_multi_lars_errors():
    a = nd([1.0, 2.0])
    with pytest.raises(MXNetError, match="needs attribute.*eps"):
        mx.nd.multi_lars(a, a, a, a, eta=0.5)
    with pytest.raises(ShapeError, match="grads_sum_sq"):
        mx.nd.multi_lars(a, a, nd([1.0]), a, eta=0.5, eps=0.0)
    with pytest.raises(DTypeError, match="float32"):
        mx.nd.multi_lars(nd([1.0, 2.0], "float64"), a, a, a, eta=0.5, eps=0.0)


# ------------------------------------------------------------------ preloaded multi-SGD
def test_preloaded_multi_sgd_mom_matches_mxnet():
    w = [nd(W), nd([[1.0, 2.0], [3.0, 4.0]])]
    g = [nd(G), nd([[1.0, -1.0], [0.5, 2.0]])]
    m = [nd(M), nd([[0.1, 0.1], [0.2, 0.2]])]
    r = mx.nd.preloaded_multi_sgd_mom_update(w[0], g[0], m[0], w[1], g[1], m[1], nd([0.1, 0.2]),
                                             nd([0.01, 0.5]), momentum=0.9, clip_gradient=1.5,
                                             rescale_grad=2.0, num_weights=2, out=w)
    assert r[0] is w[0] and r[1] is w[1]
    close(w[0], [0.43949997425079346, -0.6690000295639038, 1.628000020980835, 0.09974999725818634])
    close(w[1], [[0.6899999976158142, 2.190000057220459], [2.680000066757202, 3.4800000190734863]])
    close(m[0], [-0.06050001084804535, 0.3310000002384186, -0.3720000088214874, -0.15025000274181366])
    close(m[1], [[-0.3100000023841858, 0.1899999976158142], [-0.320000022649765, -0.5200000405311584]])


def test_preloaded_multi_sgd_formula_float64_lrs_as_arrays():
    w0, w1 = np.array(W), np.array([3.0, -1.0])
    g0, g1 = np.array(G), np.array([0.5, 0.25])
    r = mx.nd.preloaded_multi_sgd_update(nd(W, "float64"), nd(G, "float64"), nd(w1, "float64"),
                                         nd(g1, "float64"), nd([0.5, 0.25]), nd([0.0, 0.5]),
                                         rescale_grad=0.5, num_weights=2)
    close(r[0], w0 - 0.5 * 0.5 * g0, rtol=1e-12)
    close(r[1], w1 - 0.25 * 0.5 * w1 - 0.25 * 0.5 * g1, rtol=1e-12)
    assert r[0].dtype == np.float64


def test_preloaded_multi_mp_sgd_matches_mxnet_and_updates_weight32():
    w, w32 = nd(W, "float16"), nd(W32)
    mx.nd.preloaded_multi_mp_sgd_update(w, nd(G, "float16"), w32, nd([0.1]), nd([0.1]),
                                        num_weights=1, out=[w])
    close(w, [0.40478515625, -0.7998046875, 1.939453125, -0.0426025390625], rtol=0, atol=0)
    close(w32, [0.4048999845981598, -0.7998999953269958, 1.9399000406265259, -0.042600035667419434])


def test_preloaded_multi_mp_sgd_mom_float32_weight_ignores_weight32():
    # MXNet computes on the float32 weight itself and leaves weight32 alone
    w, mom, w32 = nd(W), nd(M), nd(W32)
    r = mx.nd.preloaded_multi_mp_sgd_mom_update(w, nd(G), mom, w32, nd([0.1]), nd([0.0]),
                                                momentum=0.5, num_weights=1)
    m_ref = 0.5 * np.array(M, np.float32) - 0.1 * np.array(G, np.float32)
    close(mom, m_ref)
    close(r, np.array(W, np.float32) + m_ref)  # one weight: one NDArray, as in MXNet
    close(w32, W32)


def test_preloaded_shape_inference_names_lrs_and_wds():
    s = mx.sym.preloaded_multi_sgd_update(mx.sym.var("w0"), mx.sym.var("g0"), mx.sym.var("w1"),
                                          mx.sym.var("g1"), mx.sym.var("lrs"), mx.sym.var("wds"),
                                          num_weights=2)
    assert s.list_arguments() == ["w0", "g0", "w1", "g1", "lrs", "wds"]
    args, outs, _ = s.infer_shape(w0=(3,), w1=(2, 2), lrs=(2,), wds=(2,))
    assert args[1] == (3,) and args[3] == (2, 2) and outs == [(3,), (2, 2)]


def test_preloaded_errors():
    w, g = nd(W), nd(G)
    with pytest.raises(ShapeError, match="lrs has 3 elements but num_weights=1"):
        mx.nd.preloaded_multi_sgd_update(w, g, nd([0.1, 0.2, 0.3]), nd([0.0]), num_weights=1)
    with pytest.raises(MXNetError, match="4 array input"):
        mx.nd.preloaded_multi_sgd_update(w, g, w, g, nd([0.1]), nd([0.0]), num_weights=1)
    with pytest.raises(ShapeError, match="input1"):
        mx.nd.preloaded_multi_sgd_update(w, nd([1.0]), nd([0.1]), nd([0.0]), num_weights=1)
    with pytest.raises(DTypeError, match="lrs"):
        mx.nd.preloaded_multi_sgd_update(w, g, nd([0.1], "float64"), nd([0.0]), num_weights=1)
    with pytest.raises(DTypeError, match="input2 has dtype float16, expected float32"):
        mx.nd.preloaded_multi_mp_sgd_update(nd(W, "float16"), nd(G, "float16"), nd(W, "float16"),
                                            nd([0.1]), nd([0.0]), num_weights=1)


def test_lamb_phase2_shape_inference_fills_norm_inputs():
    s = mx.sym.lamb_update_phase2(mx.sym.var("w"), mx.sym.var("g"), mx.sym.var("r1"),
                                  mx.sym.var("r2"), lr=0.1)
    args, outs, _ = s.infer_shape(w=(3, 4))
    assert args == [(3, 4), (3, 4), (1,), (1,)] and outs == [(3, 4)]
