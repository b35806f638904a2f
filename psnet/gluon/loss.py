"""``gluon.loss``: losses as HybridBlocks returning one value per sample (MXNet 1.9.1 formulas).

Every loss is called as ``loss(pred, label[, sample_weight])``; it computes an
elementwise loss, multiplies by ``sample_weight`` (broadcast) and by the scalar
``weight``, then averages over every axis but ``batch_axis``.  Log-probabilities go
through ``log_softmax`` and the sigmoid cross-entropy uses the log-sum-exp form, so large
logits do not overflow.
"""
import numpy as np

from ..base import MXIndexError, MXNetError
from ..ndarray.ndarray import NDArray
from .block import HybridBlock

__all__ = ["Loss", "L1Loss", "L2Loss", "SoftmaxCrossEntropyLoss", "SoftmaxCELoss",
           "SigmoidBinaryCrossEntropyLoss", "SigmoidBCELoss", "KLDivLoss", "HuberLoss",
           "HingeLoss", "SquaredHingeLoss", "LogisticLoss", "TripletLoss", "CosineEmbeddingLoss",
           "CTCLoss"]
__all__ += ["PoissonNLLLoss", "SDMLLoss"]


def _apply_weighting(F, loss, weight=None, sample_weight=None):
    """``loss * sample_weight * weight`` (either may be None)."""
    if sample_weight is not None:
        loss = F.broadcast_mul(loss, sample_weight)
    if weight is not None:
        if not isinstance(weight, (int, float, np.number)):
            raise MXNetError("loss weight must be a number, got %s" % type(weight).__name__)
        loss = loss * weight
    return loss


def _reshape_like(F, x, y):
    """``x`` reshaped to ``y``'s shape."""
    if type(x) is NDArray:
        return x if x.shape == y.shape else x.reshape(y.shape)
    return F.reshape_like(x, y)


class Loss(HybridBlock):
    """Base class of losses: holds the scalar ``weight`` and the ``batch_axis``."""

    def __init__(self, weight, batch_axis, **kwargs):
        super().__init__(**kwargs)
        self._weight = weight
        self._batch_axis = batch_axis

    def __repr__(self):
        return "{name}(batch_axis={_batch_axis}, w={_weight})".format(
            name=self.__class__.__name__, **self.__dict__)

    def _mean(self, F, loss):
        """The per-sample mean over every axis but the batch axis."""
        return F.mean(loss, axis=self._batch_axis, exclude=True)

    def hybrid_forward(self, F, x, *args, **kwargs):
        """The loss computation; override in subclasses."""
        raise NotImplementedError("%s must implement hybrid_forward()" % type(self).__name__)


class L2Loss(Loss):
    """``weight / 2 * (label - pred)^2``, averaged per sample."""

    def __init__(self, weight=1., batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        """Per-sample squared error (with MXNet's factor 1/2)."""
        label = _reshape_like(F, label, pred)
        loss = F.square(label - pred)
        loss = _apply_weighting(F, loss, self._weight / 2, sample_weight)
        return self._mean(F, loss)


class L1Loss(Loss):
    """``|label - pred|``, averaged per sample."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        """Per-sample absolute error."""
        label = _reshape_like(F, label, pred)
        loss = F.abs(label - pred)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


class SigmoidBinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy of logits (or of probabilities with ``from_sigmoid=True``).

    ``pos_weight`` (an NDArray broadcastable to the label) weighs the positive term.
    """

    def __init__(self, from_sigmoid=False, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_sigmoid = from_sigmoid

    def hybrid_forward(self, F, pred, label, sample_weight=None, pos_weight=None):
        """Per-sample binary cross-entropy."""
        label = _reshape_like(F, label, pred)
        if not self._from_sigmoid:
            # log(1 + exp(-|x|)) + max(x, 0) - x * z: stable for any logit
            softplus = F.Activation(-F.abs(pred), act_type="softrelu")
            if pos_weight is None:
                loss = F.relu(pred) - pred * label + softplus
            else:
                log_weight = 1 + F.broadcast_mul(pos_weight - 1, label)
                loss = pred - pred * label + log_weight * (softplus + F.relu(-pred))
        else:
            eps = 1e-12
            pos = F.log(pred + eps) * label
            if pos_weight is not None:
                pos = F.broadcast_mul(pos, pos_weight)
            loss = -(pos + F.log(1. - pred + eps) * (1. - label))
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss


def _check_class_labels(label, num_classes):
    """Raise MXIndexError naming the first label outside [0, num_classes)."""
    lab = label._data
    if lab.size == 0:
        return
    if lab.min() < 0 or lab.max() >= num_classes:
        flat = label.asnumpy().ravel()
        bad = flat[(flat < 0) | (flat >= num_classes)]
        raise MXIndexError("SoftmaxCrossEntropyLoss: label %s is out of range: the prediction has "
                           "%d classes, so labels must lie in [0, %d)" % (bad[0], num_classes, num_classes))


class SoftmaxCrossEntropyLoss(Loss):
    """Cross-entropy of ``softmax(pred)`` against class indices (or distributions).

    ``sparse_label=True``: labels are class indices along ``axis`` (an index outside
    [0, classes) is an error); ``False``: labels are probability distributions.
    ``from_logits=True``: ``pred`` already holds log-probabilities.
    """

    def __init__(self, axis=-1, sparse_label=True, from_logits=False, weight=None,
                 batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._axis = axis
        self._sparse_label = sparse_label
        self._from_logits = from_logits

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        """Per-sample cross-entropy."""
        if not self._from_logits:
            pred = F.log_softmax(pred, axis=self._axis)
        if self._sparse_label:
            if type(label) is NDArray:
                _check_class_labels(label, pred.shape[self._axis])
            loss = -F.pick(pred, label, axis=self._axis, keepdims=True)
        else:
            label = _reshape_like(F, label, pred)
            loss = -F.sum(pred * label, axis=self._axis, keepdims=True)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


SoftmaxCELoss = SoftmaxCrossEntropyLoss


class KLDivLoss(Loss):
    """Kullback-Leibler divergence ``label * (log(label) - pred)``, summed per sample.

    ``from_logits=True`` (the default): ``pred`` holds log-probabilities; otherwise
    ``log_softmax`` is applied along ``axis`` first.
    """

    def __init__(self, from_logits=True, axis=-1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits = from_logits
        self._axis = axis

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        """Per-sample KL divergence."""
        if not self._from_logits:
            pred = F.log_softmax(pred, axis=self._axis)
        loss = label * (F.log(label + 1e-12) - pred)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return F.sum(loss, axis=self._batch_axis, exclude=True)


class HuberLoss(Loss):
    """Smoothed L1: ``0.5/rho * err^2`` for ``|err| <= rho``, ``|err| - 0.5*rho`` beyond."""

    def __init__(self, rho=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._rho = rho

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        """Per-sample Huber loss."""
        label = _reshape_like(F, label, pred)
        loss = F.abs(label - pred)
        loss = F.where(loss > self._rho, loss - 0.5 * self._rho, (0.5 / self._rho) * F.square(loss))
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


class HingeLoss(Loss):
    """``max(0, margin - pred * label)`` for labels in {-1, 1}."""

    _squared = False

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        """Per-sample (squared) hinge loss."""
        label = _reshape_like(F, label, pred)
        loss = F.relu(self._margin - pred * label)
        if self._squared:
            loss = F.square(loss)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


class SquaredHingeLoss(HingeLoss):
    """``max(0, margin - pred * label)^2`` for labels in {-1, 1}."""

    _squared = True


class LogisticLoss(Loss):
    """``log(1 + exp(-pred * label))``; labels 'signed' ({-1, 1}) or 'binary' ({0, 1})."""

    def __init__(self, weight=None, batch_axis=0, label_format="signed", **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        if label_format not in ("signed", "binary"):
            raise MXNetError("label_format can only be signed or binary, received %s." % label_format)
        self._label_format = label_format

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        """Per-sample logistic loss (stable form)."""
        label = _reshape_like(F, label, pred)
        if self._label_format == "signed":
            label = (label + 1.0) / 2.0
        loss = F.relu(pred) - pred * label + F.Activation(-F.abs(pred), act_type="softrelu")
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


class TripletLoss(Loss):
    """``max(0, |pred - positive|^2 - |pred - negative|^2 + margin)`` per sample."""

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, pred, positive, negative, sample_weight=None):
        """Per-sample triplet loss."""
        positive = _reshape_like(F, positive, pred)
        negative = _reshape_like(F, negative, pred)
        loss = F.sum(F.square(positive - pred) - F.square(negative - pred),
                     axis=self._batch_axis, exclude=True)
        loss = F.relu(loss + self._margin)
        return _apply_weighting(F, loss, self._weight, sample_weight)


class CosineEmbeddingLoss(Loss):
    """``1 - cos(x1, x2)`` for label 1, ``max(0, cos(x1, x2) - margin)`` for label -1.

    Returns shape (batch, 1), as MXNet does.
    """

    def __init__(self, weight=None, batch_axis=0, margin=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, input1, input2, label, sample_weight=None):
        """Per-sample cosine embedding loss."""
        input1 = _reshape_like(F, input1, input2)
        label = label.reshape((-1, 1))
        cos_sim = self._cosine_similarity(F, input1, input2)
        y_1 = label == 1
        y_minus_1 = label == -1
        cos_sim_a = (1 - cos_sim) * y_1
        cos_sim_b = F.relu(y_minus_1 * (cos_sim - self._margin))
        loss = cos_sim_a + cos_sim_b
        return _apply_weighting(F, loss, self._weight, sample_weight)

    @staticmethod
    def _cosine_similarity(F, x, y, axis=-1):
        x_norm = F.norm(x, axis=axis).reshape((-1, 1))
        y_norm = F.norm(y, axis=axis).reshape((-1, 1))
        x_dot_y = F.sum(x * y, axis=axis).reshape((-1, 1))
        return x_dot_y / F._maximum_scalar(x_norm * y_norm, scalar=1e-12)


class CTCLoss(Loss):
    """Connectionist Temporal Classification loss (the ``CTCLoss`` op, blank = last class).

    ``layout`` ('NTC' or 'TNC') is the layout of ``pred``, unnormalised activations whose
    last class (index ``alphabet_size - 1``) is the blank; ``label_layout`` ('NT' or 'TN')
    that of ``label``, zero-based class indices padded with -1.  Called as
    ``loss(pred, label, pred_lengths=None, label_lengths=None, sample_weight=None)``;
    the optional lengths have shape (batch,).  Returns one loss per sample, shape (batch,).
    """

    def __init__(self, layout="NTC", label_layout="NT", weight=None, **kwargs):
        if layout not in ("NTC", "TNC"):
            raise MXNetError("CTCLoss: only 'NTC' and 'TNC' layouts for pred are supported, got %r"
                             % (layout,))
        if label_layout not in ("NT", "TN"):
            raise MXNetError("CTCLoss: only 'NT' and 'TN' layouts for label are supported, got %r"
                             % (label_layout,))
        self._layout = layout
        self._label_layout = label_layout
        super().__init__(weight, label_layout.find("N"), **kwargs)

    def hybrid_forward(self, F, pred, label, pred_lengths=None, label_lengths=None,
                       sample_weight=None):
        """Per-sample CTC loss: pred to (T, N, C), label to (N, L), then the op."""
        if self._layout == "NTC":
            pred = F.swapaxes(pred, 0, 1)
        if self._batch_axis == 1:
            label = F.swapaxes(label, 0, 1)
        lengths = {}
        if pred_lengths is not None:
            lengths["data_lengths"] = pred_lengths
        if label_lengths is not None:
            lengths["label_lengths"] = label_lengths
        loss = F.CTCLoss(pred, label, use_data_lengths=pred_lengths is not None,
                         use_label_lengths=label_lengths is not None, blank_label="last", **lengths)
        return _apply_weighting(F, loss, self._weight, sample_weight)


from ..base import ShapeError  # noqa: E402  (used by SDMLLoss)


class PoissonNLLLoss(Loss):
    """Negative log-likelihood of ``target`` under a Poisson distribution of mean ``pred``.

    ``from_logits=True`` (default): ``pred`` is the log of the mean and the loss is
    ``exp(pred) - target * pred``; otherwise ``pred - target * log(pred + epsilon)``.
    ``compute_full`` adds Stirling's approximation of ``log(target!)``,
    ``target*log(target) - target + 0.5*log(2*pi*target)``, where ``target > 1`` (as in
    MXNet 1.9.1 a zero target then gives NaN, ``0 * log(0)``).  The result is the mean over
    all elements, shape ``(1,)``.
    """

    def __init__(self, weight=None, from_logits=True, batch_axis=0, compute_full=False, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits = from_logits
        self._compute_full = compute_full

    def hybrid_forward(self, F, pred, target, sample_weight=None, epsilon=1e-08):
        """Mean Poisson negative log-likelihood."""
        target = _reshape_like(F, target, pred)
        if self._from_logits:
            loss = F.exp(pred) - target * pred
        else:
            loss = pred - target * F.log(pred + epsilon)
        if self._compute_full:
            stirling = target * F.log(target) - target + 0.5 * F.log(2 * target * np.pi)
            loss = loss + stirling * (target > 1)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return F.mean(loss)


class SDMLLoss(Loss):
    """Smoothed Deep Metric Learning loss (Bonadiman et al., 2019) for aligned batches.

    ``x1`` and ``x2`` are ``(batch_size, dim)`` with ``x1[i]`` and ``x2[i]`` a positive pair.
    With ``D[i, j] = ||x1[i] - x2[j]||^2``, the loss per row is the KL divergence (MXNet's
    :class:`KLDivLoss`, a mean over the row) between the smoothed identity labels
    (``1 - smoothing_parameter`` on the diagonal, ``smoothing_parameter / (batch_size - 1)``
    elsewhere) and ``log_softmax(-D, axis=1)``; shape ``(batch_size,)``.  As in MXNet 1.9.1,
    ``weight`` is stored but not applied.
    """

    def __init__(self, smoothing_parameter=0.3, weight=1., batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self.kl_loss = KLDivLoss(from_logits=True)
        self.smoothing_parameter = smoothing_parameter

    def hybrid_forward(self, F, x1, x2):
        """Per-row SDML loss (works on NDArrays and, hybridized, on Symbols)."""
        if isinstance(x1, NDArray):
            if x1.ndim != 2 or x1.shape != x2.shape:
                raise ShapeError("SDMLLoss expects x1 and x2 of the same shape (batch_size, dim), "
                                 "got %s and %s" % (x1.shape, x2.shape))
            if x1.shape[0] < 2:
                raise ShapeError("SDMLLoss needs a batch of at least 2 pairs, got shape %s"
                                 % (x1.shape,))
        s = self.smoothing_parameter
        diff = F.broadcast_sub(F.expand_dims(x1, axis=1), F.expand_dims(x2, axis=0))
        distances = F.sum(F.square(diff), axis=2)                  # (B, B)
        ones = F.ones_like(distances)
        gold = F.diag(F.diag(ones))                                # identity (B, B)
        off = F.broadcast_div(s * F.ones_like(F.sum(ones, axis=1, keepdims=True)),
                              F.sum(ones, axis=1, keepdims=True) - 1)   # s / (B - 1)
        labels = gold * (1 - s) + F.broadcast_mul(1 - gold, off)
        log_probabilities = F.log_softmax(-distances, axis=1)
        return self.kl_loss(log_probabilities, labels)
