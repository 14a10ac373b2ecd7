"""What the page shows and takes in: players, spectrograms, image grids, uploads.

* :func:`audio_value` turns a waveform into what an audio player takes
  (``(sample_rate, int16 samples)``), peak-normalised like the WAVs the
  ``sample`` command writes, so every rung plays at the same loudness.
* :func:`spectrogram` draws a log-mel picture (low frequencies at the bottom,
  magma colours, a fixed 80 dB range under the peak) with the model's own
  front end, so the picture is what the model sees.
* :func:`grid` lays out image samples with the package's one grid layout.
* :func:`load_upload` turns an uploaded or recorded file into exactly one model
  clip, or raises :class:`UploadError` with one line a person can act on.
  Decoding and validation are :func:`anytime_audio.audio.io.load_audio`'s; this
  module adds what an upload needs on top: stereo is mixed down, other rates
  resampled, clips longer than the model's are cropped to their loudest
  stretch and shorter ones padded with silence, and each of these is said in
  the returned notes. Files over :data:`MAX_UPLOAD_SECONDS` are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

MAX_UPLOAD_SECONDS = 30 * 60  # longer uploads are refused (cropping reads the whole file first)
MIN_UPLOAD_SECONDS = 0.02
SPECTROGRAM_RANGE = math.log(10 ** 4)  # 80 dB of magnitude under the peak, in natural-log units
SPECTROGRAM_WIDTH = 480  # px a clip's frames are stretched to (whole repeats), mel bins get 2 px each


class UploadError(ValueError):
    """An upload that cannot be used; the message is one line for the page."""


@dataclass
class Upload:
    """One model clip made from an upload, and what was done to it."""

    wave: np.ndarray  # float32 [clip_samples]
    name: str
    notes: list[str] = field(default_factory=list)


def audio_value(wave, sample_rate: int, peak: float = 0.95) -> tuple[int, np.ndarray]:
    """``(sample_rate, int16 [T])`` for a player; silence stays silence."""
    if isinstance(wave, torch.Tensor):
        wave = wave.detach().float().cpu().numpy()
    wave = np.asarray(wave, dtype=np.float32).reshape(-1)
    wave = np.nan_to_num(wave)
    top = float(np.max(np.abs(wave))) if wave.size else 0.0
    if top > 0:
        wave = wave * (peak / top)
    return int(sample_rate), (np.clip(wave, -1.0, 1.0) * 32767).astype(np.int16)


def spectrogram(wave, logmel) -> np.ndarray:
    """Log-mel picture ``[H, W, 3]`` uint8 of a waveform ``[T]`` (low frequencies at the bottom)."""
    from matplotlib import colormaps

    if not isinstance(wave, torch.Tensor):
        wave = torch.as_tensor(np.asarray(wave, dtype=np.float32))
    device = next(logmel.buffers()).device
    with torch.no_grad():
        mel = logmel(wave.reshape(1, -1).float().to(device))[0].cpu().numpy()
    top = float(mel.max())
    scaled = np.clip((mel - (top - SPECTROGRAM_RANGE)) / SPECTROGRAM_RANGE, 0.0, 1.0)[::-1]
    rgb = (colormaps["magma"](scaled)[..., :3] * 255).astype(np.uint8)
    return np.repeat(np.repeat(rgb, 2, axis=0), max(1, SPECTROGRAM_WIDTH // rgb.shape[1]), axis=1)


def grid(images: torch.Tensor, columns: int | None = None) -> np.ndarray:
    """Images ``[n, C, H, W]`` in [-1, 1] as one RGB grid ``[H', W', 3]`` uint8."""
    from anytime_audio.sample_writer import image_grid

    return np.asarray(image_grid(images.detach().cpu(), columns).convert("RGB"))


def loudest_window(wave: np.ndarray, size: int) -> int:
    """Start of the ``size``-sample stretch of ``wave`` with the most energy."""
    if wave.shape[-1] <= size:
        return 0
    energy = np.concatenate([[0.0], np.cumsum(wave.astype(np.float64) ** 2)])
    return int(np.argmax(energy[size:] - energy[:-size]))


def load_upload(path, sample_rate: int, clip_samples: int, name: str | None = None) -> Upload:
    """One model clip (``[clip_samples]`` at ``sample_rate``) from an uploaded file.

    Raises :class:`UploadError`: nothing given, an empty file, not audio,
    over :data:`MAX_UPLOAD_SECONDS`, or what :func:`~anytime_audio.audio.io.load_audio`
    rejects (silent, non-finite, truncated, too short).
    """
    from anytime_audio.audio.io import AudioFileError, audio_info, load_audio, resample

    if path is None or str(path) == "":
        raise UploadError("no audio: upload a file, record from the microphone, or pick a test clip")
    path = Path(path)
    name = name or path.name
    if path.is_file() and path.stat().st_size == 0:
        raise UploadError(f"{name!r} is empty (0 bytes): upload a WAV, FLAC or OGG clip")
    try:
        info = audio_info(path)
    except AudioFileError as e:
        if e.kind == "corrupt":
            raise UploadError(f"{name!r} is not an audio file this page can read: upload a WAV, FLAC or OGG "
                              "clip") from None
        raise UploadError(f"{name!r}: {e.reason}") from None
    if info.duration > MAX_UPLOAD_SECONDS:
        raise UploadError(f"{name!r} is {info.duration / 60:.1f} min long: refused, the page takes files up to "
                          f"{MAX_UPLOAD_SECONDS // 60} min (the model hears {clip_samples / sample_rate:g} s)")
    try:
        wave, file_rate = load_audio(path, sample_rate=None, mono=True, min_seconds=MIN_UPLOAD_SECONDS)
    except AudioFileError as e:
        raise UploadError(f"{name!r} cannot be used: {e.reason}") from None
    notes = []
    if info.channels > 1:
        notes.append(f"{info.channels} channels mixed down to mono")
    clip_seconds = clip_samples / sample_rate
    seconds = wave.shape[-1] / file_rate
    window = int(math.ceil(clip_seconds * file_rate))
    if wave.shape[-1] > window:
        start = loudest_window(wave, window)
        wave = wave[start:start + window]
        notes.append(f"cropped {seconds:.1f} s to the model's {clip_seconds:g} s clip: the loudest "
                     f"{clip_seconds:g} s, from {start / file_rate:.2f} s")
    if file_rate != sample_rate:
        wave = resample(wave, file_rate, sample_rate)
        notes.append(f"resampled {file_rate / 1000:g} kHz to {sample_rate / 1000:g} kHz")
    if wave.shape[-1] < clip_samples:
        if seconds < clip_seconds - 1e-3:
            notes.append(f"padded {seconds:.2f} s with silence to the model's {clip_seconds:g} s clip")
        wave = np.pad(wave, (0, clip_samples - wave.shape[-1]))
    return Upload(np.ascontiguousarray(wave[:clip_samples], dtype=np.float32), name, notes)
