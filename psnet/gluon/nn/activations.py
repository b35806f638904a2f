"""Activation layers: Activation, LeakyReLU, PReLU, ELU, SELU, GELU, Swish."""
from ... import initializer
from ...base import MXNetError
from ..block import HybridBlock

__all__ = ["Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "GELU", "Swish"]

_ACT_TYPES = ("relu", "sigmoid", "tanh", "softrelu", "softsign")


class Activation(HybridBlock):
    """Elementwise activation: 'relu', 'sigmoid', 'tanh', 'softrelu' or 'softsign'."""

    def __init__(self, activation, **kwargs):
        if activation not in _ACT_TYPES:
            raise MXNetError("Activation: unknown activation %r; choose one of %s"
                             % (activation, ", ".join(_ACT_TYPES)))
        self._act_type = activation
        super().__init__(**kwargs)

    def _alias(self):
        return self._act_type

    def hybrid_forward(self, F, x):
        """``F.Activation(x, act_type)``."""
        return F.Activation(x, act_type=self._act_type)

    def __repr__(self):
        return "{name}({_act_type})".format(name=self.__class__.__name__, **self.__dict__)


class LeakyReLU(HybridBlock):
    """``x`` for x > 0, ``alpha * x`` otherwise."""

    def __init__(self, alpha, **kwargs):
        if alpha < 0:
            raise MXNetError("Slope coefficient for LeakyReLU must be no less than 0, got %s" % alpha)
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        """``F.LeakyReLU(x, act_type='leaky', slope=alpha)``."""
        return F.LeakyReLU(x, act_type="leaky", slope=self._alpha)

    def __repr__(self):
        return "{name}({alpha})".format(name=self.__class__.__name__, alpha=self._alpha)


class PReLU(HybridBlock):
    """Leaky ReLU with a learned slope per channel (``in_channels`` slopes, axis 1)."""

    def __init__(self, alpha_initializer=initializer.Constant(0.25), in_channels=1, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.alpha = self.params.get("alpha", shape=(in_channels,), init=alpha_initializer)

    def hybrid_forward(self, F, x, alpha):
        """``F.LeakyReLU(x, alpha, act_type='prelu')``."""
        return F.LeakyReLU(x, alpha, act_type="prelu")


class ELU(HybridBlock):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        """``F.LeakyReLU(x, act_type='elu', slope=alpha)``."""
        return F.LeakyReLU(x, act_type="elu", slope=self._alpha)


class SELU(HybridBlock):
    """Scaled ELU (Klambauer et al., 2017)."""

    def hybrid_forward(self, F, x):
        """``F.LeakyReLU(x, act_type='selu')``."""
        return F.LeakyReLU(x, act_type="selu")


class GELU(HybridBlock):
    """Gaussian error linear unit ``x * Phi(x)``."""

    def hybrid_forward(self, F, x):
        """``F.LeakyReLU(x, act_type='gelu')``."""
        return F.LeakyReLU(x, act_type="gelu")


class Swish(HybridBlock):
    """``x * sigmoid(beta * x)``."""

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self._beta = beta

    def hybrid_forward(self, F, x):
        """``x * F.sigmoid(beta * x)``."""
        return x * F.sigmoid(self._beta * x)
