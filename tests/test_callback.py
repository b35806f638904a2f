"""mx.callback: Speedometer, ProgressBar, validation logging, checkpoint callbacks."""
import logging

import psnet as mx
from psnet.model import BatchEndParam


class _Metric:
    def __init__(self):
        self.resets = 0

    def get_name_value(self):
        return [("accuracy", 0.5)]

    def reset(self):
        self.resets += 1


def test_speedometer_logs_speed_and_metric_every_frequent_batches(caplog):
    metric = _Metric()
    cb = mx.callback.Speedometer(batch_size=10, frequent=2)
    with caplog.at_level(logging.INFO):
        for n in range(5):
            cb(BatchEndParam(epoch=1, nbatch=n, eval_metric=metric, locals=None))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("Epoch[1] Batch [0-2]\tSpeed: ")
    assert "samples/sec\taccuracy=0.500000" in lines[0]
    assert metric.resets == 2


def test_progress_bar_draws_fraction(capsys):
    mx.callback.ProgressBar(total=4, length=8)(BatchEndParam(0, 2, None, None))
    assert capsys.readouterr().out == "[====----] 50.0%\r"


def test_validation_metrics_callback(caplog):
    with caplog.at_level(logging.INFO):
        mx.callback.LogValidationMetricsCallback()(BatchEndParam(3, 0, _Metric(), None))
    assert caplog.records[0].getMessage() == "Epoch[3] Validation-accuracy=0.500000"


def test_do_checkpoint_respects_period(monkeypatch):
    saved = []
    monkeypatch.setattr(mx.model, "save_checkpoint", lambda *a: saved.append(a))
    cb = mx.callback.do_checkpoint("prefix", period=2)
    for epoch in range(4):
        cb(epoch, "sym", {}, {})
    assert [a[1] for a in saved] == [2, 4]
