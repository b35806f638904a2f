"""Classic model helpers (MXNet's ``mx.model``): checkpoints, the batch-end callback record and
the legacy :class:`FeedForward` estimator."""
import logging
from collections import namedtuple

from .base import MXNetError, ShapeError
from .context import cpu

__all__ = ["BatchEndParam", "save_checkpoint", "load_checkpoint", "load_params", "FeedForward"]

BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Write ``prefix-symbol.json`` (when ``symbol`` is given) and ``prefix-%04d.params``.

    Parameters are stored with MXNet's ``arg:`` / ``aux:`` name prefixes, on the CPU.
    """
    from . import ndarray as nd
    if symbol is not None:
        symbol.save("%s-symbol.json" % prefix, remove_amp_cast=remove_amp_cast)
    save_dict = {"arg:%s" % k: v.as_in_context(cpu()) for k, v in arg_params.items()}
    save_dict.update({"aux:%s" % k: v.as_in_context(cpu()) for k, v in aux_params.items()})
    param_name = "%s-%04d.params" % (prefix, epoch)
    nd.save(param_name, save_dict)
    logging.info('Saved checkpoint to "%s"', param_name)


def load_params(prefix, epoch):
    """(arg_params, aux_params) from ``prefix-%04d.params``."""
    from . import ndarray as nd
    save_dict = nd.load("%s-%04d.params" % (prefix, epoch))
    arg_params, aux_params = {}, {}
    for k, v in save_dict.items():
        tp, _, name = k.partition(":")
        if tp == "arg":
            arg_params[name] = v
        elif tp == "aux":
            aux_params[name] = v
    return arg_params, aux_params


def load_checkpoint(prefix, epoch):
    """(symbol, arg_params, aux_params) saved by :func:`save_checkpoint`."""
    from . import symbol as sym
    symbol = sym.load("%s-symbol.json" % prefix)
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params


def _as_numpy_pair(X, y, is_train):
    """(X, y) as NumPy arrays with the checks of MXNet's FeedForward."""
    import numpy as np
    X = X.asnumpy() if hasattr(X, "asnumpy") else np.asarray(X)
    if y is None:
        if is_train:
            raise MXNetError("FeedForward.fit: y must be given when X is an array")
        y = np.zeros(X.shape[0], dtype=np.float32)
    y = y.asnumpy() if hasattr(y, "asnumpy") else np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ShapeError("FeedForward: X has %d data points but y has %d labels" % (X.shape[0], y.shape[0]))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ShapeError("FeedForward: labels must be 1-D or 2-D with one column, got shape %s" % (y.shape,))
    return X, y


class FeedForward:
    """MXNet's legacy model API: a symbol trained with ``fit`` and used with ``predict``/``score``.

    Built on :class:`psnet.module.Module` (one training loop in the code base).  ``X`` may
    be a NumPy array / NDArray (with labels ``y``; batches of ``numpy_batch_size``, the
    data and label fed to the symbol's ``data`` and ``*_label`` arguments) or a
    ``DataIter``.  Extra keyword arguments are the optimizer's parameters
    (``learning_rate``, ``momentum``, ``wd``...).  ``epoch_size`` sets the number of
    batches per epoch (the iterator restarts as needed).
    """

    def __init__(self, symbol, ctx=None, num_epoch=None, epoch_size=None, optimizer="sgd",
                 initializer=None, numpy_batch_size=128, arg_params=None, aux_params=None,
                 allow_extra_params=False, begin_epoch=0, **kwargs):
        from .initializer import Uniform
        self.symbol = symbol
        self.ctx = [cpu()] if ctx is None else (ctx if isinstance(ctx, (list, tuple)) else [ctx])
        self.num_epoch = num_epoch
        self.epoch_size = epoch_size
        self.optimizer = optimizer
        self.initializer = Uniform(0.01) if initializer is None else initializer
        self.numpy_batch_size = numpy_batch_size
        self.arg_params = arg_params
        self.aux_params = aux_params
        self.allow_extra_params = allow_extra_params
        self.begin_epoch = begin_epoch
        self.kwargs = dict(kwargs)
        self._module = None

    # ------------------------------------------------------------------ data
    def _input_names(self):
        """(data name, label name) for array inputs: ``data`` (or the first argument) and
        the symbol's only ``*_label`` argument (or ``softmax_label``)."""
        args = self.symbol.list_arguments()
        data = "data" if "data" in args else args[0]
        labels = [a for a in args if a.endswith("_label")]
        return data, labels[0] if len(labels) == 1 else "softmax_label"

    def _init_iter(self, X, y, is_train):
        from .io import DataIter, NDArrayIter
        if isinstance(X, DataIter):
            return X
        if not hasattr(X, "shape"):
            raise MXNetError("FeedForward: X must be a DataIter, an NDArray or a numpy.ndarray, got %s"
                             % type(X).__name__)
        X, y = _as_numpy_pair(X, y, is_train)
        data_name, label_name = self._input_names()
        batch = min(X.shape[0], self.numpy_batch_size)
        return NDArrayIter(X, y, batch, shuffle=is_train, data_name=data_name, label_name=label_name,
                           last_batch_handle="roll_over" if is_train else "pad")

    def _init_eval_iter(self, eval_data):
        from .io import DataIter
        if eval_data is None or isinstance(eval_data, DataIter):
            return eval_data
        if isinstance(eval_data, (tuple, list)) and len(eval_data) == 2 and eval_data[0] is not None:
            return self._init_iter(eval_data[0], eval_data[1], is_train=False)
        raise MXNetError("FeedForward: eval_data must be a DataIter or an (X, y) pair")

    def _new_module(self, data_iter, for_training, logger=None):
        from .module import Module
        args = set(self.symbol.list_arguments())
        labels = [d.name for d in data_iter.provide_label or [] if d.name in args]
        mod = Module(self.symbol, data_names=[d.name for d in data_iter.provide_data], label_names=labels,
                     context=self.ctx, logger=logger or logging)
        if not for_training:  # Module.fit binds for training itself
            mod.bind(data_iter.provide_data, [d for d in data_iter.provide_label or [] if d.name in labels],
                     for_training=False)
        return mod

    # ------------------------------------------------------------------ training
    def fit(self, X, y=None, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", logger=None, work_load_list=None, monitor=None,
            eval_end_callback=None, eval_batch_end_callback=None):
        """Train for ``num_epoch`` epochs (from ``begin_epoch``); keeps the learnt parameters."""
        from .io import ResizeIter
        if self.num_epoch is None:
            raise MXNetError("FeedForward.fit: num_epoch must be set")
        data = self._init_iter(X, y, is_train=True)
        if self.epoch_size is not None:
            data = ResizeIter(data, self.epoch_size)
        mod = self._new_module(data, True, logger)
        arg_params, aux_params = self._known_params(mod)
        mod.fit(data, eval_data=self._init_eval_iter(eval_data), eval_metric=eval_metric,
                epoch_end_callback=epoch_end_callback, batch_end_callback=batch_end_callback,
                kvstore=kvstore, optimizer=self.optimizer, optimizer_params=self.kwargs,
                eval_end_callback=eval_end_callback, eval_batch_end_callback=eval_batch_end_callback,
                initializer=self.initializer, arg_params=arg_params, aux_params=aux_params,
                allow_missing=True, begin_epoch=self.begin_epoch, num_epoch=self.num_epoch)
        self.arg_params, self.aux_params = mod.get_params()
        self._module = mod
        return self

    def _known_params(self, mod):
        """The given (arg, aux) params, without those the symbol lacks when allow_extra_params."""
        arg, aux = self.arg_params, self.aux_params
        if self.allow_extra_params:
            args = set(self.symbol.list_arguments())
            auxs = set(self.symbol.list_auxiliary_states())
            arg = None if arg is None else {k: v for k, v in arg.items() if k in args}
            aux = None if aux is None else {k: v for k, v in aux.items() if k in auxs}
        return arg, aux

    def _predict_module(self, data_iter):
        if self.arg_params is None:
            raise MXNetError("FeedForward: the model has no parameters; fit() or load() it first")
        mod = self._new_module(data_iter, False)
        mod.set_params(self.arg_params, self.aux_params or {}, allow_missing=False,
                       allow_extra=self.allow_extra_params)
        return mod

    def predict(self, X, num_batch=None, return_data=False, reset=True):
        """Outputs (NumPy; a list for several outputs) over ``X``; with ``return_data`` also
        ``(outputs, data, label)``."""
        import numpy as np
        data = self._init_iter(X, None, is_train=False)
        if reset:
            data.reset()
        mod = self._predict_module(data)
        outs, datas, labels = [], [], []
        for outputs, _, batch in mod.iter_predict(data, num_batch=num_batch, reset=False):
            outs.append([o.asnumpy() for o in outputs])
            if return_data:
                n = outputs[0].shape[0]
                datas.append(batch.data[0].asnumpy()[:n])
                labels.append(batch.label[0].asnumpy()[:n] if batch.label else np.zeros(n))
        merged = [np.concatenate([o[i] for o in outs]) for i in range(len(outs[0]))] if outs else []
        result = merged[0] if len(merged) == 1 else merged
        if return_data:
            return result, np.concatenate(datas), np.concatenate(labels)
        return result

    def score(self, X, eval_metric="acc", num_batch=None, batch_end_callback=None, reset=True):
        """The value of ``eval_metric`` over ``X`` (a DataIter with labels)."""
        from . import metric
        data = self._init_iter(X, None, is_train=False)
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)
        self._predict_module(data).score(data, eval_metric, num_batch=num_batch,
                                         batch_end_callback=batch_end_callback, reset=reset)
        return eval_metric.get()[1]

    # ------------------------------------------------------------------ persistence
    def save(self, prefix, epoch=None):
        """Write ``prefix-symbol.json`` and ``prefix-%04d.params`` (epoch defaults to num_epoch)."""
        epoch = self.num_epoch if epoch is None else epoch
        save_checkpoint(prefix, epoch, self.symbol, self.arg_params, self.aux_params or {})

    @staticmethod
    def load(prefix, epoch, ctx=None, **kwargs):
        """A FeedForward from a checkpoint, ready to predict or to continue training from ``epoch``."""
        symbol, arg_params, aux_params = load_checkpoint(prefix, epoch)
        return FeedForward(symbol, ctx=ctx, arg_params=arg_params, aux_params=aux_params,
                           begin_epoch=epoch, **kwargs)

    @staticmethod
    def create(symbol, X, y=None, ctx=None, num_epoch=None, epoch_size=None, optimizer="sgd",
               initializer=None, eval_data=None, eval_metric="acc", epoch_end_callback=None,
               batch_end_callback=None, kvstore="local", logger=None, work_load_list=None,
               eval_end_callback=None, eval_batch_end_callback=None, **kwargs):
        """Make a FeedForward and ``fit`` it in one call (the rest as in ``__init__``/``fit``)."""
        model = FeedForward(symbol, ctx=ctx, num_epoch=num_epoch, epoch_size=epoch_size, optimizer=optimizer,
                            initializer=initializer, **kwargs)
        model.fit(X, y, eval_data=eval_data, eval_metric=eval_metric, epoch_end_callback=epoch_end_callback,
                  batch_end_callback=batch_end_callback, kvstore=kvstore, logger=logger,
                  eval_end_callback=eval_end_callback, eval_batch_end_callback=eval_batch_end_callback)
        return model
