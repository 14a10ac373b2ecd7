"""Audio front ends and their inverses: log-mel and Griffin-Lim.

The mel model family works on natural-log mel spectrograms; the decoder
reconstructs log-mels and :class:`MelToWave` turns them back into waveforms
with the mel filterbank's pseudo-inverse followed by fast Griffin-Lim
(:mod:`anytime_audio.audio.griffin_lim`). Griffin-Lim needs no weights and
its artefacts are the same for every budget, so budget comparisons stay
fair; the neural vocoders (pretrained HiFi-GAN, our fast vocoder) live in
:mod:`anytime_audio.audio.vocoders` and are chosen with ``model.vocoder``.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio
from torch import nn

from .griffin_lim import FastGriffinLim

LOG_FLOOR = 1e-5


def _hz_to_slaney_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's auditory-toolbox mel scale: linear below 1 kHz, logarithmic above."""
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    mels = hz / f_sp
    log_t = hz >= min_log_hz
    mels[log_t] = min_log_hz / f_sp + np.log(hz[log_t] / min_log_hz) / logstep
    return mels


def _slaney_mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    hz = f_sp * mels
    log_t = mels >= min_log_mel
    hz[log_t] = min_log_hz * np.exp(logstep * (mels[log_t] - min_log_mel))
    return hz


def slaney_mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float = 0.0,
                          f_max: float | None = None) -> torch.Tensor:
    """``librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)`` (slaney scale and area norm) ``[n_mels, n_fft // 2 + 1]``.

    The same float64 computation as librosa 0.10, stored as float32, so the
    HiFi-GAN front-end matches its ``meldataset.py`` to the last bit without
    importing librosa's filters module (which takes ~10 s on a busy CPU).
    """
    f_max = sample_rate / 2.0 if f_max is None else float(f_max)
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)
    mel_f = _slaney_mel_to_hz(np.linspace(_hz_to_slaney_mel(np.array([f_min]))[0],
                                          _hz_to_slaney_mel(np.array([f_max]))[0], n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((n_mels, len(fft_freqs)), dtype=np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return torch.from_numpy(weights)


class LogMel(nn.Module):
    """Waveforms ``[B, T]`` -> log-mel ``[B, n_mels, frames]`` (natural log, clamped at 1e-5).

    Two framings, chosen by ``style``:

    * ``"torchaudio"`` (the default mel model): torchaudio's ``MelSpectrogram``,
      centred frames (``T // hop + 1``: a 1 s, 16 kHz clip at hop 256 gives 63
      frames), magnitude ``|X|``;
    * ``"hifigan"``: exactly the front-end the pretrained HiFi-GAN was trained on
      (``meldataset.mel_spectrogram`` of jik876/hifi-gan): librosa's slaney mel
      filterbank, reflect padding of ``(n_fft - hop) / 2`` on both sides and
      uncentred frames (``T // hop`` frames; frame ``f`` is rendered as samples
      ``f * hop .. (f + 1) * hop``), magnitude ``sqrt(|X|^2 + 1e-9)``; so the
      decoder's log-mels vocode directly with the published weights.

    ``frame_offset`` is the sample at the centre of frame 0 (0, or ``hop / 2``
    for ``"hifigan"``): Griffin-Lim shifts its output by it.
    """

    STYLES = ("torchaudio", "hifigan")

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 256,
        n_mels: int = 80,
        f_min: float = 0.0,
        f_max: float | None = None,
        style: str = "torchaudio",
    ) -> None:
        super().__init__()
        if style not in self.STYLES:
            raise ValueError(f"mel front-end style must be one of {', '.join(self.STYLES)}, got {style!r}")
        if style == "hifigan" and (n_fft - hop_length) % 2:
            raise ValueError(f"the hifigan mel front-end needs n_fft - hop_length even, got {n_fft} and {hop_length}")
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.f_min = float(f_min)
        self.f_max = None if f_max is None else float(f_max)
        self.style = style
        self.padding = (n_fft - hop_length) // 2 if style == "hifigan" else n_fft // 2
        self.frame_offset = n_fft // 2 - self.padding
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
            f_min=f_min, f_max=f_max, power=1.0, norm="slaney", mel_scale="slaney",
        )
        if style == "hifigan":
            basis = slaney_mel_filterbank(sample_rate, n_fft, n_mels, self.f_min, self.f_max)
            with torch.no_grad():
                self.mel.mel_scale.fb.copy_(basis.T)

    def num_frames(self, num_samples: int) -> int:
        return (num_samples + 2 * self.padding - self.n_fft) // self.hop_length + 1

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=wave.device.type, enabled=False):
            if self.style == "torchaudio":
                return torch.log(self.mel(wave.float()).clamp_min(LOG_FLOOR))
            lead = wave.shape[:-1]
            x = wave.float().reshape(-1, 1, wave.shape[-1])
            x = nn.functional.pad(x, (self.padding, self.padding), mode="reflect").squeeze(1)
            spec = torch.stft(x, self.n_fft, self.hop_length, window=self.mel.spectrogram.window,
                              center=False, return_complex=True)
            magnitude = torch.sqrt(spec.real.square() + spec.imag.square() + 1e-9)
            mel = torch.matmul(self.mel.mel_scale.fb.T, magnitude)
            return torch.log(mel.clamp_min(LOG_FLOOR)).reshape(*lead, self.n_mels, -1)


class MelToWave(nn.Module):
    """Log-mel ``[B, n_mels, frames]`` -> waveforms ``[B, T]`` via Griffin-Lim.

    ``n_iter`` trades the vocoder's fixed cost against consistency: on the
    spoken digits, 8 iterations reach a log-mel error of 0.181 after
    re-analysis against 0.160 for 32, in a third of the time (the table and
    its command, ``tools/bench_vocoder.py``, are in BENCHMARKS.md).
    """

    def __init__(self, logmel: LogMel, n_iter: int = 8, num_samples: int | None = None) -> None:
        super().__init__()
        self.num_samples = num_samples
        # The mel filterbank's pseudo-inverse, computed once: torchaudio's
        # InverseMelScale solves a least-squares problem on every call, which
        # costs more than Griffin-Lim itself and is the same for every budget.
        filterbank = logmel.mel.mel_scale.fb  # [n_freqs, n_mels]
        self.register_buffer("inverse_filterbank", torch.linalg.pinv(filterbank.double()).float(), persistent=False)
        self.griffin_lim = FastGriffinLim(logmel.n_fft, logmel.hop_length, n_iter=n_iter)

    def linear_magnitude(self, log_mel: torch.Tensor) -> torch.Tensor:
        """Log-mel ``[B, n_mels, frames]`` -> linear magnitude ``[B, n_fft // 2 + 1, frames]``."""
        mel = torch.exp(log_mel.float())
        return torch.einsum("mf,bmt->bft", self.inverse_filterbank, mel).clamp_min(0.0)

    @torch.no_grad()
    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        wave = self.griffin_lim(self.linear_magnitude(log_mel))
        if self.num_samples is not None:
            if wave.shape[-1] >= self.num_samples:
                wave = wave[..., : self.num_samples]
            else:
                wave = nn.functional.pad(wave, (0, self.num_samples - wave.shape[-1]))
        return wave
