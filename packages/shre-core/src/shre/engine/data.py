"""Data loaders whose order is a pure function of (seed, epoch, process).

The engine shards data itself instead of through ``accelerator.prepare``.
The training order of every process can then be recomputed on resume, and
the batches already used are skipped exactly. Evaluation shards are
disjoint (no padding samples), so metrics synchronised across processes
count every example once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from shre.errors import DataError

logger = logging.getLogger(__name__)


class ShardedBatchSampler(Sampler[list[int]]):
    """Batches of indices for one process and one epoch.

    Training (``shuffle=True, pad=True``): a permutation seeded with
    ``seed + epoch``, padded by wrapping around to a multiple of
    ``world_size`` so every process runs the same number of steps, then
    process ``rank`` takes every ``world_size``-th index. Evaluation
    (``shuffle=False, pad=False``): the split in order, each example on
    exactly one process.

    Args:
        num_samples: length of the dataset.
        batch_size: examples per batch on this process.
        skip_batches: batches at the start of the epoch to leave out (resume).
    """

    def __init__(
        self,
        num_samples: int,
        batch_size: int,
        *,
        seed: int = 0,
        epoch: int = 0,
        shuffle: bool = True,
        pad: bool = True,
        rank: int = 0,
        world_size: int = 1,
        skip_batches: int = 0,
    ) -> None:
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = epoch
        self.shuffle = shuffle
        self.pad = pad
        self.rank = rank
        self.world_size = world_size
        self.skip_batches = skip_batches

    def indices(self) -> list[int]:
        """Return this process's indices for the epoch, before batching and skipping."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.num_samples, generator=generator).tolist()
        else:
            order = list(range(self.num_samples))
        if self.pad and self.num_samples:
            total = math.ceil(self.num_samples / self.world_size) * self.world_size
            while len(order) < total:
                order += order[: total - len(order)]
        return order[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        order = self.indices()
        starts = range(self.skip_batches * self.batch_size, len(order), self.batch_size)
        for start in starts:
            yield order[start : start + self.batch_size]

    def __len__(self) -> int:
        return max(0, math.ceil(len(self.indices()) / self.batch_size) - self.skip_batches)


def cap_dataset(dataset: Any, max_samples: int | None, split: str) -> Any:
    """Keep the first ``max_samples`` examples (``data.max_*_samples``).

    Raises:
        DataError: the split is empty or has no length.
    """
    try:
        size = len(dataset)
    except TypeError as error:
        raise DataError(
            f"the dataset of split {split!r} has no length; the engine needs a map-style dataset"
        ) from error
    if size == 0:
        raise DataError(f"split {split!r} is empty; check data.dir and the task's data files")
    if max_samples is not None and max_samples < size:
        logger.info("using the first %d of %d examples of split %r", max_samples, size, split)
        return Subset(dataset, range(max_samples))
    return dataset


def build_loader(
    dataset: Dataset,
    sampler: ShardedBatchSampler,
    collate_fn: Callable[[list[Any]], Any] | None,
    *,
    num_workers: int = 0,
) -> DataLoader:
    """Wrap ``dataset`` in a loader over ``sampler``'s batches.

    The loader gets its own generator (seeded like the sampler), so creating
    an iterator does not draw from the global torch RNG. Dropout in the
    training steps then gets the same random stream with or without resume.
    """
    # NOTE: with num_workers > 0, a worker's seed depends on which batches it
    # gets, and that changes when an epoch resumes in the middle. Random
    # augmentation in the workers then differs from the uninterrupted run.
    generator = torch.Generator().manual_seed(sampler.seed + sampler.epoch)
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate_fn,
        num_workers=num_workers,
        generator=generator,
    )
