"""Learning-rate schedules (``mx.lr_scheduler``), with MXNet 1.9.1's numbers.

A scheduler is called with ``num_update`` (the largest number of updates applied to any
weight so far) and returns the learning rate.  Every scheduler can warm up first:
``warmup_steps`` updates starting at ``warmup_begin_lr``, rising linearly to ``base_lr``
(``warmup_mode='linear'``) or staying at ``warmup_begin_lr`` (``'constant'``).

Schedulers are plain data: :meth:`LRScheduler.to_config` / :func:`from_config` round-trip
one (its class name and its attributes) through msgpack, which is how an optimizer with
a schedule travels to a parameter server.
"""
import logging
import math

from .base import MXKeyError, MXNetError

__all__ = ["LRScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler",
           "CosineScheduler", "from_config"]

_SCHEDULERS = {}


class LRScheduler:
    """Base class of schedules: holds ``base_lr`` and the warm-up settings.

    Subclasses implement ``__call__(num_update)``; they are registered by class name
    for :func:`from_config` automatically.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _SCHEDULERS[cls.__name__] = cls

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        if not isinstance(warmup_steps, int):
            raise MXNetError("warmup_steps must be an int, got %r" % (warmup_steps,))
        if warmup_steps < 0:
            raise MXNetError("warmup_steps must be >= 0, got %d" % warmup_steps)
        if warmup_begin_lr > base_lr:
            raise MXNetError("warmup_begin_lr %g is above base_lr %g" % (warmup_begin_lr, base_lr))
        if warmup_mode not in ("linear", "constant"):
            raise MXNetError("warmup_mode must be 'linear' or 'constant', got %r" % (warmup_mode,))
        self.base_lr = base_lr
        self.warmup_steps = warmup_steps
        self.warmup_final_lr = base_lr
        self.warmup_begin_lr = warmup_begin_lr
        self.warmup_mode = warmup_mode

    def get_warmup_lr(self, num_update):
        """The learning rate at step ``num_update`` (< warmup_steps) of the warm-up."""
        if self.warmup_mode == "constant":
            return self.warmup_begin_lr
        span = self.warmup_final_lr - self.warmup_begin_lr
        return self.warmup_begin_lr + span * float(num_update) / float(self.warmup_steps)

    def __call__(self, num_update):
        raise NotImplementedError("%s must implement __call__(num_update)" % type(self).__name__)

    def to_config(self):
        """``{'name': class name, 'state': attributes}``: plain data, msgpack-able."""
        return {"name": type(self).__name__, "state": dict(vars(self))}


def from_config(config):
    """Rebuild a scheduler from :meth:`LRScheduler.to_config` output (None gives None)."""
    if config is None:
        return None
    cls = _SCHEDULERS.get(config["name"])
    if cls is None:
        raise MXKeyError("unknown lr scheduler %r (known: %s)" % (config["name"], ", ".join(sorted(_SCHEDULERS))))
    obj = cls.__new__(cls)
    obj.__dict__.update(config["state"])
    return obj


def _check_factor(factor):
    if factor > 1.0:
        raise MXNetError("factor must be <= 1 so that the learning rate decreases, got %g" % factor)


class FactorScheduler(LRScheduler):
    """``base_lr * factor ** floor(num_update / step)``, never below ``stop_factor_lr``."""

    def __init__(self, step, factor=1, stop_factor_lr=1e-8, base_lr=0.01, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if step < 1:
            raise MXNetError("step must be >= 1, got %r" % (step,))
        _check_factor(factor)
        self.step = step
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while num_update > self.count + self.step:
            self.count += self.step
            self.base_lr = max(self.base_lr * self.factor, self.stop_factor_lr)
            logging.info("Update[%d]: learning rate is now %0.5e", num_update, self.base_lr)
        return self.base_lr


class MultiFactorScheduler(LRScheduler):
    """Multiply the rate by ``factor`` each time ``num_update`` passes a value in ``step``."""

    def __init__(self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(step, list) or not step:
            raise MXNetError("step must be a non-empty list of ints, got %r" % (step,))
        if any(s < 1 for s in step) or any(b <= a for a, b in zip(step, step[1:])):
            raise MXNetError("step must be an increasing list of ints >= 1, got %r" % (step,))
        _check_factor(factor)
        self.step = step
        self.cur_step_ind = 0
        self.factor = factor
        self.count = 0

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        while self.cur_step_ind < len(self.step) and num_update > self.step[self.cur_step_ind]:
            self.count = self.step[self.cur_step_ind]
            self.cur_step_ind += 1
            self.base_lr *= self.factor
            logging.info("Update[%d]: learning rate is now %0.5e", num_update, self.base_lr)
        return self.base_lr


class _DecayToFinal(LRScheduler):
    """Shared set-up of the schedules that decay from base_lr to final_lr over max_update."""

    def __init__(self, max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(max_update, int) or max_update < 1:
            raise MXNetError("max_update must be an int >= 1, got %r" % (max_update,))
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = max_update - warmup_steps

    def _shape(self, progress):
        raise NotImplementedError("%s must implement _shape(progress in [0, 1])" % type(self).__name__)

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            progress = float(num_update - self.warmup_steps) / float(self.max_steps)
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * self._shape(progress)
        return self.base_lr


class PolyScheduler(_DecayToFinal):
    """``final_lr + (base_lr - final_lr) * (1 - t / T) ** pwr`` after the warm-up."""

    def __init__(self, max_update, base_lr=0.01, pwr=2, final_lr=0, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        self.power = pwr

    def _shape(self, progress):
        return pow(1.0 - progress, self.power)


class CosineScheduler(_DecayToFinal):
    """``final_lr + (base_lr - final_lr) * (1 + cos(pi * t / T)) / 2`` after the warm-up."""

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)

    def _shape(self, progress):
        return (1.0 + math.cos(math.pi * progress)) / 2.0
