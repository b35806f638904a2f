"""``gluon.Trainer``: applies an optimizer to a set of Parameters, through a KVStore when useful.

The store decision follows MXNet 1.9.1: one context and a non-dist store name means no
store at all; otherwise the store is created and, when ``update_on_kvstore`` (default:
whenever the store can run optimizers, and always for dist_async), the gradients are
pushed and the updated weights pulled back; else the summed gradients are pulled back
and every context's copy is updated by the Trainer's own optimizer.  Keys are the
parameters' positions in the Trainer's list.

Parameters of one context that share dtype, lr_mult and wd_mult are re-homed as views
into one flat weight buffer and one flat gradient buffer (the NDArray objects stay
the same; their ``_data`` becomes a view), so an element-wise optimizer updates them
all with one vectorised update per step (see :mod:`psnet.optimizer.fused`); set
``PSNET_FUSED_UPDATE=0`` to update parameter by parameter instead.
"""
import os

from ..base import MXNetError, env_bool
from .. import optimizer as opt
from ..kvstore.base import KVStoreBase, create as kv_create
from ..optimizer.fused import plan_groups
from ..storage import open_uri
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]

_BIG_PARAM = 1024 * 1024 * 16  # MXNet's 'local' store stops updating on the store above this size


class Trainer:
    """Applies an :class:`~psnet.optimizer.Optimizer` to Parameters (MXNet's ``gluon.Trainer``).

    Parameters
    ----------
    params : ParameterDict, dict or list of Parameter
    optimizer : str or Optimizer
    optimizer_params : dict
        Keyword arguments of the optimizer (``learning_rate``, ``momentum``, ``wd``...).
    kvstore : str, KVStoreBase or None
        ``'device'`` (default), ``'local'``, a ``dist_*`` type, a registered store name
        or instance, or None for no store.
    compression_params : dict
        Gradient compression of the store, e.g. ``{'type': '2bit', 'threshold': 0.5}``.
    update_on_kvstore : bool or None
        Run the optimizer in the store (True) or in the Trainer (False); None decides as
        MXNet does.
    """

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device",
                 compression_params=None, update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = [params[k] for k in sorted(params.keys())]
        if not isinstance(params, (list, tuple)):
            raise MXNetError("First argument must be a list or dict of Parameters, got %s."
                             % type(params).__name__)
        self._params = []
        self._param2idx = {}
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise MXNetError("First argument must be a list or dict of Parameters, got list of %s."
                                 % type(p).__name__)
            self._param2idx[p.name] = i
            self._params.append(p)
        self._compression_params = compression_params
        self._contexts = self._check_contexts()
        self._init_optimizer(optimizer, optimizer_params or {})
        self._scale = self._optimizer.rescale_grad
        self._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": update_on_kvstore}
        self._fused = None
        self._reset_kvstore()

    # ------------------------------------------------------------------ set-up
    def _check_contexts(self):
        contexts = None
        for p in self._params:
            ctx = p.list_ctx()
            if contexts is not None and contexts != ctx:
                raise MXNetError("All Parameters must be initialized on the same set of contexts, but "
                                 "Parameter %s is initialized on %s while previous Parameters are "
                                 "initialized on %s." % (p.name, ctx, contexts))
            contexts = ctx
        return contexts

    def _init_optimizer(self, optimizer, optimizer_params):
        param_dict = dict(enumerate(self._params))
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise MXNetError("optimizer_params must be None if optimizer is an instance of "
                                 "Optimizer instead of str")
            self._optimizer = optimizer
            self._optimizer.param_dict = param_dict
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._updaters = [opt.Updater(self._optimizer) for _ in self._contexts]

    def _reset_kvstore(self):
        if self._kvstore_is_dist():
            raise MXNetError("Cannot reset distributed KVStore.")
        self._kv_initialized = False
        self._kvstore = None
        self._distributed = None
        self._update_on_kvstore = None
        self._params_to_init = list(self._params)

    def _kvstore_is_dist(self):
        kv = getattr(self, "_kvstore", None)
        return kv is not None and "dist" in kv.type

    def _create_kvstore(self):
        """(store or None, update_on_kvstore) as MXNet's ``model._create_kvstore`` decides."""
        kvstore = self._kvstore_params["kvstore"]
        update = os.environ.get("MXNET_UPDATE_ON_KVSTORE", "1") not in ("0", "")
        if kvstore is None:
            kv = None
        elif isinstance(kvstore, KVStoreBase):
            kv = kvstore
        elif isinstance(kvstore, str):
            if len(self._contexts) == 1 and "dist" not in kvstore:
                kv = None
            else:
                kv = kv_create(kvstore)
                if kvstore == "local":
                    sizes = [_size(p.shape) for p in self._params]
                    if sizes and max(sizes) > _BIG_PARAM:
                        update = False
        else:
            raise MXNetError("kvstore must be a KVStore, a store name or None, got %s"
                             % type(kvstore).__name__)
        if kv is None:
            return None, False
        return kv, update and kv.is_capable(KVStoreBase.OPTIMIZER)

    def _init_kvstore(self):
        config = self._kvstore_params
        kv, update_on_kvstore = self._create_kvstore()
        self._distributed = kv is not None and "dist" in kv.type
        if self._distributed and "async" in kv.type:
            update_on_kvstore = True
            if config["update_on_kvstore"] is False:
                raise MXNetError("Please set update_on_kvstore=True when training in async mode.")
        if config["update_on_kvstore"] is not None:
            update_on_kvstore = config["update_on_kvstore"]
        if kv is not None and update_on_kvstore and not kv.is_capable(KVStoreBase.OPTIMIZER):
            if config["update_on_kvstore"]:
                raise MXNetError("Please set update_on_kvstore=False when training with %s"
                                 % type(kv).__name__)
            update_on_kvstore = False
        if kv is not None:
            if self._compression_params:
                kv.set_gradient_compression(self._compression_params)
            if update_on_kvstore:
                kv.set_optimizer(self._optimizer)
            self._kvstore = kv
            self._update_on_kvstore = bool(update_on_kvstore)
        else:
            self._kvstore = None
            self._update_on_kvstore = None
        self._kv_initialized = True

    def _init_params(self):
        """Put the parameters that are ready into the store (the rest wait for deferred init)."""
        waiting, ready = [], []
        if self._kvstore is not None:
            for p in self._params_to_init:
                (waiting if p._deferred_init else ready).append(p)
        if ready:   # one collective call for all of them (a dist init waits for every worker)
            arrays = [p.list_data() for p in ready]
            self._kvstore.broadcast([self._param2idx[p.name] for p in ready], [a[0] for a in arrays], arrays)
        self._params_to_init = waiting

    def _ready(self):
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()

    # ------------------------------------------------------------------ public API
    @property
    def learning_rate(self):
        """The optimizer's current learning rate."""
        return self._optimizer.learning_rate

    @property
    def optimizer(self):
        """The optimizer (shared with the store when it updates on the store)."""
        return self._optimizer

    def set_learning_rate(self, lr):
        """Set the optimizer's learning rate (not allowed with an lr_scheduler)."""
        self._optimizer.set_learning_rate(lr)

    def _check_and_rescale_grad(self, scale):
        if self._update_on_kvstore and self._distributed and self._kv_initialized:
            if self._optimizer.rescale_grad != scale:
                raise UserWarning("Possible change in the `batch_size` from previous `step` detected. "
                                  "Optimizer gradient normalizing factor will not change w.r.t new "
                                  "batch_size when update_on_kvstore=True and when distributed "
                                  "kvstore is used.")
        self._optimizer.rescale_grad = scale

    def step(self, batch_size, ignore_stale_grad=False):
        """One optimisation step: gradients are normalised by ``1 / batch_size``, reduced
        over the contexts (through the store) and applied."""
        self._check_and_rescale_grad(self._scale / batch_size)
        self._ready()
        self._allreduce_grads()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sum the gradients over the contexts in place (for clipping before :meth:`update`)."""
        self._ready()
        if self._kvstore is not None and self._update_on_kvstore:
            raise MXNetError("allreduce_grads() when parameters are updated on kvstore is not "
                             "supported. Try setting `update_on_kvstore` to False when creating trainer.")
        self._allreduce_grads()

    def _allreduce_grads(self):
        """Every gradient through the store in one ``pushpull`` of all keys (first layers
        first): a dist store sends one message per server for all of them, where a call
        per key would wait for one round trip per Parameter."""
        kv = self._kvstore
        if kv is None:
            return
        keys = [i for i, p in enumerate(self._params) if p.grad_req != "null"]
        if not keys:
            return
        params = self._params
        grads = [params[i].list_grad() for i in keys]
        out = [params[i].list_data() for i in keys] if self._update_on_kvstore else None
        kv.pushpull(keys, grads, out=out, priority=[-i for i in keys])

    def update(self, batch_size, ignore_stale_grad=False):
        """Apply the optimizer (after :meth:`allreduce_grads`), normalising by ``1 / batch_size``."""
        self._ready()
        if self._kvstore is not None and self._update_on_kvstore:
            raise MXNetError("update() when parameters are updated on kvstore is not supported. Try "
                             "setting `update_on_kvstore` to False when creating trainer.")
        self._check_and_rescale_grad(self._scale / batch_size)
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad=False):
        """Apply the Trainer's optimizer to every context's copy (not with update_on_kvstore).

        A gradient that no ``backward`` wrote since the last step is stale: an error
        naming the parameter, or with ``ignore_stale_grad`` that copy is left alone.
        """
        fresh = self._take_fresh(ignore_stale_grad)
        if self._kvstore is not None and self._update_on_kvstore:
            return
        plans = self._fused
        if plans is None or not self._plans_valid(plans):
            plans = self._fused = self._plan_updates()
        params = self._params
        for ctx_i, ((groups, rest), updater) in enumerate(zip(plans, self._updaters)):
            ok = fresh[ctx_i]
            todo = [i for i in rest if i in ok]
            for g in groups:
                if not (ok.issuperset(g.indices) and g.step()):
                    todo.extend(i for i in g.indices if i in ok)
            if todo:
                updater(todo, [params[i].list_grad()[ctx_i] for i in todo],
                        [params[i].list_data()[ctx_i] for i in todo])

    def _take_fresh(self, ignore_stale_grad):
        """Per context, the indices whose gradient is fresh; clears the marks."""
        fresh = [set() for _ in self._contexts]
        marks = []
        for i, p in enumerate(self._params):
            if p.grad_req == "null":
                continue
            for ctx_i, data in enumerate(p.list_data()):
                ag = data._ag
                if getattr(ag, "fresh", False):
                    fresh[ctx_i].add(i)
                    marks.append(ag)
                elif not ignore_stale_grad:
                    raise UserWarning(
                        "Gradient of Parameter `%s` on context %s has not been updated by backward "
                        "since last `step`. This could mean a bug in your model that made it only "
                        "use a subset of the Parameters (Blocks) for this iteration. If you are "
                        "intentionally only using a subset, call step with ignore_stale_grad=True "
                        "to suppress this warning and skip updating of Parameters with stale "
                        "gradient" % (p.name, data.context))
        for ag in marks:
            ag.fresh = False
        return fresh

    def _plans_valid(self, plans):
        """Whether the parameters still hold the arrays (and buffers) the plans were made for.

        A Parameter replaces its lists of arrays whenever it changes them (initialize,
        set_data, reset_ctx, cast, grad_req), so the identity of the lists says it."""
        for p, data, grad in self._planned_lists:
            if p._data is not data or p._grad is not grad:
                return False
        return all(g.valid() for groups, _ in plans for g in groups)

    def _plan_updates(self):
        """Per context: (fused groups, indices updated one by one)."""
        active = [i for i, p in enumerate(self._params) if p.grad_req != "null"]
        # holding the lists keeps their ids from being reused while planned
        self._planned_lists = [(p, p._data, p._grad) for p in self._params]
        plans = []
        for ctx_i, updater in enumerate(self._updaters):
            weights = [self._params[i].list_data()[ctx_i] for i in active]
            grads = [self._params[i].list_grad()[ctx_i] for i in active]
            if env_bool("PSNET_FUSED_UPDATE", True):
                plans.append(plan_groups(self._optimizer, updater, active, weights, grads))
            else:
                plans.append(([], active))
        return plans

    def save_states(self, fname):
        """Save the optimizer states (psnet's non-pickle format, the optimizer included)."""
        self._ready()
        if self._update_on_kvstore:
            if self._params_to_init:
                raise MXNetError("Cannot save trainer states when some parameters are not yet "
                                 "initialized in kvstore.")
            self._kvstore.save_optimizer_states(fname, dump_optimizer=True)
        else:
            with open_uri(fname, "wb") as f:
                f.write(self._updaters[0].get_states(dump_optimizer=True))

    def load_states(self, fname):
        """Load optimizer states written by :meth:`save_states`."""
        self._ready()
        if self._update_on_kvstore:
            self._kvstore.load_optimizer_states(fname)
            self._optimizer = self._kvstore._updater.optimizer
        else:
            with open_uri(fname, "rb") as f:
                states = f.read()
            for updater in self._updaters:
                updater.set_states(states)
                updater.optimizer = self._updaters[0].optimizer
            self._optimizer = self._updaters[0].optimizer
            self._fused = None
        self._optimizer.param_dict = dict(enumerate(self._params))


def _size(shape):
    n = 1
    for s in shape or ():
        n *= max(int(s), 0)
    return n
