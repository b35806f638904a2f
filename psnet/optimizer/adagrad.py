"""Per-coordinate adaptive rates: AdaGrad, AdaDelta, RMSProp (plain and centered), FTRL."""
from .adam import zero_states
from .optimizer import Optimizer, register

__all__ = ["AdaGrad", "AdaDelta", "RMSProp", "Ftrl"]


@register
class AdaGrad(Optimizer):
    """AdaGrad: ``h += g^2; w -= lr * (g / sqrt(h + eps) + wd * w)`` with
    ``g = clip(rescale_grad * grad)``.  The history is float32, as in MXNet."""

    elementwise = True

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        """The squared-gradient history."""
        return zero_states(weight, 1, "float32")[0]

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One AdaGrad step in place."""
        g = self._grad(xp, grad)
        state += xp.square(g)
        d = g / xp.sqrt(state + self.float_stable_eps)
        if wd:
            d += wd * weight
        d *= lr
        weight -= d


@register
class AdaDelta(Optimizer):
    """AdaDelta (no learning rate): ``a = rho a + (1-rho) g^2;
    d = sqrt(b + eps) / sqrt(a + eps) * g; b = rho b + (1-rho) d^2; w -= d + wd * w``."""

    elementwise = True

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def create_state(self, index, weight):
        """(accumulated g^2, accumulated delta^2), float32 as in MXNet."""
        return zero_states(weight, 2, "float32")

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One AdaDelta step in place."""
        acc_g, acc_d = state
        g = self._grad(xp, grad)
        acc_g *= self.rho
        acc_g += (1.0 - self.rho) * g * g
        d = xp.sqrt(acc_d + self.epsilon) / xp.sqrt(acc_g + self.epsilon) * g
        acc_d *= self.rho
        acc_d += (1.0 - self.rho) * d * d
        if wd:
            d += wd * weight
        weight -= d


@register
class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton), or Graves' centered form with ``centered=True``.

    ``g = clip(rescale_grad * grad + wd * w); n = (1-g1) g^2 + g1 n``; plain:
    ``w -= lr * g / sqrt(n + eps)``; centered: ``m = (1-g1) g + g1 m;
    delta = g2 delta - lr * g / sqrt(n - m^2 + eps); w += delta``; then weights are
    clipped to ``[-clip_weights, clip_weights]`` when set.
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8,
                 centered=False, clip_weights=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centered = centered
        self.epsilon = epsilon
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        """(n,) or, centered, (n, mean g, delta); float32 as in MXNet."""
        return zero_states(weight, 3 if self.centered else 1, "float32")

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One RMSProp step in place."""
        g = self._grad(xp, grad, wd, weight, clip_after_wd=True)
        n = state[0]
        n *= self.gamma1
        n += (1.0 - self.gamma1) * xp.square(g)
        if not self.centered:
            weight -= lr * g / xp.sqrt(n + self.epsilon)
        else:
            _, m, delta = state
            m *= self.gamma1
            m += (1.0 - self.gamma1) * g
            delta *= self.gamma2
            delta -= lr * g / xp.sqrt(n - xp.square(m) + self.epsilon)
            weight += delta
        if self.clip_weights:
            xp.clip(weight, -self.clip_weights, self.clip_weights, out=weight)


@register
class Ftrl(Optimizer):
    """FTRL-proximal: ``z += g - (sqrt(n + g^2) - sqrt(n)) * w / lr; n += g^2;
    w = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) * (|z| > lamda1)``."""

    elementwise = True

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(**kwargs)
        self.lamda1 = lamda1
        self.beta = beta
        self.lr = learning_rate

    def create_state(self, index, weight):
        """(z, n), float32 as in MXNet."""
        return zero_states(weight, 2, "float32")

    def step(self, xp, index, weight, grad, state, lr, wd):
        """One FTRL step in place."""
        z, n = state
        g = self._grad(xp, grad)
        g2 = xp.square(g)
        z += g - (xp.sqrt(n + g2) - xp.sqrt(n)) * weight / lr
        n += g2
        w = (xp.sign(z) * self.lamda1 - z) / ((self.beta + xp.sqrt(n)) / lr + wd)
        w *= xp.abs(z) > self.lamda1
        weight[...] = w
