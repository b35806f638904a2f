"""Samplers: order, lengths, last_batch keep/discard/rollover."""
import numpy as np
import pytest

from psnet.gluon.data import (BatchSampler, DataLoaderError, FilterSampler, RandomSampler,
                              SequentialSampler, SimpleDataset)


def test_sequential_and_random():
    assert list(SequentialSampler(4, start=2)) == [2, 3, 4, 5]
    np.random.seed(0)
    r = list(RandomSampler(10))
    assert r == [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]  # numpy's permutation for seed 0, as MXNet draws it
    assert len(RandomSampler(7)) == 7


@pytest.mark.parametrize("last_batch, epochs, length", [
    ("keep", [[[0, 1, 2], [3, 4, 5], [6]], [[0, 1, 2], [3, 4, 5], [6]]], 3),
    ("discard", [[[0, 1, 2], [3, 4, 5]], [[0, 1, 2], [3, 4, 5]]], 2),
    ("rollover", [[[0, 1, 2], [3, 4, 5]], [[6, 0, 1], [2, 3, 4]]], None),
])
def test_batch_sampler_last_batch(last_batch, epochs, length):
    bs = BatchSampler(SequentialSampler(7), 3, last_batch)
    if length is not None:
        assert len(bs) == length
    for expected in epochs:
        assert list(bs) == expected


def test_batch_sampler_rollover_length_counts_carried_samples():
    bs = BatchSampler(SequentialSampler(7), 3, "rollover")
    assert len(bs) == 2
    list(bs)
    assert len(bs) == 2  # 1 carried + 7 new = 8 -> 2 batches
    list(bs)
    assert len(bs) == 3  # 2 carried + 7 = 9


def test_batch_sampler_rejects_bad_last_batch():
    with pytest.raises(DataLoaderError, match="last_batch"):
        BatchSampler(SequentialSampler(3), 2, "pad")


def test_filter_sampler():
    ds = SimpleDataset([5, 6, 7, 8, 9])
    assert list(FilterSampler(lambda v: v % 2 == 1, ds)) == [0, 2, 4]
    assert len(FilterSampler(lambda v: v > 6, ds)) == 3
