"""The Adam family: Adam, Adamax, Nadam, LAMB and FTML, with MXNet 1.9.1's rules.

``t`` below is the number of updates of the weight so far, this one included.
"""
import math

from ..ndarray.ndarray import zeros
from .optimizer import Optimizer, register

__all__ = ["Adam", "Adamax", "Nadam", "LAMB", "FTML", "zero_states"]


def zero_states(weight, n, dtype=None):
    """A tuple of ``n`` zero buffers shaped like ``weight`` on its context (its dtype by default)."""
    dtype = weight.dtype if dtype is None else dtype
    return tuple(zeros(weight.shape, weight.context, dtype=dtype) for _ in range(n))


def _moments(xp, mean, var, g, beta1, beta2):
    """``mean = b1 mean + (1-b1) g; var = b2 var + (1-b2) g^2`` in place."""
    mean *= beta1
    mean += (1.0 - beta1) * g
    var *= beta2
    var += (1.0 - beta2) * xp.square(g)


@register
class Adam(Optimizer):
    """Adam: ``g = clip(rescale_grad * grad + wd * w)``, moments as usual and
    ``w -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon)``."""

    elementwise = True

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        """(mean, variance)."""
        return zero_states(weight, 2)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One Adam step in place."""
        t = self._index_update_count[index]
        lr *= math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)
        mean, var = state
        g = self._grad(xp, grad, wd, weight, clip_after_wd=True)
        _moments(xp, mean, var, g, self.beta1, self.beta2)
        d = xp.sqrt(var)
        d += self.epsilon
        xp.divide(mean, d, out=d)
        d *= lr
        weight -= d


@register
class Adamax(Optimizer):
    """AdaMax (Adam with the infinity norm): ``g = clip(rescale_grad * grad + wd * w)``,
    ``m = b1 m + (1-b1) g; u = max(b2 u, |g|); w -= lr / (1 - b1^t) * m / u``."""

    elementwise = True

    def __init__(self, learning_rate=0.002, beta1=0.9, beta2=0.999, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2

    def create_state(self, index, weight):
        """(mean, infinity-norm estimate)."""
        return zero_states(weight, 2)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One AdaMax step in place."""
        t = self._index_update_count[index]
        lr /= 1.0 - self.beta1 ** t
        m, u = state
        g = self._grad(xp, grad, wd, weight, clip_after_wd=True)
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        u *= self.beta2
        xp.maximum(u, xp.abs(g), out=u)
        weight -= lr * m / u


@register
class Nadam(Optimizer):
    """Nesterov Adam with MXNet's momentum schedule (``schedule_decay``).

    The schedule product ``m_schedule`` is kept on the optimizer, as MXNet does.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 schedule_decay=0.004, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule_decay = schedule_decay
        self.m_schedule = 1.0

    def create_state(self, index, weight):
        """(mean, variance)."""
        return zero_states(weight, 2)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One Nadam step in place."""
        t = self._index_update_count[index]
        g = self._grad(xp, grad, wd, weight, clip_after_wd=True)
        mom_t = self.beta1 * (1.0 - 0.5 * pow(0.96, t * self.schedule_decay))
        mom_next = self.beta1 * (1.0 - 0.5 * pow(0.96, (t + 1) * self.schedule_decay))
        self.m_schedule = self.m_schedule * mom_t
        m_schedule_next = self.m_schedule * mom_next
        m, v = state
        _moments(xp, m, v, g, self.beta1, self.beta2)
        g_prime = g / (1.0 - self.m_schedule)
        m_prime = m / (1.0 - m_schedule_next)
        v_prime = v / (1.0 - pow(self.beta2, t))
        m_bar = (1.0 - mom_t) * g_prime + mom_next * m_prime
        weight -= lr * m_bar / (xp.sqrt(v_prime) + self.epsilon)


@register
class LAMB(Optimizer):
    """LAMB: Adam's direction ``r = m_hat / (sqrt(v_hat) + eps) + wd * w`` scaled per layer
    by the trust ratio ``||w|| / ||r||`` (``||w||`` clamped to [lower_bound, upper_bound])."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6,
                 lower_bound=None, upper_bound=None, bias_correction=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bias_correction

    def create_state(self, index, weight):
        """(mean, variance)."""
        return zero_states(weight, 2)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One LAMB step in place."""
        t = self._index_update_count[index]
        mean, var = state
        g = self._grad(xp, grad)
        _moments(xp, mean, var, g, self.beta1, self.beta2)
        if self.bias_correction:
            r = (mean / (1.0 - self.beta1 ** t)) / (xp.sqrt(var / (1.0 - self.beta2 ** t)) + self.epsilon)
        else:
            r = mean / (xp.sqrt(var) + self.epsilon)
        if wd:
            r += wd * weight
        r1 = float(xp.linalg.norm(weight.astype("float32").ravel()))
        r2 = float(xp.linalg.norm(r.astype("float32").ravel()))
        if self.lower_bound:
            r1 = max(r1, self.lower_bound)
        if self.upper_bound:
            r1 = min(r1, self.upper_bound)
        if r1 != 0.0 and r2 != 0.0:
            lr *= r1 / r2
        weight -= lr * r


@register
class FTML(Optimizer):
    """Follow the Moving Leader: ``g = clip(rescale_grad * grad + wd * w)``,
    ``v = b2 v + (1-b2) g^2; d_t = (1 - b1^t) / lr * (sqrt(v / (1 - b2^t)) + eps);
    z = b1 z + (1 - b1) g - (d_t - b1 d_{t-1}) w; w = -z / d_t``."""

    elementwise = True

    def __init__(self, beta1=0.6, beta2=0.999, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def create_state(self, index, weight):
        """(d, v, z)."""
        return zero_states(weight, 3)

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One FTML step in place."""
        t = self._index_update_count[index]
        d_prev, v, z = state
        g = self._grad(xp, grad, wd, weight, clip_after_wd=True)
        v *= self.beta2
        v += (1.0 - self.beta2) * xp.square(g)
        d = (1.0 - self.beta1 ** t) / lr * (xp.sqrt(v / (1.0 - self.beta2 ** t)) + self.epsilon)
        z *= self.beta1
        z += (1.0 - self.beta1) * g - (d - self.beta1 * d_prev) * weight
        d_prev[...] = d
        xp.divide(-z, d, out=weight)
