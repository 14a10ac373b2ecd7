"""Shared fixtures: tiny models and data made on the spot; no downloads."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest single-threaded, especially on a busy 2-core box."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def make_tone_corpus(root: Path, n_per_split=(24, 8, 8), sample_rate=16000, seconds=1.0, classes=3) -> Path:
    """A labelled corpus of tones in the manifest layout (class = pitch)."""
    from anytime_audio.audio.io import write_wav
    from anytime_audio.manifest import write_manifest

    rng = np.random.default_rng(0)
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    root.mkdir(parents=True, exist_ok=True)
    for split, n in zip(("train", "valid", "test"), n_per_split):
        entries = []
        for i in range(n):
            label = i % classes
            freq = 220.0 * (2 ** label) * (1 + 0.02 * rng.standard_normal())
            env = np.exp(-3 * t) * (t > 0.1 * rng.random())
            wave = 0.5 * env * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))
            path = root / "wav" / f"{split}_{i:03d}.wav"
            write_wav(path, wave.astype(np.float32), sample_rate)
            entries.append({"id": f"{split}_{i}", "path": f"wav/{path.name}", "duration": seconds,
                            "sample_rate": sample_rate, "label": label, "label_name": f"tone{label}",
                            "speaker": f"s{i % 4}"})
        write_manifest(root / f"{split}.jsonl", entries)
    import json

    (root / "labels.json").write_text(json.dumps([f"tone{c}" for c in range(classes)]))
    return root


@pytest.fixture
def tone_corpus(tmp_path) -> Path:
    return make_tone_corpus(tmp_path / "tones")
