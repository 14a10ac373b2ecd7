"""WAV input/output for the whole package, through soundfile only.

Why soundfile: torchaudio's ``load``/``save`` now route through TorchCodec,
which this project does not depend on. soundfile (libsndfile) reads and
writes WAV/FLAC/OGG without it. Every other module reads and writes audio
through this one, so validation lives in one place:

* :func:`load_audio` returns ``(float32 [T], sample_rate)`` (mono mixdown by
  channel mean, optional resampling), then runs :func:`validate_audio` on the
  result, so what is checked is what the model will see.
* :func:`validate_audio` is the one validation of decoded audio, used by
  :func:`load_audio` (and so by the datasets and every recipe's prepare
  script) and directly on audio that never was a file (segments, uploads).
  It runs AFTER mixdown and resampling because that is where problems appear
  (two anti-phase channels cancel to silence) and it rejects, raising
  :class:`AudioFileError` with one line naming the file and the reason:
  truncated files (the header promises more frames than the data hold),
  empty, non-finite, silent, and clips shorter than a minimum. Float samples
  outside [-1, 1] are repaired instead: scaled to peak 1 with a warning.
* :func:`write_wav` checks for finite values, peak-normalises, and writes
  16-bit PCM atomically (through :mod:`anytime_audio.core.atomic`), so a
  crash never leaves a half-written WAV behind.
* :func:`resample` wraps ``torchaudio.functional.resample`` (band-limited
  sinc interpolation). torch is imported lazily, so reading and writing WAVs
  does not pay torch's import time (it matters in multiprocessing workers).
"""

from __future__ import annotations

import logging
import os
import struct
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import soundfile as sf

from anytime_audio.core.atomic import atomic_write

log = logging.getLogger(__name__)

__all__ = [
    "AudioFileError",
    "AudioInfo",
    "audio_info",
    "load_audio",
    "resample",
    "validate_audio",
    "write_wav",
]

PathLike = str | os.PathLike

# A header may promise this much more audio than the data hold before the
# file counts as truncated (absorbs rounding of the length after resampling).
TRUNCATION_TOLERANCE_S = 1e-3
# Peaks up to this are resampling overshoot of full-scale PCM: scaled quietly.
OVERSHOOT_TOLERANCE = 1.01


class AudioFileError(ValueError):
    """An audio file cannot be used; the message names the file and the reason.

    ``kind`` is a short category for skip reports (``missing``, ``directory``,
    ``corrupt``, ``empty``, ``non-finite``, ``silent``, ``truncated``,
    ``too short``); by default the reason up to its first parenthesis.
    """

    def __init__(self, path: PathLike, reason: str, kind: str | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.kind = kind or reason.split(" (", 1)[0]
        super().__init__(f"{self.path}: {reason}")


class AudioInfo(NamedTuple):
    """Header facts about an audio file."""

    frames: int
    sample_rate: int
    channels: int
    duration: float  # seconds


def _check_is_file(p: Path) -> None:
    if p.is_dir():
        raise AudioFileError(p, "is a directory, not an audio file (fix the path)", "directory")
    if not p.is_file():
        raise AudioFileError(p, "file not found (missing)", "missing")


def _corrupt(p: Path, exc: BaseException) -> AudioFileError:
    detail = " ".join(str(exc).split())  # libsndfile messages can span lines
    return AudioFileError(p, f"unreadable or corrupt audio file ({detail})", "corrupt")


def audio_info(path: PathLike) -> AudioInfo:
    """Read the header of ``path``: (frames, sample_rate, channels, duration).

    Raises :class:`AudioFileError` if the file is missing, a directory or unreadable.
    """
    p = Path(path)
    _check_is_file(p)
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise _corrupt(p, exc) from exc
    frames = int(info.frames)
    sr = int(info.samplerate)
    return AudioInfo(frames, sr, int(info.channels), frames / sr if sr > 0 else 0.0)


def _wav_declared_frames(path: Path) -> int | None:
    """Frames the ``data`` chunk of a RIFF/WAVE header declares, or None.

    libsndfile silently shortens a WAV's frame count to the bytes that exist,
    so a truncated WAV looks whole through soundfile; the declared size read
    here is what reveals it. None for non-WAV files and for streamed WAVs
    whose size field is a placeholder (0 or 0xFFFFFFFF).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block_align = 0
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"data":
                    if block_align <= 0 or size in (0, 0xFFFFFFFF):
                        return None
                    return size // block_align
                body = f.read(size + (size & 1)) if cid == b"fmt " else None
                if body is None:
                    f.seek(size + (size & 1), os.SEEK_CUR)
                elif len(body) >= 14:
                    block_align = struct.unpack("<H", body[12:14])[0]
    except OSError:
        return None


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


def validate_audio(
    audio: np.ndarray,
    sample_rate: int,
    name: PathLike,
    *,
    silence_threshold: float | None = 1e-4,
    min_seconds: float = 0.0,
    header_seconds: float | None = None,
) -> np.ndarray:
    """Check decoded audio (``[T]`` or ``[C, T]``, after mixdown and resampling).

    Args:
        audio: the samples as the caller will use them.
        sample_rate: their rate (for durations).
        name: the file (or a label such as ``"clip.wav[segment 2]"``) named
            in messages.
        silence_threshold: reject when the peak is below this; None disables.
        min_seconds: reject clips shorter than this (0 disables).
        header_seconds: the duration the file's header promises; reject when
            the data are more than ``TRUNCATION_TOLERANCE_S`` shorter.

    Returns:
        ``audio`` as float32, scaled to peak 1 when its peak exceeded 1
        (float files may hold any value; a warning names the file).

    Raises:
        AudioFileError: truncated, empty, non-finite, too short or silent.
    """
    audio = np.asarray(audio, dtype=np.float32)
    frames = audio.shape[-1] if audio.ndim else 0
    seconds = frames / sample_rate
    if header_seconds is not None and header_seconds - seconds > TRUNCATION_TOLERANCE_S:
        raise AudioFileError(
            name, f"truncated (header says {header_seconds:.3f} s, data holds {seconds:.3f} s; "
                  "re-copy or re-download the file)", "truncated")
    if frames == 0:
        raise AudioFileError(name, "empty audio (0 frames)", "empty")
    if not np.all(np.isfinite(audio)):
        raise AudioFileError(name, "non-finite samples (NaN or Inf)", "non-finite")
    if min_seconds and seconds < min_seconds:
        raise AudioFileError(name, f"too short ({seconds:.3f} s < minimum {min_seconds:g} s)", "too short")
    peak = float(np.max(np.abs(audio)))
    if silence_threshold is not None and peak < silence_threshold:
        raise AudioFileError(name, f"silent (peak {peak:.2e} < {silence_threshold:g} after mixdown)", "silent")
    if peak > 1.0:
        if peak > OVERSHOOT_TOLERANCE:
            log.warning("%s: peak %.3g outside [-1, 1] (float samples); scaled to peak 1", name, peak)
        audio = audio / np.float32(peak)
    return audio


def load_audio(
    path: PathLike,
    sample_rate: int | None = None,
    mono: bool = True,
    *,
    silence_threshold: float | None = 1e-4,
    min_seconds: float = 0.0,
) -> tuple[np.ndarray, int]:
    """Load an audio file as float32 in [-1, 1], validated with :func:`validate_audio`.

    Args:
        path: audio file (any format libsndfile reads; WAV in this project).
        sample_rate: resample to this rate when given and different from the
            file's rate; ``None`` keeps the file's rate.
        mono: average the channels into one; returns ``[T]``. With
            ``mono=False`` returns ``[C, T]``.
        silence_threshold: raise if the peak absolute sample (after mixdown)
            is below this (the clip is silent); ``None`` disables the check.
        min_seconds: raise if the clip is shorter than this; 0 disables.

    Returns:
        ``(audio, sr)`` where ``sr`` is the rate of the returned audio.

    Raises:
        AudioFileError: missing, a directory, unreadable/corrupt, truncated,
            empty, non-finite, too short or silent.
    """
    p = Path(path)
    _check_is_file(p)
    try:
        with sf.SoundFile(str(p)) as f:
            file_sr = int(f.samplerate)
            header_frames = _wav_declared_frames(p)
            if header_frames is None and 0 < f.frames < 2**62:
                header_frames = int(f.frames)
            data = f.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise _corrupt(p, exc) from exc
    audio = data.mean(axis=1) if mono else np.ascontiguousarray(data.T)
    audio = audio.astype(np.float32, copy=False)
    sr = file_sr if sample_rate is None else int(sample_rate)
    if sr != file_sr and data.shape[0] > 0:
        audio = resample(audio, file_sr, sr)
    header_seconds = None if header_frames is None else header_frames / file_sr
    audio = validate_audio(audio, sr, p, silence_threshold=silence_threshold,
                           min_seconds=min_seconds, header_seconds=header_seconds)
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

    # the hidden temporary name has no .wav extension: the format is given
    with atomic_write(p, "wb") as f:
        sf.write(f, arr, int(sample_rate), subtype="PCM_16", format="WAV")
    return p
