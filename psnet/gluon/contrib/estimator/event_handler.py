"""Event handlers of the Gluon Estimator (MXNet 1.9.1's semantics, defaults and file names).

A handler subclasses one or more of the mixins ``TrainBegin``, ``TrainEnd``, ``EpochBegin``,
``EpochEnd``, ``BatchBegin`` and ``BatchEnd``; the Estimator calls the matching methods in
ascending ``priority`` order (default 0; GradientUpdateHandler -2000, MetricHandler and
ValidationHandler -1000, LoggingHandler +inf).  ``batch_end``/``epoch_end`` returning a true
value stops the batch loop / the training.
"""
import os
import time
import warnings

import numpy as np

from ....metric import CompositeEvalMetric, EvalMetric
from ....metric import Loss as metric_loss
from .utils import _check_metrics, EstimatorError

__all__ = ['TrainBegin', 'TrainEnd', 'EpochBegin', 'EpochEnd', 'BatchBegin', 'BatchEnd',
           'StoppingHandler', 'MetricHandler', 'ValidationHandler',
           'LoggingHandler', 'CheckpointHandler', 'EarlyStoppingHandler', 'GradientUpdateHandler']


class EventHandler(object):
    """Base of every event handler."""


def _check_event_handlers(handlers):
    """A fresh list of the handlers given (None, one EventHandler or a list of them)."""
    if isinstance(handlers, EventHandler):
        return [handlers]
    handlers = list(handlers or [])
    bad = [h for h in handlers if not isinstance(h, EventHandler)]
    if bad:
        raise EstimatorError("event_handlers must be an EventHandler or a list of EventHandler, "
                             "got: %r" % (bad,))
    return handlers


class TrainBegin(EventHandler):
    """Mixin: ``train_begin(estimator)`` runs once before training."""

    def train_begin(self, estimator, *args, **kwargs):
        """Called once before the first epoch."""


class TrainEnd(EventHandler):
    """Mixin: ``train_end(estimator)`` runs once after training."""

    def train_end(self, estimator, *args, **kwargs):
        """Called once after the last epoch."""


class EpochBegin(EventHandler):
    """Mixin: ``epoch_begin(estimator)`` runs before each epoch."""

    def epoch_begin(self, estimator, *args, **kwargs):
        """Called before each epoch (and once by ``evaluate``)."""


class EpochEnd(EventHandler):
    """Mixin: ``epoch_end(estimator)`` runs after each epoch; a true result stops training."""

    def epoch_end(self, estimator, *args, **kwargs):
        """Called after each epoch; return True to stop training."""
        return False


class BatchBegin(EventHandler):
    """Mixin: ``batch_begin(estimator, batch=...)`` runs before each batch."""

    def batch_begin(self, estimator, *args, **kwargs):
        """Called before each batch with ``batch=``."""


class BatchEnd(EventHandler):
    """Mixin: ``batch_end(estimator, batch, pred, label, loss)`` runs after each batch;
    a true result ends the epoch."""

    def batch_end(self, estimator, *args, **kwargs):
        """Called after each batch; return True to end the epoch."""
        return False


def _monitor_op(mode, monitor, who):
    """np.less / np.greater for ``mode``.  As MXNet 1.9.1 does, 'auto' picks ``np.greater``
    for every metric (its name test is always true) and warns about it."""
    if mode not in ('auto', 'min', 'max'):
        warnings.warn('%s mode %s is unknown, fallback to auto mode.' % (who, mode), RuntimeWarning)
        mode = 'auto'
    if mode == 'min':
        return np.less
    if mode == 'max':
        return np.greater
    warnings.warn("`greater` operator will be used to determine if {} has improved. "
                  "Please specify `mode='min'` to use the `less` operator. "
                  "Specify `mode='max' to disable this warning.`".format(monitor.get()[0]))
    return np.greater


class StoppingHandler(TrainBegin, BatchEnd, EpochEnd):
    """Stop training once ``max_batch`` batches or ``max_epoch`` epochs have run (the
    Estimator's own ``max_epoch``/``max_batch`` are read at train begin)."""

    def __init__(self, max_epoch=None, max_batch=None):
        self.max_epoch = max_epoch
        self.max_batch = max_batch
        self.current_batch = 0
        self.current_epoch = 0
        self.stop_training = False

    def train_begin(self, estimator, *args, **kwargs):
        """Read the limits from the estimator and reset the counters."""
        self.max_epoch = estimator.max_epoch
        self.max_batch = estimator.max_batch
        self.current_batch = 0
        self.current_epoch = 0

    def batch_end(self, estimator, *args, **kwargs):
        """Count the batch; True once ``max_batch`` is reached."""
        self.current_batch += 1
        if self.current_batch == self.max_batch:
            self.stop_training = True
        return self.stop_training

    def epoch_end(self, estimator, *args, **kwargs):
        """Count the epoch; True once ``max_epoch`` is reached (or a batch limit was)."""
        self.current_epoch += 1
        if self.current_epoch == self.max_epoch:
            self.stop_training = True
        return self.stop_training


class MetricHandler(EpochBegin, BatchEnd):
    """Reset ``metrics`` at epoch begin and update them at batch end (``metric.Loss``
    instances with the loss, the others with ``(label, pred)``)."""

    def __init__(self, metrics, priority=-1000):
        self.metrics = _check_metrics(metrics)
        self.priority = priority

    def epoch_begin(self, estimator, *args, **kwargs):
        """Reset every metric."""
        for metric in self.metrics:
            metric.reset()

    def batch_end(self, estimator, *args, **kwargs):
        """Update every metric from ``pred``, ``label`` and ``loss``."""
        pred, label, loss = kwargs['pred'], kwargs['label'], kwargs['loss']
        for metric in self.metrics:
            if isinstance(metric, metric_loss):
                metric.update(0, loss)
            else:
                metric.update(label, pred)


class ValidationHandler(TrainBegin, BatchEnd, EpochEnd):
    """Run ``eval_fn(val_data=..., batch_axis=..., event_handlers=...)`` every
    ``epoch_period`` epochs and/or every ``batch_period`` batches."""

    def __init__(self, val_data, eval_fn, epoch_period=1, batch_period=None, priority=-1000,
                 event_handlers=None):
        if not callable(eval_fn):
            raise EstimatorError("ValidationHandler: eval_fn must be callable, got %r" % (eval_fn,))
        self.val_data = val_data
        self.eval_fn = eval_fn
        self.epoch_period = epoch_period
        self.batch_period = batch_period
        self.current_batch = 0
        self.current_epoch = 0
        self.priority = priority
        self.event_handlers = event_handlers

    def train_begin(self, estimator, *args, **kwargs):
        """Reset the counters."""
        self.current_batch = 0
        self.current_epoch = 0

    def _run(self, estimator):
        self.eval_fn(val_data=self.val_data, batch_axis=estimator.batch_axis,
                     event_handlers=self.event_handlers)

    def batch_end(self, estimator, *args, **kwargs):
        """Validate every ``batch_period`` batches."""
        self.current_batch += 1
        if self.batch_period and self.current_batch % self.batch_period == 0:
            self._run(estimator)

    def epoch_end(self, estimator, *args, **kwargs):
        """Validate every ``epoch_period`` epochs."""
        self.current_epoch += 1
        if self.epoch_period and self.current_epoch % self.epoch_period == 0:
            self._run(estimator)


class LoggingHandler(TrainBegin, TrainEnd, EpochBegin, EpochEnd, BatchBegin, BatchEnd):
    """Log the optimizer, learning rate, timings and ``metrics`` through
    ``estimator.logger`` every epoch (``log_interval='epoch'``) or every k batches
    (``log_interval=k``), in MXNet's message formats."""

    def __init__(self, log_interval='epoch', metrics=None, priority=np.inf):
        if not isinstance(log_interval, int) and log_interval != 'epoch':
            raise EstimatorError("log_interval must be either an integer or string 'epoch', "
                                 "got %r" % (log_interval,))
        self.metrics = _check_metrics(metrics)
        self.batch_index = 0
        self.current_epoch = 0
        self.processed_samples = 0
        self.priority = priority
        self.log_interval = log_interval
        self.log_interval_time = 0
        self.train_start = self.batch_start = self.epoch_start = time.time()

    def _with_values(self, msg):
        for metric in self.metrics:
            name, value = metric.get()
            msg += '%s: %.4f, ' % (name, value)
        return msg.rstrip(', ')

    def train_begin(self, estimator, *args, **kwargs):
        """Log the optimizer, learning rate and the number of epochs or batches."""
        self.train_start = time.time()
        trainer = estimator.trainer
        estimator.logger.info("Training begin: using optimizer %s with current learning rate %.4f ",
                              trainer.optimizer.__class__.__name__, trainer.learning_rate)
        if estimator.max_epoch:
            estimator.logger.info("Train for %d epochs.", estimator.max_epoch)
        else:
            estimator.logger.info("Train for %d batches.", estimator.max_batch)
        self.current_epoch = 0
        self.batch_index = 0
        self.processed_samples = 0
        self.log_interval_time = 0

    def train_end(self, estimator, *args, **kwargs):
        """Log the total time, number of epochs and final metric values."""
        train_time = time.time() - self.train_start
        msg = 'Train finished using total %ds with %d epochs. ' % (train_time, self.current_epoch)
        estimator.logger.info(self._with_values(msg))

    def batch_begin(self, estimator, *args, **kwargs):
        """Start the batch timer (batch logging only)."""
        if isinstance(self.log_interval, int):
            self.batch_start = time.time()

    def batch_end(self, estimator, *args, **kwargs):
        """Log every ``log_interval`` batches (batch logging only)."""
        if isinstance(self.log_interval, int):
            batch_time = time.time() - self.batch_start
            msg = '[Epoch %d][Batch %d]' % (self.current_epoch, self.batch_index)
            self.processed_samples += kwargs['batch'][0].shape[0]
            msg += '[Samples %s] ' % (self.processed_samples)
            self.log_interval_time += batch_time
            if self.batch_index % self.log_interval == 0:
                msg += 'time/interval: %.3fs ' % self.log_interval_time
                self.log_interval_time = 0
                estimator.logger.info(self._with_values(msg))
        self.batch_index += 1

    def epoch_begin(self, estimator, *args, **kwargs):
        """Log the epoch's start (or 'Validation Begin' for non-training metrics)."""
        self.epoch_start = time.time()
        if any('training' in metric.name for metric in self.metrics):
            estimator.logger.info("[Epoch %d] Begin, current learning rate: %.4f",
                                  self.current_epoch, estimator.trainer.learning_rate)
        else:
            estimator.logger.info("Validation Begin")

    def epoch_end(self, estimator, *args, **kwargs):
        """Log the epoch's time and metric values."""
        epoch_time = time.time() - self.epoch_start
        msg = '[Epoch %d] Finished in %.3fs, ' % (self.current_epoch, epoch_time)
        estimator.logger.info(self._with_values(msg))
        self.current_epoch += 1
        self.batch_index = 0


class CheckpointHandler(TrainBegin, BatchEnd, EpochEnd):
    """Save ``{model_prefix}-epoch{E}batch{B}.params`` / ``.states`` into ``model_dir`` every
    ``epoch_period`` epochs and/or every ``batch_period`` batches (keeping the last
    ``max_checkpoints``), ``{model_prefix}-best.*`` when ``save_best`` and ``monitor``
    improves, and ``{model_prefix}-symbol.json`` after the first batch for a hybridized net.
    ``resume_from_checkpoint=True`` loads the newest checkpoint at train begin and trains
    only the remaining epochs or batches."""

    def __init__(self, model_dir, model_prefix='model', monitor=None, verbose=0,
                 save_best=False, mode='auto', epoch_period=1, batch_period=None,
                 max_checkpoints=5, resume_from_checkpoint=False):
        self.monitor = monitor
        self.verbose = verbose
        if save_best and not isinstance(monitor, EvalMetric):
            raise EstimatorError("CheckpointHandler: to save the best model only (save_best=True), "
                                 "provide one of the metric objects from estimator.train_metrics "
                                 "and estimator.val_metrics as monitor.")
        if not os.path.exists(model_dir):
            os.makedirs(model_dir)
        self.model_dir = model_dir
        self.model_prefix = model_prefix
        self.save_best = save_best
        self.epoch_period = epoch_period
        self.batch_period = batch_period
        self.current_batch = 0
        self.current_epoch = 0
        self.max_checkpoints = max_checkpoints
        self.resume_from_checkpoint = resume_from_checkpoint
        self.saved_checkpoints = []
        self.trained_epoch = -1
        self.trained_batch = -1
        if self.save_best:
            self.monitor_op = _monitor_op(mode, monitor, 'CheckpointHandler')
            self.best = np.inf if self.monitor_op is np.less else -np.inf

    def train_begin(self, estimator, *args, **kwargs):
        """Reset the counters; resume from the newest checkpoint if asked."""
        self.current_epoch = 0
        self.current_batch = 0
        if self.save_best:
            self.best = np.inf if self.monitor_op is np.less else -np.inf
        if self.resume_from_checkpoint:
            if (estimator.max_batch and (not self.batch_period or self.epoch_period)) or \
                    (estimator.max_epoch and (not self.epoch_period or self.batch_period)):
                raise EstimatorError(
                    "CheckpointHandler: to resume from checkpoint, save only with the same type "
                    "of period as training uses: training by epochs needs epoch_period set and "
                    "batch_period=None; training by batches needs batch_period set and "
                    "epoch_period=None (got epoch_period=%r, batch_period=%r)"
                    % (self.epoch_period, self.batch_period))
            self._resume_from_checkpoint(estimator)

    def batch_end(self, estimator, *args, **kwargs):
        """Save the symbol after the first batch; checkpoint every ``batch_period`` batches."""
        if self.current_batch == 0:
            self._save_symbol(estimator)
        if self.batch_period and (self.current_batch + 1) % self.batch_period == 0:
            self._save_checkpoint(estimator)
        self.current_batch += 1

    def epoch_end(self, estimator, *args, **kwargs):
        """Checkpoint every ``epoch_period`` epochs."""
        if self.epoch_period and (self.current_epoch + 1) % self.epoch_period == 0:
            self._save_checkpoint(estimator)
        self.current_epoch += 1

    def _save_checkpoint(self, estimator):
        if self.resume_from_checkpoint:
            epoch_n = self.current_epoch + self.trained_epoch + 1
            batch_n = self.current_batch + self.trained_batch + (0 if estimator.max_epoch else 1)
        else:
            epoch_n, batch_n = self.current_epoch, self.current_batch
        prefix = "%s-epoch%dbatch%d" % (self.model_prefix, epoch_n, batch_n)
        self._save_params_and_trainer(estimator, prefix)
        if self.verbose > 0:
            estimator.logger.info('[Epoch %d] CheckpointHandler: trained total %d batches, '
                                  'saving model at %s with prefix: %s', self.current_epoch,
                                  self.current_batch + 1, self.model_dir, prefix)
        if self.save_best:
            name, value = self.monitor.get()
            if np.isnan(value):
                warnings.warn(RuntimeWarning(
                    'Skipping save best because %s is not updated, make sure you pass one of the '
                    'metric objects estimator.train_metrics and estimator.val_metrics as monitor'
                    % name))
            elif self.monitor_op(value, self.best):
                prefix = self.model_prefix + '-best'
                self._save_params_and_trainer(estimator, prefix)
                if self.verbose > 0:
                    estimator.logger.info('[Epoch %d] CheckpointHandler: %s improved from %0.5f '
                                          'to %0.5f, updating best model at %s with prefix: %s',
                                          self.current_epoch, name, self.best, value,
                                          self.model_dir, prefix)
                self.best = value
            elif self.verbose > 0:
                estimator.logger.info('[Epoch %d] CheckpointHandler: %s did not improve from '
                                      '%0.5f, skipping updating best model',
                                      self.current_epoch, name, self.best)

    def _save_symbol(self, estimator):
        symbol_file = os.path.join(self.model_dir, self.model_prefix + '-symbol.json')
        cached = getattr(estimator.net, '_cached_graph', None)
        sym = getattr(cached, 'symbol', None)
        if sym is not None and hasattr(sym, 'save'):
            sym.save(symbol_file)
        else:
            estimator.logger.info(
                "Model architecture(symbol file) is not saved, please use HybridBlock "
                "to construct your model, and call net.hybridize() before passing to "
                "Estimator in order to save model architecture as %s.", symbol_file)

    def _save_params_and_trainer(self, estimator, file_prefix):
        estimator.net.save_parameters(os.path.join(self.model_dir, file_prefix + '.params'))
        estimator.trainer.save_states(os.path.join(self.model_dir, file_prefix + '.states'))
        if 'best' not in file_prefix:
            self.saved_checkpoints.append(file_prefix)
        if len(self.saved_checkpoints) > self.max_checkpoints:
            old = self.saved_checkpoints.pop(0)
            for fname in os.listdir(self.model_dir):
                if fname.startswith(old):
                    os.remove(os.path.join(self.model_dir, fname))

    def _resume_from_checkpoint(self, estimator):
        prefix = self.model_prefix + '-epoch'
        self.trained_epoch = self._find_max_iteration(prefix, 'epoch', 'batch',
                                                      self.saved_checkpoints)
        prefix += str(self.trained_epoch)
        self.trained_batch = self._find_max_iteration(prefix, 'batch', '.params')
        if self.trained_epoch == -1:
            msg = "CheckpointHandler: No checkpoint found, training from scratch for "
            if estimator.max_batch:
                msg += "%d batches" % estimator.max_batch
            else:
                msg += "%d epochs" % estimator.max_epoch
            estimator.logger.info(msg)
            return
        msg = ("CheckpointHandler: Checkpoint resumed from epoch %d batch %d, continue to train for "
               % (self.trained_epoch, self.trained_batch))
        if estimator.max_epoch:
            if self.trained_epoch >= estimator.max_epoch - 1:
                raise EstimatorError(
                    "Found checkpoint with maximum number of epoch %d reached, please specify "
                    "resume_from_checkpoint=False (default value) if you want to train from scratch."
                    % estimator.max_epoch)
            estimator.max_epoch = estimator.max_epoch - self.trained_epoch - 1
            msg += "%d epochs " % estimator.max_epoch
        if estimator.max_batch:
            if self.trained_batch >= estimator.max_batch - 1:
                raise EstimatorError(
                    "Found checkpoint with maximum number of batch %d reached, please specify "
                    "resume_from_checkpoint=False (default value) if you want to train from scratch."
                    % self.trained_batch)
            estimator.max_batch = estimator.max_batch - self.trained_batch - 1
            msg += "%d batches " % estimator.max_batch
        name = "%s-epoch%dbatch%d" % (self.model_prefix, self.trained_epoch, self.trained_batch)
        param_file = os.path.join(self.model_dir, name + '.params')
        trainer_file = os.path.join(self.model_dir, name + '.states')
        for f in (param_file, trainer_file):
            if not os.path.exists(f):
                raise EstimatorError("Failed to load checkpoint, %s does not exist" % f)
        estimator.net.load_parameters(param_file, ctx=estimator.context)
        estimator.trainer.load_states(trainer_file)
        estimator.logger.warning(msg)

    def _find_max_iteration(self, prefix, start, end, saved_checkpoints=None):
        max_iter = -1
        for fname in sorted(os.listdir(self.model_dir)):
            if fname.startswith(prefix) and '.params' in fname:
                if saved_checkpoints is not None:
                    saved_checkpoints.append(fname[:fname.find('.params')])
                i0 = fname.find(start, len(self.model_prefix)) + len(start)
                try:
                    it = int(fname[i0:fname.find(end, i0)])
                except ValueError:
                    raise EstimatorError(
                        "Error parsing checkpoint file %r, please check your checkpoints have the "
                        "format: {model_name}-epoch{epoch_number}batch{batch_number}.params, there "
                        "should also be a .states file for each .params file" % fname) from None
                max_iter = max(max_iter, it)
        return max_iter


class EarlyStoppingHandler(TrainBegin, EpochEnd, TrainEnd):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs (``mode`` 'min', 'max' or 'auto'; ``baseline`` is the starting best)."""

    def __init__(self, monitor, min_delta=0, patience=0, mode='auto', baseline=None):
        if not isinstance(monitor, EvalMetric):
            raise EstimatorError("EarlyStoppingHandler: monitor must be one of the metric objects "
                                 "from estimator.train_metrics and estimator.val_metrics, got %r"
                                 % (monitor,))
        if isinstance(monitor, CompositeEvalMetric):
            raise EstimatorError("CompositeEvalMetric is not supported for EarlyStoppingHandler, "
                                 "please specify a simple metric instead.")
        self.monitor = monitor
        self.baseline = baseline
        self.patience = patience
        self.wait = 0
        self.stopped_epoch = 0
        self.current_epoch = 0
        self.stop_training = False
        self.monitor_op = _monitor_op(mode, monitor, 'EarlyStopping')
        self.min_delta = min_delta if self.monitor_op is np.greater else -min_delta
        self.best = np.inf if self.monitor_op is np.less else -np.inf

    def train_begin(self, estimator, *args, **kwargs):
        """Reset the wait counter and the best value (``baseline`` if given)."""
        self.wait = 0
        self.stopped_epoch = 0
        self.current_epoch = 0
        self.stop_training = False
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = np.inf if self.monitor_op is np.less else -np.inf

    def epoch_end(self, estimator, *args, **kwargs):
        """Compare the monitored value with the best; True once patience runs out."""
        name, value = self.monitor.get()
        if np.isnan(value):
            warnings.warn(RuntimeWarning(
                '%s is not updated, make sure you pass one of the metric objects from '
                'estimator.train_metrics and estimator.val_metrics as monitor.' % name))
        elif self.monitor_op(value - self.min_delta, self.best):
            self.best = value
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = self.current_epoch
                self.stop_training = True
        self.current_epoch += 1
        return self.stop_training

    def train_end(self, estimator, *args, **kwargs):
        """Log the early stop."""
        if self.stopped_epoch > 0:
            estimator.logger.info('[Epoch %d] EarlyStoppingHanlder: early stopping due to %s '
                                  'not improving', self.stopped_epoch, self.monitor.get()[0])


class GradientUpdateHandler(BatchEnd):
    """Call ``estimator.trainer.step(batch_size)`` at batch end, ``batch_size`` being the
    total first dimension of the losses (priority -2000: before the metrics)."""

    def __init__(self, priority=-2000):
        self.priority = priority

    def batch_end(self, estimator, *args, **kwargs):
        """Apply the gradients."""
        loss = kwargs['loss']
        if not isinstance(loss, list):
            loss = [loss]
        estimator.trainer.step(sum(l.shape[0] for l in loss))
