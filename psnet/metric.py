"""Evaluation metrics (``mx.metric``), computing the values MXNet 1.9.1 computes.

Every metric accumulates ``sum_metric`` and ``num_inst`` (and global twins that
:meth:`EvalMetric.reset_local` keeps) and reports ``sum_metric / num_inst`` from
:meth:`EvalMetric.get`.  ``update(labels, preds)`` takes one NDArray or a list of them
(NumPy arrays work too).  Note MXNet's conventions kept here: MAE, MSE and RMSE
average the per-batch values; F1 and MCC with ``average='macro'`` average per-update
scores; ``Loss`` averages over all elements.

``mx.metric.create('acc' | 'mse' | [...] | callable | EvalMetric)`` builds metrics by
name (aliases included), ``@mx.metric.register`` adds a class.
"""
import math
from collections import OrderedDict

import numpy

from .base import NotSupportedError, ShapeError
from .registry import Registry

__all__ = ["EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "MCC", "PCC",
           "Perplexity", "MAE", "MSE", "RMSE", "CrossEntropy", "NegativeLogLikelihood",
           "PearsonCorrelation", "Loss", "Torch", "Caffe", "CustomMetric", "create", "register",
           "alias", "np", "check_label_shapes"]

_REGISTRY = Registry("metric")


def register(klass):
    """Class decorator: ``create(<lower-cased class name>)`` builds ``klass``."""
    return _REGISTRY.register(klass)


def alias(*names):
    """Class decorator adding more names for ``create``."""
    return _REGISTRY.alias(*names)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _to_numpy(x):
    return x.asnumpy() if hasattr(x, "asnumpy") else numpy.asarray(x)


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """Raise when the numbers (or, with ``shape``, the shapes) of labels and preds differ.

    With ``wrap`` single arrays come back as one-element lists.
    """
    if shape:
        lshape, pshape = labels.shape, preds.shape
    else:
        lshape, pshape = len(labels), len(preds)
    if lshape != pshape:
        raise ShapeError("Shape of labels {} does not match shape of predictions {}".format(lshape, pshape))
    if wrap:
        return _as_list(labels) if not isinstance(labels, list) else labels, \
            _as_list(preds) if not isinstance(preds, list) else preds
    return labels, preds


def _pairs(labels, preds):
    labels, preds = _as_list(labels), _as_list(preds)
    check_label_shapes(labels, preds)
    return zip(labels, preds)


class EvalMetric:
    """Base class: a name, accumulated ``sum_metric``/``num_inst`` and their global twins."""

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self):
        """The arguments that re-create this metric with :func:`create`."""
        config = dict(self._kwargs)
        config.update(metric=type(self).__name__, name=self.name, output_names=self.output_names,
                      label_names=self.label_names)
        return config

    def update_dict(self, label, pred):
        """``update`` from dicts of name -> array, selecting ``label_names``/``output_names``."""
        pred = [pred[n] for n in self.output_names] if self.output_names is not None else list(pred.values())
        label = [label[n] for n in self.label_names] if self.label_names is not None else list(label.values())
        self.update(label, pred)

    def update(self, labels, preds):
        """Accumulate the metric over a batch of labels and predictions."""
        raise NotImplementedError("%s must implement update()" % type(self).__name__)

    def _add(self, value, count):
        """Add ``value`` over ``count`` instances to the local and global sums."""
        self.sum_metric += value
        self.global_sum_metric += value
        self.num_inst += count
        self.global_num_inst += count

    def reset(self):
        """Clear the local and global sums."""
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self):
        """Clear the local sums only."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def get(self):
        """``(name, value)``; the value is NaN before any update."""
        if self.num_inst == 0:
            return self.name, float("nan")
        return self.name, self.sum_metric / self.num_inst

    def get_global(self):
        """``(name, value)`` over everything since the last :meth:`reset`."""
        if not self._has_global_stats:
            return self.get()
        if self.global_num_inst == 0:
            return self.name, float("nan")
        return self.name, self.global_sum_metric / self.global_num_inst

    def get_name_value(self):
        """``[(name, value), ...]``."""
        return _zip_name_value(*self.get())

    def get_global_name_value(self):
        """``[(name, value), ...]`` of :meth:`get_global`."""
        return _zip_name_value(*self.get_global())


def _zip_name_value(name, value):
    return list(zip(_as_list(name), _as_list(value)))


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; ``get()`` returns (list of names, list of values)."""

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)
        self.metrics = [create(m) for m in (metrics or [])]

    def add(self, metric):
        """Add a metric (anything :func:`create` takes)."""
        self.metrics.append(create(metric))

    def get_metric(self, index):
        """The ``index``-th child metric."""
        try:
            return self.metrics[index]
        except IndexError:
            raise ShapeError("Metric index {} is out of range 0 and {}".format(index, len(self.metrics))) from None

    def update_dict(self, labels, preds):
        """Pass the selected labels/outputs on to every child."""
        if self.label_names is not None:
            labels = OrderedDict(i for i in labels.items() if i[0] in self.label_names)
        if self.output_names is not None:
            preds = OrderedDict(i for i in preds.items() if i[0] in self.output_names)
        for m in self.metrics:
            m.update_dict(labels, preds)

    def update(self, labels, preds):
        """Update every child."""
        for m in self.metrics:
            m.update(labels, preds)

    def reset(self):
        """Reset every child."""
        for m in getattr(self, "metrics", ()):
            m.reset()

    def reset_local(self):
        """Reset every child's local sums."""
        for m in self.metrics:
            m.reset_local()

    def _collect(self, getter):
        names, values = [], []
        for m in self.metrics:
            name, value = getter(m)
            names.extend(_as_list(name))
            values.extend(_as_list(value))
        return names, values

    def get(self):
        """``([names], [values])`` of the children."""
        return self._collect(lambda m: m.get())

    def get_global(self):
        """``([names], [values])`` of the children's global values."""
        return self._collect(lambda m: m.get_global())

    def get_config(self):
        """The config, the children's included."""
        config = super().get_config()
        config["metrics"] = [m.get_config() for m in self.metrics]
        return config


@register
@alias("acc")
class Accuracy(EvalMetric):
    """Fraction of correct predictions; class scores are arg-maxed along ``axis`` first."""

    def __init__(self, axis=1, name="accuracy", output_names=None, label_names=None):
        super().__init__(name, axis=axis, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.axis = axis

    def update(self, labels, preds):
        """Count the correct predictions of a batch."""
        for label, pred in _pairs(labels, preds):
            label, pred = _to_numpy(label), _to_numpy(pred)
            if pred.shape != label.shape:
                pred = pred.argmax(axis=self.axis)
            pred = pred.astype("int32").ravel()
            label = label.astype("int32").ravel()
            check_label_shapes(label, pred)
            self._add(int((pred == label).sum()), len(pred))


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(EvalMetric):
    """Fraction of samples whose label is among the ``top_k`` highest scores."""

    def __init__(self, top_k=1, name="top_k_accuracy", output_names=None, label_names=None):
        super().__init__(name, top_k=top_k, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        if top_k <= 1:
            raise ShapeError("TopKAccuracy needs top_k > 1 (use Accuracy for top_k=1), got %r" % (top_k,))
        self.top_k = top_k
        self.name += "_%d" % top_k

    def update(self, labels, preds):
        """Count the samples whose label is in the top k."""
        for label, pred in _pairs(labels, preds):
            pred = _to_numpy(pred).astype("float32")
            label = _to_numpy(label).astype("int32")
            if pred.ndim > 2:
                raise ShapeError("TopKAccuracy: predictions must have at most 2 dims, got shape %s"
                                 % (pred.shape,))
            check_label_shapes(label, pred)
            if pred.ndim == 1:
                correct = int((numpy.argpartition(pred, -self.top_k) == label.ravel()).sum())
            else:
                k = min(pred.shape[1], self.top_k)
                top = numpy.argpartition(pred, -k, axis=1)[:, -k:]
                correct = int((top == label.reshape(-1, 1)).sum())
            self._add(correct, pred.shape[0])


class _BinaryStats:
    """Confusion counts of a binary classifier, local and global."""

    _FIELDS = ("tp", "fp", "fn", "tn")

    def __init__(self):
        self.local = dict.fromkeys(self._FIELDS, 0)
        self.total = dict.fromkeys(self._FIELDS, 0)

    def update(self, label, pred, who):
        pred = _to_numpy(pred)
        label = _to_numpy(label).astype("int32").ravel()
        check_label_shapes(label, pred)
        if len(numpy.unique(label)) > 2:
            raise ShapeError("%s currently only supports binary classification." % who)
        p = pred.argmax(axis=1) == 1
        t = label == 1
        counts = {"tp": int((p & t).sum()), "fp": int((p & ~t).sum()),
                  "fn": int((~p & t).sum()), "tn": int((~p & ~t).sum())}
        for k, v in counts.items():
            self.local[k] += v
            self.total[k] += v

    def reset_local(self):
        self.local = dict.fromkeys(self._FIELDS, 0)

    def reset(self):
        self.reset_local()
        self.total = dict.fromkeys(self._FIELDS, 0)


def _fscore(c):
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] > 0 else 0.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] > 0 else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _mcc(c):
    if not sum(c.values()):
        return 0.0
    tp, fp, fn, tn = (float(c[k]) for k in ("tp", "fp", "fn", "tn"))
    denom = 1.0
    for t in (tp + fp, tp + fn, tn + fp, tn + fn):
        if t != 0.0:
            denom *= t
    return (tp * tn - fp * fn) / math.sqrt(denom)


class _BinaryMetric(EvalMetric):
    """F1 / MCC: a score of the confusion counts, averaged per update ('macro') or pooled ('micro')."""

    _score = None

    def __init__(self, name, output_names, label_names, average):
        self.average = average
        self.stats = _BinaryStats()
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def update(self, labels, preds):
        """Add a batch to the confusion counts and update the score."""
        for label, pred in _pairs(labels, preds):
            self.stats.update(label, pred, type(self).__name__)
        score = type(self)._score
        if self.average == "macro":
            self.sum_metric += score(self.stats.local)
            self.global_sum_metric += score(self.stats.total)
            self.num_inst += 1
            self.global_num_inst += 1
            self.stats.reset()
        else:
            n_local, n_total = sum(self.stats.local.values()), sum(self.stats.total.values())
            self.sum_metric = score(self.stats.local) * n_local
            self.global_sum_metric = score(self.stats.total) * n_total
            self.num_inst, self.global_num_inst = n_local, n_total

    def reset(self):
        """Clear the sums and the confusion counts."""
        super().reset()
        self.stats.reset()

    def reset_local(self):
        """Clear the local sums and counts."""
        super().reset_local()
        self.stats.reset_local()


@register
class F1(_BinaryMetric):
    """F1 score of a binary classifier (class 1 is positive)."""

    _score = staticmethod(_fscore)

    def __init__(self, name="f1", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)


@register
class MCC(_BinaryMetric):
    """Matthews correlation coefficient of a binary classifier."""

    _score = staticmethod(_mcc)

    def __init__(self, name="mcc", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)


@register
class PCC(EvalMetric):
    """Multi-class Matthews correlation (Pearson correlation of the confusion matrix)."""

    def __init__(self, name="pcc", output_names=None, label_names=None, has_global_stats=True):
        self.k = 2
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=has_global_stats)

    @staticmethod
    def _calc_mcc(cmat):
        n = cmat.sum()
        x, y = cmat.sum(axis=1), cmat.sum(axis=0)
        cov_xx, cov_yy = numpy.sum(x * (n - x)), numpy.sum(y * (n - y))
        if cov_xx == 0 or cov_yy == 0:
            return float("nan")
        cov_xy = numpy.sum(cmat.diagonal() * n - x * y)
        return cov_xy / (cov_xx * cov_yy) ** 0.5

    def update(self, labels, preds):
        """Add a batch to the confusion matrix."""
        for label, pred in _pairs(labels, preds):
            label, pred = _to_numpy(label).astype("int32").ravel(), _to_numpy(pred)
            pred = pred.argmax(axis=1) if pred.shape != label.shape and pred.ndim > 1 else pred.astype("int32")
            pred = pred.ravel()
            n = int(max(pred.max(), label.max()))
            if n >= self.k:
                grow = n + 1 - self.k
                self.lcm = numpy.pad(self.lcm, ((0, grow), (0, grow)))
                self.gcm = numpy.pad(self.gcm, ((0, grow), (0, grow)))
                self.k += grow
            bcm = numpy.zeros((self.k, self.k))
            numpy.add.at(bcm, (pred, label), 1)
            self.lcm += bcm
            self.gcm += bcm
        self.num_inst += 1
        self.global_num_inst += 1

    @property
    def sum_metric(self):
        """The MCC of the local confusion matrix times the number of updates."""
        return self._calc_mcc(self.lcm) * self.num_inst

    @property
    def global_sum_metric(self):
        """The MCC of the global confusion matrix times the number of updates."""
        return self._calc_mcc(self.gcm) * self.global_num_inst

    def reset(self):
        """Clear both confusion matrices."""
        self.global_num_inst = 0
        self.gcm = numpy.zeros((self.k, self.k))
        self.reset_local()

    def reset_local(self):
        """Clear the local confusion matrix."""
        self.num_inst = 0
        self.lcm = numpy.zeros((self.k, self.k))


@register
class Perplexity(EvalMetric):
    """``exp(mean(-log p(label)))`` over the labels that are not ``ignore_label``."""

    def __init__(self, ignore_label, axis=-1, name="perplexity", output_names=None, label_names=None):
        super().__init__(name, ignore_label=ignore_label, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self.ignore_label = ignore_label
        self.axis = axis

    def update(self, labels, preds):
        """Accumulate the negative log-likelihood of a batch."""
        loss, num = 0.0, 0
        for label, pred in _pairs(labels, preds):
            label, pred = _to_numpy(label), _to_numpy(pred)
            if label.size * pred.shape[-1] != pred.size:
                raise ShapeError("shape mismatch: %s vs. %s" % (label.shape, pred.shape))
            label = label.reshape(label.size)
            axis = self.axis % pred.ndim
            idx = numpy.expand_dims(label.astype("int64").reshape(
                pred.shape[:axis] + pred.shape[axis + 1:]), axis)
            prob = numpy.take_along_axis(pred, idx, axis=axis).ravel()
            if self.ignore_label is not None:
                ignore = (label == self.ignore_label).astype(prob.dtype)
                num -= int(ignore.sum())
                prob = prob * (1 - ignore) + ignore
            loss -= float(numpy.log(numpy.maximum(1e-10, prob)).sum())
            num += prob.size
        self._add(loss, num)

    def get(self):
        """``(name, exp(mean negative log-likelihood))``."""
        if self.num_inst == 0:
            return self.name, float("nan")
        return self.name, math.exp(self.sum_metric / self.num_inst)

    def get_global(self):
        """The global perplexity."""
        if self.global_num_inst == 0:
            return self.name, float("nan")
        return self.name, math.exp(self.global_sum_metric / self.global_num_inst)


def _as_columns(a):
    return a.reshape(a.shape[0], 1) if a.ndim == 1 else a


class _Regression(EvalMetric):
    """MAE / MSE / RMSE: a per-batch error, averaged over batches (MXNet's convention)."""

    def __init__(self, name, output_names, label_names):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def _error(self, diff):
        raise NotImplementedError("%s must implement _error(label - pred)" % type(self).__name__)

    def update(self, labels, preds):
        """Add the error of each (label, pred) pair as one instance."""
        for label, pred in _pairs(labels, preds):
            diff = _as_columns(_to_numpy(label)) - _as_columns(_to_numpy(pred))
            self._add(self._error(diff), 1)


@register
class MAE(_Regression):
    """Mean absolute error."""

    def __init__(self, name="mae", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _error(diff):
        return numpy.abs(diff).mean()


@register
class MSE(_Regression):
    """Mean squared error."""

    def __init__(self, name="mse", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _error(diff):
        return (diff ** 2.0).mean()


@register
class RMSE(_Regression):
    """Root mean squared error (per batch, averaged)."""

    def __init__(self, name="rmse", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _error(diff):
        return numpy.sqrt((diff ** 2.0).mean())


class _LogLoss(EvalMetric):
    """Cross-entropy of predicted probabilities: ``sum(-log(p[label] + eps))`` per sample."""

    def __init__(self, eps, name, output_names, label_names):
        super().__init__(name, eps=eps, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.eps = eps

    def update(self, labels, preds):
        """Accumulate the log loss of a batch."""
        for label, pred in _pairs(labels, preds):
            label, pred = _to_numpy(label).ravel(), _to_numpy(pred)
            if label.shape[0] != pred.shape[0]:
                raise ShapeError("%s: %d labels for %d predictions" % (self.name, label.shape[0], pred.shape[0]))
            prob = pred[numpy.arange(label.shape[0]), label.astype(numpy.int64)]
            self._add(float((-numpy.log(prob + self.eps)).sum()), label.shape[0])


@register
@alias("ce")
class CrossEntropy(_LogLoss):
    """Cross-entropy of predicted probabilities against integer labels."""

    def __init__(self, eps=1e-12, name="cross-entropy", output_names=None, label_names=None):
        super().__init__(eps, name, output_names, label_names)


@register
@alias("nll_loss")
class NegativeLogLikelihood(_LogLoss):
    """Negative log-likelihood of predicted probabilities."""

    def __init__(self, eps=1e-12, name="nll-loss", output_names=None, label_names=None):
        super().__init__(eps, name, output_names, label_names)


@register
@alias("pearsonr")
class PearsonCorrelation(EvalMetric):
    """Pearson correlation of predictions and labels: per batch, averaged ('macro'), or
    pooled over all batches with streaming moments ('micro')."""

    def __init__(self, name="pearsonr", output_names=None, label_names=None, average="macro"):
        self.average = average
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def reset(self):
        """Clear the sums and the streaming moments."""
        super().reset()
        self._n = 0
        self._mean_l = self._mean_p = 0.0
        self._sse_l = self._sse_p = self._cov = 0.0

    def update(self, labels, preds):
        """Add a batch."""
        for label, pred in _pairs(labels, preds):
            check_label_shapes(label, pred, False, True)
            label = _to_numpy(label).ravel().astype(numpy.float64)
            pred = _to_numpy(pred).ravel().astype(numpy.float64)
            if self.average == "macro":
                self._add(numpy.corrcoef(pred, label)[0, 1], 1)
                continue
            self.num_inst += 1
            self.global_num_inst += 1
            n = self._n + len(label)
            d_l, d_p = label - self._mean_l, pred - self._mean_p
            new_mean_l = self._mean_l + numpy.sum(d_l / n)
            new_mean_p = self._mean_p + numpy.sum(d_p / n)
            self._cov += numpy.sum((label - new_mean_l) * (pred - self._mean_p))
            self._sse_l += numpy.sum(d_l * (label - new_mean_l))
            self._sse_p += numpy.sum(d_p * (pred - new_mean_p))
            self._n, self._mean_l, self._mean_p = n, new_mean_l, new_mean_p

    def get(self):
        """``(name, correlation)``."""
        if self.num_inst == 0:
            return self.name, float("nan")
        if self.average == "macro":
            return self.name, self.sum_metric / self.num_inst
        n = self._n
        return self.name, self._cov / ((n - 1) * numpy.sqrt(self._sse_p / (n - 1))
                                       * numpy.sqrt(self._sse_l / (n - 1)))


@register
class Loss(EvalMetric):
    """Mean of the loss values given as predictions (labels are ignored)."""

    def __init__(self, name="loss", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def update(self, _, preds):
        """Add the sum of every element of ``preds``."""
        for pred in _as_list(preds):
            a = _to_numpy(pred)
            self._add(float(a.sum()), a.size)


@register
class Torch(Loss):
    """``Loss`` under the name 'torch' (MXNet's legacy plug-in metric)."""

    def __init__(self, name="torch", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)


@register
class Caffe(Loss):
    """``Loss`` under the name 'caffe' (MXNet's legacy plug-in metric)."""

    def __init__(self, name="caffe", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)


@register
class CustomMetric(EvalMetric):
    """A metric from ``feval(label, pred)`` on NumPy arrays, returning a value or (sum, count)."""

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None, label_names=None):
        if name is None:
            name = feval.__name__
            if "<" in name:
                name = "custom(%s)" % name
        super().__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs,
                         output_names=output_names, label_names=label_names, has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        """Call ``feval`` on each (label, pred) pair."""
        labels, preds = _as_list(labels), _as_list(preds)
        if not self._allow_extra_outputs:
            check_label_shapes(labels, preds)
        for pred, label in zip(preds, labels):
            r = self._feval(_to_numpy(label), _to_numpy(pred))
            if isinstance(r, tuple):
                self._add(r[0], r[1])
            else:
                self._add(r, 1)

    def get_config(self):
        """Not available: a Python function cannot be serialised."""
        raise NotSupportedError("CustomMetric cannot be serialized: its feval is a Python function")


def np(numpy_feval, name=None, allow_extra_outputs=False):
    """A :class:`CustomMetric` from a function of NumPy (label, pred)."""
    def feval(label, pred):
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)


def create(metric, *args, **kwargs):
    """A metric from a name (``'acc'``, ``'mse'``...), a list (composite), a callable
    (:class:`CustomMetric`) or an :class:`EvalMetric` (returned as is)."""
    if isinstance(metric, EvalMetric):
        return metric
    if callable(metric) and not isinstance(metric, type):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for m in metric:
            composite.add(create(m, *args, **kwargs))
        return composite
    if isinstance(metric, type) and issubclass(metric, EvalMetric):
        return metric(*args, **kwargs)
    return _REGISTRY.find(metric)(*args, **kwargs)
