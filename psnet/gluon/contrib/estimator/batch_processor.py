"""``BatchProcessor``: how the Estimator trains and evaluates one batch (MXNet 1.9.1)."""
from ...utils import split_and_load
from .... import autograd

__all__ = ["BatchProcessor"]


class BatchProcessor(object):
    """Default ``fit_batch``/``evaluate_batch`` of :class:`Estimator`.

    Subclass and override either method to customize one step; both return
    ``(data, label, pred, loss)``, each a list with one entry per context.
    """

    def __init__(self):
        pass

    def _get_data_and_label(self, batch, ctx, batch_axis=0):
        data = split_and_load(batch[0], ctx_list=ctx, batch_axis=batch_axis)
        label = split_and_load(batch[1], ctx_list=ctx, batch_axis=batch_axis)
        return data, label

    def evaluate_batch(self, estimator, val_batch, batch_axis=0):
        """Run ``estimator.val_net`` and ``estimator.val_loss`` on one validation batch
        (split over ``estimator.context`` along ``batch_axis``)."""
        data, label = self._get_data_and_label(val_batch, estimator.context, batch_axis)
        pred = [estimator.val_net(x) for x in data]
        loss = [estimator.val_loss(y_hat, y) for y_hat, y in zip(pred, label)]
        return data, label, pred, loss

    def fit_batch(self, estimator, train_batch, batch_axis=0):
        """Forward ``estimator.net`` and ``estimator.loss`` under ``autograd.record()`` on one
        training batch and back-propagate each shard's loss (the parameter update itself is
        done by :class:`GradientUpdateHandler`)."""
        data, label = self._get_data_and_label(train_batch, estimator.context, batch_axis)
        with autograd.record():
            pred = [estimator.net(x) for x in data]
            loss = [estimator.loss(y_hat, y) for y_hat, y in zip(pred, label)]
        for l in loss:
            l.backward()
        return data, label, pred, loss
