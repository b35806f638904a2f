"""``Estimator``: MXNet 1.9.1's Gluon training loop driven by event handlers."""
import copy
import logging
import sys
import warnings

from .event_handler import (MetricHandler, ValidationHandler, LoggingHandler, StoppingHandler,
                            GradientUpdateHandler, TrainBegin, EpochBegin, BatchBegin, BatchEnd,
                            EpochEnd, TrainEnd, _check_event_handlers)
from .utils import (_check_metrics, _suggest_metric_for_loss, _check_handler_metric_ref,
                    EstimatorError)
from .batch_processor import BatchProcessor
from ...data import DataLoader
from ...loss import Loss as gluon_loss
from ...trainer import Trainer
from ...parameter import DeferredInitializationError
from ....base import MXNetError
from ....context import Context, cpu, gpu, num_gpus
from ....metric import Loss as metric_loss

__all__ = ['Estimator']


class Estimator(object):
    """Train and evaluate a Gluon ``net`` with ``loss`` through event handlers.

    Parameters follow MXNet 1.9.1: ``train_metrics``/``val_metrics`` (EvalMetric or list;
    by default Accuracy for a SoftmaxCrossEntropyLoss plus a ``metric.Loss`` named after the
    loss, renamed 'training ...' / 'validation ...'), ``initializer`` (used when ``net`` is not
    initialized yet), ``trainer`` (default: ``Trainer(net.collect_params(), 'sgd',
    {'learning_rate': 0.001})`` with a warning), ``context`` (Context or list; default gpu(0)
    when a GPU exists, else cpu()), ``val_net``/``val_loss`` (default ``net``/``loss``) and
    ``batch_processor`` (default :class:`BatchProcessor`).  ``logger`` is a
    ``logging.Logger('Estimator')`` writing INFO to stdout.
    """

    logger = None

    def __init__(self, net, loss, train_metrics=None, val_metrics=None, initializer=None,
                 trainer=None, context=None, val_net=None, val_loss=None, batch_processor=None):
        self.net = net
        self.loss = self._check_loss(loss, 'loss')
        self._train_metrics = _check_metrics(train_metrics)
        self._val_metrics = _check_metrics(val_metrics)
        self._add_default_training_metrics()
        self._add_validation_metrics()
        self.val_loss = self.loss if val_loss is None else self._check_loss(val_loss, 'val_loss')
        self.val_net = self.net if val_net is None else val_net
        self.logger = logging.Logger(name='Estimator', level=logging.INFO)
        self.logger.addHandler(logging.StreamHandler(sys.stdout))
        self.context = self._check_context(context)
        self._initialize(initializer)
        self.trainer = self._check_trainer(trainer)
        self.batch_processor = self._check_batch_processor(batch_processor)
        self.max_epoch = None
        self.max_batch = None
        self.batch_axis = 0

    # ------------------------------------------------------------------ argument checks
    @staticmethod
    def _check_loss(loss, what):
        if not isinstance(loss, gluon_loss):
            raise EstimatorError("%s must be a gluon.loss.Loss, got %r" % (what, loss))
        return loss

    @staticmethod
    def _check_context(context):
        gpus = num_gpus()
        available = [gpu(i) for i in range(gpus)]
        if context:
            if isinstance(context, Context):
                context = [context]
            elif isinstance(context, list) and all(isinstance(c, Context) for c in context):
                context = list(context)
            else:
                raise EstimatorError("context must be a Context or a list of Context, for example "
                                     "mx.cpu() or [mx.gpu(0), mx.gpu(1)], got %r" % (context,))
            for ctx in context:
                if not (ctx in available or str(ctx).startswith('cpu')):
                    raise EstimatorError("context %s is not available, please make sure your "
                                         "context is one of: mx.cpu(), %s"
                                         % (ctx, ", ".join(str(c) for c in available)))
            return context
        if gpus > 0:
            if gpus > 1:
                warnings.warn("You have multiple GPUs, gpu(0) will be used by default. To utilize "
                              "all your GPUs, specify context as a list of gpus, e.g. "
                              "context=[mx.gpu(0), mx.gpu(1)] ")
            return [gpu(0)]
        return [cpu()]

    @staticmethod
    def _check_batch_processor(batch_processor):
        if batch_processor is None:
            return BatchProcessor()
        if not callable(getattr(batch_processor, 'fit_batch', None)) or \
                not callable(getattr(batch_processor, 'evaluate_batch', None)):
            raise EstimatorError("batch_processor: a customized Batch Processor must contain "
                                 "fit_batch() and evaluate_batch() methods")
        return batch_processor

    def _is_initialized(self):
        params = self.net.collect_params()
        for name in params:
            try:
                params[name].list_ctx()
            except DeferredInitializationError:
                continue
            except (MXNetError, RuntimeError):
                return False
        return True

    def _initialize(self, initializer):
        if not self._is_initialized():
            if initializer:
                self.net.initialize(init=initializer, ctx=self.context)
            else:
                self.net.initialize(ctx=self.context)
        elif initializer:
            warnings.warn("Network already fully initialized, skipping initialization. You don't "
                          "need to pass initializer if you already initialized your net. You can "
                          "use net.initialize(init=your_initializer, force_reinit=True) to force "
                          "re-initialize.")

    def _check_trainer(self, trainer):
        if not trainer:
            warnings.warn("No trainer specified, default SGD optimizer with learning rate 0.001 "
                          "is used.")
            return Trainer(self.net.collect_params(), 'sgd', {'learning_rate': 0.001})
        if not isinstance(trainer, Trainer):
            raise EstimatorError("trainer must be a gluon.Trainer instance, got %r" % (trainer,))
        return trainer

    def _add_default_training_metrics(self):
        if not self._train_metrics:
            suggested = _suggest_metric_for_loss(self.loss)
            if suggested:
                self._train_metrics = [suggested]
            self._train_metrics.append(metric_loss(self.loss.name.rstrip('1234567890')))
        for metric in self._train_metrics:
            metric.name = 'training ' + metric.name

    def _add_validation_metrics(self):
        if not self._val_metrics:
            self._val_metrics = [copy.deepcopy(m) for m in self._train_metrics]
        for metric in self._val_metrics:
            if 'training' in metric.name:
                metric.name = metric.name.replace('training', 'validation')
            else:
                metric.name = 'validation ' + metric.name

    @property
    def train_metrics(self):
        """The training metrics (names prefixed 'training ')."""
        return self._train_metrics

    @property
    def val_metrics(self):
        """The validation metrics (names prefixed 'validation ')."""
        return self._val_metrics

    # ------------------------------------------------------------------ loops
    def evaluate(self, val_data, batch_axis=0, event_handlers=None):
        """Evaluate ``val_net`` on the DataLoader ``val_data``: reset ``val_metrics``, then run
        the handlers' epoch_begin, batch_begin/``evaluate_batch``/batch_end per batch and
        epoch_end.  A MetricHandler and a LoggingHandler on ``val_metrics`` are added unless
        ``event_handlers`` holds one."""
        if not isinstance(val_data, DataLoader):
            raise EstimatorError("val_data: Estimator only supports a gluon.data.DataLoader as "
                                 "input, got %s" % type(val_data).__name__)
        for metric in self.val_metrics:
            metric.reset()
        handlers = self._prepare_default_validation_handlers(event_handlers)
        _, epoch_begin, batch_begin, batch_end, epoch_end, _ = self._categorize_handlers(handlers)
        for handler in epoch_begin:
            handler.epoch_begin(self)
        for batch in val_data:
            for handler in batch_begin:
                handler.batch_begin(self, batch=batch)
            _, label, pred, loss = self.batch_processor.evaluate_batch(self, batch, batch_axis)
            for handler in batch_end:
                handler.batch_end(self, batch=batch, pred=pred, label=label, loss=loss)
        for handler in epoch_end:
            handler.epoch_end(self)

    def fit(self, train_data, val_data=None, epochs=None, event_handlers=None, batches=None,
            batch_axis=0):
        """Train on the DataLoader ``train_data`` for exactly one of ``epochs`` or
        ``batches``.  A StoppingHandler is always added, and a GradientUpdateHandler,
        MetricHandler, ValidationHandler (when ``val_data`` is given) and LoggingHandler
        unless ``event_handlers`` holds one of that type; all run in ascending priority."""
        if not isinstance(train_data, DataLoader):
            raise EstimatorError("train_data: Estimator only supports a gluon.data.DataLoader as "
                                 "input, got %s" % type(train_data).__name__)
        if val_data is not None and not isinstance(val_data, DataLoader):
            raise EstimatorError("val_data: Estimator only supports a gluon.data.DataLoader as "
                                 "input, got %s" % type(val_data).__name__)
        if (not epochs) == (not batches):
            raise EstimatorError("fit: specify exactly one of epochs or batches "
                                 "(got epochs=%r, batches=%r)" % (epochs, batches))
        self.max_epoch = epochs
        self.max_batch = batches
        self.batch_axis = batch_axis
        handlers = self._prepare_default_handlers(val_data, event_handlers)
        train_begin, epoch_begin, batch_begin, batch_end, epoch_end, train_end = \
            self._categorize_handlers(handlers)
        for handler in train_begin:
            handler.train_begin(self)
        while True:
            for handler in epoch_begin:
                handler.epoch_begin(self)
            for batch in train_data:
                for handler in batch_begin:
                    handler.batch_begin(self, batch=batch)
                _, label, pred, loss = self.batch_processor.fit_batch(self, batch, batch_axis)
                results = [handler.batch_end(self, batch=batch, pred=pred, label=label, loss=loss)
                           for handler in batch_end]
                if any(results):
                    break
            results = [handler.epoch_end(self) for handler in epoch_end]
            if any(results):
                break
        for handler in train_end:
            handler.train_end(self)

    def _prepare_default_handlers(self, val_data, event_handlers):
        handlers = _check_event_handlers(event_handlers)
        added = [StoppingHandler(self.max_epoch, self.max_batch)]
        if not any(isinstance(h, GradientUpdateHandler) for h in handlers):
            added.append(GradientUpdateHandler())
        if not any(isinstance(h, MetricHandler) for h in handlers):
            added.append(MetricHandler(metrics=self.train_metrics))
        if not any(isinstance(h, ValidationHandler) for h in handlers) and val_data:
            added.append(ValidationHandler(val_data=val_data, eval_fn=self.evaluate))
        if not any(isinstance(h, LoggingHandler) for h in handlers):
            added.append(LoggingHandler(metrics=self.train_metrics))
        mixing = bool(handlers) and bool(added)
        handlers.extend(added)
        if mixing:
            known = self.train_metrics + self.val_metrics
            for h in handlers:
                _check_handler_metric_ref(h, known)
        handlers.sort(key=lambda h: getattr(h, 'priority', 0))
        return handlers

    def _prepare_default_validation_handlers(self, event_handlers):
        handlers = _check_event_handlers(event_handlers)
        added = []
        if not any(isinstance(h, MetricHandler) for h in handlers):
            added.append(MetricHandler(metrics=self.val_metrics))
        if not any(isinstance(h, LoggingHandler) for h in handlers):
            added.append(LoggingHandler(metrics=self.val_metrics))
        mixing = bool(handlers) and bool(added)
        handlers.extend(added)
        if mixing:
            for h in handlers:
                _check_handler_metric_ref(h, self.val_metrics)
        handlers.sort(key=lambda h: getattr(h, 'priority', 0))
        return handlers

    @staticmethod
    def _categorize_handlers(handlers):
        """Split handlers into the six event lists (a handler is called only for the
        events whose mixin it inherits)."""
        kinds = (TrainBegin, EpochBegin, BatchBegin, BatchEnd, EpochEnd, TrainEnd)
        return tuple([h for h in handlers if isinstance(h, k)] for k in kinds)
