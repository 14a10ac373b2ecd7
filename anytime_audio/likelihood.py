"""Dumped code sequences and how well a prior predicts them (bits per code).

``dump-codes`` writes ``codes/<split>.npy`` ``[N, L]`` and ``<split>_labels.npy``;
:class:`CodeDataset` serves them to prior training. :func:`prior_bits` is the
held-out negative log2-likelihood per code, and :func:`ardm_bits_vs_steps`
the ARDM's cost of fewer network calls: one row per (schedule, fraction of
calls), which the evaluation report reads as written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from anytime_audio.core.trainer import iterate_batches

# Fractions of the full step count at which the ARDM's bits are measured.
STEP_FRACTIONS = (1.0, 0.5, 0.25, 0.125)
SCHEDULES = ("dp", "even")


class CodeDataset(torch.utils.data.Dataset):
    """Dumped codes and labels as ``(codes [L] long, label long)`` items."""

    def __init__(self, code_dir: Path, split: str) -> None:
        path = Path(code_dir) / f"{split}.npy"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: run `anytime-audio dump-codes` first")
        self.codes = torch.from_numpy(np.load(path, allow_pickle=False).astype(np.int64))
        self.labels = torch.from_numpy(np.load(Path(code_dir) / f"{split}_labels.npy", allow_pickle=False))

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i):
        return self.codes[i], self.labels[i]


def labels_or_none(labels: torch.Tensor | None, prior) -> torch.Tensor | None:
    """``labels`` when the prior is class-conditional and the data are labelled, else None."""
    if getattr(prior, "num_classes", 0) <= 0 or labels is None or bool((labels < 0).all()):
        return None
    return labels


def prior_valid_bits(model, batch) -> dict[str, float]:
    """The Trainer's validation function for priors."""
    codes, labels = batch
    return {"bits_per_code": float(model.bits_per_code(codes, labels_or_none(labels, model)).mean())}


@torch.no_grad()
def prior_bits(prior, dataset: CodeDataset, device, batch_size: int = 128, **kwargs) -> float:
    """Mean held-out negative log2-likelihood per code (``kwargs`` go to ``bits_per_code``)."""
    prior.eval()
    total, count = 0.0, 0
    for codes, labels in iterate_batches(dataset, batch_size):
        codes, labels = codes.to(device), labels.to(device)
        bits = prior.bits_per_code(codes, labels_or_none(labels, prior), **kwargs)
        total += float(bits.sum())
        count += len(bits)
    return total / max(1, count)


def ardm_bits_vs_steps(prior, dataset: CodeDataset, device, fractions=STEP_FRACTIONS,
                       batch_size: int = 128) -> list[dict]:
    """ARDM bits per code against network calls, DP schedule vs even split.

    Returns rows ``{"schedule", "fraction", "steps", "bits_per_code"}``; at full
    steps both schedules are the same computation, measured once.
    """
    rows = []
    full = None
    for fraction in fractions:
        steps = max(1, round(fraction * prior.length))
        for schedule in SCHEDULES:
            if steps == prior.length and full is not None:
                bits = full
            else:
                bits = prior_bits(prior, dataset, device, batch_size, steps=steps, schedule=schedule)
                if steps == prior.length:
                    full = bits
            rows.append({"schedule": schedule, "fraction": float(fraction), "steps": steps, "bits_per_code": bits})
    return rows
