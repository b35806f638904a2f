"""Module: a Symbol bound to one or more contexts, with parameters and an optimizer.

The batch is split along axis 0 over the contexts (``work_load_list`` weights the
split); each context runs its own executor; gradients are combined through a KVStore
exactly as MXNet 1.x decides (``update_on_kvstore``: the store's optimizer updates the
weights once; otherwise the aggregated gradients come back and each copy is updated).
"""
import logging

import numpy as np

from .. import ndarray as nd
from .. import optimizer as opt
from ..base import MXNetError, ShapeError
from ..context import Context, cpu
from ..storage import open_uri
from .base_module import BaseModule, _as_list, _check_input_names

__all__ = ["Module"]


def _descs(shapes):
    """``[(name, shape)]`` from DataDesc objects or (name, shape) pairs."""
    out = []
    for d in shapes or []:
        if hasattr(d, "name"):
            out.append((d.name, tuple(d.shape)))
        else:
            out.append((d[0], tuple(d[1])))
    return out


def _split_batch(batch_size, work_load_list):
    """[(start, stop)] slices of the batch, proportional to the work loads."""
    total = float(sum(work_load_list))
    bounds = np.round(np.cumsum([0] + list(work_load_list)) * batch_size / total).astype(int)
    slices = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    if any(b <= a for a, b in slices):
        raise MXNetError("batch size %d is too small to split over %d contexts"
                         % (batch_size, len(work_load_list)))
    return slices


def _create_kvstore(kvstore, num_device, arg_params):
    """(kvstore or None, update_on_kvstore) following MXNet 1.x's rules."""
    from .. import kvstore as kvs
    from ..base import env_bool
    update_on_kvstore = env_bool("MXNET_UPDATE_ON_KVSTORE", True)
    if kvstore is None:
        kv = None
    elif isinstance(kvstore, kvs.KVStoreBase):
        kv = kvstore
    elif isinstance(kvstore, str):
        if num_device == 1 and "dist" not in kvstore:
            kv = None
        else:
            kv = kvs.create(kvstore)
            if kvstore == "local":
                biggest = max((int(np.prod(p.shape)) for p in arg_params.values()), default=0)
                if biggest > 1024 * 1024 * 16:
                    update_on_kvstore = False
    else:
        raise MXNetError("kvstore must be a name, a KVStore or None, got %s" % type(kvstore).__name__)
    return kv, (update_on_kvstore and kv is not None)


class Module(BaseModule):
    """Computation of ``symbol`` over ``context`` (one Context or a list of them)."""

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",), logger=logging,
                 context=None, work_load_list=None, fixed_param_names=None, state_names=None,
                 group2ctxs=None, compression_params=None):
        super().__init__(logger=logger)
        context = cpu() if context is None else context
        self._context = [Context(c) for c in _as_list(context)]
        self._work_load_list = list(work_load_list or [1] * len(self._context))
        if len(self._work_load_list) != len(self._context):
            raise MXNetError("work_load_list has %d entries for %d contexts"
                             % (len(self._work_load_list), len(self._context)))
        self._symbol = symbol
        self._data_names = list(data_names or [])
        self._label_names = list(label_names or [])
        self._state_names = list(state_names or [])
        self._fixed_param_names = list(fixed_param_names or [])
        _check_input_names(symbol, self._data_names, "data", True)
        _check_input_names(symbol, self._label_names, "label", False)
        _check_input_names(symbol, self._state_names, "state", True)
        inputs = set(self._data_names + self._label_names + self._state_names)
        self._param_names = [n for n in symbol.list_arguments() if n not in inputs]
        self._aux_names = symbol.list_auxiliary_states()
        self._output_names = symbol.list_outputs()
        self._arg_params = None
        self._aux_params = None
        self._execs = []
        self._slices = []
        self._data_shapes = []
        self._label_shapes = []
        self._grad_req = "write"
        self._optimizer = None
        self._kvstore = None
        self._update_on_kvstore = False
        self._updater = None
        self._preload_opt_states = None
        self._compression_params = compression_params

    # ------------------------------------------------------------------ properties
    @property
    def data_names(self):
        """Names of the data inputs."""
        return self._data_names

    @property
    def label_names(self):
        """Names of the label inputs."""
        return self._label_names

    @property
    def output_names(self):
        """Names of the outputs."""
        return self._output_names

    @property
    def data_shapes(self):
        """[(name, shape)] of the bound data."""
        return self._data_shapes

    @property
    def label_shapes(self):
        """[(name, shape)] of the bound labels."""
        return self._label_shapes

    @property
    def output_shapes(self):
        """[(name, shape)] of the outputs for the whole batch."""
        self._require(self.binded, "output_shapes")
        batch = self._data_shapes[0][1][0]
        return [(n, (batch,) + tuple(o.shape[1:])) for n, o in zip(self._output_names, self._execs[0].outputs)]

    # ------------------------------------------------------------------ bind / init
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Allocate one executor per context for these input shapes."""
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        self._data_shapes = _descs(data_shapes)
        self._label_shapes = _descs(label_shapes) if for_training or label_shapes else []
        self._label_shapes = [d for d in self._label_shapes if d[0] in self._symbol.list_arguments()]
        self._build_executors()
        self.binded = True
        if self.params_initialized:
            self._params_to_devices()

    def _build_executors(self):
        batch = self._data_shapes[0][1][0]
        self._slices = _split_batch(batch, self._work_load_list)
        reqs = {}
        for name in self._symbol.list_arguments():
            if name in self._param_names:
                reqs[name] = ("null" if not self.for_training or name in self._fixed_param_names
                              else self._grad_req)
            elif name in self._data_names:
                reqs[name] = self._grad_req if self.inputs_need_grad else "null"
            else:
                reqs[name] = "null"
        self._execs = []
        for ctx, (a, b) in zip(self._context, self._slices):
            shapes = {name: (b - a,) + shape[1:] for name, shape in self._data_shapes + self._label_shapes}
            self._execs.append(self._symbol.simple_bind(ctx, grad_req=reqs, **shapes))

    def reshape(self, data_shapes, label_shapes=None):
        """Rebind for new input shapes, keeping the parameters."""
        self._require(self.binded, "reshape")
        if self.params_initialized:
            self._params_from_devices()
        self._data_shapes = _descs(data_shapes)
        if label_shapes is not None:
            self._label_shapes = [d for d in _descs(label_shapes) if d[0] in self._symbol.list_arguments()]
        self._build_executors()
        if self.params_initialized:
            self._params_to_devices()

    def init_params(self, initializer=None, arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """Initialise parameters from ``arg_params``/``aux_params`` or with ``initializer``."""
        if self.params_initialized and not force_init:
            self.logger.warning("Parameters already initialized and force_init=False. "
                                "init_params call ignored.")
            return
        self._require(self.binded, "init_params")
        if initializer is None and arg_params is None:
            from ..initializer import Uniform
            initializer = Uniform(0.01)
        exe = self._execs[0]
        if self._arg_params is None:
            self._arg_params = {n: nd.zeros(exe.arg_dict[n].shape, dtype=exe.arg_dict[n].dtype)
                                for n in self._param_names}
        if self._aux_params is None:
            self._aux_params = {n: nd.zeros(exe.aux_dict[n].shape, dtype=exe.aux_dict[n].dtype)
                                for n in self._aux_names}
        if not allow_extra:
            for given, known, kind in ((arg_params, self._arg_params, "argument"),
                                       (aux_params, self._aux_params, "auxiliary state")):
                extra = sorted(set(given or {}) - set(known))
                if extra:
                    raise MXNetError("%s %s given but not used by the symbol (pass allow_extra=True)"
                                     % (kind, extra))
        attrs = self._symbol.attr_dict()
        from ..initializer import InitDesc
        for params, given in ((self._arg_params, arg_params), (self._aux_params, aux_params)):
            for name, arr in sorted(params.items()):
                if given is not None and name in given:
                    src = given[name]
                    if tuple(src.shape) != tuple(arr.shape):
                        raise ShapeError("parameter %s: shape %s in the given params, %s in the module"
                                         % (name, tuple(src.shape), tuple(arr.shape)))
                    if src is not arr:
                        arr[:] = src.as_in_context(arr.context) if isinstance(src, nd.NDArray) else src
                elif given is not None and not allow_missing:
                    raise MXNetError("parameter %s is missing from the given params "
                                     "(pass allow_missing=True to initialise it)" % name)
                elif initializer is not None:
                    initializer(InitDesc(name, attrs.get(name)), arr)
        self.params_initialized = True
        self._params_to_devices()

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        """Assign parameter values (initialising the module if needed)."""
        self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)

    def get_params(self):
        """(arg_params, aux_params): CPU copies averaged over the contexts."""
        self._require(self.binded and self.params_initialized, "get_params")
        self._params_from_devices()
        return self._arg_params, self._aux_params

    def _params_to_devices(self):
        for exe in self._execs:
            for name, arr in self._arg_params.items():
                arr.copyto(exe.arg_dict[name])
            for name, arr in self._aux_params.items():
                arr.copyto(exe.aux_dict[name])

    def _params_from_devices(self):
        n = len(self._execs)
        for params, attr in ((self._arg_params, "arg_dict"), (self._aux_params, "aux_dict")):
            for name, arr in params.items():
                total = getattr(self._execs[0], attr)[name].as_in_context(arr.context).copy()
                for exe in self._execs[1:]:
                    total += getattr(exe, attr)[name].as_in_context(arr.context)
                arr[:] = total / n if n > 1 else total

    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Create the optimizer (and KVStore) used by :meth:`update`."""
        self._require(self.binded and self.params_initialized, "init_optimizer")
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return
        kv, update_on_kvstore = _create_kvstore(kvstore, len(self._context), self._arg_params)
        batch_size = self._data_shapes[0][1][0]
        if kv is not None and "dist" in kv.type and "_sync" in kv.type:
            batch_size *= kv.num_workers
        n_dev = len(self._context)
        if update_on_kvstore:
            idx2name = dict(enumerate(self._param_names))
        else:
            idx2name = {i * n_dev + k: name for i, name in enumerate(self._param_names) for k in range(n_dev)}
        if isinstance(optimizer, str):
            params = dict(optimizer_params)
            params.setdefault("rescale_grad", 1.0 / batch_size)
            optimizer = opt.create(optimizer, sym=self._symbol, param_idx2name=idx2name, **params)
        elif isinstance(optimizer, opt.Optimizer):
            if not optimizer.idx2name:
                optimizer.idx2name = idx2name.copy()
        self._optimizer = optimizer
        self._kvstore = kv
        self._update_on_kvstore = update_on_kvstore
        self._updater = None
        if kv is not None:
            if self._compression_params:
                kv.set_gradient_compression(self._compression_params)
            names = list(self._param_names)
            if names:   # one call each: a dist store batches the keys per server
                kv.init(names, [self._arg_params[n] for n in names])
                if update_on_kvstore:
                    kv.pull(names, [[e.arg_dict[n] for e in self._execs] for n in names],
                            priority=[-i for i in range(len(names))])
            if update_on_kvstore:
                kv.set_optimizer(self._optimizer)
        if not update_on_kvstore:
            self._updater = opt.get_updater(optimizer)
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    # ------------------------------------------------------------------ computation
    def forward(self, data_batch, is_train=None):
        """Run the executors on ``data_batch`` (rebinding if its shapes changed)."""
        self._require(self.binded and self.params_initialized, "forward")
        if is_train is None:
            is_train = self.for_training
        shapes = [tuple(d.shape) for d in data_batch.data]
        if shapes != [s for _, s in self._data_shapes]:
            new_data = [(n, s) for (n, _), s in zip(self._data_shapes, shapes)]
            new_label = None
            if data_batch.label is not None and self._label_shapes:
                new_label = [(n, tuple(l.shape)) for (n, _), l in zip(self._label_shapes, data_batch.label)]
            self.reshape(new_data, new_label)
        labels = data_batch.label if data_batch.label is not None else []
        for exe, (a, b) in zip(self._execs, self._slices):
            for name, arr in zip(self._data_names, data_batch.data):
                _load(arr, a, b, exe.arg_dict[name])
            for (name, _), arr in zip(self._label_shapes, labels):
                _load(arr, a, b, exe.arg_dict[name])
            exe.forward(is_train=is_train)

    def backward(self, out_grads=None):
        """Backpropagate through every executor."""
        self._require(self.binded and self.params_initialized, "backward")
        for exe, (a, b) in zip(self._execs, self._slices):
            grads = None if out_grads is None else [g[a:b].as_in_context(exe.outputs[0].context)
                                                    for g in _as_list(out_grads)]
            exe.backward(grads)

    def update(self):
        """Apply the optimizer to the parameters with the current gradients."""
        self._require(self.binded and self.params_initialized and self.optimizer_initialized, "update")
        kv, n_dev = self._kvstore, len(self._execs)
        if self._grad_req == "null":
            return
        todo = [(idx, name) for idx, name in enumerate(self._param_names)
                if name not in self._fixed_param_names]
        grads = [[e.grad_dict[name] for e in self._execs] for _, name in todo]
        weights = [[e.arg_dict[name] for e in self._execs] for _, name in todo]
        if kv is not None and todo:
            # every key in one push and one pull: a dist store sends one message per server
            # for all of them, where a call per key would wait for one round trip each
            names, prios = [name for _, name in todo], [-idx for idx, _ in todo]
            kv.push(names, grads, priority=prios)
            kv.pull(names, weights if self._update_on_kvstore else grads, priority=prios)
        if self._update_on_kvstore:
            return
        for (idx, _), gs, ws in zip(todo, grads, weights):
            for k, (g, w) in enumerate(zip(gs, ws)):
                self._updater(idx * n_dev + k, g, w)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Update ``eval_metric`` with the outputs of the last forward pass."""
        for k, (exe, (a, b)) in enumerate(zip(self._execs, self._slices)):
            if pre_sliced:
                lab = labels[k]
            else:
                lab = [l[a:b] for l in (labels or [])]
            eval_metric.update(lab, exe.outputs)

    def get_outputs(self, merge_multi_context=True):
        """Outputs of the last forward pass (concatenated over contexts by default)."""
        self._require(self.binded and self.params_initialized, "get_outputs")
        per_out = [[exe.outputs[i] for exe in self._execs] for i in range(len(self._output_names))]
        if not merge_multi_context:
            return per_out
        ctx0 = self._context[0]
        return [outs[0] if len(outs) == 1 else nd.concat(*[o.as_in_context(ctx0) for o in outs], dim=0)
                for outs in per_out]

    def get_input_grads(self, merge_multi_context=True):
        """Gradients with respect to the data inputs (needs ``inputs_need_grad=True``)."""
        self._require(self.binded and self.params_initialized and self.inputs_need_grad, "get_input_grads")
        per_in = [[exe.grad_dict[n] for exe in self._execs] for n in self._data_names]
        if not merge_multi_context:
            return per_in
        ctx0 = self._context[0]
        return [g[0] if len(g) == 1 else nd.concat(*[x.as_in_context(ctx0) for x in g], dim=0) for g in per_in]

    # ------------------------------------------------------------------ persistence
    def save_params(self, fname):
        """Save the parameters (``arg:``/``aux:`` prefixed) to ``fname``."""
        arg_params, aux_params = self.get_params()
        save_dict = {"arg:%s" % k: v.as_in_context(cpu()) for k, v in arg_params.items()}
        save_dict.update({"aux:%s" % k: v.as_in_context(cpu()) for k, v in aux_params.items()})
        nd.save(fname, save_dict)

    def load_params(self, fname):
        """Load parameters saved by :meth:`save_params`."""
        arg, aux = {}, {}
        for k, v in nd.load(fname).items():
            tp, _, name = k.partition(":")
            (arg if tp == "arg" else aux)[name] = v
        self.set_params(arg, aux)

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Write ``prefix-symbol.json``, ``prefix-%04d.params`` and optionally ``.states``."""
        self._symbol.save("%s-symbol.json" % prefix, remove_amp_cast=remove_amp_cast)
        param_name = "%s-%04d.params" % (prefix, epoch)
        self.save_params(param_name)
        self.logger.info('Saved checkpoint to "%s"', param_name)
        if save_optimizer_states:
            state_name = "%s-%04d.states" % (prefix, epoch)
            self.save_optimizer_states(state_name)
            self.logger.info('Saved optimizer state to "%s"', state_name)

    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """A Module with the symbol and parameters of a checkpoint (bind before use)."""
        from ..model import load_checkpoint
        sym, args, auxs = load_checkpoint(prefix, epoch)
        mod = Module(symbol=sym, **kwargs)
        mod._arg_params = args
        mod._aux_params = auxs
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = "%s-%04d.states" % (prefix, epoch)
        return mod

    def save_optimizer_states(self, fname):
        """Save the optimizer state (from the KVStore when it runs the optimizer)."""
        self._require(self.optimizer_initialized, "save_optimizer_states")
        if self._update_on_kvstore:
            self._kvstore.save_optimizer_states(fname)
        else:
            with open_uri(fname, "wb") as f:
                f.write(self._updater.get_states())

    def load_optimizer_states(self, fname):
        """Load an optimizer state saved by :meth:`save_optimizer_states`."""
        self._require(self.optimizer_initialized, "load_optimizer_states")
        if self._update_on_kvstore:
            self._kvstore.load_optimizer_states(fname)
        else:
            with open_uri(fname, "rb") as f:
                self._updater.set_states(f.read())


def _load(src, a, b, dst):
    """Copy rows a:b of ``src`` (NDArray or NumPy) into executor input ``dst``."""
    part = src[a:b] if (a, b) != (0, src.shape[0]) else src
    if isinstance(part, nd.NDArray):
        part.copyto(dst)
    else:
        dst[:] = part
