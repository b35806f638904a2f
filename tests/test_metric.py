"""Metrics against the values MXNet 1.9.1 computes for the same batches."""
import math

import numpy as np
import pytest

import psnet as mx

P = [[[0.1, 0.6, 0.2, 0.1], [0.5, 0.1, 0.3, 0.1], [0.2, 0.2, 0.5, 0.1], [0.25, 0.25, 0.2, 0.3]],
     [[0.7, 0.1, 0.1, 0.1], [0.05, 0.15, 0.3, 0.5], [0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]]]
L = [[1, 0, 3, 3], [0, 2, 1, 3]]
B = [[[0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.9, 0.1], [0.45, 0.55]],
     [[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.5, 0.5]]]
BL = [[1, 0, 0, 1, 1], [1, 1, 0, 0, 0]]
R = [[0.5, 1.5, -0.25, 2.0], [1.0, 0.0, 3.0, -1.0]]
RL = [[0.0, 1.0, 0.25, 2.5], [1.5, -0.5, 2.0, 0.0]]
DATA = {"P": P, "L": L, "B": B, "BL": BL, "R": R, "RL": RL}

# metric expression, predictions, labels, and MXNet 1.9.1's value after two batches
VALUES = {
    'acc': ("create('acc')", 'P', 'L', 0.625),
    'top2': ("create('top_k_accuracy', top_k=2)", 'P', 'L', 0.875),
    'ce': ("create('ce')", 'P', 'L', 1.048930258),
    'nll': ("create('nll_loss')", 'P', 'L', 1.048930258),
    'perplexity': ('Perplexity(ignore_label=None)', 'P', 'L', 2.854595802),
    'perplexity_ignore': ('Perplexity(ignore_label=3)', 'P', 'L', 2.211605388),
    'mae': ("create('mae')", 'R', 'RL', 0.625),
    'mse': ("create('mse')", 'R', 'RL', 0.4375),
    'rmse': ("create('rmse')", 'R', 'RL', 0.6452847123),
    'f1': ('F1()', 'B', 'BL', 0.5833333333),
    'f1_micro': ("F1(average='micro')", 'B', 'BL', 0.6),
    'mcc': ('MCC()', 'B', 'BL', 0.1666666667),
    'mcc_micro': ("MCC(average='micro')", 'B', 'BL', 0.2),
    'pcc': ('PCC()', 'P', 'L', 0.4890096469),
    'pearsonr': ("create('pearsonr')", 'R', 'RL', 0.8599857244),
    'pearsonr_micro': ("PearsonCorrelation(average='micro')", 'R', 'RL', 0.8397805251),
    'loss': ('Loss()', 'R', 'RL', 0.84375),
}



def _feed(metric, preds, labels, as_list=True):
    for p, lab in zip(preds, labels):
        if as_list:
            metric.update([mx.nd.array(lab)], [mx.nd.array(p)])
        else:
            metric.update(mx.nd.array(lab), mx.nd.array(p))
    return metric


@pytest.mark.parametrize("case", sorted(VALUES))
def test_value_matches_mxnet(case):
    expr, p, lab, expected = VALUES[case]
    metric = eval("mx.metric." + expr, {"mx": mx})
    name, value = _feed(metric, DATA[p], DATA[lab]).get()
    assert value == pytest.approx(expected, rel=1e-6)
    assert name == metric.name


def test_names_and_single_arrays():
    m = _feed(mx.metric.create("acc"), P, L, as_list=False)
    assert m.get() == ("accuracy", 0.625)
    assert m.get_name_value() == [("accuracy", 0.625)]
    assert mx.metric.create("top_k_acc", top_k=3).name == "top_k_accuracy_3"
    assert mx.metric.create("ce").name == "cross-entropy"


def test_accuracy_axis_and_numpy_inputs():
    m = mx.metric.Accuracy(axis=0)
    m.update([np.array([1, 0])], [np.array([[0.1, 0.9], [0.8, 0.2]])])  # argmax over axis 0 -> [1, 0]
    assert m.get()[1] == 1.0


def test_reset_local_keeps_global_and_nan_before_update():
    m = mx.metric.create("acc")
    assert math.isnan(m.get()[1])
    _feed(m, P[:1], L[:1])
    m.reset_local()
    assert math.isnan(m.get()[1])
    assert m.get_global()[1] == 0.75
    m.reset()
    assert math.isnan(m.get_global()[1])


def test_composite_and_create_forms():
    comp = _feed(mx.metric.create(["acc", mx.metric.CrossEntropy()]), P, L)
    names, values = comp.get()
    assert names == ["accuracy", "cross-entropy"]
    assert values == pytest.approx([0.625, VALUES["ce"][3]], rel=1e-6)
    assert comp.get_metric(1).name == "cross-entropy"
    assert isinstance(mx.metric.create(mx.metric.MSE), mx.metric.MSE)
    with pytest.raises(KeyError, match="nosuch"):
        mx.metric.create("nosuch")


def test_custom_metric_and_np():
    def my_acc(label, pred):
        return float((pred.argmax(1) == label).mean())
    m = _feed(mx.metric.create(my_acc), P, L)
    assert m.name == "my_acc" and m.get()[1] == pytest.approx(0.625)
    m = _feed(mx.metric.np(lambda label, pred: (float((pred.argmax(1) == label).sum()), label.size)), P, L)
    assert m.name == "custom(<lambda>)" and m.get()[1] == pytest.approx(0.625)


def test_mismatched_counts_are_errors():
    with pytest.raises(ValueError, match="does not match"):
        mx.metric.Accuracy().update([mx.nd.array(L[0])], [mx.nd.array(P[0]), mx.nd.array(P[1])])
    with pytest.raises(ValueError, match="binary"):
        mx.metric.F1().update([mx.nd.array([0, 1, 2])], [mx.nd.array(np.eye(3)[:, :2])])


def test_register_user_metric():
    @mx.metric.register
    class Always1(mx.metric.EvalMetric):
        """Always one."""

        def __init__(self, name="always1"):
            super().__init__(name)

        def update(self, labels, preds):
            self.sum_metric += 1.0
            self.num_inst += 1

    m = mx.metric.create("always1")
    m.update(None, None)
    assert m.get() == ("always1", 1.0)


def test_custom_metric_config_is_not_supported():
    m = mx.metric.np(lambda label, pred: 0.0)
    with pytest.raises(NotImplementedError, match="CustomMetric cannot be serialized"):
        m.get_config()
    with pytest.raises(mx.base.NotSupportedError):
        m.get_config()
