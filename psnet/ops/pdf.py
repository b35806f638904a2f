"""Probability densities of samples: MXNet 1.9.1's ``_random_pdf_*`` operators.

``_random_pdf_<dist>(sample, *params, is_log=False)`` (public alias ``random_pdf_<dist>``)
evaluates the density (or, with ``is_log``, the log-density) of ``sample`` under the
distributions given by the parameter arrays.  As in MXNet:

* all parameter arrays have one and the same shape ``P`` (no broadcasting between them);
  ``sample`` has shape ``P`` or ``P + S`` (a tensor of samples per distribution) and the
  output has the sample's shape;
* for ``dirichlet`` the parameter ``alpha`` has shape ``P + (K,)``, the sample
  ``P + S + (K,)`` and the output ``P + S`` (one density per K-vector);
* every input shares the sample's floating-point dtype (integer inputs are refused);
* no support checks are made, exactly as MXNet: the uniform density is ``1/(high-low)``
  for every sample, the exponential density is ``lam exp(-lam x)`` for negative ``x`` too,
  the discrete densities use ``lgamma(x + 1)`` for non-integer ``x``, the Dirichlet sample
  is not required to sum to 1, and ``generalized_negative_binomial`` with ``alpha = 0``
  gives NaN;
* gradients flow to the sample (zero for the discrete distributions and the uniform) and
  to every parameter, summed over the sample dimensions ``S``.

Densities are computed in float64 for float64 inputs and float32 otherwise (float16
inputs are upcast for the log-gamma terms) and cast back to the sample's dtype.
"""
import math

from ..base import DTypeError, ShapeError
from . import _grad_util as G
from . import _special
from .registry import register

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _lgamma(xp, x):
    return _special.gammaln(xp, x)


# --------------------------------------------------------------------------- log-densities
# Each takes the sample and parameters already broadcast against it (raw arrays).

def _log_uniform(xp, x, low, high):
    return xp.zeros_like(x) - xp.log(high - low)


def _log_normal(xp, x, mu, sigma):
    z = (x - mu) / sigma
    return -0.5 * z * z - xp.log(sigma) - _HALF_LOG_2PI


def _log_gamma(xp, x, alpha, beta):
    return alpha * xp.log(beta) + (alpha - 1) * xp.log(x) - beta * x - _lgamma(xp, alpha)


def _log_exponential(xp, x, lam):
    return xp.log(lam) - lam * x


def _log_poisson(xp, x, lam):
    return x * xp.log(lam) - lam - _lgamma(xp, x + 1)


def _log_nb_core(xp, x, k, logp, log1mp):
    return (_lgamma(xp, x + k) - _lgamma(xp, k) - _lgamma(xp, x + 1)
            + k * logp + x * log1mp)


def _log_negative_binomial(xp, x, k, p):
    return _log_nb_core(xp, x, k, xp.log(p), xp.log(1 - p))


def _log_generalized_negative_binomial(xp, x, mu, alpha):
    # k = 1/alpha, p = 1/(1 + mu alpha): log p = -log1p(mu alpha), log(1-p) = log(mu alpha) + log p
    with _quiet(xp):
        ma = mu * alpha
        logp = -xp.log1p(ma)
        return _log_nb_core(xp, x, 1.0 / alpha, logp, xp.log(ma) + logp)


def _log_dirichlet(xp, x, alpha):
    # x (..., K), alpha broadcast to (..., K): one log-density per K-vector
    return (_lgamma(xp, alpha.sum(axis=-1)) - _lgamma(xp, alpha).sum(axis=-1)
            + ((alpha - 1) * xp.log(x)).sum(axis=-1))


class _quiet:
    """Silence NumPy's divide/invalid warnings (NaN/inf follow MXNet's arithmetic)."""

    def __init__(self, xp):
        self.xp = xp
        self.old = None

    def __enter__(self):
        if hasattr(self.xp, "seterr"):
            self.old = self.xp.seterr(divide="ignore", invalid="ignore")

    def __exit__(self, *exc):
        if self.old is not None:
            self.xp.seterr(**self.old)


# ------------------------------------------------------------------- log-density gradients
# Each takes NDArrays (sample, parameters broadcast-shaped against it) and returns
# (d log p / d sample or None for "zero", [d log p / d param, ...]) in the sample's shape.

def _dlog_uniform(x, low, high):
    inv = 1.0 / (high - low)
    return None, [inv, -inv]


def _dlog_normal(x, mu, sigma):
    d = x - mu
    inv2 = 1.0 / (sigma * sigma)
    return -d * inv2, [d * inv2, d * d * inv2 / sigma - 1.0 / sigma]


def _dlog_gamma(x, alpha, beta):
    nd = G.nd()
    return (alpha - 1) / x - beta, [nd.log(beta) + nd.log(x) - nd.digamma(alpha), alpha / beta - x]


def _dlog_exponential(x, lam):
    return -lam, [1.0 / lam - x]


def _dlog_poisson(x, lam):
    return None, [x / lam - 1]


def _dlog_negative_binomial(x, k, p):
    nd = G.nd()
    return None, [nd.digamma(x + k) - nd.digamma(k) + nd.log(p), k / p - x / (1 - p)]


def _dlog_generalized_negative_binomial(x, mu, alpha):
    nd = G.nd()
    one_ma = 1 + mu * alpha
    k = 1.0 / alpha
    dmu = (x - mu) / (mu * one_ma)
    dalpha = ((nd.log(one_ma) - nd.digamma(x + k) + nd.digamma(k)) / (alpha * alpha)
              + (x - mu) / (alpha * one_ma))
    return None, [dmu, dalpha]


_DISTS = {
    # name: (parameter names, log-density, its gradients, parameter docs)
    "uniform": (("low", "high"), _log_uniform, _dlog_uniform,
                "uniform distributions on [low, high] (density 1/(high-low) for every sample: the support is not checked)"),
    "normal": (("mu", "sigma"), _log_normal, _dlog_normal,
               "normal distributions with mean mu and standard deviation sigma"),
    "gamma": (("alpha", "beta"), _log_gamma, _dlog_gamma,
              "gamma distributions with shape alpha and rate beta"),
    "exponential": (("lam",), _log_exponential, _dlog_exponential,
                    "exponential distributions with rate lam"),
    "poisson": (("lam",), _log_poisson, _dlog_poisson,
                "Poisson distributions with rate lam"),
    "negative_binomial": (("k", "p"), _log_negative_binomial, _dlog_negative_binomial,
                          "negative binomial distributions: k failures, success probability p"),
    "generalized_negative_binomial": (
        ("mu", "alpha"), _log_generalized_negative_binomial, _dlog_generalized_negative_binomial,
        "generalized negative binomial distributions with mean mu and dispersion alpha "
        "(k = 1/alpha, p = 1/(mu alpha + 1))"),
}


# ------------------------------------------------------------------------------ checking

def _check(name, sample, params, pnames, vector):
    """Validate dtypes and shapes; returns the number of sample dimensions beyond the
    parameters' (the axes S the parameter gradients are summed over)."""
    op = "_random_pdf_" + name
    if sample.dtype.kind != "f":
        raise DTypeError("%s: only floating-point types are supported, sample has dtype %s"
                         % (op, sample.dtype))
    for pn, p in zip(pnames, params):
        if p.dtype != sample.dtype:
            raise DTypeError("%s: parameter %s has dtype %s but sample has dtype %s; all inputs "
                             "must share one dtype" % (op, pn, p.dtype, sample.dtype))
    pshape = params[0].shape
    for pn, p in zip(pnames[1:], params[1:]):
        if p.shape != pshape:
            raise ShapeError("%s: parameters %s %s and %s %s must have the same shape"
                             % (op, pnames[0], pshape, pn, p.shape))
    if vector:
        ok = (len(pshape) >= 1 and sample.ndim >= len(pshape)
              and sample.shape[:len(pshape) - 1] == pshape[:-1] and sample.shape[-1] == pshape[-1])
        if not ok:
            raise ShapeError("%s: sample shape %s does not fit alpha shape %s (sample must be "
                             "alpha.shape[:-1] + S + (alpha.shape[-1],))" % (op, sample.shape, pshape))
    elif sample.shape[:len(pshape)] != pshape:
        raise ShapeError("%s: the leftmost dimensions of sample %s must equal the parameters' "
                         "shape %s (%s)" % (op, sample.shape, pshape, ", ".join(pnames)))
    return sample.ndim - len(pshape)


def _compute_dtype(xp, dtype):
    return xp.float64 if dtype == xp.float64 else xp.float32


def _expand(p, extra, vector):
    """Reshape a parameter so that it broadcasts against the sample."""
    if vector:
        return p.reshape(p.shape[:-1] + (1,) * extra + p.shape[-1:])
    return p.reshape(p.shape + (1,) * extra)


# ------------------------------------------------------------------------- registration

def _pdf(name, xp, sample, params, is_log):
    """The shared forward of the scalar distributions."""
    pnames, logpdf = _DISTS[name][0], _DISTS[name][1]
    extra = _check(name, sample, params, pnames, False)
    ct = _compute_dtype(xp, sample.dtype)
    x = sample.astype(ct, copy=False)
    ps = [_expand(p.astype(ct, copy=False), extra, False) for p in params]
    with _quiet(xp):
        if name == "uniform" and not is_log:
            # 1/(high-low) directly: MXNet gives a negative density when low > high
            out = xp.zeros_like(x) + 1.0 / (ps[1] - ps[0])
        else:
            out = logpdf(xp, x, *ps)
            if not is_log:
                out = xp.exp(out)
    return out.astype(sample.dtype, copy=False)


def _make_grad(dlog):
    def grad(inputs, outputs, ograds, attrs):
        nd = G.nd()
        x, params = inputs[0], inputs[1:]
        extra = x.ndim - params[0].ndim
        ps = [p.reshape(p.shape + (1,) * extra) for p in params]
        factor = ograds[0] if attrs.get("is_log", False) else ograds[0] * outputs[0]
        dx, dps = dlog(x, *ps)
        gx = nd.zeros_like(x) if dx is None else factor * dx
        gps = []
        for p, d in zip(params, dps):
            g = factor * d
            if extra:
                g = nd.sum(g, axis=tuple(range(p.ndim, x.ndim)))
            gps.append(g.reshape(p.shape))
        return [gx] + gps
    return grad


def _doc(name):
    pnames, desc = _DISTS[name][0], _DISTS[name][3]
    return ("Density of ``sample`` under %s (the log-density with ``is_log``).\n\n"
            "The parameters (%s) share one shape P; ``sample`` has shape P or P + S and the "
            "output has the sample's shape.  Gradients flow to the sample and to the "
            "parameters (summed over S)." % (desc, ", ".join(pnames)))


@register("_random_pdf_uniform", aliases=("random_pdf_uniform",))
def random_pdf_uniform(xp, sample, low, high, is_log=False):
    return _pdf("uniform", xp, sample, (low, high), is_log)


@register("_random_pdf_normal", aliases=("random_pdf_normal",))
def random_pdf_normal(xp, sample, mu, sigma, is_log=False):
    return _pdf("normal", xp, sample, (mu, sigma), is_log)


@register("_random_pdf_gamma", aliases=("random_pdf_gamma",))
def random_pdf_gamma(xp, sample, alpha, beta, is_log=False):
    return _pdf("gamma", xp, sample, (alpha, beta), is_log)


@register("_random_pdf_exponential", aliases=("random_pdf_exponential",))
def random_pdf_exponential(xp, sample, lam, is_log=False):
    return _pdf("exponential", xp, sample, (lam,), is_log)


@register("_random_pdf_poisson", aliases=("random_pdf_poisson",))
def random_pdf_poisson(xp, sample, lam, is_log=False):
    return _pdf("poisson", xp, sample, (lam,), is_log)


@register("_random_pdf_negative_binomial", aliases=("random_pdf_negative_binomial",))
def random_pdf_negative_binomial(xp, sample, k, p, is_log=False):
    return _pdf("negative_binomial", xp, sample, (k, p), is_log)


@register("_random_pdf_generalized_negative_binomial",
          aliases=("random_pdf_generalized_negative_binomial",))
def random_pdf_generalized_negative_binomial(xp, sample, mu, alpha, is_log=False):
    return _pdf("generalized_negative_binomial", xp, sample, (mu, alpha), is_log)


for _op in (random_pdf_uniform, random_pdf_normal, random_pdf_gamma, random_pdf_exponential,
            random_pdf_poisson, random_pdf_negative_binomial,
            random_pdf_generalized_negative_binomial):
    _dist = _op.name[len("_random_pdf_"):]
    _op.def_grad(_make_grad(_DISTS[_dist][2]))
    _op.forward.__doc__ = _op.__doc__ = _doc(_dist)


@register("_random_pdf_dirichlet", aliases=("random_pdf_dirichlet",))
def random_pdf_dirichlet(xp, sample, alpha, is_log=False):
    """Density of ``sample`` under Dirichlet distributions with concentration ``alpha``
    (log-density with ``is_log``).

    ``alpha`` has shape ``P + (K,)``, ``sample`` ``P + S + (K,)``; the output has shape
    ``P + S`` (``(1,)`` when that is empty).  The sample is not checked to lie on the simplex.
    Gradients flow to the sample and to ``alpha`` (summed over S)."""
    extra = _check("dirichlet", sample, (alpha,), ("alpha",), True)
    ct = _compute_dtype(xp, sample.dtype)
    x = sample.astype(ct, copy=False)
    a = _expand(alpha.astype(ct, copy=False), extra, True)
    with _quiet(xp):
        out = _log_dirichlet(xp, x, a)
        if not is_log:
            out = xp.exp(out)
    return xp.asarray(out).astype(sample.dtype, copy=False).reshape(out.shape or (1,))


@random_pdf_dirichlet.def_grad
def _dirichlet_grad(inputs, outputs, ograds, attrs):
    nd = G.nd()
    x, alpha = inputs
    extra = x.ndim - alpha.ndim
    a = alpha.reshape(alpha.shape[:-1] + (1,) * extra + alpha.shape[-1:])
    factor = ograds[0] if attrs.get("is_log", False) else ograds[0] * outputs[0]
    factor = factor.reshape(factor.shape + (1,)) if x.ndim > 1 else factor
    total = nd.sum(a, axis=-1, keepdims=True)
    gx = factor * ((a - 1) / x)
    ga = factor * (nd.digamma(total) - nd.digamma(a) + nd.log(x))
    if extra:
        ga = nd.sum(ga, axis=tuple(range(alpha.ndim - 1, x.ndim - 1)))
    return [gx, ga.reshape(alpha.shape)]
