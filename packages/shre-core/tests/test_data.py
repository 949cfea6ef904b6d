"""Sharded samplers: reproducible training order, disjoint evaluation shards."""

from __future__ import annotations

import pytest
from shre.engine.data import ShardedBatchSampler, cap_dataset
from shre.errors import DataError
from torch.utils.data import Subset


def test_train_sampler_same_seed_same_order():
    first = list(ShardedBatchSampler(20, 4, seed=3, epoch=1))
    second = list(ShardedBatchSampler(20, 4, seed=3, epoch=1))

    assert first == second


def test_train_sampler_epochs_differ():
    assert list(ShardedBatchSampler(20, 4, epoch=0)) != list(ShardedBatchSampler(20, 4, epoch=1))


def test_train_sampler_skip_batches_resumes_order():
    full = list(ShardedBatchSampler(20, 4, seed=3))
    resumed = list(ShardedBatchSampler(20, 4, seed=3, skip_batches=2))

    assert resumed == full[2:]


def test_train_shards_padded_to_equal_length():
    shards = [ShardedBatchSampler(11, 2, rank=rank, world_size=2).indices() for rank in (0, 1)]

    assert len(shards[0]) == len(shards[1]) == 6
    assert set(shards[0]) | set(shards[1]) == set(range(11))


def test_eval_shards_disjoint_and_complete():
    shards = [
        ShardedBatchSampler(37, 4, shuffle=False, pad=False, rank=rank, world_size=2).indices()
        for rank in (0, 1)
    ]

    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == list(range(37))


def test_sampler_length_counts_remaining_batches():
    assert len(ShardedBatchSampler(10, 4, skip_batches=1)) == 2


def test_cap_dataset_keeps_first_examples():
    capped = cap_dataset(list(range(10)), 3, "train")

    assert isinstance(capped, Subset)
    assert list(capped) == [0, 1, 2]


def test_cap_dataset_empty_split_raises():
    with pytest.raises(DataError, match="'validation' is empty"):
        cap_dataset([], None, "validation")
