"""Helpers shared by the estimator and its event handlers (metric checks, MXNet 1.9.1 rules)."""
from ....base import MXNetError
from ...loss import SoftmaxCrossEntropyLoss
from ....metric import Accuracy, EvalMetric, CompositeEvalMetric

__all__ = ["EstimatorError"]


class EstimatorError(MXNetError, ValueError):
    """A wrong argument given to the Estimator or one of its event handlers
    (a ``ValueError``, as MXNet raises)."""


def _check_metrics(metrics):
    """Flatten ``metrics`` (None, an EvalMetric, a CompositeEvalMetric or a list) to a list."""
    if isinstance(metrics, CompositeEvalMetric):
        return [m for metric in metrics.metrics for m in _check_metrics(metric)]
    if isinstance(metrics, EvalMetric):
        return [metrics]
    metrics = list(metrics or [])
    bad = [m for m in metrics if not isinstance(m, EvalMetric)]
    if bad:
        raise EstimatorError("metrics must be an EvalMetric or a list of EvalMetric "
                             "(mx.metric.EvalMetric), got %r" % (bad,))
    return metrics


def _check_handler_metric_ref(handler, known_metrics):
    """Every metric a handler holds in an attribute named ``*metric*`` must be one of
    ``known_metrics`` (MXNet checks only attributes whose name contains 'metric')."""
    for attribute in dir(handler):
        if "metric" not in attribute:
            continue
        reference = getattr(handler, attribute)
        if not reference:
            continue
        refs = reference if isinstance(reference, list) else [reference]
        for metric in refs:
            if not any(metric is k for k in known_metrics):
                raise EstimatorError(
                    "Event handler %s refers to a metric instance %s outside of the known "
                    "training and validation metrics. Please use the metrics from "
                    "estimator.train_metrics and estimator.val_metrics instead."
                    % (type(handler).__name__, metric))


def _suggest_metric_for_loss(loss):
    """Accuracy for a softmax cross-entropy loss, otherwise None."""
    if isinstance(loss, SoftmaxCrossEntropyLoss):
        return Accuracy()
    return None
