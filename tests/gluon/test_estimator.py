"""Tests of mx.gluon.contrib.estimator (MXNet 1.9.1's Estimator and event handlers).

Expected values marked "MXNet 1.9.1" were produced by running the same code under MXNet 1.9.1.
"""
import io
import logging
import os
import re
import warnings

import numpy as np
import pytest

import psnet as mx
from psnet import gluon
from psnet.gluon.contrib import estimator as E


X = np.arange(48, dtype='float32').reshape(12, 4) / 48.
Y = (X[:, 0] > 0.5).astype('float32')


def _loader(x=X, y=Y, batch_size=4):
    return gluon.data.DataLoader(gluon.data.ArrayDataset(mx.nd.array(x), mx.nd.array(y)),
                                 batch_size=batch_size)


def _make(opt='sgd', lr=0.5, quiet=True):
    net = gluon.nn.Dense(2, in_units=4)
    net.initialize(mx.init.Constant(0.1))
    tr = gluon.Trainer(net.collect_params(), opt, {'learning_rate': lr})
    est = E.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), trainer=tr, context=mx.cpu())
    if quiet:
        est.logger.handlers = [logging.NullHandler()]
    return est, net


class Recorder(E.TrainBegin, E.TrainEnd, E.EpochBegin, E.EpochEnd, E.BatchBegin, E.BatchEnd):
    """Appends 'tag:event' to a shared list."""

    def __init__(self, tag, calls, priority=0):
        self.tag, self.calls, self.priority = tag, calls, priority

    def train_begin(self, est, *a, **k):
        self.calls.append(self.tag + ':tb')

    def train_end(self, est, *a, **k):
        self.calls.append(self.tag + ':te')

    def epoch_begin(self, est, *a, **k):
        self.calls.append(self.tag + ':eb')

    def epoch_end(self, est, *a, **k):
        self.calls.append(self.tag + ':ee')
        return False

    def batch_begin(self, est, *a, **k):
        self.calls.append(self.tag + ':bb')

    def batch_end(self, est, *a, **k):
        self.calls.append(self.tag + ':be')
        return False


def test_defaults_metrics_trainer_handlers():
    net = gluon.nn.Dense(2, in_units=4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        est = E.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss())
    assert [str(x.message) for x in w] == [
        'No trainer specified, default SGD optimizer with learning rate 0.001 is used.']
    assert [m.name for m in est.train_metrics] == ['training accuracy',
                                                   'training softmaxcrossentropyloss']
    assert [m.name for m in est.val_metrics] == ['validation accuracy',
                                                 'validation softmaxcrossentropyloss']
    assert type(est.trainer.optimizer).__name__ == 'SGD'
    assert est.trainer.learning_rate == 0.001
    assert est.context == [mx.cpu()] or est.context == [mx.gpu(0)]
    assert net.weight.list_ctx() == est.context          # initialized by the estimator
    est.max_epoch, est.max_batch = 2, None
    hs = est._prepare_default_handlers(_loader(), None)
    assert [(type(h).__name__, getattr(h, 'priority', 0)) for h in hs] == [
        ('GradientUpdateHandler', -2000), ('MetricHandler', -1000), ('ValidationHandler', -1000),
        ('StoppingHandler', 0), ('LoggingHandler', np.inf)]
    hs = est._prepare_default_validation_handlers(None)
    assert [type(h).__name__ for h in hs] == ['MetricHandler', 'LoggingHandler']
    assert E.Estimator(net, gluon.loss.L1Loss(), trainer=est.trainer,
                       context=mx.cpu()).context == [mx.cpu()]
    l2 = E.Estimator(gluon.nn.Dense(1, in_units=4), gluon.loss.L2Loss(), trainer=est.trainer)
    assert [m.name for m in l2.train_metrics] == ['training l2loss']
    # user metrics get the prefixes; a user MetricHandler replaces the default one
    acc = mx.metric.Accuracy()
    est2 = E.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), train_metrics=acc,
                       trainer=est.trainer)
    assert acc.name == 'training accuracy'
    assert [m.name for m in est2.val_metrics] == ['validation accuracy']
    est2.max_epoch, est2.max_batch = 1, None
    mh = E.MetricHandler(est2.train_metrics)
    hs = est2._prepare_default_handlers(None, [mh])
    assert [h for h in hs if isinstance(h, E.MetricHandler)] == [mh]


def test_fit_converges():
    rng = np.random.RandomState(0)
    x = rng.randn(64, 4).astype('float32')
    y = (x @ np.array([1.5, -2., 0.5, 1.], 'float32') > 0).astype('float32')
    est, net = _make('adam', 0.1)
    dl = _loader(x, y, batch_size=16)
    est.evaluate(dl)
    loss0 = est.val_metrics[1].get()[1]
    est.fit(dl, epochs=15)
    name, acc = est.train_metrics[0].get()
    assert name == 'training accuracy' and acc >= 0.95
    est.evaluate(dl)
    assert est.val_metrics[1].get()[1] < 0.5 * loss0
    assert est.val_metrics[0].get()[1] >= 0.95


def test_handler_order_and_values_match_mxnet():
    calls = []
    est, net = _make()
    dl = _loader()
    est.fit(dl, val_data=dl, epochs=2,
            event_handlers=[Recorder('b', calls, 5), Recorder('a', calls, -5)])
    epoch = ['a:eb', 'b:eb'] + ['a:bb', 'b:bb', 'a:be', 'b:be'] * 3 + ['a:ee', 'b:ee']
    assert calls == ['a:tb', 'b:tb'] + epoch * 2 + ['a:te', 'b:te']
    # MXNet 1.9.1, same code
    np.testing.assert_allclose(net.weight.data().asnumpy(), [
        [-0.23575528, -0.2323848, -0.22901434, -0.22564392],
        [0.43575528, 0.43238485, 0.42901444, 0.42564395]], rtol=1e-5)
    got = [m.get() for m in est.train_metrics + est.val_metrics]
    want = [('training accuracy', 0.3333333333333333),
            ('training softmaxcrossentropyloss', 0.7742244601249695),
            ('validation accuracy', 0.5833333333333334),
            ('validation softmaxcrossentropyloss', 0.6227368265390396)]
    assert [g[0] for g in got] == [w[0] for w in want]
    np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], rtol=1e-5)


def test_evaluate_values():
    est, net = _make()
    dl = _loader()
    calls = []
    est.evaluate(dl, event_handlers=[Recorder('r', calls)])
    assert calls == ['r:eb'] + ['r:bb', 'r:be'] * 3 + ['r:ee']
    out = net(mx.nd.array(X)).asnumpy()
    logp = out - np.log(np.exp(out).sum(1, keepdims=True))
    want_loss = -logp[np.arange(12), Y.astype(int)].mean()
    want_acc = (out.argmax(1) == Y).mean()
    assert est.val_metrics[0].get() == ('validation accuracy', pytest.approx(want_acc))
    assert est.val_metrics[1].get()[1] == pytest.approx(want_loss, rel=1e-5)


def test_batches_limit_and_stopping():
    est, net = _make()
    calls = []
    est.fit(_loader(), batches=5, event_handlers=[Recorder('r', calls)])
    assert calls.count('r:be') == 5
    assert calls.count('r:eb') == 2 and calls.count('r:ee') == 2   # 3 batches, then 2
    assert calls[-1] == 'r:te'
    sh = E.StoppingHandler()
    est.max_epoch, est.max_batch = 3, None
    sh.train_begin(est)
    assert [sh.epoch_end(est) for _ in range(3)] == [False, False, True]


def test_logging_format():
    est, net = _make('adam', 0.05)
    s = io.StringIO()
    est.logger.handlers = [logging.StreamHandler(s)]
    dl = _loader()
    est.fit(dl, epochs=1, event_handlers=[E.LoggingHandler(log_interval=2,
                                                           metrics=est.train_metrics)])
    lines = re.sub(r'\d+\.\d+s', 'Ts', s.getvalue()).splitlines()
    # MXNet 1.9.1, same code
    assert lines == [
        'Training begin: using optimizer Adam with current learning rate 0.0500 ',
        'Train for 1 epochs.',
        '[Epoch 0] Begin, current learning rate: 0.0500',
        '[Epoch 0][Batch 0][Samples 4] time/interval: Ts training accuracy: 1.0000, '
        'training softmaxcrossentropyloss: 0.6931',
        '[Epoch 0][Batch 2][Samples 12] time/interval: Ts training accuracy: 0.5833, '
        'training softmaxcrossentropyloss: 0.8447',
        '[Epoch 0] Finished in Ts, training accuracy: 0.5833, '
        'training softmaxcrossentropyloss: 0.8447',
        'Train finished using total 0s with 1 epochs. training accuracy: 0.5833, '
        'training softmaxcrossentropyloss: 0.8447']
    s2 = io.StringIO()
    est.logger.handlers = [logging.StreamHandler(s2)]
    est.evaluate(dl)
    assert s2.getvalue().splitlines()[0] == 'Validation Begin'


def test_early_stopping_scripted_metric():
    class Scripted(mx.metric.EvalMetric):
        def __init__(self, vals):
            super().__init__('acc')
            self.vals, self.i = list(vals), 0

        def update(self, labels, preds):
            pass

        def get(self):
            return (self.name, self.vals[min(self.i, len(self.vals) - 1)])

    class Advance(E.EpochEnd):
        priority = 100

        def __init__(self, m):
            self.m = m

        def epoch_end(self, est, *a, **k):
            self.m.i += 1

    # improves at epochs 0 and 1, not at 2 and 3 -> patience 2 stops after epoch 3
    sm = Scripted([0.5, 0.6, 0.6, 0.55, 0.7, 0.8])
    est, net = _make()
    est.train_metrics.append(sm)
    es = E.EarlyStoppingHandler(sm, patience=2, mode='max')
    calls = []
    est.fit(_loader(), epochs=10, event_handlers=[es, Advance(sm), Recorder('r', calls)])
    assert (es.stopped_epoch, es.current_epoch, es.best, es.wait) == (3, 4, 0.6, 2)
    assert calls.count('r:ee') == 4
    # mode='min' with min_delta: 0.5 -> 0.45 is not an improvement by more than 0.1
    sm = Scripted([0.5, 0.45, 0.3, 0.29])
    es = E.EarlyStoppingHandler(sm, patience=1, mode='min', min_delta=0.1)
    est.max_epoch = 10
    es.train_begin(est)
    res = []
    for _ in range(4):
        res.append(es.epoch_end(est))
        sm.i += 1
    assert res == [False, True, True, True] and es.best == 0.3   # 0.3 + 0.1 < 0.5
    # MXNet 1.9.1's 'auto' mode picks `greater` for every metric (even a loss), with a warning
    with pytest.warns(UserWarning, match='`greater` operator'):
        assert E.EarlyStoppingHandler(est.train_metrics[1]).monitor_op is np.greater
    es = E.EarlyStoppingHandler(Scripted([0.9]), baseline=0.95, mode='max')
    es.train_begin(est)
    assert es.epoch_end(est) is True


def test_checkpoint_files_and_resume(tmp_path):
    d1 = str(tmp_path / 'a')
    est, net = _make()
    est.fit(_loader(), epochs=3, event_handlers=[E.CheckpointHandler(d1, 'm', batch_period=2)])
    # MXNet 1.9.1 names (and numbering), same code
    assert sorted(os.listdir(d1)) == [
        'm-epoch1batch3.params', 'm-epoch1batch3.states', 'm-epoch1batch5.params',
        'm-epoch1batch5.states', 'm-epoch1batch6.params', 'm-epoch1batch6.states',
        'm-epoch2batch7.params', 'm-epoch2batch7.states', 'm-epoch2batch9.params',
        'm-epoch2batch9.states']
    d2 = str(tmp_path / 'b')
    est, net = _make()
    est.fit(_loader(), batches=4, event_handlers=[
        E.CheckpointHandler(d2, 'm', epoch_period=None, batch_period=2, max_checkpoints=1)])
    assert sorted(os.listdir(d2)) == ['m-epoch1batch3.params', 'm-epoch1batch3.states']
    est, net = _make()
    est.fit(_loader(), batches=7, event_handlers=[
        E.CheckpointHandler(d2, 'm', epoch_period=None, batch_period=2,
                            resume_from_checkpoint=True)])
    assert est.max_batch == 3
    assert sorted(os.listdir(d2)) == ['m-epoch1batch3.params', 'm-epoch1batch3.states',
                                      'm-epoch2batch5.params', 'm-epoch2batch5.states']
    # resuming by epochs gives the same weights as one uninterrupted run
    d3 = str(tmp_path / 'c')
    est, net = _make()
    est.fit(_loader(), epochs=2, event_handlers=[E.CheckpointHandler(d3, 'm')])
    est, net = _make()
    est.fit(_loader(), epochs=4,
            event_handlers=[E.CheckpointHandler(d3, 'm', resume_from_checkpoint=True)])
    assert est.max_epoch == 2
    assert sorted(os.listdir(d3)) == [
        'm-epoch0batch3.params', 'm-epoch0batch3.states', 'm-epoch1batch6.params',
        'm-epoch1batch6.states', 'm-epoch2batch9.params', 'm-epoch2batch9.states',
        'm-epoch3batch12.params', 'm-epoch3batch12.states']
    est2, net2 = _make()
    est2.fit(_loader(), epochs=4)
    np.testing.assert_array_equal(net.weight.data().asnumpy(), net2.weight.data().asnumpy())
    # nothing left to train / mixed periods
    with pytest.raises(ValueError, match='maximum number of epoch'):
        _make()[0].fit(_loader(), epochs=2, event_handlers=[
            E.CheckpointHandler(d3, 'm', resume_from_checkpoint=True)])
    with pytest.raises(E.EstimatorError, match='batch_period'):
        _make()[0].fit(_loader(), epochs=2, event_handlers=[
            E.CheckpointHandler(d3, 'm', batch_period=1, resume_from_checkpoint=True)])


def test_checkpoint_save_best_and_symbol(tmp_path):
    d = str(tmp_path)
    est, net = _make()
    net.hybridize()
    acc = est.train_metrics[0]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ch = E.CheckpointHandler(d, 'net', monitor=acc, save_best=True, mode='max')
    est.fit(_loader(), epochs=1, event_handlers=[ch])
    files = sorted(os.listdir(d))
    assert files == ['net-best.params', 'net-best.states', 'net-epoch0batch3.params',
                     'net-epoch0batch3.states', 'net-symbol.json']
    assert ch.best == acc.get()[1]
    sym = mx.sym.load(os.path.join(d, 'net-symbol.json'))
    assert sym.list_arguments() == ['data', net.weight.name, net.bias.name]
    net2 = gluon.nn.Dense(2, in_units=4)
    net2.load_parameters(os.path.join(d, 'net-best.params'))
    np.testing.assert_array_equal(net2.weight.data().asnumpy(), net.weight.data().asnumpy())


def test_custom_batch_processor_and_gradient_handler():
    class Proc(E.BatchProcessor):
        def __init__(self):
            super().__init__()
            self.n = 0

        def fit_batch(self, est, batch, batch_axis=0):
            self.n += 1
            return super().fit_batch(est, batch, batch_axis)

    class NoUpdate(E.GradientUpdateHandler):
        def batch_end(self, est, *a, **k):
            pass

    net = gluon.nn.Dense(2, in_units=4)
    net.initialize(mx.init.Constant(0.1))
    tr = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.5})
    proc = Proc()
    est = E.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), trainer=tr,
                      batch_processor=proc, context=mx.cpu())
    est.logger.handlers = [logging.NullHandler()]
    est.fit(_loader(), batches=2, event_handlers=[NoUpdate()])
    assert proc.n == 2
    np.testing.assert_array_equal(net.weight.data().asnumpy(), np.full((2, 4), 0.1, 'float32'))


def test_errors_name_the_argument():
    net = gluon.nn.Dense(2, in_units=4)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        est = E.Estimator(net, loss)
    est.logger.handlers = [logging.NullHandler()]
    dl = _loader()
    with pytest.raises(ValueError, match='epochs or batches'):
        est.fit(dl)
    with pytest.raises(ValueError, match='epochs or batches'):
        est.fit(dl, epochs=1, batches=2)
    with pytest.raises(ValueError, match='train_data.*DataLoader'):
        est.fit([(mx.nd.ones((2, 4)), mx.nd.ones((2,)))], epochs=1)
    with pytest.raises(ValueError, match='val_data.*DataLoader'):
        est.evaluate(mx.nd.ones((2, 4)))
    with pytest.raises(ValueError, match='loss must be a gluon.loss.Loss'):
        E.Estimator(net, 'foo')
    with pytest.raises(ValueError, match='val_loss'):
        E.Estimator(net, loss, val_loss=3, trainer=est.trainer)
    with pytest.raises(ValueError, match='trainer'):
        E.Estimator(net, loss, trainer='sgd')
    with pytest.raises(ValueError, match='context'):
        E.Estimator(net, loss, context='cpu', trainer=est.trainer)
    with pytest.raises(ValueError, match='metrics'):
        E.Estimator(net, loss, train_metrics=['acc'], trainer=est.trainer)
    with pytest.raises(ValueError, match='batch_processor'):
        E.Estimator(net, loss, trainer=est.trainer, batch_processor=object())
    with pytest.raises(ValueError, match='event_handlers'):
        est.fit(dl, epochs=1, event_handlers=[1])
    with pytest.raises(ValueError, match='monitor'):
        E.EarlyStoppingHandler('acc')
    with pytest.raises(ValueError, match='CompositeEvalMetric'):
        E.EarlyStoppingHandler(mx.metric.CompositeEvalMetric())
    with pytest.raises(ValueError, match='log_interval'):
        E.LoggingHandler(log_interval='batch')
    with pytest.raises(ValueError, match='monitor'):
        E.CheckpointHandler('/tmp', save_best=True)
    # a handler holding a metric the estimator does not know
    with pytest.raises(ValueError, match='MetricHandler refers to a metric'):
        est.fit(dl, epochs=1, event_handlers=[E.MetricHandler([mx.metric.Accuracy()]),
                                              E.LoggingHandler()])
    assert issubclass(E.EstimatorError, mx.base.MXNetError)


def test_two_contexts_split_batches():
    ctx = [mx.cpu(0), mx.cpu(1)]
    net = gluon.nn.Dense(2, in_units=4)
    net.initialize(mx.init.Constant(0.1), ctx=ctx)
    tr = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.5})
    est = E.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), trainer=tr, context=ctx)
    est.logger.handlers = [logging.NullHandler()]
    dl = _loader()
    est.fit(dl, val_data=dl, epochs=2)
    # same weights as the single-context run (MXNet 1.9.1 values)
    for c in ctx:
        np.testing.assert_allclose(net.weight.data(c).asnumpy(), [
            [-0.23575528, -0.2323848, -0.22901434, -0.22564392],
            [0.43575528, 0.43238485, 0.42901444, 0.42564395]], rtol=1e-5)
