"""mx.random / mx.nd.random: shapes, dtypes, contexts, out=, seeding, and the distributions'
moments on samples large enough to pin them (tolerances ~5 standard errors)."""
import numpy as np
import pytest

import psnet as mx

N = 20000


def _moments(a):
    v = a.asnumpy().astype(np.float64).ravel()
    return v.mean(), v.var()


@pytest.mark.parametrize("fn,args,mean,var", [
    (mx.nd.random.uniform, dict(low=-1, high=3), 1.0, 16 / 12),
    (mx.nd.random.normal, dict(loc=2, scale=0.5), 2.0, 0.25),
    (mx.nd.random.exponential, dict(scale=2.0), 2.0, 4.0),
    (mx.nd.random.gamma, dict(alpha=3.0, beta=0.5), 1.5, 0.75),
    (mx.nd.random.poisson, dict(lam=4.0), 4.0, 4.0),
    (mx.nd.random.negative_binomial, dict(k=3, p=0.4), 4.5, 11.25),
    (mx.nd.random.generalized_negative_binomial, dict(mu=2.0, alpha=0.5), 2.0, 4.0),
])
def test_distribution_moments(fn, args, mean, var):
    a = fn(shape=(N,), **args)
    assert a.shape == (N,) and a.dtype == np.float32
    m, v = _moments(a)
    assert abs(m - mean) < 5 * np.sqrt(var / N)
    assert abs(v - var) < 0.1 * var


def test_uniform_range_randint_and_dtypes():
    u = mx.nd.random.uniform(2, 3, shape=(100, 10), dtype="float64")
    assert u.dtype == np.float64 and u.shape == (100, 10)
    assert (u.asnumpy() >= 2).all() and (u.asnumpy() < 3).all()
    r = mx.nd.random.randint(-2, 5, shape=(5000,))
    assert r.dtype == np.int32
    assert set(np.unique(r.asnumpy())) == set(range(-2, 5))
    assert mx.nd.random.randint(0, 10, shape=3, dtype="int64").dtype == np.int64
    assert mx.nd.random.uniform().shape == (1,)  # MXNet: a scalar draw has shape (1,)
    with pytest.raises(mx.MXNetError, match="high"):
        mx.nd.random.randint(5, 5, shape=2)


def test_randn_and_top_level_aliases():
    assert mx.nd.random.randn(2, 3).shape == (2, 3)
    assert mx.random.uniform(shape=(2, 2)).shape == (2, 2)
    assert mx.random.normal(0, 1, shape=4).shape == (4,)
    assert mx.nd.random_uniform(shape=(3,)).shape == (3,)
    assert mx.nd.random_normal(shape=(3,)).shape == (3,)
    assert mx.nd.uniform(shape=(3,)).shape == (3,)
    assert mx.nd.normal(loc=1, scale=0, shape=(2,)).asnumpy().tolist() == [1, 1]


def test_array_parameters_draw_one_distribution_per_element():
    low = mx.nd.array([0.0, 10.0, 100.0])
    high = mx.nd.array([1.0, 11.0, 101.0])
    a = mx.nd.random.uniform(low, high, shape=(500,)).asnumpy()
    assert a.shape == (3, 500)
    for k in range(3):
        assert (a[k] >= low.asnumpy()[k]).all() and (a[k] < high.asnumpy()[k]).all()
    n = mx.nd.random.normal(mx.nd.array([[0.0], [5.0]]), mx.nd.array([[1.0], [0.1]]))
    assert n.shape == (2, 1)
    s = mx.nd.sample_normal(mx.nd.zeros(2), mx.nd.ones(2), shape=(2, 3))
    assert s.shape == (2, 2, 3)
    with pytest.raises(mx.MXNetError, match="all numbers or all NDArrays"):
        mx.nd.random.uniform(mx.nd.zeros(2), 1.0)


def test_seed_makes_draws_reproducible_per_context():
    mx.random.seed(7)
    a = mx.nd.random.normal(shape=(5,)).asnumpy()
    b = mx.nd.random.uniform(shape=(5,), ctx=mx.cpu(1)).asnumpy()
    mx.random.seed(7)
    np.testing.assert_array_equal(mx.nd.random.normal(shape=(5,)).asnumpy(), a)
    np.testing.assert_array_equal(mx.nd.random.uniform(shape=(5,), ctx=mx.cpu(1)).asnumpy(), b)
    c = mx.nd.random.normal(shape=(5,)).asnumpy()
    assert not np.array_equal(a, c)
    # seeding one context: it draws what it would after seeding every context
    mx.random.seed(7, ctx=mx.cpu(0))
    np.testing.assert_array_equal(mx.nd.random.normal(shape=(5,)).asnumpy(), a)
    with pytest.raises(mx.MXNetError, match="integer"):
        mx.random.seed(1.5)
    with pytest.raises(mx.MXNetError, match="Context"):
        mx.random.seed(1, ctx="gpu")


def test_ctx_and_out():
    a = mx.nd.random.uniform(shape=(2, 2), ctx=mx.cpu(1))
    assert a.context == mx.cpu(1)
    out = mx.nd.zeros((3, 4))
    res = mx.nd.random.normal(shape=(3, 4), out=out)
    assert res is out and out.asnumpy().std() > 0
    with mx.Context(mx.cpu(2)):
        assert mx.nd.random.poisson(shape=(2,)).context == mx.cpu(2)


def test_multinomial_frequencies_and_log_probabilities():
    probs = mx.nd.array([[0.1, 0.6, 0.3], [1.0, 0.0, 0.0]])
    s = mx.nd.random.multinomial(probs, shape=N)
    assert s.shape == (2, N) and s.dtype == np.int32
    freq = np.bincount(s.asnumpy()[0], minlength=3) / N
    np.testing.assert_allclose(freq, [0.1, 0.6, 0.3], atol=0.015)
    assert (s.asnumpy()[1] == 0).all()
    one = mx.nd.random.multinomial(mx.nd.array([0.0, 0.0, 1.0]))
    assert one.shape == (1,) and one.asscalar() == 2
    idx, logp = mx.nd.random.multinomial(probs, shape=5, get_prob=True)
    np.testing.assert_allclose(logp.asnumpy(), np.log(probs.asnumpy()[np.arange(2)[:, None], idx.asnumpy()]),
                               rtol=1e-6)


def test_shuffle_permutes_the_first_axis():
    x = mx.nd.arange(20).reshape((10, 2))
    y = mx.nd.random.shuffle(x).asnumpy()
    assert sorted(y[:, 0].tolist()) == list(range(0, 20, 2))
    np.testing.assert_array_equal(y[:, 1] - y[:, 0], 1)  # rows move whole
    assert not np.array_equal(y, x.asnumpy())
    np.testing.assert_array_equal(x.asnumpy()[:, 0], np.arange(0, 20, 2))  # input untouched


def test_like_functions_take_shape_dtype_and_context_from_data():
    base = mx.nd.zeros((2, 3), dtype="float64", ctx=mx.cpu(1))
    for name in ("uniform", "normal", "exponential", "gamma", "poisson", "negative_binomial",
                 "generalized_negative_binomial"):
        a = getattr(mx.nd.random, name + "_like")(base)
        assert (a.shape, a.dtype, a.context) == ((2, 3), np.float64, mx.cpu(1))
    assert mx.nd.random.normal_like(base, loc=5, scale=0).asnumpy().tolist() == [[5] * 3] * 2
    u = mx.nd.random.uniform_like(mx.nd.zeros((1000,)), 2, 3).asnumpy()
    assert (u >= 2).all() and (u < 3).all()
    assert abs(mx.nd.random.exponential_like(mx.nd.zeros((N,)), lam=4.0).asnumpy().mean() - 0.25) < 0.01


def test_invalid_parameters():
    with pytest.raises(mx.MXNetError, match="_random_normal"):
        mx.nd.random.normal(0, -1, shape=(2,))
