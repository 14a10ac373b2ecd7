"""Reconstruction metrics for waveforms (and log-mel spectrograms).

Every metric takes a *reference* and an *estimate* shaped ``[B, T]`` (a single
``[T]`` clip is treated as a batch of one) at ``sample_rate`` and returns a
per-example tensor ``[B]`` (float32, on CPU for the metrics that go through
NumPy backends, PESQ and STOI; on the input device otherwise).  Use
:func:`summarize` to reduce a ``{name: tensor[B]}`` dict to ``{name: float}``
(NaN-aware mean), or :func:`reconstruction_metrics` to do both in one call.

If reference and estimate differ in length (decoders often return a few
samples more or less) both are cropped to the shorter length; batch sizes
must match.

Metric names (the keys used in ``metrics.json``):

``mse``
    Mean squared error per example.  Lower is better.
``stft_distance``
    Multi-resolution STFT distance: for each (n_fft, hop, win) resolution,
    spectral convergence ``||S_ref - S_est||_F / ||S_ref||_F`` plus the mean
    absolute difference of log magnitudes; averaged over resolutions (as in
    Parallel WaveGAN / DDSP).  The default resolutions are 512/1024/2048 at
    16 kHz and scale with the sample rate (see
    :func:`default_stft_resolutions`).  Lower is better; 0 for identical
    signals.
``mel_distance``
    Mean absolute difference of natural-log mel spectrograms computed with
    ``anytime_audio.audio.features.LogMel`` (n_fft 1024, hop 256, 80 mels by
    default; slaney mel magnitudes floored at 1e-5 before the log).  :func:`log_mel_distance` does
    the same on precomputed log-mels, for the mel model that reconstructs
    log-mels directly.
``si_sdr``
    Scale-invariant SDR in dB (torchmetrics), zero-mean by default as in
    Le Roux et al. 2019.  Higher is better; identical signals give a very
    large value (~ +100 dB or more, limited only by the epsilon).
``pesq``
    PESQ MOS-LQO (torchmetrics / ``pesq``): wide-band at 16 kHz (about 4.64
    for identical signals, ~1.0 for noise), narrow-band at 8 kHz.  ITU-T
    P.862 is defined only at 8 and 16 kHz, so at any other rate (e.g. the
    22.05 kHz of ``model=mel_hifigan``) both signals are resampled to
    16 kHz (``torchaudio.functional.resample``, once, deterministic) and
    scored wide-band; wide-band PESQ only looks at 50-7000 Hz, so nothing
    it would score is lost.  An example that PESQ cannot score (e.g.
    silence: "no utterances detected", or a clip shorter than ~0.25 s)
    gives NaN with a warning.
``stoi``
    Short-time objective intelligibility in [0, 1] (``pystoi``; works at any
    rate, pystoi resamples to 10 kHz internally).  STOI removes the frames
    of the *reference* more than 40 dB below its loudest frame and then
    correlates 30-frame (384 ms) envelope segments; a clip with fewer than
    31 such frames (25.6 ms, hop 12.8 ms: about 0.4 s of speech) has no
    segment at all, and pystoi then returns 1e-5 with a warning, even for
    identical signals.  Such a clip is scored NaN here (STOI is undefined
    for it), not 1e-5 and not a variant of STOI without the silence
    removal (which would score the silence): means skip it and
    :func:`scored_counts` says how many clips were scored.  Which clips
    are skipped depends on the reference only, so every system compared on
    the same clips is averaged over the same subset.

Metrics that can be NaN by design (``pesq``, ``stoi``) are averaged over the
clips they scored; report that number beside the mean (:func:`scored_counts`).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence

import torch
import torchaudio
from torch import Tensor

from anytime_audio.audio.features import LogMel

logger = logging.getLogger(__name__)

__all__ = [
    "ALL_METRICS",
    "DEFAULT_METRICS",
    "default_stft_resolutions",
    "mse",
    "multi_resolution_stft_distance",
    "mel_distance",
    "log_mel",
    "log_mel_distance",
    "si_sdr",
    "pesq",
    "pesq_wb",
    "stoi",
    "compute_metrics",
    "summarize",
    "scored_counts",
    "reconstruction_metrics",
]

ALL_METRICS: tuple[str, ...] = ("mse", "stft_distance", "mel_distance", "si_sdr", "pesq", "stoi")
DEFAULT_METRICS: tuple[str, ...] = ALL_METRICS

#: (n_fft, hop_length, win_length) at 16 kHz.
_BASE_RESOLUTIONS_16K: tuple[tuple[int, int, int], ...] = (
    (512, 128, 512),
    (1024, 256, 1024),
    (2048, 512, 2048),
)
_LOG_EPS = 1e-5
_PESQ_RATE = 16000  # where PESQ is scored when the signal's own rate is not one it accepts
_PYSTOI_UNSCORED = 1e-5  # what pystoi returns (with a warning) when it has under 30 frames of speech


# --------------------------------------------------------------------------- helpers


def _as_batch(x: Tensor, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        x = torch.as_tensor(x)
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if x.dim() != 2:
        raise ValueError(f"{name} must be [B, T] or [T], got shape {tuple(x.shape)}")
    return x.float()


def _align(reference: Tensor, estimate: Tensor) -> tuple[Tensor, Tensor]:
    """Batch both inputs to [B, T] and crop them to their common length."""
    reference = _as_batch(reference, "reference")
    estimate = _as_batch(estimate, "estimate").to(reference.device)
    if reference.shape[0] != estimate.shape[0]:
        raise ValueError(
            f"batch sizes differ: reference {tuple(reference.shape)} vs estimate {tuple(estimate.shape)}"
        )
    n = min(reference.shape[-1], estimate.shape[-1])
    if reference.shape[-1] != estimate.shape[-1]:
        logger.debug("cropping reference %d / estimate %d samples to %d",
                     reference.shape[-1], estimate.shape[-1], n)
    if n == 0:
        raise ValueError("empty signals")
    return reference[:, :n], estimate[:, :n]


def default_stft_resolutions(sample_rate: int = 16000) -> list[tuple[int, int, int]]:
    """The 512/1024/2048-point resolutions at 16 kHz, scaled to ``sample_rate``.

    Sizes are scaled by ``sample_rate / 16000`` and rounded to the nearest
    power of two, so each resolution keeps roughly the same duration in
    seconds (32/64/128 ms windows with 75 % overlap).
    """
    scale = sample_rate / 16000.0
    out = []
    for n_fft, hop, win in _BASE_RESOLUTIONS_16K:
        n = 2 ** max(4, round(math.log2(n_fft * scale)))
        out.append((n, max(1, n * hop // n_fft), n * win // n_fft))
    return out


# --------------------------------------------------------------------------- metrics


def mse(reference: Tensor, estimate: Tensor) -> Tensor:
    """Per-example mean squared error ``[B]``."""
    reference, estimate = _align(reference, estimate)
    return (reference - estimate).pow(2).mean(dim=-1)


def _stft_mag(x: Tensor, n_fft: int, hop: int, win: int) -> Tensor:
    window = torch.hann_window(win, device=x.device, dtype=x.dtype)
    spec = torch.stft(x, n_fft=n_fft, hop_length=hop, win_length=win, window=window,
                      center=True, return_complex=True)
    # sqrt(|.|^2 + tiny) keeps the gradient finite for zero bins.
    return (spec.real.pow(2) + spec.imag.pow(2)).clamp_min(1e-14).sqrt()


def multi_resolution_stft_distance(
    reference: Tensor,
    estimate: Tensor,
    sample_rate: int = 16000,
    resolutions: Sequence[tuple[int, int, int]] | None = None,
) -> Tensor:
    """Per-example multi-resolution STFT distance ``[B]``.

    For each ``(n_fft, hop_length, win_length)`` in ``resolutions``
    (default :func:`default_stft_resolutions` for ``sample_rate``):
    spectral convergence + mean |log S_ref - log S_est| (magnitudes clamped
    at 1e-5), averaged over resolutions.  Differentiable, so it can double
    as a training loss.  A silent reference makes spectral convergence
    blow up (divides by ~0); such examples are computed with the norm
    clamped at 1e-8.
    """
    reference, estimate = _align(reference, estimate)
    if resolutions is None:
        resolutions = default_stft_resolutions(sample_rate)
    if len(resolutions) == 0:
        raise ValueError("resolutions must not be empty")
    total = reference.new_zeros(reference.shape[0])
    for n_fft, hop, win in resolutions:
        s_ref = _stft_mag(reference, n_fft, hop, win)
        s_est = _stft_mag(estimate, n_fft, hop, win)
        sc = torch.linalg.vector_norm(s_ref - s_est, dim=(-2, -1)) / torch.linalg.vector_norm(
            s_ref, dim=(-2, -1)
        ).clamp_min(1e-8)
        log_l1 = (s_ref.clamp_min(_LOG_EPS).log() - s_est.clamp_min(_LOG_EPS).log()).abs().mean(dim=(-2, -1))
        total = total + sc + log_l1
    return total / len(resolutions)


_MEL_CACHE: dict[tuple, LogMel] = {}


def log_mel(x: Tensor, sample_rate: int = 16000, n_fft: int = 1024, hop_length: int = 256,
            n_mels: int = 80) -> Tensor:
    """Log-mel ``[B, n_mels, frames]`` via :class:`anytime_audio.audio.features.LogMel`
    (natural log of slaney mel magnitudes, floored at 1e-5), so waveform-domain
    :func:`mel_distance` matches :func:`log_mel_distance` on the mel model's features."""
    x = _as_batch(x, "x")
    key = (sample_rate, n_fft, hop_length, n_mels, str(x.device))
    if key not in _MEL_CACHE:
        _MEL_CACHE[key] = LogMel(sample_rate, n_fft, hop_length, n_mels).to(x.device)
    return _MEL_CACHE[key](x)


def log_mel_distance(mel_a: Tensor, mel_b: Tensor) -> Tensor:
    """Per-example mean absolute difference of precomputed log-mels ``[B]``.

    Accepts ``[B, n_mels, frames]`` (or ``[n_mels, frames]``); frames are
    cropped to the shorter of the two.
    """
    if mel_a.dim() == 2:
        mel_a = mel_a.unsqueeze(0)
    if mel_b.dim() == 2:
        mel_b = mel_b.unsqueeze(0)
    if mel_a.shape[:-1] != mel_b.shape[:-1]:
        raise ValueError(f"log-mel shapes differ: {tuple(mel_a.shape)} vs {tuple(mel_b.shape)}")
    n = min(mel_a.shape[-1], mel_b.shape[-1])
    diff = (mel_a[..., :n].float() - mel_b[..., :n].float().to(mel_a.device)).abs()
    return diff.flatten(1).mean(dim=1)


def mel_distance(reference: Tensor, estimate: Tensor, sample_rate: int = 16000, n_fft: int = 1024,
                 hop_length: int = 256, n_mels: int = 80) -> Tensor:
    """Per-example L1 distance between log-mel spectrograms ``[B]``."""
    reference, estimate = _align(reference, estimate)
    kw = dict(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    return log_mel_distance(log_mel(reference, **kw), log_mel(estimate, **kw))


def si_sdr(reference: Tensor, estimate: Tensor, zero_mean: bool = True) -> Tensor:
    """Per-example scale-invariant SDR in dB ``[B]`` (torchmetrics)."""
    from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio

    reference, estimate = _align(reference, estimate)
    return scale_invariant_signal_distortion_ratio(estimate, reference, zero_mean=zero_mean)


def pesq(reference: Tensor, estimate: Tensor, sample_rate: int, mode: str = "auto") -> Tensor:
    """Per-example PESQ ``[B]`` (CPU float32), NaN where it cannot be computed.

    ``mode="auto"`` picks narrow-band at 8 kHz and wide-band otherwise.
    PESQ accepts only 8 kHz (``"nb"``) and 16 kHz (``"wb"`` or ``"nb"``): at
    any other rate, or for ``"wb"`` at 8 kHz, reference and estimate are
    resampled to 16 kHz first (``torchaudio.functional.resample``, both in
    one call, deterministic).  Examples PESQ refuses (silence, too short)
    give NaN with one summarising warning.
    """
    from torchmetrics.functional.audio import perceptual_evaluation_speech_quality

    if mode not in ("auto", "wb", "nb"):
        raise ValueError(f"PESQ mode must be 'auto', 'wb' or 'nb', got {mode!r}")
    reference, estimate = _align(reference, estimate)
    reference, estimate = reference.detach().cpu(), estimate.detach().cpu()
    batch, rate = reference.shape[0], int(sample_rate)
    if mode == "auto":
        mode = "nb" if rate == 8000 else "wb"
    if rate != _PESQ_RATE and not (rate == 8000 and mode == "nb"):
        both = torchaudio.functional.resample(torch.cat([reference, estimate]), rate, _PESQ_RATE)
        reference, estimate, rate = both[:batch], both[batch:], _PESQ_RATE
    out = torch.full((batch,), float("nan"))
    failures: list[str] = []
    for b in range(batch):
        try:
            out[b] = float(perceptual_evaluation_speech_quality(estimate[b], reference[b], rate, mode))
        except Exception as exc:  # pesq raises its own error types (NoUtterancesError, BufferTooShortError...)
            failures.append(f"{b}: {type(exc).__name__}: {exc}")
    if failures:
        warnings.warn(
            f"PESQ failed on {len(failures)}/{batch} example(s), scored NaN ({'; '.join(failures[:3])})",
            RuntimeWarning,
            stacklevel=2,
        )
    return out


def pesq_wb(reference: Tensor, estimate: Tensor, sample_rate: int = 16000) -> Tensor:
    """Wide-band PESQ ``[B]`` (signals not at 16 kHz are resampled to it)."""
    return pesq(reference, estimate, sample_rate, mode="wb")


def stoi(reference: Tensor, estimate: Tensor, sample_rate: int, extended: bool = False) -> Tensor:
    """Per-example STOI ``[B]`` in [0, 1] (CPU float32, ``pystoi``), NaN for a clip STOI cannot score.

    pystoi needs 30 STFT frames of the reference left after its silent-frame
    removal (frames within 40 dB of the loudest, about 0.4 s of speech); for
    fewer it returns 1e-5, which would pass for "unintelligible".  Those
    clips are NaN here, with one summarising warning (see the module
    docstring for why NaN and not a variant of STOI).
    """
    from pystoi import stoi as pystoi

    reference, estimate = _align(reference, estimate)
    ref, est = reference.detach().cpu().numpy(), estimate.detach().cpu().numpy()
    out = torch.full((ref.shape[0],), float("nan"))
    unscored: list[int] = []
    for b in range(ref.shape[0]):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Not enough STFT frames", category=RuntimeWarning)
            value = float(pystoi(ref[b], est[b], int(sample_rate), extended=extended))
        if value == _PYSTOI_UNSCORED:
            unscored.append(b)
        else:
            out[b] = value
    if unscored:
        warnings.warn(
            f"STOI cannot score {len(unscored)}/{ref.shape[0]} example(s) (under ~0.4 s of speech left after "
            f"its silence removal), scored NaN: {unscored[:10]}",
            RuntimeWarning,
            stacklevel=2,
        )
    return out


# --------------------------------------------------------------------------- aggregation


def compute_metrics(
    reference: Tensor,
    estimate: Tensor,
    sample_rate: int,
    metrics: Iterable[str] = DEFAULT_METRICS,
    stft_resolutions: Sequence[tuple[int, int, int]] | None = None,
) -> dict[str, Tensor]:
    """Per-example values ``{name: tensor[B]}`` for the requested metric names."""
    metrics = tuple(metrics)
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(ALL_METRICS)}")
    reference, estimate = _align(reference, estimate)
    out: dict[str, Tensor] = {}
    with torch.no_grad():
        for name in metrics:
            if name == "mse":
                val = mse(reference, estimate)
            elif name == "stft_distance":
                val = multi_resolution_stft_distance(reference, estimate, sample_rate, stft_resolutions)
            elif name == "mel_distance":
                val = mel_distance(reference, estimate, sample_rate)
            elif name == "si_sdr":
                val = si_sdr(reference, estimate)
            elif name == "pesq":
                val = pesq(reference, estimate, sample_rate)
            else:  # stoi
                val = stoi(reference, estimate, sample_rate)
            out[name] = val.detach().float().cpu()
    return out


def summarize(values: Mapping[str, Tensor | Sequence[float] | float]) -> dict[str, float]:
    """NaN-aware mean of each per-example tensor: ``{name: float}``.

    A metric whose values are all NaN (or empty) summarises to NaN.
    """
    out: dict[str, float] = {}
    for name, val in values.items():
        t = torch.as_tensor(val, dtype=torch.float64).flatten()
        finite = t[~torch.isnan(t)]
        out[name] = float(finite.mean()) if finite.numel() else float("nan")
    return out


def scored_counts(values: Mapping[str, Tensor | Sequence[float] | float]) -> dict[str, int]:
    """How many examples each metric scored (non-NaN values): the ``n`` behind :func:`summarize`'s means."""
    return {name: int((~torch.isnan(torch.as_tensor(val, dtype=torch.float64).flatten())).sum())
            for name, val in values.items()}


def reconstruction_metrics(
    reference: Tensor,
    estimate: Tensor,
    sample_rate: int,
    metrics: Iterable[str] = DEFAULT_METRICS,
    stft_resolutions: Sequence[tuple[int, int, int]] | None = None,
) -> dict[str, float]:
    """Batch means ``{name: float}`` of the requested metrics (names as in :data:`ALL_METRICS`).

    For a corpus-level number, prefer accumulating :func:`compute_metrics`
    over batches and calling :func:`summarize` once on the concatenation.
    """
    return summarize(compute_metrics(reference, estimate, sample_rate, metrics, stft_resolutions))
