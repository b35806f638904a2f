"""Training callbacks for ``Module.fit`` / ``FeedForward.fit`` (MXNet's ``mx.callback``).

Batch-end callbacks receive a ``BatchEndParam(epoch, nbatch, eval_metric, locals)``;
epoch-end callbacks receive ``(epoch, symbol, arg_params, aux_params)``.
"""
import logging
import sys
import time

__all__ = ["Speedometer", "ProgressBar", "LogValidationMetricsCallback", "do_checkpoint",
           "module_checkpoint", "log_train_metric"]


def _metric_pairs(eval_metric):
    return eval_metric.get_name_value() if eval_metric is not None else []


class Speedometer:
    """Log training speed (samples/s) and the metric every ``frequent`` batches.

    The line reads ``Epoch[0] Batch [50-100]\tSpeed: 1234.56 samples/sec\taccuracy=0.9``;
    with ``auto_reset`` the metric is reset after each log, so values cover the interval.
    """

    def __init__(self, batch_size, frequent=50, auto_reset=True):
        self.batch_size = batch_size
        self.frequent = frequent
        self.auto_reset = auto_reset
        self.init = False
        self.tic = 0
        self.last_count = 0

    def __call__(self, param):
        count = param.nbatch
        if self.last_count > count:
            self.init = False
        self.last_count = count
        if not self.init:
            self.init = True
            self.tic = time.time()
            return
        if count % self.frequent != 0:
            return
        elapsed = time.time() - self.tic
        speed = self.frequent * self.batch_size / elapsed if elapsed > 0 else float("inf")
        msg = "Epoch[%d] Batch [%d-%d]\tSpeed: %.2f samples/sec" % (
            param.epoch, count - self.frequent, count, speed)
        for name, value in _metric_pairs(param.eval_metric):
            msg += "\t%s=%f" % (name, value)
        if self.auto_reset and param.eval_metric is not None:
            param.eval_metric.reset()
        logging.info(msg)
        self.tic = time.time()


class ProgressBar:
    """Draw a text progress bar of ``total`` batches, ``length`` characters wide."""

    def __init__(self, total, length=80):
        self.bar_len = length
        self.total = total

    def __call__(self, param):
        count = param.nbatch
        filled = int(round(self.bar_len * count / float(self.total)))
        percents = round(100.0 * count / float(self.total), 1)
        bar = "=" * filled + "-" * (self.bar_len - filled)
        sys.stdout.write("[%s] %s%s\r" % (bar, percents, "%"))
        sys.stdout.flush()


class LogValidationMetricsCallback:
    """Log each validation metric at the end of an epoch: ``Epoch[3] Validation-accuracy=0.97``."""

    def __call__(self, param):
        for name, value in _metric_pairs(param.eval_metric):
            logging.info("Epoch[%d] Validation-%s=%f", param.epoch, name, value)


def log_train_metric(period, auto_reset=False):
    """A batch-end callback logging the training metric every ``period`` batches."""
    def _callback(param):
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in _metric_pairs(param.eval_metric):
                logging.info("Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch, name, value)
            if auto_reset:
                param.eval_metric.reset()
    return _callback


def do_checkpoint(prefix, period=1):
    """An epoch-end callback saving ``prefix-symbol.json`` and ``prefix-%04d.params`` every ``period`` epochs."""
    period = int(max(1, period))

    def _callback(iter_no, sym, arg, aux):
        if (iter_no + 1) % period == 0:
            from .model import save_checkpoint
            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)
    return _callback


def module_checkpoint(mod, prefix, period=1, save_optimizer_states=False):
    """An epoch-end callback calling ``mod.save_checkpoint`` every ``period`` epochs."""
    period = int(max(1, period))

    def _callback(iter_no, sym=None, arg=None, aux=None):
        if (iter_no + 1) % period == 0:
            mod.save_checkpoint(prefix, iter_no + 1, save_optimizer_states)
    return _callback
