"""The ``_random_pdf_*`` ops (psnet/ops/pdf.py): densities against closed forms in NumPy,
MXNet 1.9.1's documented examples and values/gradients pasted from MXNet 1.9.1, gradients
against central finite differences, and the shape/dtype errors."""
import math

import numpy as np
import pytest

import psnet as mx
from psnet.base import DTypeError, ShapeError

nd = mx.nd
LGAMMA = np.vectorize(math.lgamma)


def _run(fn, *arrays, is_log=False, head=None):
    """Forward and backward (head gradient ``head``, default ones) in float64."""
    xs = [nd.array(np.asarray(a, dtype=np.float64), dtype="float64") for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        y = fn(*xs, is_log=is_log)
    y.backward(nd.ones_like(y) if head is None else nd.array(head, dtype="float64"))
    return y.asnumpy(), [x.grad.asnumpy() for x in xs]


# ------------------------------------------------------------------ closed forms in NumPy

def _ref_log(name, x, *p):
    if name == "uniform":
        return np.zeros_like(x) - np.log(p[1] - p[0])
    if name == "normal":
        mu, s = p
        return -0.5 * ((x - mu) / s) ** 2 - np.log(s * math.sqrt(2 * math.pi))
    if name == "gamma":
        a, b = p
        return a * np.log(b) + (a - 1) * np.log(x) - b * x - LGAMMA(a)
    if name == "exponential":
        return np.log(p[0]) - p[0] * x
    if name == "poisson":
        return x * np.log(p[0]) - p[0] - LGAMMA(x + 1)
    if name == "negative_binomial":
        k, q = p
        return LGAMMA(x + k) - LGAMMA(k) - LGAMMA(x + 1) + k * np.log(q) + x * np.log(1 - q)
    if name == "generalized_negative_binomial":
        mu, a = p
        return _ref_log("negative_binomial", x, 1 / a, 1 / (mu * a + 1))
    raise AssertionError(name)


RS = np.random.RandomState(3)
CASES = {
    # name: (sample (2, 4), parameters (2,))
    "uniform": (RS.uniform(0, 1, (2, 4)), [np.array([-0.5, 0.2]), np.array([1.5, 3.0])]),
    "normal": (RS.randn(2, 4), [np.array([0.3, -1.0]), np.array([0.7, 2.0])]),
    "gamma": (RS.uniform(0.2, 3, (2, 4)), [np.array([0.8, 3.5]), np.array([1.5, 0.6])]),
    "exponential": (RS.uniform(0.1, 3, (2, 4)), [np.array([0.5, 2.5])]),
    "poisson": (np.array([[0., 1, 2, 5], [3, 0, 7, 1]]), [np.array([1.5, 4.0])]),
    "negative_binomial": (np.array([[0., 1, 2, 5], [3, 0, 7, 1]]), [np.array([2.0, 4.5]), np.array([0.3, 0.8])]),
    "generalized_negative_binomial": (np.array([[0., 1, 2, 5], [3, 0, 7, 1]]),
                                      [np.array([2.0, 0.5]), np.array([0.4, 1.5])]),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("is_log", [False, True])
def test_density_matches_closed_form(name, is_log):
    x, params = CASES[name]
    fn = getattr(nd, "random_pdf_" + name)
    out = fn(nd.array(x, dtype="float64"), *[nd.array(p, dtype="float64") for p in params],
             is_log=is_log).asnumpy()
    ref = _ref_log(name, x, *[p[:, None] for p in params])
    np.testing.assert_allclose(out, ref if is_log else np.exp(ref), rtol=1e-10, atol=1e-12)


def test_poisson_sums_to_one_and_float32():
    k = np.arange(60, dtype=np.float32)[None, :]
    out = nd.random_pdf_poisson(nd.array(k), nd.array([3.5])).asnumpy()
    assert out.dtype == np.float32
    assert abs(out.sum() - 1) < 1e-5
    np.testing.assert_allclose(out[0, 2], math.exp(-3.5) * 3.5 ** 2 / 2, rtol=1e-6)


def test_dirichlet_closed_form_and_shapes():
    rs = np.random.RandomState(1)
    alpha = rs.uniform(0.5, 3, (2, 4))
    x = rs.uniform(0.1, 1, (2, 3, 4))
    ref = (LGAMMA(alpha.sum(-1))[:, None] - LGAMMA(alpha).sum(-1)[:, None]
           + ((alpha[:, None, :] - 1) * np.log(x)).sum(-1))
    out = nd.random_pdf_dirichlet(nd.array(x, dtype="float64"), nd.array(alpha, dtype="float64"),
                                  is_log=True)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-10)
    # the output shape rules checked against MXNet 1.9.1
    for xs, ash, want in [((3,), (3,), (1,)), ((2, 3), (3,), (2,)), ((2, 3, 3), (3,), (2, 3)),
                          ((2, 4, 3), (2, 3), (2, 4)), ((2, 3), (2, 3), (2,)),
                          ((2, 5, 4, 3), (2, 3), (2, 5, 4))]:
        assert nd.random_pdf_dirichlet(nd.ones(xs) / 3, nd.ones(ash)).shape == want


# ---------------------------------------------------------- MXNet's documented examples

def test_mxnet_documented_examples():
    s = nd.array([[-2, -1, 0, 1, 2]] * 2)
    np.testing.assert_allclose(
        nd.random_pdf_normal(s, nd.array([0, 0]), nd.array([1, 2])).asnumpy(),
        [[0.05399097, 0.24197073, 0.3989423, 0.24197073, 0.05399097],
         [0.12098537, 0.17603266, 0.19947115, 0.17603266, 0.12098537]], rtol=1e-5)
    s = nd.array([[1, 2, 3, 4, 5], [2, 3, 4, 5, 6], [3, 4, 5, 6, 7]])
    np.testing.assert_allclose(
        nd.random_pdf_gamma(s, nd.array([5, 6, 7]), nd.array([1, 1, 1])).asnumpy(),
        [[0.01532831, 0.09022352, 0.16803136, 0.19536681, 0.17546739],
         [0.03608941, 0.10081882, 0.15629345, 0.17546739, 0.16062315],
         [0.05040941, 0.10419563, 0.14622283, 0.16062315, 0.14900276]], rtol=1e-5)
    s = nd.array([[1, 2, 3, 4]] * 2)
    np.testing.assert_allclose(
        nd.random_pdf_generalized_negative_binomial(s, nd.array([1, 1.5]), nd.array([1, 0.6666])).asnumpy(),
        [[0.25, 0.125, 0.0625, 0.03125], [0.26517063, 0.16573331, 0.09667706, 0.05437994]], rtol=1e-5)
    np.testing.assert_allclose(
        nd.random_pdf_dirichlet(nd.array([[1, 2], [2, 3], [3, 4]]), nd.array([2.5, 2.5])).asnumpy(),
        [38.413498, 199.60245, 564.56085], rtol=1e-5)
    s = nd.array([[[1, 2, 3], [10, 20, 30], [100, 200, 300]],
                  [[0.1, 0.2, 0.3], [0.01, 0.02, 0.03], [0.001, 0.002, 0.003]]])
    np.testing.assert_allclose(
        nd.random_pdf_dirichlet(s, nd.array([0.1, 0.4, 0.9])).asnumpy(),
        [[2.3257459e-02, 5.8420084e-04, 1.4674458e-05], [9.2589635e-01, 3.6860607e+01, 1.4674468e+03]],
        rtol=1e-5)


def test_mxnet_conventions_without_support_checks():
    # MXNet 1.9.1: the uniform density ignores the sample (negative when low > high), the
    # exponential formula is applied to negative samples, alpha = 0 gives NaN
    out = nd.random_pdf_uniform(nd.array([[-1.0, 0.5, 3.0]]), nd.array([0.0]), nd.array([2.0]))
    np.testing.assert_allclose(out.asnumpy(), [[0.5, 0.5, 0.5]])
    out = nd.random_pdf_uniform(nd.array([[0.0, 1, 3]]), nd.array([2.5]), nd.array([0.0]))
    np.testing.assert_allclose(out.asnumpy(), [[-0.4, -0.4, -0.4]], rtol=1e-6)
    out = nd.random_pdf_exponential(nd.array([[-1.0]]), nd.array([1.3]))
    np.testing.assert_allclose(out.asnumpy(), [[4.7700857]], rtol=1e-6)
    out = nd.random_pdf_generalized_negative_binomial(nd.array([[0.0, 1]]), nd.array([2.5]), nd.array([0.0]))
    assert np.isnan(out.asnumpy()).all()


# values and gradients (head gradient ones) pasted from MXNet 1.9.1 in float64
MXNET_GRADS = [
    ("gamma", ([[0.5, 1.5, 2]], [2.5], [1.3]), False,
     [[[0.2675381836692365, 0.3788652995838084, 0.30450997356386206]],
      [[0.454814912237702, -0.11365958987514253, -0.16748048546012415]],
      [-0.23991193070612132], [0.5175927363098429]]),
    ("gamma", ([[0.5, 1.5, 2]], [2.5], [1.3]), True,
     [[[-1.3184929801441094, -0.9705745471419451, -1.1890514384642739]],
      [[1.7, -0.3, -0.55]], [-0.9169122731808755], [1.7692307692307687]]),
    ("generalized_negative_binomial", ([[0., 1, 3], [2, 7, 1]], [2.5, 0.3], [0.4, 1.7]), False,
     [[[0.1767766952966369, 0.22097086912079614, 0.1450121328605225],
       [0.041815936358332466, 0.00011441463108681847, 0.15590633061995562]],
      [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
      [-0.14017839509850505, 0.3995322323872315], [0.0998987601572067, -0.02684082170478684]]),
    ("generalized_negative_binomial", ([[0., 1, 3], [2, 7, 1]], [2.5, 0.3], [0.4, 1.7]), True,
     [[[-1.7328679513998633, -1.5097244000856533, -1.9309378651619566],
       [-3.174477759518043, -9.075681593080786, -1.8584998968156121]],
      [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [-0.7, 20.088300220750558], [0.4469064608958002, 1.3523767626971412]]),
    ("negative_binomial", ([[0., 1, 3]], [2.5], [0.4]), False,
     [[[0.10119288512538817, 0.15178932768808226, 0.14344091466523776]], [[0.0, 0.0, 0.0]],
      [-0.1722878633776995], [1.507457760602267]]),
    ("negative_binomial", ([[0., 1, 3]], [2.5], [0.4]), True,
     [[[-2.2907268296853873, -1.885261721577223, -1.9418320730656171]], [[0.0, 0.0, 0.0]],
      [-1.4409356876859571], [12.083333333333332]]),
    ("dirichlet", ([[[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]], [[1.5, 2., 3.]]), False,
     [[[5.447795302994601, 2.773564560909866]],
      [[[13.619488257486502, 18.159317676648673, 21.791181211978405],
        [13.867822804549329, 4.622607601516443, 18.490430406065773]]],
      [[-0.7140846684403759, 3.2885025450668133, 0.03820759142057406]]]),
    ("dirichlet", ([[[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]], [[1.5, 2., 3.]]), True,
     [[[1.695210995269564, 1.0201333380175548]],
      [[[2.5, 3.3333333333333335, 4.0], [5.0, 1.6666666666666667, 6.666666666666667]]],
      [[-0.3991802925854324, 1.0254557310148606, -0.15686582577909414]]]),
    ("uniform", ([[0.5, 1.5, -1, 3.0, 1.0, 0.0]], [0.], [2.]), False,
     [[[0.5] * 6], [[0.0] * 6], [1.5], [-1.5]]),
    ("exponential", ([[0.5, 1.5, 2, -1]], [1.3]), True,
     [[[-0.3876357, -1.6876357, -2.3376357, 1.5623643]], [[-1.3] * 4], [0.0769231]]),
    ("poisson", ([[0., 1, 3, 2.5]], [1.3]), False,
     [[[0.2725318, 0.3542913, 0.0997921, 0.1580154]], [[0.0] * 4], [-0.0779337]]),
]


@pytest.mark.parametrize("name, inputs, is_log, want", MXNET_GRADS,
                         ids=["%s-log%d" % (c[0], c[2]) for c in MXNET_GRADS])
def test_values_and_gradients_match_mxnet(name, inputs, is_log, want):
    out, grads = _run(getattr(nd, "random_pdf_" + name), *inputs, is_log=is_log)
    # atol 1e-6: MXNet's digamma is off by ~7e-7 in the Dirichlet alpha gradient (psnet's
    # value agrees with finite differences of math.lgamma to 1e-9)
    for got, ref in zip([out] + grads, want):
        np.testing.assert_allclose(got, np.asarray(ref), rtol=2e-6, atol=1e-6)


# ------------------------------------------------------------------- finite differences

FD_CASES = [
    # name, sample, params, which inputs to check (discrete samples are constants)
    ("uniform", np.array([[0.3, 0.7, 0.1], [1.2, 0.4, 2.0]]), [[-0.5, 0.2], [1.5, 3.0]], (1, 2)),
    ("normal", np.random.RandomState(2).randn(2, 3, 2), [[0.3, -1.0], [0.7, 2.0]], (0, 1, 2)),
    ("gamma", np.array([[0.3, 1.7, 2.5], [0.9, 1.1, 4.0]]), [[0.8, 3.5], [1.5, 0.6]], (0, 1, 2)),
    ("exponential", np.array([[0.3, 1.7, 2.5], [0.9, 1.1, 4.0]]), [[0.5, 2.5]], (0, 1)),
    ("poisson", np.array([[0., 1, 4], [3, 0, 2]]), [[1.5, 4.0]], (1,)),
    ("negative_binomial", np.array([[0., 1, 4], [3, 0, 2]]), [[2.0, 4.5], [0.3, 0.8]], (1, 2)),
    ("generalized_negative_binomial", np.array([[0., 1, 4], [3, 0, 2]]), [[2.0, 0.5], [0.4, 1.5]], (1, 2)),
    ("dirichlet", np.random.RandomState(4).uniform(0.1, 1, (2, 2, 3)),
     [np.random.RandomState(5).uniform(0.5, 3, (2, 3))], (0, 1)),
]


def _numeric_grad(fn, values, k, head, is_log, eps=1e-6):
    out = np.zeros_like(values[k])
    flat = values[k].reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        res = []
        for step in (eps, -eps):
            flat[j] = old + step
            y = fn(*[nd.array(v, dtype="float64") for v in values], is_log=is_log).asnumpy()
            res.append((y * head).sum())
        flat[j] = old
        out.reshape(-1)[j] = (res[0] - res[1]) / (2 * eps)
    return out


@pytest.mark.parametrize("case", FD_CASES, ids=[c[0] for c in FD_CASES])
@pytest.mark.parametrize("is_log", [False, True])
def test_gradients_match_finite_differences(case, is_log):
    name, x, params, checked = case
    fn = getattr(nd, "random_pdf_" + name)
    values = [np.array(x, dtype=np.float64)] + [np.array(p, dtype=np.float64) for p in params]
    y = fn(*[nd.array(v, dtype="float64") for v in values], is_log=is_log)
    head = np.random.RandomState(0).uniform(0.5, 1.5, y.shape)
    _, grads = _run(fn, *values, is_log=is_log, head=head)
    for k in checked:
        np.testing.assert_allclose(grads[k], _numeric_grad(fn, values, k, head, is_log),
                                   rtol=1e-5, atol=1e-7, err_msg="%s input %d" % (name, k))
    if 0 not in checked:  # discrete / uniform: MXNet's sample gradient is zero
        assert not grads[0].any()


def test_second_order_gradient_of_normal_log_density():
    # d/dx log N(x; mu, s) = -(x - mu)/s^2, whose derivative in x is -1/s^2
    x = nd.array([[0.5, -0.2]], dtype="float64")
    mu, s = nd.array([0.1], dtype="float64"), nd.array([2.0], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = nd.random_pdf_normal(x, mu, s, is_log=True)
        (gx,) = mx.autograd.grad(y, [x], create_graph=True)
        z = gx.sum()
    z.backward()
    np.testing.assert_allclose(gx.asnumpy(), [[-0.1, 0.075]])
    np.testing.assert_allclose(x.grad.asnumpy(), [[-0.25, -0.25]])


# ------------------------------------------------------------------------------- errors

def test_shape_errors_name_the_shapes():
    with pytest.raises(ShapeError, match=r"\(3,\).*\(4,\)|\(4,\).*\(3,\)"):
        nd.random_pdf_normal(nd.ones((3, 4)), nd.zeros((3,)), nd.ones((4,)))
    with pytest.raises(ShapeError, match=r"\(4, 3\).*\(3,\)"):
        nd.random_pdf_normal(nd.ones((4, 3)), nd.zeros((3,)), nd.ones((3,)))
    with pytest.raises(ShapeError, match=r"\(3,\).*\(3, 4\)"):
        nd.random_pdf_exponential(nd.ones((3,)), nd.ones((3, 4)))
    with pytest.raises(ShapeError, match=r"\(2, 4\).*alpha shape \(2, 3\)"):
        nd.random_pdf_dirichlet(nd.ones((2, 4)), nd.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"\(3, 4, 3\)"):
        nd.random_pdf_dirichlet(nd.ones((3, 4, 3)), nd.ones((2, 3)))


def test_dtype_errors():
    with pytest.raises(DTypeError, match="floating-point.*int32"):
        nd.random_pdf_poisson(nd.ones((2, 3), dtype="int32"), nd.ones((2,), dtype="int32"))
    with pytest.raises(DTypeError, match="lam has dtype float32 but sample has dtype float64"):
        nd.random_pdf_poisson(nd.ones((2, 3), dtype="float64"), nd.ones((2,)))


def test_aliases_and_float16():
    from psnet.ops import registry
    assert registry.get("random_pdf_gamma") is registry.get("_random_pdf_gamma")
    out = nd._random_pdf_normal(nd.ones((2, 3), dtype="float16"), nd.zeros((2,), dtype="float16"),
                                nd.ones((2,), dtype="float16"))
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.asnumpy(), np.full((2, 3), 0.24197), rtol=1e-3)


def test_symbol_api():
    s = mx.sym.random_pdf_gamma(mx.sym.var("x"), mx.sym.var("a"), mx.sym.var("b"), is_log=True)
    ex = s.bind(mx.cpu(), {"x": nd.array([[1.0, 2.0]]), "a": nd.array([2.0]), "b": nd.array([1.0])})
    np.testing.assert_allclose(ex.forward()[0].asnumpy(), [[-1.0, np.log(2.0) - 2.0]], rtol=1e-6)
