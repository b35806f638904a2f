"""The SGD family: SGD (momentum), NAG, Signum/SignSGD and DCASGD, with MXNet 1.9.1's rules."""
from ..ndarray.ndarray import zeros
from .optimizer import Optimizer, register

__all__ = ["SGD", "NAG", "Signum", "DCASGD"]


def momentum_state(weight, momentum):
    """A zero buffer like ``weight`` when ``momentum`` is non-zero, else None."""
    return zeros(weight.shape, weight.context, dtype=weight.dtype) if momentum != 0.0 else None


@register
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum.

    ``g = clip(rescale_grad * grad) + wd * w``; without momentum ``w -= lr * g``; with
    it ``v = momentum * v - lr * g; w += v``.  ``lazy_update`` matters only for sparse
    gradients, which psnet does not have; it is accepted for compatibility.
    """

    elementwise = True

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        """The momentum buffer (None without momentum)."""
        return momentum_state(weight, self.momentum)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """``w -= lr * g`` or the momentum form, in place."""
        c = self.clip_gradient
        if state is None and not wd and (c is None or c <= 0):
            weight -= grad * (lr * float(self.rescale_grad))  # the common case in two passes
            return
        g = self._grad(xp, grad, wd, weight)
        g *= lr
        if state is None:
            weight -= g
        else:
            state *= self.momentum
            state -= g
            weight += state


@register
class NAG(Optimizer):
    """Nesterov accelerated SGD, exactly as MXNet 1.9.1's ``nag_mom_update`` computes it.

    With ``g = clip(rescale_grad * grad)`` and ``d = g + wd * w``:
    ``w' = w + momentum * (momentum * v - lr * d) - lr * d`` and then
    ``v = momentum * v - lr * (g + wd * w')`` (MXNet's kernel reads the weight it has
    just written when it stores the momentum).  Plain SGD without momentum.
    """

    elementwise = True

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        """The momentum buffer (None without momentum)."""
        return momentum_state(weight, self.momentum)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One Nesterov step in place."""
        g = self._grad(xp, grad)
        d = g + wd * weight if wd else g.copy()
        d *= lr
        mu = self.momentum
        if state is not None:
            weight += mu * (mu * state - d)
        weight -= d
        if state is not None:
            state *= mu
            if wd:
                g += wd * weight
            g *= lr
            state -= g


@register
class Signum(Optimizer):
    """Sign of the momentum (Signum), or of the gradient when ``momentum`` is 0 (SignSGD).

    ``v = momentum * v - (1 - momentum) * (clip(rescale_grad * grad) + wd * w);
    w = (1 - lr * wd_lh) * w + lr * sign(v)``; SignSGD: ``w = (1 - lr * wd) * w -
    lr * sign(clip(rescale_grad * grad))``.
    """

    elementwise = True

    def __init__(self, learning_rate=0.01, momentum=0.9, wd_lh=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum
        self.wd_lh = wd_lh

    def create_state(self, index, weight):
        """The momentum buffer (None without momentum)."""
        return momentum_state(weight, self.momentum)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One Signum / SignSGD step in place."""
        if state is None:
            g = self._grad(xp, grad)
            if wd:
                weight *= 1.0 - lr * wd
            weight -= lr * xp.sign(g)
            return
        g = self._grad(xp, grad, wd, weight)
        state *= self.momentum
        state -= (1.0 - self.momentum) * g
        if self.wd_lh:
            weight *= 1.0 - lr * self.wd_lh
        weight += lr * xp.sign(state)


@register
class DCASGD(Optimizer):
    """Delay-compensated asynchronous SGD.

    ``d = lr * (g + wd * w + lamda * g * g * (w - w_prev))`` with ``g =
    clip(rescale_grad * grad)``; ``v = momentum * v - d`` (or ``-d``); ``w_prev = w;
    w += v``.
    """

    elementwise = True

    def __init__(self, momentum=0.0, lamda=0.04, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lamda = lamda

    def create_state(self, index, weight):
        """(momentum buffer or None, copy of the previous weight)."""
        return (momentum_state(weight, self.momentum), weight.copy())

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One DCASGD step in place."""
        mom, prev = state
        g = self._grad(xp, grad)
        d = g + wd * weight + self.lamda * g * g * (weight - prev)
        d *= -lr
        if mom is not None:
            mom *= self.momentum
            mom += d
            d = mom
        prev[...] = weight
        weight += d
