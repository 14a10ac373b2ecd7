"""Writers of the bad audio files of issue 9, shared by the io, dataset and
recipe tests: each returns the path it wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def _tone(seconds: float, sr: int) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (0.3 * np.sin(2 * np.pi * 300.0 * t)).astype(np.float32)


def anti_phase_stereo(path: Path, seconds: float = 1.0, sr: int = 16000) -> Path:
    """Two channels that cancel exactly when mixed down to mono."""
    x = _tone(seconds, sr)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.stack([x, -x], axis=1), sr, subtype="FLOAT")
    return path


def loud_float(path: Path, seconds: float = 1.0, sr: int = 16000, peak: float = 25.0) -> Path:
    """A float WAV whose samples reach ``peak`` (outside [-1, 1])."""
    x = _tone(seconds, sr)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x * (peak / np.abs(x).max()), sr, subtype="FLOAT")
    return path


def truncated(path: Path, seconds: float = 1.0, sr: int = 16000, keep: float = 1 / 3) -> Path:
    """A 16-bit WAV whose header says ``seconds`` but whose data stop after ``keep`` of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), _tone(seconds, sr), sr, subtype="PCM_16")
    raw = path.read_bytes()
    frames = int(round(seconds * sr))
    path.write_bytes(raw[: len(raw) - 2 * frames + 2 * int(frames * keep)])
    return path


def blip(path: Path, seconds: float = 0.01, sr: int = 16000) -> Path:
    """A clip far shorter than any model length."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), _tone(seconds, sr), sr, subtype="PCM_16")
    return path
