"""``mx.init``: weight initializers, chosen per parameter name as MXNet 1.x does.

An :class:`Initializer` is called as ``init(desc, arr)`` with an :class:`InitDesc` (the
parameter's name plus attributes) and the NDArray to fill.  A descriptor carrying an
``'__init__'`` attribute (what Gluon's ``Parameter`` passes) is filled by that
initializer's ``_init_weight``; otherwise the name's suffix picks the method:
``weight`` -> ``_init_weight``, ``bias`` -> ``_init_bias`` (zeros), ``gamma`` -> ones,
``beta`` -> zeros, ``moving_mean``/``running_mean`` -> zeros, ``moving_var``/``running_var``
-> ones, ...  User subclasses override ``_init_weight`` / ``_init_bias``.

Random values come straight from the array's context generator
(``ctx.backend.rng(ctx)``), so ``mx.random.seed`` makes initialization reproducible.
"""
import json
import logging
import re

import numpy as np

from . import ndarray as _nd
from .base import MXKeyError, MXNetError, ShapeError
from .registry import Registry

__all__ = ["InitDesc", "Initializer", "register", "alias", "create", "Load", "Mixed", "Zero", "One",
           "Constant", "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu", "Bilinear", "LSTMBias"]

_REGISTRY = Registry("initializer")


class InitDesc(str):
    """A parameter name (a ``str``) with attributes guiding initialization.

    ``attrs`` may hold ``'__init__'``: an Initializer (or its name / ``dumps()`` string)
    that fills the array whatever its name.  ``global_init`` is the initializer the
    descriptor was first handed to.
    """

    def __new__(cls, name, attrs=None, global_init=None):
        ret = super().__new__(cls, name)
        ret.attrs = attrs or {}
        ret.global_init = global_init
        return ret


def register(klass):
    """Class decorator registering an initializer class under its lower-cased name."""
    return _REGISTRY.register(klass)


def alias(*aliases):
    """Class decorator registering an initializer class under extra names."""
    return _REGISTRY.alias(*aliases)


def create(init, /, **kwargs):
    """An Initializer from an instance (returned as is), a registered name or ``dumps()`` JSON."""
    if isinstance(init, type):
        return init(**kwargs)
    if not isinstance(init, str):
        if callable(init):  # Initializer, Mixed, Load or any init(desc, arr) callable
            return init
        raise MXNetError("cannot create an initializer from %r; give an Initializer, "
                         "a registered name or a dumps() string" % (init,))
    if init.startswith("["):
        name, args = json.loads(init)
        return create(name, **dict(args, **kwargs))
    return _REGISTRY.find(init)(**kwargs)


def _fill(arr, values):
    """Write backend array (or scalar) ``values`` into NDArray ``arr``, casting to its dtype."""
    arr._assign_data(values.astype(arr._data.dtype, copy=False) if hasattr(values, "astype") else values)


def _draw_dtype(arr):
    dt = arr._data.dtype
    return dt if dt in (np.float32, np.float64) else np.dtype(np.float32)


def _uniform(arr, low, high, shape=None):
    """Uniform values in [low, high) from ``arr``'s context generator, with ``arr``'s shape."""
    ctx = arr._ctx
    r = ctx.backend.rng(ctx).random(arr.shape if shape is None else shape, dtype=_draw_dtype(arr))
    r *= high - low
    r += low
    return r


def _normal(arr, mean, sigma, shape=None):
    """Normal values N(mean, sigma^2) from ``arr``'s context generator."""
    ctx = arr._ctx
    r = ctx.backend.rng(ctx).standard_normal(arr.shape if shape is None else shape, dtype=_draw_dtype(arr))
    r *= sigma
    if mean:
        r += mean
    return r


class Initializer:
    """Base class of initializers: ``init(desc, arr)`` fills ``arr`` in place.

    Constructor keyword arguments are kept for :meth:`dumps`; subclasses pass theirs to
    ``super().__init__(**kwargs)``.
    """

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None

    def set_verbosity(self, verbose=False, print_func=None):
        """Log (``logging.info``) a statistic of each initialized array, by default its L2 norm / sqrt(size)."""
        self._verbose = verbose
        if print_func is None:
            def print_func(x):
                return str((np.linalg.norm(x.asnumpy()) / np.sqrt(x.size)).item())
        self._print_func = print_func
        return self

    def _verbose_print(self, desc, init, arr):
        if self._verbose and self._print_func:
            logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))

    def dumps(self):
        """The JSON string ``["name", {kwargs}]`` that :func:`create` turns back into this initializer."""
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])

    def __repr__(self):
        return "%s(%s)" % (self.__class__.__name__,
                           ", ".join("%s=%r" % kv for kv in self._kwargs.items()))

    def __call__(self, desc, arr):
        """Fill NDArray ``arr`` for the parameter described by ``desc`` (InitDesc or name)."""
        if not isinstance(desc, InitDesc):
            desc = InitDesc(str(desc))
        if desc.global_init is None:
            desc.global_init = self
        init = desc.attrs.get("__init__", "")
        if init:
            create(init)._init_weight(desc, arr)
            self._verbose_print(desc, init, arr)
            return
        for suffix, method, label in _SUFFIX_RULES:
            if desc.endswith(suffix):
                getattr(self, method)(desc, arr)
                self._verbose_print(desc, label, arr)
                return
        self._init_default(desc, arr)

    # ---- per-kind methods (override in subclasses)
    def _init_bias(self, _, arr):
        _fill(arr, 0.0)

    def _init_gamma(self, _, arr):
        _fill(arr, 1.0)

    def _init_beta(self, _, arr):
        _fill(arr, 0.0)

    def _init_zero(self, _, arr):
        _fill(arr, 0.0)

    def _init_one(self, _, arr):
        _fill(arr, 1.0)

    def _init_weight(self, name, arr):
        raise NotImplementedError("%s must override _init_weight (needed for %s)"
                                  % (type(self).__name__, name))

    def _init_default(self, name, _):
        raise MXNetError(
            'Unknown initialization pattern for %s. Default initialization is limited to names '
            'ending in "weight", "bias", "gamma" (1.0), "beta" (0.0), "moving_mean"/"running_mean" '
            '(0.0) and "moving_var"/"running_var" (1.0); give the parameter an init= instead' % name)


# suffix -> method, in MXNet's order of precedence
_SUFFIX_RULES = (
    ("weight", "_init_weight", "weight"), ("bias", "_init_bias", "bias"),
    ("gamma", "_init_gamma", "gamma"), ("beta", "_init_beta", "beta"),
    ("min", "_init_zero", "min"), ("max", "_init_one", "max"),
    ("moving_mean", "_init_zero", "moving_mean"), ("running_mean", "_init_zero", "running_mean"),
    ("moving_var", "_init_one", "moving_var"), ("running_var", "_init_one", "running_var"),
    ("moving_inv_var", "_init_zero", "moving_inv_var"), ("moving_avg", "_init_zero", "moving_avg"),
    ("state", "_init_zero", "state"), ("state_cell", "_init_zero", "state_cell"),
)


@register
class Load:
    """Initialize by loading from a dict (or an ``mx.nd.save`` file) of arrays by name.

    ``'arg:'`` / ``'aux:'`` prefixes in the keys are dropped.  Names not found go to
    ``default_init``; without one they are an error naming the parameter.
    """

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, str):
            param = _nd.load(param)
        self.param = {}
        for name, arr in param.items():
            if name.startswith("arg:") or name.startswith("aux:"):
                name = name[4:]
            self.param[name] = arr
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name, arr):
        """Fill ``arr`` with the stored array ``name`` (shapes must match)."""
        src = self.param.get(str(name))
        if src is not None:
            if tuple(arr.shape) != tuple(src.shape):
                raise ShapeError("Parameter %s cannot be initialized from loading: shape mismatch, "
                                 "target %s vs loaded %s" % (name, arr.shape, src.shape))
            arr[:] = src.as_in_context(arr.context) if hasattr(src, "as_in_context") else src
            if self.verbose:
                logging.info("Initialized %s by loading", name)
        elif self.default_init is not None:
            self.default_init(name, arr)
        else:
            raise MXKeyError("cannot initialize %s: it is not in the loaded parameters and no "
                             "default_init was given" % name)


@register
class Mixed:
    """Use the first initializer whose regex ``pattern`` matches the parameter name."""

    def __init__(self, patterns, initializers):
        if len(patterns) != len(initializers):
            raise MXNetError("Mixed: %d patterns but %d initializers" % (len(patterns), len(initializers)))
        self.map = [(re.compile(p), create(i)) for p, i in zip(patterns, initializers)]

    def __call__(self, name, arr):
        """Fill ``arr`` with the initializer matching ``name``."""
        for prog, init in self.map:
            if prog.match(str(name)):
                init(name, arr)
                return
        raise MXNetError('Parameter name %s did not match any pattern. Consider adding a ".*" '
                         'pattern at the end with a default Initializer.' % name)


@register
@alias("zeros")
class Zero(Initializer):
    """Fill with zeros."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        _fill(arr, 0.0)


@register
@alias("ones")
class One(Initializer):
    """Fill with ones."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        _fill(arr, 1.0)


@register
class Constant(Initializer):
    """Fill with a scalar or an array-like ``value`` (broadcast to the parameter's shape)."""

    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, _, arr):
        value = self.value
        if hasattr(value, "asnumpy"):
            value = value.asnumpy()
        if not np.isscalar(value):
            value = arr._ctx.backend.from_numpy(np.asarray(value))
        _fill(arr, value)

    def dumps(self):
        """JSON of this initializer (an array value is stored as nested lists)."""
        value = self.value.asnumpy() if hasattr(self.value, "asnumpy") else self.value
        value = value.tolist() if isinstance(value, np.ndarray) else value
        return json.dumps([self.__class__.__name__.lower(), {"value": value}])


@register
class Uniform(Initializer):
    """Uniform values in [-scale, scale) (the Gluon default, scale 0.07)."""

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale

    def _init_weight(self, _, arr):
        _fill(arr, _uniform(arr, -self.scale, self.scale))


@register
class Normal(Initializer):
    """Normal values with mean 0 and standard deviation ``sigma``."""

    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)
        self.sigma = sigma

    def _init_weight(self, _, arr):
        _fill(arr, _normal(arr, 0.0, self.sigma))


@register
class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix from the SVD of a random one (Saxe et al., 2013)."""

    def __init__(self, scale=1.414, rand_type="uniform"):
        super().__init__(scale=scale, rand_type=rand_type)
        if rand_type not in ("uniform", "normal"):
            raise MXNetError("Orthogonal: rand_type must be 'uniform' or 'normal', got %r" % (rand_type,))
        self.scale = scale
        self.rand_type = rand_type

    def _init_weight(self, _, arr):
        nout = arr.shape[0]
        nin = int(np.prod(arr.shape[1:]))
        xp = arr._ctx.backend.xp
        if self.rand_type == "uniform":
            tmp = _uniform(arr, -1.0, 1.0, (nout, nin))
        else:
            tmp = _normal(arr, 0.0, 1.0, (nout, nin))
        u, _, v = xp.linalg.svd(tmp, full_matrices=False)
        res = u if u.shape == tmp.shape else v
        _fill(arr, (self.scale * res).reshape(arr.shape))


@register
class Xavier(Initializer):
    """Xavier/Glorot initialization keeping the activation variance about constant.

    ``scale = sqrt(magnitude / factor)`` with factor the fan-in, fan-out or their average
    (``factor_type`` 'in'/'out'/'avg'); values are uniform in [-scale, scale] or normal
    with standard deviation ``scale`` (``rnd_type`` 'uniform'/'gaussian').
    """

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        if rnd_type not in ("uniform", "gaussian"):
            raise MXNetError("Xavier: rnd_type must be 'uniform' or 'gaussian', got %r" % (rnd_type,))
        if factor_type not in ("avg", "in", "out"):
            raise MXNetError("Xavier: factor_type must be 'avg', 'in' or 'out', got %r" % (factor_type,))
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)

    def _init_weight(self, name, arr):
        shape = arr.shape
        if len(shape) < 2:
            raise ShapeError("Xavier initializer cannot be applied to vector %s: it needs at least "
                             "2 dimensions, got shape %s" % (name, shape))
        hw_scale = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
        fan_in, fan_out = shape[1] * hw_scale, shape[0] * hw_scale
        factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[self.factor_type]
        scale = np.sqrt(self.magnitude / factor)
        if self.rnd_type == "uniform":
            _fill(arr, _uniform(arr, -scale, scale))
        else:
            _fill(arr, _normal(arr, 0.0, scale))


@register
class MSRAPrelu(Xavier):
    """He/MSRA initialization for (P)ReLU networks: Xavier gaussian with magnitude 2/(1+slope^2)."""

    def __init__(self, factor_type="avg", slope=0.25):
        super().__init__("gaussian", factor_type, 2.0 / (1 + slope ** 2))
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class Bilinear(Initializer):
    """Bilinear-interpolation kernels for upsampling (``Deconvolution``) weights of shape
    ``(..., height, width)``: every ``(height, width)`` slice holds the same kernel
    ``(1 - |x / f - c|) * (1 - |y / f - c|)`` with ``f = ceil(width / 2)``,
    ``c = (2f - 1 - f % 2) / (2f)``."""

    def __init__(self):
        super().__init__()

    def _init_weight(self, name, arr):
        if arr.ndim < 2:
            raise ShapeError("Bilinear needs a weight of at least 2 dimensions (..., height, width); "
                             "%s has shape %s" % (name, arr.shape))
        height, width = arr.shape[-2:]
        f = np.ceil(width / 2.0)
        c = (2 * f - 1 - f % 2) / (2.0 * f)
        x = np.arange(width, dtype=np.float64)
        y = np.arange(height, dtype=np.float64)
        kernel = np.outer(1 - np.abs(y / f - c), 1 - np.abs(x / f - c))
        _fill(arr, arr._ctx.backend.from_numpy(np.ascontiguousarray(np.broadcast_to(kernel, arr.shape))))


@register
class LSTMBias(Initializer):
    """Zero LSTM biases except the forget gate's (the second quarter), set to ``forget_bias``."""

    def __init__(self, forget_bias=1.0):
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, _, arr):
        _fill(arr, 0.0)
        num_hidden = arr.shape[0] // 4
        arr._data[num_hidden:2 * num_hidden] = self.forget_bias


@register
class FusedRNN(Initializer):
    """Initialize the flat parameter vector of the fused ``RNN`` op gate by gate.

    Each gate's weight (named as MXNet's FusedRNNCell, ``l0_i2h_f_weight``) is filled by
    ``init`` (default: the global initializer), biases with zeros, and LSTM forget-gate
    biases with ``forget_bias``.
    """

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False, forget_bias=1.0):
        if isinstance(init, str):
            init = create(init)
        super().__init__(init=init.dumps() if init is not None else None, num_hidden=num_hidden,
                         num_layers=num_layers, mode=mode, bidirectional=bidirectional,
                         forget_bias=forget_bias)
        self._init = init
        self._num_hidden, self._num_layers, self._mode = num_hidden, num_layers, mode
        self._bidirectional, self._forget_bias = bidirectional, forget_bias

    def _init_weight(self, desc, arr):
        from .ops.rnn import gate_blocks
        flat = arr.asnumpy().astype(np.float64)
        for name, off, shape in gate_blocks(arr.size, self._num_hidden, self._num_layers, self._mode,
                                            self._bidirectional):
            block = _nd.zeros(shape, ctx=arr._ctx, dtype=arr.dtype)
            if self._mode == "lstm" and name.endswith("_f_bias"):
                _fill(block, self._forget_bias)
            else:
                init = self._init if self._init is not None else desc.global_init
                init(InitDesc(name, global_init=desc.global_init), block)
            flat[off:off + block.size] = block.asnumpy().ravel()
        _fill(arr, arr._ctx.backend.from_numpy(flat))
