"""Audio clip datasets read from JSONL manifests.

Clips are loaded once into memory (the embedded sets are a few hundred MB at
most) and cropped or padded to a fixed length. Training crops at random, other
splits take the start of the clip so evaluation is deterministic. Files that
fail to load are reported once and skipped, so one bad file never stops a run.
"""

from __future__ import annotations

import logging
import os

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


class ClipDataset(Dataset):
    """Fixed-length waveform clips with integer labels (-1 when unlabelled).

    Items are ``(wave [num_samples] float32, label long)``.
    """

    def __init__(
        self,
        manifest: str | os.PathLike,
        sample_rate: int = 16000,
        clip_seconds: float = 1.0,
        random_crop: bool = False,
        max_items: int | None = None,
        progress: bool = True,
    ) -> None:
        self.sample_rate = sample_rate
        self.num_samples = int(round(clip_seconds * sample_rate))
        self.random_crop = random_crop
        entries = read_manifest(manifest)
        if max_items is not None:
            entries = entries[:max_items]
        self.entries: list[dict] = []
        waves: list[np.ndarray] = []
        skipped = 0
        for entry in tqdm(entries, desc=f"load {os.path.basename(str(manifest))}", disable=not progress, leave=False):
            try:
                wave, _ = load_audio(entry["path"], sample_rate=sample_rate)
            except AudioFileError as e:
                skipped += 1
                log.warning("skipping: %s", e)
                continue
            waves.append(wave)
            self.entries.append(entry)
        if skipped:
            log.warning("%s: skipped %d of %d files that failed to load", manifest, skipped, len(entries))
        if not waves:
            raise ValueError(f"no loadable audio in {manifest}")
        self.waves = waves
        self.labels = torch.tensor(
            [(-1 if e.get("label") is None else int(e["label"])) for e in self.entries], dtype=torch.long
        )

    def __len__(self) -> int:
        return len(self.waves)

    def __getitem__(self, index: int):
        wave = self.waves[index]
        offset = 0
        if self.random_crop and len(wave) > self.num_samples:
            offset = int(np.random.randint(0, len(wave) - self.num_samples + 1))
        clip = fit_length(wave, self.num_samples, offset)
        return torch.from_numpy(np.ascontiguousarray(clip, dtype=np.float32)), self.labels[index]
