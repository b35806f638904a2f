"""Large-batch and Langevin optimizers: LARS, LBSGD and SGLD, with MXNet 1.9.1's rules.

LARS and LBSGD scale the learning rate of each weight by a layer-wise quantity (a norm
ratio or a warmup multiplier), so they are not element-wise and are never fused.  SGLD
adds Gaussian noise drawn from the weight's context generator (``mx.random.seed``
makes it reproducible; the draws cannot equal MXNet's, whose generator differs).
"""
import logging
import math

import numpy as np

from ..base import MXNetError, env_int
from ..ndarray.ndarray import from_backend
from .optimizer import Optimizer, register, _raw_state
from .sgd import momentum_state

__all__ = ["LARS", "LBSGD", "SGLD"]

_NO_LARS_SUFFIXES = ("gamma", "beta", "bias")
_WARMUP_STRATEGIES = ("linear", "power2", "sqrt", "lars")


def _sgd_step(opt, xp, weight, grad, mom, momentum, lr, wd):
    """MXNet's ``sgd_update`` / ``sgd_mom_update`` in place: ``g = clip(rescale_grad * grad)
    + wd * w``; ``w -= lr * g`` or ``v = momentum * v - lr * g; w += v``."""
    g = opt._grad(xp, grad, wd, weight)
    g *= lr
    if mom is None:
        weight -= g
    else:
        mom *= momentum
        mom -= g
        weight += mom


def _sum_sq(xp, a):
    """The sum of squares of ``a`` computed in float32 or wider, as a Python float."""
    a = a.astype(np.float32) if a.dtype == np.float16 else a
    return float(xp.vdot(a.ravel(), a.ravel()))


@register
class LARS(Optimizer):
    """LARS (layer-wise adaptive rate scaling), SGD with momentum and a per-layer trust ratio.

    For every weight whose name (``param_idx2name``, else ``str(index)``) does not end in
    ``gamma``, ``beta`` or ``bias``, the learning rate becomes::

        lr * eta * ||w|| / (rescale_grad * ||grad|| + wd * ||w|| + eps)

    when ``||w|| > 0`` and ``||grad|| > 0`` (the raw gradient's norm, before clipping),
    else ``lr``; then MXNet's SGD rule (``sgd_update``/``sgd_mom_update``) runs with it.
    Weight decay applies only to names ending in ``_weight`` (MXNet's LARS
    ``set_wd_mult``).  With ``momentum_correction`` the momentum is multiplied by
    ``cur_lr / last_lr``, the ratio of the global learning rate of this update call to
    that of the previous call (it changes only with an ``lr_scheduler``).

    Parameters
    ----------
    momentum : float
        The momentum (0: plain SGD, no state).
    lazy_update : bool
        Accepted for compatibility (psnet has no sparse gradients).
    eta : float
        The LARS coefficient (default 0.001).
    eps : float
        Added to the denominator of the trust ratio (default 0).
    momentum_correction : bool
        Scale the momentum by the change of the global learning rate.
    """

    def __init__(self, momentum=0.0, lazy_update=True, eta=0.001, eps=0,
                 momentum_correction=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.momentum_correction = momentum_correction
        self.lazy_update = lazy_update
        self.eta = eta
        self.eps = eps
        self.skip = 0
        #: how many weights MXNet's Updater passes to one update call (its momentum
        #: correction is per call); psnet's Updater currently calls once per weight
        self.aggregate_num = env_int("MXNET_OPTIMIZER_AGGREGATION_SIZE", 4)
        self.last_lr = None
        self.cur_lr = None

    def set_wd_mult(self, args_wd_mult):
        """Weight-decay multipliers: names from ``param_idx2name`` not ending in ``_weight``
        get 0 (unlike the base class, ``_gamma`` too), then symbol attributes, then
        ``args_wd_mult``."""
        self.wd_mult = {n: 0.0 for n in self.idx2name.values() if not n.endswith("_weight")}
        self.wd_mult.update(self._symbol_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def _get_lrs(self, indices):
        """Learning rates of several weights; records this call's global learning rate in
        ``cur_lr`` (and the previous one in ``last_lr``) for the momentum correction."""
        if self.cur_lr is not None:
            self.last_lr = self.cur_lr
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        if self.cur_lr is None:
            self.last_lr = lr
        self.cur_lr = lr
        return [lr * self._mult(i, self.lr_mult, "lr_mult") for i in indices]

    def _get_lr(self, index):
        """The learning rate of one weight (through :meth:`_get_lrs`, as MXNet does)."""
        return self._get_lrs([index])[0]

    def create_state(self, index, weight):
        """The momentum buffer (None without momentum)."""
        return momentum_state(weight, self.momentum)

    def _effective_momentum(self):
        """The momentum of this update call, after the learning-rate-change correction."""
        if not self.momentum > 0:
            return 0.0
        if self.momentum_correction and self.last_lr != 0 and self.last_lr is not None:
            return self.momentum * (self.cur_lr / self.last_lr)
        return self.momentum

    def _uses_lars(self, index):
        """Whether weight ``index`` gets the trust ratio (its name does not end in
        gamma/beta/bias)."""
        name = self.idx2name.get(index, str(index))
        return not name.endswith(_NO_LARS_SUFFIXES)

    def update(self, index, weight, grad, state):
        """Update one weight, or a list of weights as one call (one learning-rate record
        and one momentum correction for the whole list, as MXNet's aggregated update)."""
        self._update_impl(index, weight, grad, state, False)

    def update_multi_precision(self, index, weight, grad, state):
        """``update``; float16 weights with ``multi_precision`` update their float32 master
        copy (state ``(master, momentum)``), the trust ratio using the float16 weight's
        norm as MXNet does."""
        first = weight[0] if isinstance(index, (list, tuple)) else weight
        self._update_impl(index, weight, grad, state,
                          self.multi_precision and first.dtype == np.float16)

    def _update_impl(self, index, weight, grad, state, multi_precision):
        if isinstance(index, (list, tuple)):
            indices, weights, grads, states = list(index), list(weight), list(grad), list(state)
        else:
            indices, weights, grads, states = [index], [weight], [grad], [state]
        self._update_count(indices)
        lrs = self._get_lrs(indices)
        wds = self._get_wds(indices)
        for i, w, g, s, lr, wd in zip(indices, weights, grads, states, lrs, wds):
            xp = w._ctx.backend.xp
            if multi_precision:
                master, inner = s
                lr = self._layer_lr(xp, i, w._data, g._data, lr, wd)
                _sgd_step(self, xp, master._data, g._data.astype(np.float32), _raw_state(inner),
                          self._effective_momentum(), lr, wd)
                w._data[...] = master._data
            else:
                self.step(xp, i, w._data, g._data, _raw_state(s), lr, wd)

    def _layer_lr(self, xp, index, weight, grad, lr, wd):
        """``lr`` times the trust ratio, or ``lr`` for a gamma/beta/bias or a zero norm."""
        if not self._uses_lars(index):
            return lr
        w_norm = math.sqrt(_sum_sq(xp, weight))
        g_sq = _sum_sq(xp, grad)
        if w_norm > 0.0 and g_sq > 0.0:
            g_norm = math.sqrt(g_sq) * float(self.rescale_grad)
            return lr * self.eta * w_norm / (g_norm + wd * w_norm + self.eps)
        return lr

    def step(self, xp, index, weight, grad, state, lr, wd):
        """Scale ``lr`` by the trust ratio (unless the weight is a gamma/beta/bias), then
        one SGD (momentum) step in place."""
        lr = self._layer_lr(xp, index, weight, grad, lr, wd)
        _sgd_step(self, xp, weight, grad, state, self._effective_momentum(), lr, wd)


@register
class LBSGD(Optimizer):
    """Large-batch SGD: SGD with momentum whose learning rate is scaled by a warmup
    multiplier or a LARS ratio, optionally over gradients accumulated across
    ``batch_scale`` calls.

    Each update of a weight adds its gradient to an accumulator and counts ``num_cums``
    (starting from ``begin_epoch * updates_per_epoch + 1``).  When ``num_cums`` is a
    multiple of ``batch_scale``, the mean accumulated gradient ``G`` updates the weight by
    MXNet's SGD rule (``g = clip(rescale_grad * G) + wd * w``) with the learning rate
    (taken before this update is counted) multiplied by:

    * ``'linear'``: ``1 + (batch_scale - 1) * n / N``; ``'power2'``: ``1 + (batch_scale - 1)
      * n^2 / N^2``; ``'sqrt'``: ``1 + (batch_scale - 1) * sqrt(n / N)``, with ``n =
      num_cums`` and ``N = warmup_epochs * updates_per_epoch``; ``batch_scale`` once
      ``n >= N``, 1 when ``N <= 1``;
    * ``'lars'``: ``sqrt(|w|^2 / (|G|^2 + wd |w|^2 + 1e-18))`` clipped into [0.01, 100]
      (the unscaled gradient).

    Otherwise the weight is left unchanged.  As in MXNet, the first accumulator of a
    weight is the gradient array itself (not a copy), so with ``batch_scale > 1`` the
    first large batch sees the gradient buffer's contents at its last call twice or more
    when the caller reuses that buffer.  ``to_config`` carries the counts ``cumgrads``
    but not a partly accumulated gradient.  ``num_epochs`` is accepted and unused, as in
    MXNet.
    """

    def __init__(self, momentum=0.0, multi_precision=False, warmup_strategy="linear",
                 warmup_epochs=5, batch_scale=1, updates_per_epoch=32, begin_epoch=0,
                 num_epochs=60, **kwargs):
        super().__init__(multi_precision=multi_precision, **kwargs)
        if warmup_strategy not in _WARMUP_STRATEGIES:
            raise MXNetError("LBSGD: warmup_strategy must be one of %s, got %r"
                             % (", ".join(repr(s) for s in _WARMUP_STRATEGIES), warmup_strategy))
        if not isinstance(batch_scale, (int, float, np.integer, np.floating)) or not batch_scale >= 1:
            raise MXNetError("LBSGD: batch_scale must be a number >= 1, got %r" % (batch_scale,))
        for name, value in (("warmup_epochs", warmup_epochs), ("updates_per_epoch", updates_per_epoch),
                            ("begin_epoch", begin_epoch)):
            if not isinstance(value, (int, float, np.integer, np.floating)) or value < 0:
                raise MXNetError("LBSGD: %s must be a number >= 0, got %r" % (name, value))
        logging.info("Running Large-Batch SGD Algorithm")
        logging.info("(Batch_scale=%f, warmup_epochs=%d, warmup_strategy=%s, updates_per_epoch=%d)",
                     batch_scale, warmup_epochs, warmup_strategy, updates_per_epoch)
        self.momentum = momentum
        self.warmup_strategy = warmup_strategy
        self.warmup_epochs = warmup_epochs
        self.batch_scale = batch_scale
        self.updates_per_epoch = updates_per_epoch
        self.init_updates = begin_epoch * updates_per_epoch
        self.num_epochs = num_epochs
        self.lbmult = 1
        #: ``{index: {'num_cums': count}}`` (plain data, carried by ``to_config``)
        self.cumgrads = {}
        self._cum_grad = {}
        self.adaptive = False
        self.admult = 1

    def create_state(self, index, weight):
        """The momentum buffer (None without momentum)."""
        return momentum_state(weight, self.momentum)

    def _get_lbmult(self, nup):
        """The warmup multiplier of the learning rate after ``nup`` accumulated updates."""
        nwup = self.warmup_epochs * self.updates_per_epoch
        maxmult = float(self.batch_scale)
        if nup >= nwup:
            return maxmult
        if nwup <= 1:
            return 1.0
        if self.warmup_strategy == "linear":
            return 1.0 + (maxmult - 1) * nup / nwup
        if self.warmup_strategy == "power2":
            return 1.0 + (maxmult - 1) * (nup * nup) / (nwup * nwup)
        if self.warmup_strategy == "sqrt":
            return 1.0 + (maxmult - 1) * math.sqrt(float(nup) / nwup)
        return 1.0

    def _get_lars(self, xp, weight, grad, wd):
        """The 'lars' multiplier ``sqrt(|w|^2 / (|g|^2 + wd |w|^2 + 1e-18))`` in [0.01, 100]."""
        w2 = float(xp.sum(weight * weight))
        g2 = float(xp.sum(grad * grad))
        lars = math.sqrt(w2 / (g2 + wd * w2 + 1e-18))
        return min(max(lars, 0.01), 100.0)

    def _cumulate(self, index, grad):
        """Add ``grad`` to the accumulator of ``index``; the new ``num_cums``."""
        entry = self.cumgrads.get(index)
        acc = self._cum_grad.get(index)
        if entry is not None and entry["num_cums"] > 0:
            if acc is None:
                acc = from_backend(grad._data.copy(), grad._ctx)  # MXNet: 0 + grad
            else:
                acc = from_backend(acc._data + grad._data, grad._ctx)
            num_cums = entry["num_cums"] + 1
        else:
            acc = grad  # MXNet keeps the gradient array itself as the first accumulator
            num_cums = self.init_updates + 1
        self._cum_grad[index] = acc
        self.cumgrads[index] = {"num_cums": num_cums}
        return num_cums

    def update(self, index, weight, grad, state):
        """Accumulate ``grad``; every ``batch_scale``-th call, one SGD step with the mean."""
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update(i, w, g, s)
            return
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        self._update_count(index)
        num_cums = self._cumulate(index, grad)
        if num_cums % self.batch_scale == 0:
            acc = self._cum_grad.pop(index)
            g = acc._data / self.batch_scale
            self.step(weight._ctx.backend.xp, index, weight._data, g, _raw_state(state), lr, wd)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One SGD (momentum) step in place with ``lr`` times the warmup or LARS multiplier;
        ``grad`` is the mean accumulated gradient."""
        if self.warmup_strategy == "lars":
            mult = self._get_lars(xp, weight, grad, wd)
        else:
            mult = self._get_lbmult(self.cumgrads[index]["num_cums"])
        momentum = self.momentum if self.momentum > 0 else 0.0
        _sgd_step(self, xp, weight, grad, state, momentum, lr * mult, wd)


@register
class SGLD(Optimizer):
    """Stochastic gradient Langevin dynamics.

    ``w += -lr / 2 * (clip(rescale_grad * grad) + wd * w)``, then ``w += N(0, lr)`` noise
    (standard deviation ``sqrt(lr)``, the weight's dtype) drawn from the generator of the
    weight's context, as ``mx.nd.random.normal`` draws.  The clip applies whenever
    ``clip_gradient`` is not None, as in MXNet.
    """

    def create_state(self, index, weight):
        """SGLD has no state."""
        return None

    def update(self, index, weight, grad, state):
        """The drift (:meth:`step`), then the Langevin noise from the context's generator."""
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update(i, w, g, s)
            return
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        self.step(weight._ctx.backend.xp, index, weight._data, grad._data, None, lr, wd)
        from ..ndarray import random as _random
        noise = _random.normal(0, math.sqrt(lr), shape=weight.shape, dtype=weight.dtype,
                               ctx=weight.context)
        weight._data += noise._data

    def step(self, xp, index, weight, grad, state, lr, wd):
        """The noise-free half: ``w += -lr / 2 * (clip(rescale_grad * grad) + wd * w)``."""
        g = grad * float(self.rescale_grad)
        c = self.clip_gradient
        if c is not None:
            g = xp.minimum(xp.maximum(g, -c), c)
        if wd:
            g += wd * weight
        g *= -lr / 2
        weight += g

