"""Optimizer update operators (MXNet 1.9.1's ``sgd_update``, ``adam_update``...).

Each op returns the updated weight (write it back with ``out=weight``, as MXNet's
optimizers do) and updates its state inputs (``mom``, ``mean``, ``var``, ``n``,
``weight32``...) in place, the way MXNet's mutable inputs work.  The arithmetic follows
MXNet 1.9.1's kernels (``src/operator/optimizer_op-inl.h``), term for term, in the
weight's dtype (float32 for the mixed-precision ``mp_*`` ops' master weights).  The
``all_finite`` / ``multi_all_finite`` / ``multi_sum_sq`` / ``reset_arrays`` helpers
of MXNet's AMP and LAMB code live here too.  None of these ops has a gradient.
"""
import ast

from ..base import MXNetError, ShapeError
from .registry import register


# ----------------------------------------------------------------------------- helpers
def _clip(xp, x, bound):
    """MXNet's ``clip::Map(x, bound)``: x limited to [-bound, bound] when bound >= 0."""
    if bound is not None and bound >= 0:
        return xp.clip(x, -bound, bound)
    return x


def _rescaled(xp, grad, rescale_grad, clip_gradient, dtype):
    """``clip(rescale_grad * grad)`` in ``dtype``."""
    g = grad.astype(dtype, copy=False) * dtype.type(rescale_grad)
    return _clip(xp, g, clip_gradient)


def _check_same(name, weight, **others):
    """ShapeError naming the op and the input whose shape differs from ``weight``'s."""
    for k, a in others.items():
        if tuple(a.shape) != tuple(weight.shape):
            raise ShapeError("%s: input %s has shape %s but weight has shape %s"
                             % (name, k, tuple(a.shape), tuple(weight.shape)))


def _same_shape(attrs, in_shapes):
    """Every input and the single output share one shape (the first known one)."""
    known = next((s for s in in_shapes if s is not None), None)
    if known is None:
        return None
    return [known] * len(in_shapes), [known]


def _floats(v, name, op):
    """An attribute holding a tuple of floats (``lrs``, ``wds``), also as its string."""
    if isinstance(v, str):
        v = ast.literal_eval(v)
    if isinstance(v, (int, float)):
        v = (v,)
    try:
        return tuple(float(x) for x in v)
    except TypeError:
        raise MXNetError("%s: attribute %s must be a tuple of floats, got %r" % (op, name, v)) from None


def _put(dst, src):
    """Write ``src`` into the state array ``dst`` in place (MXNet's mutable input)."""
    dst[...] = src


# ----------------------------------------------------------------------------- SGD family
def _sgd(xp, weight, grad, lr, wd, rescale_grad, clip_gradient):
    dt = weight.dtype
    g = _rescaled(xp, grad, rescale_grad, clip_gradient, dt)
    return (dt.type(1.0) - dt.type(lr) * dt.type(wd)) * weight - dt.type(lr) * g


def _sgd_mom(xp, weight, grad, mom, lr, momentum, wd, rescale_grad, clip_gradient):
    dt = weight.dtype
    g = _rescaled(xp, grad, rescale_grad, clip_gradient, dt)
    m = dt.type(momentum) * mom - dt.type(lr) * dt.type(wd) * weight - dt.type(lr) * g
    _put(mom, m)
    return weight + m


def _nag_mom(xp, weight, grad, mom, lr, momentum, wd, rescale_grad, clip_gradient):
    dt = weight.dtype
    g = _rescaled(xp, grad, rescale_grad, clip_gradient, dt)
    step = dt.type(lr) * dt.type(wd) * weight + dt.type(lr) * g
    m = dt.type(momentum) * mom - step
    _put(mom, m)
    return weight + dt.type(momentum) * m - step


@register("sgd_update", infer_shape=_same_shape)
def sgd_update(xp, weight, grad, lr=None, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
               lazy_update=True):
    """SGD step: ``(1 - lr*wd) * weight - lr * clip(rescale_grad * grad, clip_gradient)``.

    ``clip_gradient < 0`` turns clipping off; ``lazy_update`` only matters for
    row-sparse gradients (psnet's are dense).  Returns the new weight (use ``out=weight``).
    """
    _need_lr("sgd_update", lr)
    _check_same("sgd_update", weight, grad=grad)
    return _sgd(xp, weight, grad, lr, wd, rescale_grad, clip_gradient)


@register("sgd_mom_update", infer_shape=_same_shape)
def sgd_mom_update(xp, weight, grad, mom, lr=None, momentum=0.0, wd=0.0, rescale_grad=1.0,
                   clip_gradient=-1.0, lazy_update=True):
    """Momentum SGD: ``mom = momentum*mom - lr*wd*weight - lr*clip(rescale_grad*grad)``
    (``mom`` updated in place), returns ``weight + mom``."""
    _need_lr("sgd_mom_update", lr)
    _check_same("sgd_mom_update", weight, grad=grad, mom=mom)
    return _sgd_mom(xp, weight, grad, mom, lr, momentum, wd, rescale_grad, clip_gradient)


@register("nag_mom_update", infer_shape=_same_shape)
def nag_mom_update(xp, weight, grad, mom, lr=None, momentum=0.0, wd=0.0, rescale_grad=1.0,
                   clip_gradient=-1.0):
    """Nesterov momentum: ``step = lr*wd*weight + lr*clip(rescale_grad*grad)``,
    ``mom = momentum*mom - step`` (in place), returns ``weight + momentum*mom - step``."""
    _need_lr("nag_mom_update", lr)
    _check_same("nag_mom_update", weight, grad=grad, mom=mom)
    return _nag_mom(xp, weight, grad, mom, lr, momentum, wd, rescale_grad, clip_gradient)


def _mp(xp, fn, weight, weight32, *args):
    """Run ``fn`` on the float32 master weight, store it back in place, return it cast."""
    w = fn(xp, weight32, *args)
    _put(weight32, w)
    return w.astype(weight.dtype)


@register("mp_sgd_update", infer_shape=_same_shape)
def mp_sgd_update(xp, weight, grad, weight32, lr=None, wd=0.0, rescale_grad=1.0,
                  clip_gradient=-1.0, lazy_update=True):
    """Mixed-precision SGD: the step of ``sgd_update`` on the float32 ``weight32``
    (updated in place); returns it cast to ``weight``'s dtype."""
    _need_lr("mp_sgd_update", lr)
    _check_same("mp_sgd_update", weight, grad=grad, weight32=weight32)
    return _mp(xp, _sgd, weight, weight32, grad, lr, wd, rescale_grad, clip_gradient)


@register("mp_sgd_mom_update", infer_shape=_same_shape)
def mp_sgd_mom_update(xp, weight, grad, mom, weight32, lr=None, momentum=0.0, wd=0.0,
                      rescale_grad=1.0, clip_gradient=-1.0, lazy_update=True):
    """Mixed-precision momentum SGD on ``weight32`` (float32 ``mom`` and ``weight32``
    updated in place); returns the new weight in ``weight``'s dtype."""
    _need_lr("mp_sgd_mom_update", lr)
    _check_same("mp_sgd_mom_update", weight, grad=grad, mom=mom, weight32=weight32)
    return _mp(xp, _sgd_mom, weight, weight32, grad, mom, lr, momentum, wd, rescale_grad,
               clip_gradient)


@register("mp_nag_mom_update", infer_shape=_same_shape)
def mp_nag_mom_update(xp, weight, grad, mom, weight32, lr=None, momentum=0.0, wd=0.0,
                      rescale_grad=1.0, clip_gradient=-1.0):
    """Mixed-precision Nesterov momentum on ``weight32`` (``mom``, ``weight32`` updated in
    place); returns the new weight in ``weight``'s dtype.

    The weight step is ``nag_mom_update``'s; the stored ``mom`` is, as MXNet 1.9.1 stores
    it, ``momentum*mom - lr*wd*new_weight32 - lr*clip(rescale_grad*grad)``.
    """
    _need_lr("mp_nag_mom_update", lr)
    _check_same("mp_nag_mom_update", weight, grad=grad, mom=mom, weight32=weight32)
    w32 = weight32
    g = _rescaled(xp, grad, rescale_grad, clip_gradient, w32.dtype)
    lr_, mo, wd_ = w32.dtype.type(lr), w32.dtype.type(momentum), w32.dtype.type(wd)
    m = mo * mom - lr_ * wd_ * w32 - lr_ * g
    w = w32 + mo * m - lr_ * wd_ * w32 - lr_ * g
    # MXNet 1.9.1's kernel stores the momentum recomputed with the *updated* master weight
    _put(mom, mo * mom - lr_ * wd_ * w - lr_ * g)
    _put(weight32, w)
    return w.astype(weight.dtype)


def _need_lr(name, lr):
    if lr is None:
        raise MXNetError("operator %s needs attribute lr" % name)


# ----------------------------------------------------------------------------- adaptive
@register("adam_update", infer_shape=_same_shape)
def adam_update(xp, weight, grad, mean, var, lr=None, beta1=0.9, beta2=0.999, epsilon=1e-8,
                wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, lazy_update=True):
    """Adam: ``g = clip(rescale_grad*grad + wd*weight)``; ``mean``, ``var`` updated in
    place as exponential averages of g and g**2; returns
    ``weight - lr * mean / (sqrt(var) + epsilon)`` (no bias correction, as in MXNet)."""
    _need_lr("adam_update", lr)
    _check_same("adam_update", weight, grad=grad, mean=mean, var=var)
    dt = weight.dtype
    one = dt.type(1.0)
    g = _clip(xp, grad.astype(dt, copy=False) * dt.type(rescale_grad) + weight * dt.type(wd),
              clip_gradient)
    b1, b2 = dt.type(beta1), dt.type(beta2)
    m = b1 * mean + (one - b1) * g
    v = b2 * var + (one - b2) * g * g
    _put(mean, m)
    _put(var, v)
    return weight - dt.type(lr) * m / (xp.sqrt(v) + dt.type(epsilon))


def _rms_grad(xp, weight, grad, wd, rescale_grad, clip_gradient):
    dt = weight.dtype
    return _clip(xp, grad.astype(dt, copy=False) * dt.type(rescale_grad) + weight * dt.type(wd),
                 clip_gradient)


@register("rmsprop_update", infer_shape=_same_shape)
def rmsprop_update(xp, weight, grad, n, lr=None, gamma1=0.95, epsilon=1e-8, wd=0.0,
                   rescale_grad=1.0, clip_gradient=-1.0, clip_weights=-1.0):
    """RMSProp (Tieleman & Hinton): ``g = clip(rescale_grad*grad + wd*weight)``,
    ``n = (1-gamma1)*g**2 + gamma1*n`` (in place); returns
    ``clip(weight - lr*g/sqrt(n + epsilon), clip_weights)``."""
    _need_lr("rmsprop_update", lr)
    _check_same("rmsprop_update", weight, grad=grad, n=n)
    dt = weight.dtype
    g = _rms_grad(xp, weight, grad, wd, rescale_grad, clip_gradient)
    g1 = dt.type(gamma1)
    nn = (dt.type(1.0) - g1) * g * g + g1 * n
    _put(n, nn)
    w = weight - dt.type(lr) * (g / xp.sqrt(nn + dt.type(epsilon)))
    return _clip(xp, w, clip_weights)


@register("rmspropalex_update", infer_shape=_same_shape)
def rmspropalex_update(xp, weight, grad, n, g, delta, lr=None, gamma1=0.95, gamma2=0.9,
                       epsilon=1e-8, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                       clip_weights=-1.0):
    """RMSProp as in Graves (2013): ``n``, ``g``, ``delta`` updated in place;
    ``delta = gamma2*delta - lr*grad/sqrt(n - g**2 + epsilon)``; returns
    ``clip(weight + delta, clip_weights)``."""
    _need_lr("rmspropalex_update", lr)
    _check_same("rmspropalex_update", weight, grad=grad, n=n, g=g, delta=delta)
    dt = weight.dtype
    gr = _rms_grad(xp, weight, grad, wd, rescale_grad, clip_gradient)
    one, g1 = dt.type(1.0), dt.type(gamma1)
    nn = (one - g1) * gr * gr + g1 * n
    gn = (one - g1) * gr + g1 * g
    dn = dt.type(gamma2) * delta - dt.type(lr) * (gr / xp.sqrt(nn - gn * gn + dt.type(epsilon)))
    _put(n, nn)
    _put(g, gn)
    _put(delta, dn)
    return _clip(xp, weight + dn, clip_weights)


@register("ftrl_update", infer_shape=_same_shape)
def ftrl_update(xp, weight, grad, z, n, lr=None, lamda1=0.01, beta=1.0, wd=0.0,
                rescale_grad=1.0, clip_gradient=-1.0):
    """FTRL-proximal: ``z += g - (sqrt(n + g**2) - sqrt(n)) * weight / lr``,
    ``n += g**2`` (both in place, ``g = clip(rescale_grad*grad)``); returns
    ``(sign(z)*lamda1 - z) / ((beta + sqrt(n))/lr + wd) * (|z| > lamda1)``."""
    _need_lr("ftrl_update", lr)
    _check_same("ftrl_update", weight, grad=grad, z=z, n=n)
    dt = weight.dtype
    g = _rescaled(xp, grad, rescale_grad, clip_gradient, dt)
    lr_ = dt.type(lr)
    zn = z + g - (xp.sqrt(n + g * g) - xp.sqrt(n)) * weight / lr_
    nn = n + g * g
    _put(z, zn)
    _put(n, nn)
    lam = dt.type(lamda1)
    w = (xp.sign(zn) * lam - zn) / ((dt.type(beta) + xp.sqrt(nn)) / lr_ + dt.type(wd))
    return w * (xp.abs(zn) > lam).astype(dt)


@register("ftml_update", infer_shape=_same_shape)
def ftml_update(xp, weight, grad, d, v, z, lr=None, beta1=0.6, beta2=0.999, epsilon=1e-8,
                t=None, wd=0.0, rescale_grad=1.0, clip_grad=-1.0):
    """FTML (Zheng & Kwok 2017) at step ``t`` (>= 1): ``d``, ``v``, ``z`` updated in place;
    returns ``-z / d``.  ``g = clip(rescale_grad*grad + wd*weight, clip_grad)``."""
    _need_lr("ftml_update", lr)
    if t is None:
        raise MXNetError("operator ftml_update needs attribute t")
    _check_same("ftml_update", weight, grad=grad, d=d, v=v, z=z)
    dt = weight.dtype
    one = dt.type(1.0)
    g = _clip(xp, grad.astype(dt, copy=False) * dt.type(rescale_grad) + dt.type(wd) * weight,
              clip_grad)
    b1, b2 = dt.type(beta1), dt.type(beta2)
    t = int(t)
    vn = b2 * v + (one - b2) * g * g
    d_t = (one - b1 ** t) / dt.type(lr) * (xp.sqrt(vn / (one - b2 ** t)) + dt.type(epsilon))
    zn = b1 * z + (one - b1) * g - (d_t - b1 * d) * weight
    _put(v, vn)
    _put(d, d_t)
    _put(z, zn)
    return -zn / d_t


@register("signsgd_update", infer_shape=_same_shape)
def signsgd_update(xp, weight, grad, lr=None, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    """signSGD: ``(1 - lr*wd) * weight - lr * sign(grad)``."""
    _need_lr("signsgd_update", lr)
    _check_same("signsgd_update", weight, grad=grad)
    dt = weight.dtype
    g = _rescaled(xp, grad, rescale_grad, clip_gradient, dt)
    return (dt.type(1.0) - dt.type(lr) * dt.type(wd)) * weight - dt.type(lr) * xp.sign(g)


@register("signum_update", infer_shape=_same_shape)
def signum_update(xp, weight, grad, mom, lr=None, momentum=0.0, wd=0.0, rescale_grad=1.0,
                  clip_gradient=-1.0, wd_lh=0.0):
    """Signum: ``mom = momentum*mom - (1-momentum)*(wd*weight + clip(rescale_grad*grad))``
    (in place); returns ``(1 - lr*wd_lh) * weight + lr * sign(mom)``."""
    _need_lr("signum_update", lr)
    _check_same("signum_update", weight, grad=grad, mom=mom)
    dt = weight.dtype
    g = _rescaled(xp, grad, rescale_grad, clip_gradient, dt)
    mo = dt.type(momentum)
    m = mo * mom - (dt.type(1.0) - mo) * dt.type(wd) * weight - (dt.type(1.0) - mo) * g
    _put(mom, m)
    return (dt.type(1.0) - dt.type(lr) * dt.type(wd_lh)) * weight + dt.type(lr) * xp.sign(m)


# ----------------------------------------------------------------------------- multi-tensor
def _multi_inputs(extra_names):
    """Input names ``weight_0, grad_0, (mom_0, weight32_0), weight_1...`` for num_weights."""
    def names(attrs):
        n = int(attrs.get("num_weights", 1))
        return ["%s_%d" % (k, i) for i in range(n) for k in extra_names]
    return names


def _multi_nout(attrs):
    return int(attrs.get("num_weights", 1))


def _multi_shape(per):
    def infer(attrs, in_shapes):
        n = int(attrs.get("num_weights", 1))
        ins, outs = list(in_shapes), []
        for i in range(n):
            grp = ins[i * per:(i + 1) * per]
            known = next((s for s in grp if s is not None), None)
            if known is None:
                return None
            ins[i * per:(i + 1) * per] = [known] * per
            outs.append(known)
        return ins, outs
    return infer


def _multi_common(name, arrays, per, lrs, wds, num_weights):
    n = int(num_weights)
    if len(arrays) != n * per:
        raise MXNetError("%s: expected %d inputs for num_weights=%d, got %d"
                         % (name, n * per, n, len(arrays)))
    lrs, wds = _floats(lrs, "lrs", name), _floats(wds, "wds", name)
    if len(lrs) != n or len(wds) != n:
        raise MXNetError("%s: lrs and wds need num_weights=%d values each, got %d and %d"
                         % (name, n, len(lrs), len(wds)))
    groups = [arrays[i * per:(i + 1) * per] for i in range(n)]
    for i, grp in enumerate(groups):
        _check_same("%s (weight %d)" % (name, i), grp[0],
                    **{"input%d" % j: a for j, a in enumerate(grp[1:], 1)})
    return groups, lrs, wds


_MULTI_DOC = """ Inputs are ``num_weights`` groups of {group}; ``lrs`` and ``wds`` give one
    learning rate and weight decay per weight.  Returns the ``num_weights`` new weights
    (MXNet's optimizers pass ``out=`` the weights; MXNet 1.9.1 fails without ``out=``,
    psnet then returns new arrays); {state} updated in place."""


def _reg_multi(name, per, fields, step):
    if "mom" in fields:
        def forward(xp, *arrays, lrs=None, wds=None, momentum=0.0, rescale_grad=1.0,
                    clip_gradient=-1.0, num_weights=1):
            groups, lrs_, wds_ = _multi_common(name, arrays, per, lrs, wds, num_weights)
            return tuple(step(xp, grp, lr, wd, momentum, rescale_grad, clip_gradient)
                         for grp, lr, wd in zip(groups, lrs_, wds_))
    else:
        def forward(xp, *arrays, lrs=None, wds=None, rescale_grad=1.0, clip_gradient=-1.0,
                    num_weights=1):
            groups, lrs_, wds_ = _multi_common(name, arrays, per, lrs, wds, num_weights)
            return tuple(step(xp, grp, lr, wd, 0.0, rescale_grad, clip_gradient)
                         for grp, lr, wd in zip(groups, lrs_, wds_))
    state = " and ".join("``%s``" % f for f in fields[2:]) or "nothing is"
    forward.__doc__ = ("%s: one fused step of %s for several weights." % (name, step.__doc__)
                       + _MULTI_DOC.format(group="(" + ", ".join(fields) + ")", state=state))
    forward.__name__ = name
    register(name, inputs=_multi_inputs(fields), num_outputs=_multi_nout,
             infer_shape=_multi_shape(per))(forward)


def _step_sgd(xp, grp, lr, wd, momentum, rescale_grad, clip_gradient):
    """sgd_update"""
    return _sgd(xp, grp[0], grp[1], lr, wd, rescale_grad, clip_gradient)


def _step_sgd_mom(xp, grp, lr, wd, momentum, rescale_grad, clip_gradient):
    """sgd_mom_update"""
    return _sgd_mom(xp, grp[0], grp[1], grp[2], lr, momentum, wd, rescale_grad, clip_gradient)


def _step_mp_sgd(xp, grp, lr, wd, momentum, rescale_grad, clip_gradient):
    """mp_sgd_update"""
    return _mp(xp, _sgd, grp[0], grp[2], grp[1], lr, wd, rescale_grad, clip_gradient)


def _step_mp_sgd_mom(xp, grp, lr, wd, momentum, rescale_grad, clip_gradient):
    """mp_sgd_mom_update"""
    return _mp(xp, _sgd_mom, grp[0], grp[3], grp[1], grp[2], lr, momentum, wd, rescale_grad,
               clip_gradient)


_reg_multi("multi_sgd_update", 2, ("weight", "grad"), _step_sgd)
_reg_multi("multi_sgd_mom_update", 3, ("weight", "grad", "mom"), _step_sgd_mom)
_reg_multi("multi_mp_sgd_update", 3, ("weight", "grad", "weight32"), _step_mp_sgd)
_reg_multi("multi_mp_sgd_mom_update", 4, ("weight", "grad", "mom", "weight32"), _step_mp_sgd_mom)


# ----------------------------------------------------------------------------- AMP / LAMB helpers
def _init_output(name, init_output):
    if not init_output:
        from ..base import NotSupportedError
        raise NotSupportedError(
            "%s: init_output=False (keep the out= array's value when finite) is not supported;"
            " multiply the results of separate calls instead" % name)


@register("all_finite", infer_shape=lambda attrs, s: ([s[0]], [(1,)]))
def all_finite(xp, data, init_output=True):
    """``[1.]`` (float32) when every element of ``data`` is finite, ``[0.]`` otherwise."""
    _init_output("all_finite", init_output)
    return xp.isfinite(data).all().astype(xp.float32).reshape(1)


def _arrays_inputs(attrs):
    return ["array_%d" % i for i in range(int(attrs.get("num_arrays", 1)))]


def _check_num_arrays(name, arrays, num_arrays):
    if len(arrays) != int(num_arrays):
        raise MXNetError("%s: num_arrays=%d but %d arrays were given"
                         % (name, int(num_arrays), len(arrays)))


@register("multi_all_finite", inputs=_arrays_inputs,
          infer_shape=lambda attrs, s: (list(s), [(1,)]))
def multi_all_finite(xp, *arrays, num_arrays=1, init_output=True):
    """``[1.]`` (float32) when every element of all ``num_arrays`` arrays is finite, else ``[0.]``."""
    _check_num_arrays("multi_all_finite", arrays, num_arrays)
    _init_output("multi_all_finite", init_output)
    ok = True
    for a in arrays:
        ok = ok and bool(xp.isfinite(a).all())
    return xp.asarray([1.0 if ok else 0.0], dtype=xp.float32)


@register("multi_sum_sq", inputs=_arrays_inputs,
          infer_shape=lambda attrs, s: (list(s), [(int(attrs.get("num_arrays", 1)),)]))
def multi_sum_sq(xp, *arrays, num_arrays=1):
    """The sum of squares of each of the ``num_arrays`` arrays, as one float32 vector."""
    _check_num_arrays("multi_sum_sq", arrays, num_arrays)
    return xp.stack([xp.sum(xp.square(a.astype(xp.float32))) for a in arrays]).astype(xp.float32)


@register("reset_arrays", inputs=_arrays_inputs, num_outputs=0,
          infer_shape=lambda attrs, s: (list(s), []))
def reset_arrays(xp, *arrays, num_arrays=1):
    """Set every one of the ``num_arrays`` arrays to zero in place; returns nothing."""
    _check_num_arrays("reset_arrays", arrays, num_arrays)
    for a in arrays:
        a[...] = 0
    return ()


# ----------------------------------------------------------------------------- LAMB
def _need_attrs(name, **attrs):
    """MXNetError naming the op's required attributes that were not given."""
    missing = [k for k, v in attrs.items() if v is None]
    if missing:
        raise MXNetError("operator %s needs attribute(s) %s" % (name, ", ".join(missing)))


# MXNet 1.9.1 takes its float attributes as C floats: a float64 weight sees float32-rounded
# constants (``double(0.9f)``), which ``_attr`` reproduces.
def _attr(dt, v):
    """The float attribute ``v`` as MXNet passes it to a ``dt`` kernel (via a C float)."""
    import numpy as np
    return dt.type(np.float32(float(v)))


def _check_dtypes(name, want, **arrays):
    """DTypeError naming the op and the input whose dtype is not ``want``."""
    from ..base import DTypeError
    for k, a in arrays.items():
        if a.dtype != want:
            raise DTypeError("%s: input %s has dtype %s, expected %s"
                             % (name, k, a.dtype.name, want.name))


def _check_scalar_input(name, **arrays):
    """MXNet's r1/r2 rule: the first dimension must be 1 (only element 0 is read)."""
    for k, a in arrays.items():
        if a.ndim < 1 or a.shape[0] != 1:
            raise ShapeError("%s: input %s must have shape (1,) (first dimension 1), got %s"
                             % (name, k, tuple(a.shape)))


def _bias_div(xp, x, denom64, dt):
    """``x / (1. - beta_t)`` as MXNet's kernel writes it: a C double division for float32
    and float64 (``1.`` is a double), half-precision arithmetic for float16."""
    import numpy as np
    if dt == np.float16:
        return x / (dt.type(1.0) - dt.type(denom64))
    return (x.astype(np.float64) / (1.0 - float(denom64))).astype(dt)


def _lamb_g(xp, grad_rescaled, mean, var, weight, beta1, beta2, epsilon, t, bias_correction,
            wd, dt, beta1_t, beta2_t):
    """The LAMB phase-one direction in ``dt``; ``mean``/``var`` updated in place."""
    one = dt.type(1.0)
    b1, b2 = _attr(dt, beta1), _attr(dt, beta2)
    m = b1 * mean + (one - b1) * grad_rescaled
    v = b2 * var + (one - b2) * grad_rescaled * grad_rescaled
    _put(mean, m)
    _put(var, v)
    eps, wd_ = _attr(dt, epsilon), _attr(dt, wd)
    if _flag(bias_correction):
        m_hat = _bias_div(xp, m, beta1_t, dt)
        v_hat = v / (one - dt.type(beta2_t))
        return m_hat / (xp.sqrt(v_hat) + eps) + wd_ * weight
    return m / (xp.sqrt(v) + eps) + wd_ * weight


def _flag(v):
    """A boolean attribute, also from its string form ('True', 'false', '0'...)."""
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1")
    return bool(v)


def _pow_t(beta, t):
    """``std::pow(float beta, int t)`` (computed in double, as C++11 promotes it)."""
    import numpy as np
    return float(np.float64(np.float32(float(beta))) ** int(t))


@register("lamb_update_phase1", infer_shape=_same_shape)
def lamb_update_phase1(xp, weight, grad, mean, var, t=None, wd=None, beta1=0.9, beta2=0.999,
                       epsilon=1e-6, bias_correction=True, rescale_grad=1.0,
                       clip_gradient=-1.0):
    """First phase of the LAMB step (You et al. 2019), as MXNet 1.9.1 computes it.

    ``g = clip(rescale_grad*grad, clip_gradient)``; ``mean = beta1*mean + (1-beta1)*g`` and
    ``var = beta2*var + (1-beta2)*g*g`` are written into ``mean`` and ``var`` in place.
    Returns the update direction ``mean_hat / (sqrt(var_hat) + epsilon) + wd*weight``, where
    with ``bias_correction`` ``mean_hat = mean / (1 - beta1**t)`` and
    ``var_hat = var / (1 - beta2**t)`` (else the raw moments).  ``t`` (the step count,
    from 1) and ``wd`` are required; all four inputs share one shape and one dtype.  Feed
    the result to :func:`lamb_update_phase2` with the norms of the weight and of it.
    """
    _need_attrs("lamb_update_phase1", t=t, wd=wd)
    _check_same("lamb_update_phase1", weight, grad=grad, mean=mean, var=var)
    dt = weight.dtype
    _check_dtypes("lamb_update_phase1", dt, grad=grad, mean=mean, var=var)
    g = _clip(xp, grad * _attr(dt, rescale_grad), _attr(dt, clip_gradient))
    return _lamb_g(xp, g, mean, var, weight, beta1, beta2, epsilon, t, bias_correction, wd,
                   dt, dt.type(_pow_t(beta1, t)), dt.type(_pow_t(beta2, t)))


def _lamb_lr(xp, lr, r1, r2, lower_bound, upper_bound, dt):
    """MXNet's trust-ratio learning rate ``lr * clamp(r1) / r2`` (``lr`` itself when the
    clamped r1 or r2 is 0), as a 0-d array in ``dt`` (no host synchronisation)."""
    lr_ = _attr(dt, lr)
    r1v = r1.reshape(-1)[0].astype(dt)
    r2v = r2.reshape(-1)[0].astype(dt)
    lo, hi = _attr(dt, lower_bound), _attr(dt, upper_bound)
    if lo >= 0:
        r1v = xp.where(r1v > lo, r1v, lo)      # mshadow maximum: a > b ? a : b
    if hi >= 0:
        r1v = xp.where(r1v < hi, r1v, hi)      # mshadow minimum: a < b ? a : b
    use_lr = (r1v == 0) | (r2v == 0)
    safe_r2 = xp.where(r2v == 0, dt.type(1.0), r2v)
    return xp.where(use_lr, lr_, lr_ * r1v / safe_r2).astype(dt)


@register("lamb_update_phase2", infer_shape=lambda attrs, s: None if s[0] is None
          else ([s[0], s[0], s[2] or (1,), s[3] or (1,)], [s[0]]))
def lamb_update_phase2(xp, weight, g, r1, r2, lr=None, lower_bound=-1.0, upper_bound=-1.0):
    """Second phase of the LAMB step: returns ``weight - lr_t * g`` with the layer-wise
    trust ratio ``lr_t = lr * r1' / r2`` (MXNet 1.9.1).

    ``r1`` is the weight's norm, ``r2`` the norm of phase one's ``g`` (arrays of shape
    ``(1,)``); ``r1' = r1`` raised to ``lower_bound`` and cut to ``upper_bound`` when these
    are >= 0.  When ``r1'`` or ``r2`` is 0 the plain ``lr`` is used.  ``weight`` and ``g``
    share shape and dtype.  Nothing is updated in place; pass ``out=weight``.
    """
    _need_lr("lamb_update_phase2", lr)
    _check_same("lamb_update_phase2", weight, g=g)
    _check_scalar_input("lamb_update_phase2", r1=r1, r2=r2)
    dt = weight.dtype
    _check_dtypes("lamb_update_phase2", dt, g=g, r1=r1, r2=r2)
    return weight - _lamb_lr(xp, lr, r1, r2, lower_bound, upper_bound, dt) * g


@register("mp_lamb_update_phase1", infer_shape=_same_shape)
def mp_lamb_update_phase1(xp, weight, grad, mean, var, weight32, t=None, wd=None, beta1=0.9,
                          beta2=0.999, epsilon=1e-6, bias_correction=True, rescale_grad=1.0,
                          clip_gradient=-1.0):
    """Mixed-precision LAMB phase one: ``lamb_update_phase1`` in float32 on the master
    weight ``weight32``.

    ``weight`` and ``grad`` must be float16, ``mean``, ``var`` and ``weight32`` float32
    (MXNet 1.9.1's type rule).  ``rescale_grad*grad`` is rounded to float16 before it is
    widened, as MXNet's half-precision arithmetic does.  ``mean`` and ``var`` are updated in
    place; returns the float32 direction ``g``.
    """
    import numpy as np
    name = "mp_lamb_update_phase1"
    _need_attrs(name, t=t, wd=wd)
    _check_same(name, weight, grad=grad, mean=mean, var=var, weight32=weight32)
    _check_dtypes(name, np.dtype(np.float16), weight=weight, grad=grad)
    f32 = np.dtype(np.float32)
    _check_dtypes(name, f32, mean=mean, var=var, weight32=weight32)
    # half_t * float rounds to half_t in mshadow, then the kernel widens it to float
    g = (grad.astype(f32) * np.float32(float(rescale_grad))).astype(weight.dtype).astype(f32)
    g = _clip(xp, g, _attr(f32, clip_gradient))
    return _lamb_g(xp, g, mean, var, weight32, beta1, beta2, epsilon, t, bias_correction, wd,
                   f32, np.float32(_pow_t(beta1, t)), np.float32(_pow_t(beta2, t)))


@register("mp_lamb_update_phase2", infer_shape=lambda attrs, s: None if s[0] is None
          else ([s[0], s[0], s[2] or (1,), s[3] or (1,), s[0]], [s[0]]))
def mp_lamb_update_phase2(xp, weight, g, r1, r2, weight32, lr=None, lower_bound=-1.0,
                          upper_bound=-1.0):
    """Mixed-precision LAMB phase two: returns ``weight32 - lr_t * g`` (float32, trust
    ratio as in :func:`lamb_update_phase2`) cast to ``weight``'s dtype.

    ``g``, ``r1``, ``r2`` and ``weight32`` must be float32.  As in MXNet 1.9.1 this op does
    **not** write the master weight ``weight32`` back: a caller keeping a master copy
    updates it itself (e.g. ``weight32[:] = weight32 - ...`` or from the result).
    """
    import numpy as np
    name = "mp_lamb_update_phase2"
    _need_lr(name, lr)
    _check_same(name, weight, g=g, weight32=weight32)
    _check_scalar_input(name, r1=r1, r2=r2)
    f32 = np.dtype(np.float32)
    _check_dtypes(name, f32, g=g, r1=r1, r2=r2, weight32=weight32)
    return (weight32 - _lamb_lr(xp, lr, r1, r2, lower_bound, upper_bound, f32) * g).astype(
        weight.dtype)


# ----------------------------------------------------------------------------- LARS
@register("multi_lars", infer_shape=lambda attrs, s: (
    lambda k: None if k is None else ([k] * 4, [k]))(next((x for x in s if x is not None), None)))
def multi_lars(xp, lrs, weights_sum_sq, grads_sum_sq, wds, eta=None, eps=None, rescale_grad=1.0):
    """LARS learning rates for many layers at once (MXNet 1.9.1's ``multi_lars``).

    Element-wise over the float32 vectors (one entry per layer) ``lrs``, ``weights_sum_sq``
    and ``grads_sum_sq`` (sums of squares, e.g. from ``multi_sum_sq``) and ``wds``: returns
    ``lrs * eta * |w| / (|g| * rescale_grad + wds * |w| + eps)`` with ``|w| =
    sqrt(weights_sum_sq)``, ``|g| = sqrt(grads_sum_sq)``, and ``lrs`` unchanged where
    ``|w|`` or ``grads_sum_sq`` is not positive.  ``eta`` and ``eps`` are required.
    """
    import numpy as np
    _need_attrs("multi_lars", eta=eta, eps=eps)
    _check_same("multi_lars", lrs, weights_sum_sq=weights_sum_sq, grads_sum_sq=grads_sum_sq,
                wds=wds)
    f32 = np.dtype(np.float32)
    _check_dtypes("multi_lars", f32, lrs=lrs, weights_sum_sq=weights_sum_sq,
                  grads_sum_sq=grads_sum_sq, wds=wds)
    eta_, eps_, resc = _attr(f32, eta), _attr(f32, eps), _attr(f32, rescale_grad)
    w_norm = xp.sqrt(weights_sum_sq)
    valid = (w_norm > 0) & (grads_sum_sq > 0)
    den = xp.sqrt(grads_sum_sq) * resc + wds * w_norm + eps_
    den = xp.where(valid, den, f32.type(1.0))
    return xp.where(valid, lrs * eta_ * w_norm / den, lrs)


# ----------------------------------------------------------------------------- preloaded multi-SGD
def _c_mul(a, b, m):
    """``a * b`` as C++/mshadow computes it into the type ``m``: float16 operands are
    multiplied in float32 and rounded back (mshadow's half_t), others in ``m``."""
    import numpy as np
    p = np.dtype(np.float32) if m == np.float16 else m
    return (a.astype(p) * b.astype(p)).astype(m)


def _preloaded_step(xp, w, grad, mom, lr, wd, momentum, rescale_grad, clip_gradient, m):
    """One weight of MXNet's ``PreloadedMultiSGDKernel`` in the math type ``m``: returns
    ``(new_weight, new_mom)``; ``lr``/``wd`` are float32 0-d arrays (read on the device)."""
    g = grad.astype(m)
    mo = _attr(m, momentum)
    resc, clip = _attr(m, rescale_grad), _attr(m, clip_gradient)
    decay = _c_mul(lr * wd, w, m)                       # (lrs[i] * wds[i]) * w
    if clip >= 0:
        step = _c_mul(lr, _clip(xp, resc * g, clip), m)  # lr * clip(rescale * g)
    else:
        step = _c_mul(lr, resc, m) * g                  # (lr * rescale) * g
    new_mom = (mo * mom if mom is not None else m.type(0.0)) - decay - step
    return w + new_mom, new_mom


def _preloaded_names(fields):
    """Input names: the per-weight groups of ``_multi_inputs``, then ``lrs`` and ``wds``."""
    base = _multi_inputs(fields)

    def names(attrs):
        return base(attrs) + ["lrs", "wds"]
    return names


def _preloaded_shape(per):
    """Shape rule: each group shares one shape; ``lrs`` and ``wds`` keep theirs."""
    groups = _multi_shape(per)

    def infer(attrs, in_shapes):
        r = groups(attrs, list(in_shapes[:-2]))
        if r is None:
            return None
        return list(r[0]) + list(in_shapes[-2:]), r[1]
    return infer


def _preloaded_common(name, arrays, per, num_weights, mp):
    """Check the inputs of a preloaded op (count, lrs/wds sizes and float32, group shapes and
    dtypes); returns the groups and the flat ``lrs``, ``wds``."""
    import numpy as np
    n = int(num_weights)
    if len(arrays) != n * per + 2:
        raise MXNetError("%s: expected %d inputs for num_weights=%d (%d per weight, then lrs and"
                         " wds), got %d" % (name, n * per + 2, n, per, len(arrays)))
    lrs, wds = arrays[-2], arrays[-1]
    for k, a in (("lrs", lrs), ("wds", wds)):
        if a.size != n:
            raise ShapeError("%s: %s has %d elements but num_weights=%d" % (name, k, a.size, n))
    f32 = np.dtype(np.float32)
    _check_dtypes(name, f32, lrs=lrs, wds=wds)
    groups = [arrays[i * per:(i + 1) * per] for i in range(n)]
    n_fp32 = per - 2 if mp else 0             # mom and/or weight32 of the mp variants
    for i, grp in enumerate(groups):
        op = "%s (weight %d)" % (name, i)
        _check_same(op, grp[0], **{"input%d" % j: a for j, a in enumerate(grp[1:], 1)})
        _check_dtypes(op, grp[0].dtype,
                      **{"input%d" % j: grp[j] for j in range(1, per - n_fp32)})
        _check_dtypes(op, f32, **{"input%d" % j: grp[j] for j in range(per - n_fp32, per)})
    return groups, lrs.reshape(-1), wds.reshape(-1)


_PRELOADED_DOC = """{name}: ``{base}`` for ``num_weights`` weights, with the learning rates
    and weight decays as arrays (MXNet 1.9.1's preloaded multi-SGD).

    Inputs are ``num_weights`` groups of ({group}) followed by ``lrs`` and ``wds``: float32
    arrays holding ``num_weights`` values each, read on the device (no host round trip).
    Per weight ``mom = momentum*mom - lrs[i]*wds[i]*w - lrs[i]*clip(rescale_grad*grad)``
    (``momentum`` 0 without state) and the new weight is ``w + mom``.{mp}  Returns the
    ``num_weights`` new weights (pass ``out=`` the weights; MXNet 1.9.1 fails without it,
    psnet then returns new arrays); {state} updated in place."""

_PRELOADED_MP = """  The step runs in
    float32 on the master weight ``weight32`` (updated in place) and the result is cast to
    the weight's dtype; for a float32 weight MXNet uses the weight itself and leaves
    ``weight32`` untouched, and so does psnet."""


def _reg_preloaded(name, base, fields, mp):
    """Register one preloaded multi-SGD op (``fields``: a group's input names)."""
    per = len(fields)
    has_mom = "mom" in fields

    def forward(xp, *arrays, momentum=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                num_weights=1):
        import numpy as np
        groups, lrs, wds = _preloaded_common(name, arrays, per, num_weights, mp)
        outs = []
        for i, grp in enumerate(groups):
            weight, grad = grp[0], grp[1]
            mom = grp[2] if has_mom else None
            use32 = mp and weight.dtype != np.float32
            m = np.dtype(np.float32) if mp else weight.dtype
            w = grp[-1] if use32 else weight.astype(m, copy=False)
            new_w, new_mom = _preloaded_step(xp, w, grad, mom, lrs[i], wds[i],
                                             momentum if has_mom else 0.0, rescale_grad,
                                             clip_gradient, m)
            if has_mom:
                _put(mom, new_mom)
            if use32:
                _put(grp[-1], new_w)
            outs.append(new_w.astype(weight.dtype, copy=False))
        return tuple(outs)

    if not has_mom:
        def forward_nomom(xp, *arrays, rescale_grad=1.0, clip_gradient=-1.0, num_weights=1):
            return forward(xp, *arrays, rescale_grad=rescale_grad,
                           clip_gradient=clip_gradient, num_weights=num_weights)
        fn = forward_nomom
    else:
        fn = forward
    state = " and ".join("``%s``" % f for f in fields[2:]) or "nothing is"
    fn.__doc__ = _PRELOADED_DOC.format(name=name, base=base, group=", ".join(fields),
                                       mp=_PRELOADED_MP if mp else "", state=state)
    fn.__name__ = name
    register(name, inputs=_preloaded_names(fields), num_outputs=_multi_nout,
             infer_shape=_preloaded_shape(per))(fn)


_reg_preloaded("preloaded_multi_sgd_update", "sgd_update", ("weight", "grad"), False)
_reg_preloaded("preloaded_multi_sgd_mom_update", "sgd_mom_update", ("weight", "grad", "mom"),
               False)
_reg_preloaded("preloaded_multi_mp_sgd_update", "mp_sgd_update",
               ("weight", "grad", "weight32"), True)
_reg_preloaded("preloaded_multi_mp_sgd_mom_update", "mp_sgd_mom_update",
               ("weight", "grad", "mom", "weight32"), True)
