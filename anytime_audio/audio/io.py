"""WAV input/output for the whole package, through soundfile only.

Why soundfile: torchaudio's ``load``/``save`` now route through TorchCodec,
which this project does not depend on. soundfile (libsndfile) reads and
writes WAV/FLAC/OGG without it. Every other module reads and writes audio
through this one, so validation lives in one place:

* :func:`load_audio` returns ``(float32 [T], sample_rate)`` (mono mixdown by
  channel mean, optional resampling) and raises :class:`AudioFileError` for a
  missing, unreadable/corrupt, empty, non-finite or silent file. The message
  always names the file and the reason, so a bad clip deep inside a dataset
  is easy to find.
* :func:`write_wav` checks for finite values, peak-normalises, and writes
  16-bit PCM atomically (``<path>.tmp-<pid>`` in the same folder, then
  ``os.replace``), so a crash never leaves a half-written WAV behind.
* :func:`resample` wraps ``torchaudio.functional.resample`` (band-limited
  sinc interpolation). torch is imported lazily, so reading and writing WAVs
  does not pay torch's import time (it matters in multiprocessing workers).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

__all__ = [
    "AudioFileError",
    "AudioInfo",
    "audio_info",
    "load_audio",
    "resample",
    "write_wav",
]

PathLike = str | os.PathLike


class AudioFileError(ValueError):
    """An audio file cannot be used; the message names the file and the reason."""

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class AudioInfo(NamedTuple):
    """Header facts about an audio file."""

    frames: int
    sample_rate: int
    channels: int
    duration: float  # seconds


def audio_info(path: PathLike) -> AudioInfo:
    """Read the header of ``path``: (frames, sample_rate, channels, duration).

    Raises :class:`AudioFileError` if the file is missing or unreadable.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioFileError(p, "file not found (missing)")
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioFileError(p, f"unreadable or corrupt audio file ({exc})") from exc
    frames = int(info.frames)
    sr = int(info.samplerate)
    return AudioInfo(frames, sr, int(info.channels), frames / sr if sr > 0 else 0.0)


def resample(audio: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    """Resample a float waveform ``[..., T]`` from ``orig_sr`` to ``new_sr`` Hz.

    Uses ``torchaudio.functional.resample`` (windowed-sinc, anti-aliased).
    Returns float32 numpy; a no-op copy-free return when the rates match.
    """
    if orig_sr <= 0 or new_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} -> {new_sr}")
    audio = np.asarray(audio, dtype=np.float32)
    if orig_sr == new_sr:
        return audio
    import torch
    import torchaudio.functional as AF

    with torch.no_grad():
        out = AF.resample(torch.from_numpy(np.ascontiguousarray(audio)), int(orig_sr), int(new_sr))
    return out.numpy().astype(np.float32, copy=False)


def load_audio(
    path: PathLike,
    sample_rate: int | None = None,
    mono: bool = True,
    *,
    silence_threshold: float | None = 1e-4,
) -> tuple[np.ndarray, int]:
    """Load an audio file as float32 in [-1, 1].

    Args:
        path: audio file (any format libsndfile reads; WAV in this project).
        sample_rate: resample to this rate when given and different from the
            file's rate; ``None`` keeps the file's rate.
        mono: average the channels into one; returns ``[T]``. With
            ``mono=False`` returns ``[C, T]``.
        silence_threshold: raise if the peak absolute sample is below this
            (the clip is silent); ``None`` disables the check.

    Returns:
        ``(audio, sr)`` where ``sr`` is the rate of the returned audio.

    Raises:
        AudioFileError: missing, unreadable/corrupt, empty, non-finite or
            silent file.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioFileError(p, "file not found (missing)")
    try:
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioFileError(p, f"unreadable or corrupt audio file ({exc})") from exc
    if data.shape[0] == 0:
        raise AudioFileError(p, "empty audio file (0 frames)")
    if not np.all(np.isfinite(data)):
        raise AudioFileError(p, "non-finite samples (NaN or Inf)")
    if silence_threshold is not None:
        peak = float(np.max(np.abs(data)))
        if peak < silence_threshold:
            raise AudioFileError(p, f"silent audio (peak {peak:.2e} < {silence_threshold:g})")
    audio = data.mean(axis=1) if mono else np.ascontiguousarray(data.T)
    audio = audio.astype(np.float32, copy=False)
    sr = int(sr)
    if sample_rate is not None and int(sample_rate) != sr:
        audio = resample(audio, sr, int(sample_rate))
        sr = int(sample_rate)
    return audio, sr


def _to_numpy_1d(audio: Any, path: PathLike) -> np.ndarray:
    """Accept numpy or torch, shape ``[T]`` or ``[1, T]``; return float32 ``[T]``."""
    if hasattr(audio, "detach"):  # torch.Tensor, without importing torch
        audio = audio.detach().cpu().float().numpy()
    arr = np.asarray(audio, dtype=np.float32)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1:
        raise ValueError(f"{path}: write_wav expects mono audio [T] or [1, T], got shape {arr.shape}")
    return arr


def write_wav(
    path: PathLike,
    audio: Any,
    sample_rate: int,
    normalize: bool = True,
    peak: float = 0.95,
) -> Path:
    """Write mono audio as a 16-bit PCM WAV, atomically.

    Args:
        path: destination; parent folders are created.
        audio: numpy array or torch tensor, ``[T]`` or ``[1, T]``.
        sample_rate: samples per second.
        normalize: scale so that the peak absolute value equals ``peak``
            (skipped for all-zero audio). Without it, values are clipped to
            [-1, 1] before 16-bit conversion.
        peak: target peak for normalisation, in (0, 1].

    Returns:
        the written path.

    Raises:
        ValueError: non-finite samples, bad shape or bad arguments; the
            message names the path.
    """
    p = Path(path)
    arr = _to_numpy_1d(audio, p)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{p}: refusing to write non-finite samples (NaN or Inf)")
    if int(sample_rate) <= 0:
        raise ValueError(f"{p}: sample_rate must be positive, got {sample_rate}")
    if not 0.0 < peak <= 1.0:
        raise ValueError(f"{p}: peak must be in (0, 1], got {peak}")
    if normalize:
        m = float(np.max(np.abs(arr))) if arr.size else 0.0
        if m > 0.0:
            arr = arr * (peak / m)
    arr = np.clip(arr, -1.0, 1.0)

    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f"{p.name}.tmp-{os.getpid()}")
    try:
        # format given explicitly: the tmp suffix hides the .wav extension
        sf.write(str(tmp), arr, int(sample_rate), subtype="PCM_16", format="WAV")
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p
