"""Training data order: which items make each step's batch, and the seeds of their random draws.

Both are functions of ``(seed, step)`` (and the rank under DDP), never of how
many times a run was restarted, so a resumed run sees exactly the batches an
uninterrupted one would: :class:`StepBatches` picks the items, and a dataset
that draws random numbers itself (crops, augmentation) exposes
``reseed(seed)``, which the trainer calls with :func:`draw_seed` before each
step's batch (:func:`reseed_dataset`). The trainer uses no ``DataLoader``
worker processes, so no worker needs a seed of its own.
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset


def draw_seed(seed: int, step: int, rank: int = 0, stream: int = 0) -> int:
    """The seed of a dataset's random draws at ``step`` on ``rank``: a function of these alone.

    Mixed through NumPy's ``SeedSequence``, so neighbouring steps, ranks and
    seeds give unrelated streams; ``stream`` separates uses (0: training
    batches, 1: validation). The value lies in ``[0, 2**63)``, valid for
    ``np.random.default_rng``, ``torch.Generator.manual_seed`` and ``random.Random``.
    """
    words = [int(seed) % 2**64, int(step), int(rank), int(stream)]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0] >> np.uint64(1))


class StepBatches:
    """Deterministic batches: the batch at ``step`` depends only on (seed, step).

    Each epoch is a fresh permutation seeded by ``seed + epoch``; under DDP each
    rank takes an interleaved share of the global batch, so ``world`` processes
    see the same data as one process with ``world`` times the batch.
    """

    def __init__(self, dataset_size: int, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        if dataset_size < 1:
            raise ValueError("cannot train on an empty dataset")
        self.n = dataset_size
        self.global_batch = batch_size * world
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world = world
        self.per_epoch = max(1, self.n // self.global_batch)
        self._epoch = -1
        self._perm: torch.Tensor | None = None

    def indices(self, step: int) -> list[int]:
        epoch, within = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            perm = torch.randperm(self.n, generator=g)
            reps = math.ceil(self.global_batch / self.n)
            self._perm = perm.repeat(reps) if reps > 1 else perm
            self._epoch = epoch
        start = (within * self.global_batch) % len(self._perm)
        chunk = self._perm[start : start + self.global_batch]
        return chunk[self.rank :: self.world].tolist()


def collate(items: Sequence):
    """Stack tensors, or tuples of tensors / None, into a batch."""
    first = items[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(list(items))
    if isinstance(first, (tuple, list)):
        return tuple(
            None if first[i] is None else torch.stack([torch.as_tensor(it[i]) for it in items])
            for i in range(len(first))
        )
    raise TypeError(f"cannot collate items of type {type(first).__name__}")


def to_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    return batch


def iterate_batches(dataset: Dataset, batch_size: int, limit: int | None = None) -> Iterator:
    """Sequential, unshuffled batches (validation and code dumping)."""
    n = len(dataset)
    count = 0
    for start in range(0, n, batch_size):
        if limit is not None and count >= limit:
            return
        yield collate([dataset[i] for i in range(start, min(n, start + batch_size))])
        count += 1


def reseed_dataset(dataset, seed: int) -> None:
    """Call ``dataset.reseed(seed)`` if the dataset draws random numbers (crops, augmentation)."""
    reseed = getattr(dataset, "reseed", None)
    if callable(reseed):
        reseed(seed)
