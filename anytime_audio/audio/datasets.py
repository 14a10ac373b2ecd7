"""Audio clip datasets read from JSONL manifests.

Clips are loaded once into memory (the embedded sets are a few hundred MB at
most) and cropped or padded to a fixed length. Training crops at random, other
splits take the start of the clip so evaluation is deterministic.

Every random draw comes from the dataset's own ``np.random.Generator``, never
from the global ``np.random``: the trainer calls :meth:`ClipDataset.reseed`
with a seed derived from (train seed, step, rank) before it fetches a step's
batch, so a run is reproducible and a resumed run equals an uninterrupted one
whatever the clip length.

Files that fail validation (:func:`anytime_audio.audio.io.load_audio`:
missing, corrupt, truncated, silent, non-finite, shorter than
``min_clip_seconds``) are skipped, listed in ``dataset.skipped`` and
summarised in one log line per reason, so one bad file never stops a run and
none silently becomes training data. Labels are checked against
``labels.json`` when the manifest is read.
"""

from __future__ import annotations

import logging
import os
from collections import Counter

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from anytime_audio.audio.io import AudioFileError, load_audio
from anytime_audio.manifest import read_manifest

log = logging.getLogger(__name__)


def fit_length(wave: np.ndarray, num_samples: int, offset: int = 0) -> np.ndarray:
    """Crop ``wave`` from ``offset`` or zero-pad it to exactly ``num_samples``."""
    if len(wave) >= num_samples:
        return wave[offset : offset + num_samples]
    return np.pad(wave, (0, num_samples - len(wave)))


def _generator(seed: int) -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"ClipDataset seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


class ClipDataset(Dataset):
    """Fixed-length waveform clips with integer labels (-1 when unlabelled).

    Items are ``(wave [num_samples] float32, label long)``.

    Args:
        manifest: the split's ``.jsonl`` file.
        sample_rate: clips are resampled to this rate.
        clip_seconds: the model's clip length (crop or zero-pad to it).
        random_crop: crop at a random offset (training) instead of the start.
        max_items: keep only the first entries (debugging).
        progress: show a progress bar while loading.
        min_clip_seconds: reject clips shorter than this (``data.min_clip_seconds``);
            None means half of ``clip_seconds``, so no clip is mostly padding.
        seed: seeds the crop generator until :meth:`reseed` is called.
    """

    def __init__(
        self,
        manifest: str | os.PathLike,
        sample_rate: int = 16000,
        clip_seconds: float = 1.0,
        random_crop: bool = False,
        max_items: int | None = None,
        progress: bool = True,
        min_clip_seconds: float | None = None,
        seed: int = 0,
    ) -> None:
        self.sample_rate = sample_rate
        self.num_samples = int(round(clip_seconds * sample_rate))
        self.random_crop = random_crop
        if min_clip_seconds is None:
            min_clip_seconds = clip_seconds / 2
        if not 0 <= float(min_clip_seconds) <= clip_seconds:
            raise ValueError(
                f"min_clip_seconds must be between 0 and clip_seconds ({clip_seconds:g}), "
                f"got {min_clip_seconds!r}; set data.min_clip_seconds accordingly")
        self.min_clip_seconds = float(min_clip_seconds)
        self._rng = _generator(seed)
        entries = read_manifest(manifest)
        if max_items is not None:
            entries = entries[:max_items]
        self.entries: list[dict] = []
        self.skipped: list[tuple[str, str]] = []  # (path, reason) of every rejected file
        kinds: Counter[str] = Counter()
        waves: list[np.ndarray] = []
        for entry in tqdm(entries, desc=f"load {os.path.basename(str(manifest))}", disable=not progress, leave=False):
            try:
                wave, _ = load_audio(entry["path"], sample_rate=sample_rate, min_seconds=self.min_clip_seconds)
            except AudioFileError as e:
                self.skipped.append((e.path, e.reason))
                kinds[e.kind] += 1
                log.warning("skipping: %s", e)
                continue
            waves.append(wave)
            self.entries.append(entry)
        if self.skipped:
            log.warning("%s: skipped %d of %d clips (%s)", manifest, len(self.skipped), len(entries),
                        ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())))
        if not waves:
            raise ValueError(f"no loadable audio in {manifest}; see the warnings above for each file's reason")
        self.waves = waves
        self.labels = torch.tensor(
            [(-1 if e.get("label") is None else int(e["label"])) for e in self.entries], dtype=torch.long
        )

    def reseed(self, seed: int) -> None:
        """Restart the crop generator from ``seed`` (a non-negative integer).

        The trainer calls this before each step's batch with a seed derived
        from (train seed, step, rank), so the crops of a step never depend on
        what was drawn before it (e.g. before a resume).
        """
        self._rng = _generator(seed)

    def __len__(self) -> int:
        return len(self.waves)

    def __getitem__(self, index: int):
        wave = self.waves[index]
        offset = 0
        if self.random_crop and len(wave) > self.num_samples:
            offset = int(self._rng.integers(0, len(wave) - self.num_samples + 1))
        clip = fit_length(wave, self.num_samples, offset)
        return torch.from_numpy(np.ascontiguousarray(clip, dtype=np.float32)), self.labels[index]
