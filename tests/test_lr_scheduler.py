"""Learning-rate schedules against MXNet 1.9.1's numbers (num_update 0..12)."""
import msgpack
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError

# the learning rates MXNet 1.9.1 returns for num_update = 0, 1, ..., 12
SCHEDULES = {
    'factor': ('FactorScheduler(step=3, factor=0.5, stop_factor_lr=0.02, base_lr=0.1)',
        [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02]),
    'factor_warm': ('FactorScheduler(step=3, factor=0.5, base_lr=0.1, warmup_steps=4, warmup_begin_lr=0.02)',
        [0.02, 0.04, 0.06, 0.08, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125]),
    'multi': ('MultiFactorScheduler(step=[2, 5, 7], factor=0.1, base_lr=1.0)',
        [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001, 0.001]),
    'multi_warm_const': ("MultiFactorScheduler(step=[5, 8], factor=0.5, base_lr=1.0, warmup_steps=3, warmup_begin_lr=0.1, warmup_mode='constant')",
        [0.1, 0.1, 0.1, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]),
    'poly': ('PolyScheduler(max_update=8, base_lr=0.1, pwr=2, final_lr=0.01)',
        [0.1, 0.07890625, 0.060625, 0.04515625, 0.0325, 0.02265625, 0.015625, 0.01140625, 0.01, 0.01, 0.01, 0.01, 0.01]),
    'poly_warm': ('PolyScheduler(max_update=10, base_lr=0.1, pwr=1, warmup_steps=3, warmup_begin_lr=0.04)',
        [0.04, 0.06, 0.08, 0.1, 0.0857142857, 0.0714285714, 0.0571428571, 0.0428571429, 0.0285714286, 0.0142857143, 0.0, 0.0, 0.0]),
    'cosine': ('CosineScheduler(max_update=8, base_lr=0.1, final_lr=0.01)',
        [0.1, 0.096574579, 0.0868198052, 0.0722207545, 0.055, 0.0377792455, 0.0231801948, 0.013425421, 0.01, 0.01, 0.01, 0.01, 0.01]),
    'cosine_warm': ('CosineScheduler(max_update=10, base_lr=1.0, warmup_steps=4, warmup_begin_lr=0.2)',
        [0.2, 0.4, 0.6, 0.8, 1.0, 0.933012702, 0.75, 0.5, 0.25, 0.0669872981, 0.0, 0.0, 0.0]),
}



def _make(expr):
    return eval("mx.lr_scheduler." + expr, {"mx": mx})


@pytest.mark.parametrize("case", sorted(SCHEDULES))
def test_schedule_matches_mxnet(case):
    expr, expected = SCHEDULES[case]
    s = _make(expr)
    np.testing.assert_allclose([s(n) for n in range(13)], expected, rtol=1e-7)


@pytest.mark.parametrize("case", sorted(SCHEDULES))
def test_config_round_trip_mid_schedule(case):
    expr, expected = SCHEDULES[case]
    s = _make(expr)
    for n in range(6):
        s(n)
    cfg = msgpack.unpackb(msgpack.packb(s.to_config()), strict_map_key=False)
    again = mx.lr_scheduler.from_config(cfg)
    assert type(again) is type(s)
    np.testing.assert_allclose([again(n) for n in range(6, 13)], expected[6:], rtol=1e-7)


@pytest.mark.parametrize("expr", [
    "FactorScheduler(step=0)", "FactorScheduler(step=2, factor=1.5)",
    "MultiFactorScheduler(step=[3, 2])", "PolyScheduler(max_update=0)",
    "CosineScheduler(max_update=5, warmup_mode='cubic')",
    "CosineScheduler(max_update=5, base_lr=0.1, warmup_begin_lr=0.5)",
])
def test_bad_arguments_are_errors(expr):
    with pytest.raises(MXNetError):
        _make(expr)


def test_optimizer_overrides_scheduler_base_lr():
    """As in MXNet, learning_rate given to the optimizer wins over the scheduler's base_lr."""
    s = mx.lr_scheduler.FactorScheduler(step=1, factor=0.5, base_lr=1.0)
    with pytest.warns(UserWarning):
        opt = mx.optimizer.SGD(learning_rate=0.4, lr_scheduler=s)
    assert opt.learning_rate == pytest.approx(0.4)
