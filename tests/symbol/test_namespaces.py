"""``mx.sym.random`` and ``mx.sym.linalg``: the sub-namespaces a ``hybrid_forward`` reaches
through ``F`` (``F.random.normal``, ``F.linalg.gemm2``) when traced with ``F = mx.sym``."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError
from psnet.gluon import nn


def _op_names(sym):
    return [n["op"] for n in __import__("json").loads(sym.tojson())["nodes"] if n["op"] != "null"]


def test_number_parameters_draw_from_one_distribution_of_the_given_shape():
    s = mx.sym.random.uniform(low=2, high=3, shape=(4, 5), name="u")
    assert _op_names(s) == ["_random_uniform"] and s.list_arguments() == []
    assert s.infer_shape()[1] == [(4, 5)]
    v = s.eval(ctx=mx.cpu())[0].asnumpy()
    assert v.shape == (4, 5) and (v >= 2).all() and (v < 3).all()


def test_symbol_parameters_draw_one_distribution_per_element():
    loc, scale = mx.sym.var("loc"), mx.sym.var("scale")
    s = mx.sym.random.normal(loc, scale, shape=(1000,))
    assert _op_names(s) == ["_sample_normal"] and s.list_arguments() == ["loc", "scale"]
    v = s.eval(ctx=mx.cpu(), loc=mx.nd.array([-5.0, 5.0]), scale=mx.nd.array([0.1, 0.1]))[0].asnumpy()
    assert v.shape == (2, 1000)
    np.testing.assert_allclose(v.mean(axis=1), [-5.0, 5.0], atol=0.05)


def test_graph_draws_are_reproducible_under_seed_and_exponential_takes_a_scale():
    s = mx.sym.random.exponential(scale=4.0, shape=(2000,))
    mx.random.seed(11)
    a = s.eval(ctx=mx.cpu())[0].asnumpy()
    mx.random.seed(11)
    b = s.eval(ctx=mx.cpu())[0].asnumpy()
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean() - 4.0) < 0.4


def test_mixed_number_and_symbol_parameters_are_an_error_naming_the_namespace():
    with pytest.raises(MXNetError, match="mx.sym.random.uniform.*all numbers or all Symbols"):
        mx.sym.random.uniform(0, mx.sym.var("high"))


def test_like_randint_and_shuffle_compose():
    x = mx.sym.var("x")
    s = mx.sym.Group([mx.sym.random.uniform_like(x, low=1, high=2), mx.sym.random.randint(0, 5, shape=(3,)),
                      mx.sym.random.shuffle(x)])
    outs = s.eval(ctx=mx.cpu(), x=mx.nd.array(np.arange(6).reshape(3, 2)))
    assert outs[0].shape == (3, 2) and ((outs[0].asnumpy() >= 1) & (outs[0].asnumpy() < 2)).all()
    assert outs[1].dtype == np.int32 and set(outs[1].asnumpy()) <= set(range(5))
    assert sorted(outs[2].asnumpy()[:, 0].tolist()) == [0, 2, 4]


class _Reparameterise(nn.HybridBlock):
    """A VAE's sampling step: mu + exp(logvar / 2) * eps with eps ~ N(0, 1)."""

    def hybrid_forward(self, F, mu, logvar):
        eps = F.random.normal(loc=0, scale=1, shape=(2, 3))
        return mu + F.exp(0.5 * logvar) * eps


def test_a_hybridized_block_using_F_random_matches_its_imperative_run_under_one_seed():
    mu, logvar = mx.nd.array(np.arange(6).reshape(2, 3)), mx.nd.full((2, 3), -1.0)
    net = _Reparameterise()
    mx.random.seed(5)
    want = net(mu, logvar).asnumpy()
    net.hybridize()
    mx.random.seed(5)
    got = net(mu, logvar).asnumpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert not np.allclose(got, net(mu, logvar).asnumpy())  # a new draw each call


def test_sym_linalg_holds_the_linalg_operators_without_prefix():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    s = mx.sym.linalg.gemm2(a, b, transpose_b=True, alpha=2.0)
    av, bv = np.random.RandomState(0).rand(2, 3), np.random.RandomState(1).rand(4, 3)
    out = s.eval(ctx=mx.cpu(), a=mx.nd.array(av), b=mx.nd.array(bv))[0].asnumpy()
    np.testing.assert_allclose(out, 2 * av @ bv.T, rtol=1e-5)
    assert mx.nd.linalg.det is mx.nd.linalg_det
    # nodes made through a sub-namespace are named after the short name, as MXNet names them
    with mx.name.NameManager():
        assert mx.sym.linalg.gemm2(a, b).name == "gemm20" and mx.sym.linalg_gemm2(a, b).name == "linalg_gemm20"
        assert mx.sym.contrib.box_nms(a).name == "box_nms0"


def test_linalg_inverse_shape_inference_needs_no_invertible_placeholder():
    """Shape inference of linalg_inverse uses its rule, not a run on zero matrices
    (which are singular); non-square input is an error naming the shape."""
    x = mx.sym.var("x")
    assert mx.sym.linalg.inverse(x).infer_shape(x=(2, 3, 3))[1] == [(2, 3, 3)]
    with pytest.raises(MXNetError, match=r"square.*\(2, 3, 4\)"):
        mx.sym.linalg.inverse(x).infer_shape(x=(2, 3, 4))
