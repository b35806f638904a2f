"""BaseModule: the training loop shared by every module (``fit``, ``score``, ``predict``).

Subclasses provide the state machine — ``bind`` -> ``init_params`` -> ``init_optimizer`` —
and the step primitives ``forward``, ``backward``, ``update``, ``update_metric``,
``get_outputs``; this class drives them the way MXNet 1.x does, including its callbacks
and log lines (``Epoch[0] Train-accuracy=...``, ``Epoch[0] Time cost=...``).
"""
import logging
import time

from .. import metric as _metric
from ..base import MXNetError
from ..model import BatchEndParam

__all__ = ["BaseModule"]


def _as_list(obj):
    if obj is None:
        return []
    return list(obj) if isinstance(obj, (list, tuple)) else [obj]


def _check_input_names(symbol, names, typename, throw):
    args = symbol.list_arguments()
    for name in names:
        if name not in args:
            msg = ("%s name %r is not an argument of the symbol (arguments: %s)" % (typename, name, args))
            if throw:
                raise MXNetError(msg)
            logging.warning(msg)


class BaseModule:
    """The common interface and training loop of modules."""

    def __init__(self, logger=logging):
        self.logger = logger
        self.binded = False
        self.for_training = False
        self.inputs_need_grad = False
        self.params_initialized = False
        self.optimizer_initialized = False
        self._symbol = None

    # ------------------------------------------------------------------ high level
    def forward_backward(self, data_batch):
        """A forward pass in training mode followed by backward."""
        self.forward(data_batch, is_train=True)
        self.backward()

    def score(self, eval_data, eval_metric, num_batch=None, batch_end_callback=None,
              score_end_callback=None, reset=True, epoch=0, sparse_row_id_fn=None):
        """Evaluate ``eval_metric`` over ``eval_data``; returns ``[(name, value), ...]``."""
        self._require(self.binded and self.params_initialized, "score")
        if not isinstance(eval_metric, _metric.EvalMetric):
            eval_metric = _metric.create(eval_metric)
        eval_metric.reset()
        actual = 0
        for nbatch, batch in self._forward_batches(eval_data, num_batch, reset):
            self.update_metric(eval_metric, batch.label)
            for cb in _as_list(batch_end_callback):
                cb(BatchEndParam(epoch, nbatch, eval_metric, locals()))
            actual = nbatch + 1
        for cb in _as_list(score_end_callback):
            cb(BatchEndParam(epoch, actual, eval_metric, locals()))
        return eval_metric.get_name_value()

    def iter_predict(self, eval_data, num_batch=None, reset=True, sparse_row_id_fn=None):
        """Yield ``(outputs, nbatch, batch)`` for each batch, padding removed."""
        self._require(self.binded and self.params_initialized, "iter_predict")
        for nbatch, batch in self._forward_batches(eval_data, num_batch, reset):
            pad = batch.pad or 0
            outputs = [out[0:out.shape[0] - pad] for out in self.get_outputs()]
            yield outputs, nbatch, batch

    def _forward_batches(self, eval_data, num_batch, reset):
        """Yield ``(nbatch, batch)`` after an inference forward pass over each of the first
        ``num_batch`` batches (all when None), resetting ``eval_data`` first if ``reset``."""
        if reset:
            eval_data.reset()
        for nbatch, batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(batch)
            self.forward(batch, is_train=False)
            yield nbatch, batch

    def predict(self, eval_data, num_batch=None, merge_batches=True, reset=True,
                always_output_list=False, sparse_row_id_fn=None):
        """Run prediction over ``eval_data``; outputs concatenated over batches (padding removed)."""
        from .. import ndarray as nd
        outputs = [[o.copy() for o in outs] for outs, _, _ in self.iter_predict(eval_data, num_batch, reset)]
        if not outputs:
            return []
        if not merge_batches:
            return outputs
        n_out = len(outputs[0])
        for outs in outputs:
            if len(outs) != n_out:
                raise MXNetError("cannot merge batches: the number of outputs changed between batches")
        merged = [nd.concat(*[outs[i] for outs in outputs], dim=0) for i in range(n_out)]
        if n_out == 1 and not always_output_list:
            return merged[0]
        return merged

    def fit(self, train_data, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", optimizer="sgd",
            optimizer_params=(("learning_rate", 0.01),), eval_end_callback=None,
            eval_batch_end_callback=None, initializer=None, arg_params=None, aux_params=None,
            allow_missing=False, force_rebind=False, force_init=False, begin_epoch=0,
            num_epoch=None, validation_metric=None, monitor=None, sparse_row_id_fn=None):
        """Train: bind, initialise parameters and optimizer, then loop over epochs and batches."""
        if num_epoch is None:
            raise MXNetError("fit() needs num_epoch")
        if initializer is None:
            from ..initializer import Uniform
            initializer = Uniform(0.01)
        self.bind(data_shapes=train_data.provide_data, label_shapes=train_data.provide_label,
                  for_training=True, force_rebind=force_rebind)
        self.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init)
        self.init_optimizer(kvstore=kvstore, optimizer=optimizer, optimizer_params=optimizer_params)
        if validation_metric is None:
            validation_metric = eval_metric
        if not isinstance(eval_metric, _metric.EvalMetric):
            eval_metric = _metric.create(eval_metric)
        for epoch in range(begin_epoch, num_epoch):
            tic = time.time()
            eval_metric.reset()
            nbatch = 0
            for batch in train_data:
                self.forward_backward(batch)
                self.update()
                self.update_metric(eval_metric, batch.label)
                for cb in _as_list(batch_end_callback):
                    cb(BatchEndParam(epoch, nbatch, eval_metric, locals()))
                nbatch += 1
            for name, val in eval_metric.get_name_value():
                self.logger.info("Epoch[%d] Train-%s=%f", epoch, name, val)
            self.logger.info("Epoch[%d] Time cost=%.3f", epoch, time.time() - tic)
            arg_params_, aux_params_ = self.get_params()
            self.set_params(arg_params_, aux_params_)
            for cb in _as_list(epoch_end_callback):
                cb(epoch, self.symbol, arg_params_, aux_params_)
            if eval_data is not None:
                res = self.score(eval_data, validation_metric, score_end_callback=eval_end_callback,
                                 batch_end_callback=eval_batch_end_callback, epoch=epoch)
                for name, val in res:
                    self.logger.info("Epoch[%d] Validation-%s=%f", epoch, name, val)
            train_data.reset()

    # ------------------------------------------------------------------ helpers
    @property
    def symbol(self):
        """The symbol this module computes."""
        return self._symbol

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Hook run before each batch (nothing to prepare for dense parameters)."""

    def _require(self, ok, what):
        if not ok:
            raise MXNetError("%s() needs the module to be bound and initialised first "
                             "(call bind(), init_params() and, to train, init_optimizer())" % what)
