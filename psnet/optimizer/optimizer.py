"""The :class:`Optimizer` base class, the optimizer registry and the plain-data config.

An optimizer updates one weight from its gradient: ``update(index, weight, grad, state)``
with ``state = create_state(index, weight)``.  The same classes serve ``gluon.Trainer``,
``kv.set_optimizer`` on a local store and the dist servers, which rebuild an optimizer
from :meth:`Optimizer.to_config` with :func:`from_config` (no pickle on the wire).

Update rules work on the raw backend arrays (``nd._data``) with in-place NumPy/CuPy
operations, so an update costs a handful of vectorised array operations and no
dispatcher round trips.
"""
import inspect
import warnings

import numpy as np

from ..base import MXKeyError, MXNetError
from .. import lr_scheduler as _lrs
from ..registry import Registry

__all__ = ["Optimizer", "register", "create", "from_config", "UnknownOptimizerError"]


class UnknownOptimizerError(MXKeyError, ValueError):
    """An optimizer name that is not registered (a ValueError as in MXNet, and a KeyError)."""


# constructor arguments that are not plain data; to_config carries their content otherwise
_NOT_CONFIG = ("param_dict", "sym", "lr_scheduler", "param_idx2name")
# attributes that to_config carries as state besides the constructor arguments
_STATE_ATTRS = ("lr", "wd", "rescale_grad", "clip_gradient", "multi_precision", "num_update",
                "begin_num_update", "lr_mult", "wd_mult", "idx2name")


class Optimizer:
    """Base class of optimizers (MXNet's ``mx.optimizer.Optimizer``).

    Parameters
    ----------
    rescale_grad : float
        Gradients are multiplied by this first (the Trainer sets ``1 / batch_size``).
    param_idx2name : dict of int to str
        Names of the weight indices; names not ending in ``_weight``/``_gamma`` get no
        weight decay by default, as in MXNet.
    wd : float
        Weight decay (L2 penalty) coefficient.
    clip_gradient : float or None
        Clip the rescaled gradient into ``[-clip_gradient, clip_gradient]``.
    learning_rate : float or None
        Default 0.01 when no ``lr_scheduler`` is given.
    lr_scheduler : LRScheduler or None
        Gives the learning rate from the number of updates.
    begin_num_update : int
        The update count to start from.
    multi_precision : bool
        Keep a float32 master copy of float16 weights and update that.
    param_dict : dict of int to gluon Parameter
        Per-index ``lr_mult``/``wd_mult`` taken from Gluon parameters.
    """

    opt_registry = Registry("optimizer", error=UnknownOptimizerError)
    #: True when ``step`` is the same element-wise rule for every coordinate and needs no
    #: per-weight quantity but the update count, so several weights may be updated as one
    #: flat array (see :mod:`psnet.optimizer.fused`)
    elementwise = False

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        try:
            bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        except TypeError:
            bound = None  # __init__ reports the bad call itself
        if bound is not None:
            init = dict(bound.arguments)
            init.pop(next(iter(init)))  # self
            var_kw = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                      if p.kind is p.VAR_KEYWORD]
            for name in var_kw:
                init.update(init.pop(name, {}))
            obj._init_args = init
        return obj

    def __init__(self, rescale_grad=1.0, param_idx2name=None, wd=0.0, clip_gradient=None,
                 learning_rate=None, lr_scheduler=None, sym=None, begin_num_update=0,
                 multi_precision=False, param_dict=None):
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if lr_scheduler is not None and learning_rate is not None and lr_scheduler.base_lr != learning_rate:
            warnings.warn("learning rate from ``lr_scheduler`` has been overwritten by "
                          "``learning_rate`` in optimizer.")
            lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._all_index_update_counts = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise MXNetError("param_idx2name must be a dict of index -> name, got %s"
                             % type(param_idx2name).__name__)
        self.idx2name = dict(param_idx2name)
        self.sym_info = ()
        if sym is not None:
            self.sym_info = (sym.attr_dict(), sym.list_arguments())
        self.param_dict = param_dict if param_dict else {}
        self.set_lr_mult({})
        self.set_wd_mult({})

    # ------------------------------------------------------------------ registry
    @staticmethod
    def register(klass):
        """Class decorator registering an optimizer under its lower-cased class name."""
        return Optimizer.opt_registry.register(klass)

    @staticmethod
    def create_optimizer(name, **kwargs):
        """An instance of the optimizer registered as ``name`` (case-insensitive)."""
        return Optimizer.opt_registry.find(name)(**kwargs)

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self):
        """The current learning rate (from the scheduler when there is one)."""
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_learning_rate(self, lr):
        """Set the learning rate; not allowed when a scheduler decides it."""
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of the "
                              "optimizer only when the LRScheduler of the optimizer is undefined.")
        self.lr = lr

    def set_lr_mult(self, args_lr_mult):
        """Per-parameter learning-rate multipliers, keyed by name or index."""
        self.lr_mult = self._symbol_mults("__lr_mult__")
        self.lr_mult.update(args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        """Per-parameter weight-decay multipliers, keyed by name or index.

        Names from ``param_idx2name`` that do not end in ``_weight`` or ``_gamma`` get 0.
        """
        self.wd_mult = {n: 0.0 for n in self.idx2name.values()
                        if not (n.endswith("_weight") or n.endswith("_gamma"))}
        self.wd_mult.update(self._symbol_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def _symbol_mults(self, key):
        """``{argument name: float}`` of the symbol's arguments carrying attribute ``key``
        (``'__lr_mult__'`` / ``'__wd_mult__'``); empty without a symbol."""
        if not self.sym_info:
            return {}
        attr, arg_names = self.sym_info
        return {name: float(attr[name][key]) for name in arg_names if key in attr.get(name, {})}

    def _set_current_context(self, device_id):
        """Count updates separately per device (the Updater calls this before updating)."""
        self._index_update_count = self._all_index_update_counts.setdefault(device_id, {})

    def _update_count(self, index):
        """Count one more update of ``index`` (or of each index of a list)."""
        counts = self._index_update_count
        for idx in (index if isinstance(index, (list, tuple)) else (index,)):
            counts[idx] = counts.get(idx, self.begin_num_update) + 1
            if counts[idx] > self.num_update:
                self.num_update = counts[idx]

    def _mult(self, index, table, attr):
        p = self.param_dict.get(index)
        if p is not None:
            return getattr(p, attr)
        if index in table:
            return table[index]
        if index in self.idx2name:
            return table.get(self.idx2name[index], 1.0)
        return 1.0

    def _get_lr(self, index):
        """The learning rate of weight ``index`` (scheduler or lr, times its lr_mult)."""
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        return lr * self._mult(index, self.lr_mult, "lr_mult")

    def _get_lrs(self, indices):
        """Learning rates of several weights."""
        return [self._get_lr(i) for i in indices]

    def _get_wd(self, index):
        """The weight decay of weight ``index`` (wd times its wd_mult)."""
        return self.wd * self._mult(index, self.wd_mult, "wd_mult")

    def _get_wds(self, indices):
        """Weight decays of several weights."""
        return [self._get_wd(i) for i in indices]

    # ------------------------------------------------------------------ state and update
    def create_state(self, index, weight):
        """The auxiliary state (NDArray, tuple of NDArrays or None) of a weight."""
        return None

    def create_state_multi_precision(self, index, weight):
        """``create_state``, plus a float32 master copy when multi_precision and float16."""
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (master, self.create_state(index, master))
        if weight.dtype == np.float16 and not self.multi_precision:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or slow "
                          "convergence. Consider using multi_precision=True option of the optimizer")
        return self.create_state(index, weight)

    def update(self, index, weight, grad, state):
        """Update ``weight`` in place from ``grad`` and ``state``; counts the update.

        Subclasses implement :meth:`step` on raw arrays; a subclass may instead override
        this method with NDArray code, as MXNet optimizers do.
        """
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update(i, w, g, s)
            return
        self._update_count(index)
        self.step(weight._ctx.backend.xp, index, weight._data, grad._data, _raw_state(state),
                  self._get_lr(index), self._get_wd(index))

    def step(self, xp, index, weight, grad, state, lr, wd):
        """The update rule on backend arrays: change ``weight`` (and ``state``) in place.

        ``xp`` is the array module (NumPy or CuPy); ``state`` mirrors ``create_state``
        with NDArrays replaced by backend arrays; ``lr``/``wd`` include the multipliers.
        """
        raise NotImplementedError("%s must implement step() or update()" % type(self).__name__)

    def update_multi_precision(self, index, weight, grad, state):
        """``update``, through the float32 master copy for float16 weights with multi_precision."""
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update_multi_precision(i, w, g, s)
            return
        if self.multi_precision and weight.dtype == np.float16:
            master, inner = state
            self.update(index, master, grad.astype(np.float32), inner)
            weight._data[...] = master._data
        else:
            self.update(index, weight, grad, state)

    def _grad(self, xp, grad, wd=0.0, weight=None, clip_after_wd=False):
        """``clip(rescale_grad * grad)`` (+ ``wd * weight``) as a new array.

        ``clip_after_wd`` adds the decay before clipping (Adamax, Nadam, FTML do).
        """
        g = grad * float(self.rescale_grad)
        if wd and weight is not None and clip_after_wd:
            g += wd * weight
        c = self.clip_gradient
        if c is not None and c > 0:
            xp.clip(g, -c, c, out=g)
        if wd and weight is not None and not clip_after_wd:
            g += wd * weight
        return g

    # ------------------------------------------------------------------ plain-data config
    def to_config(self):
        """``{'name': registered name, 'params': {...}}``: plain, msgpack-able data.

        ``params`` holds the constructor arguments and the current hyper-parameters and
        counters (learning rate, multipliers, schedule); :func:`from_config` rebuilds an
        equal optimizer from it, also for user classes registered with :func:`register`.
        """
        name = type(self).__name__.lower()
        if Optimizer.opt_registry.get(name) is not type(self):
            raise MXKeyError("optimizer class %s is not registered; decorate it with "
                             "@mx.optimizer.register so it can travel by name" % type(self).__name__)
        init = {k: v for k, v in getattr(self, "_init_args", {}).items() if k not in _NOT_CONFIG}
        for k in list(init):
            if k in vars(self) and _is_plain(vars(self)[k]):
                init[k] = vars(self)[k]
        state = {k: getattr(self, k) for k in _STATE_ATTRS}
        lr_mult, wd_mult = dict(self.lr_mult), dict(self.wd_mult)
        for index, p in self.param_dict.items():
            lr_mult[index], wd_mult[index] = p.lr_mult, p.wd_mult
        state.update(lr_mult=lr_mult, wd_mult=wd_mult,
                     index_update_counts=self._all_index_update_counts)
        extra = {k: v for k, v in vars(self).items()
                 if k not in state and k not in init and not k.startswith("_") and k not in _NOT_CONFIG
                 and k != "sym_info" and _is_plain(v)}
        state["extra"] = extra
        sched = self.lr_scheduler.to_config() if self.lr_scheduler is not None else None
        return {"name": name, "params": {"init": init, "state": state, "lr_scheduler": sched}}


def _is_plain(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_is_plain(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, (int, str)) and _is_plain(x) for k, x in v.items())
    return False


def from_config(config):
    """Rebuild an optimizer from :meth:`Optimizer.to_config` output, by registered name."""
    params = config.get("params", {})
    init = dict(params.get("init", {}))
    opt = Optimizer.create_optimizer(config["name"], **init)
    state = dict(params.get("state", {}))
    extra = state.pop("extra", {})
    counts = state.pop("index_update_counts", {0: {}})
    for k, v in state.items():
        setattr(opt, k, v)
    for k, v in extra.items():
        setattr(opt, k, v)
    opt._all_index_update_counts = {int(d): dict(c) for d, c in counts.items()}
    opt._index_update_count = opt._all_index_update_counts.setdefault(0, {})
    opt.lr_scheduler = _lrs.from_config(params.get("lr_scheduler"))
    return opt


def _raw_state(state):
    """``state`` with every NDArray replaced by its backend array."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return tuple(_raw_state(s) for s in state)
    return state._data


register = Optimizer.register
create = Optimizer.create_optimizer
