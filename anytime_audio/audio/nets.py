"""1-D convolutional encoders and decoders for the two audio model families.

* **mel**: log-mel ``[B, n_mels, T']`` in, ``[B, L, T']`` latents out, no time
  stride (each code is one channel's whole ``T'``-frame trajectory). The decoder
  maps latents back to log-mel. Cheap on CPU; the default family.
* **wave**: raw waveform ``[B, T]`` in, strided Conv1d down to ``[B, L, T/hop]``,
  transposed convolutions back up. Its input is multiplied by ``input_scale``
  before the first layer: quiet speech (peaks ~0.3) otherwise gives tiny
  encoder outputs that the quantizer collapses onto one code per channel.

Both end in a 1x1 convolution to ``L`` channels so the code count is a single
knob independent of the hidden width.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ResBlock1d(nn.Module):
    """Pre-activation residual block with a dilated convolution."""

    def __init__(self, channels: int, dilation: int = 1, kernel_size: int = 3) -> None:
        super().__init__()
        pad = dilation * (kernel_size - 1) // 2
        self.block = nn.Sequential(
            nn.GroupNorm(1, channels),
            nn.GELU(),
            nn.Conv1d(channels, channels, kernel_size, padding=pad, dilation=dilation),
            nn.GroupNorm(1, channels),
            nn.GELU(),
            nn.Conv1d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def _res_stack(channels: int, depth: int) -> nn.Sequential:
    return nn.Sequential(*[ResBlock1d(channels, dilation=2 ** (i % 3)) for i in range(depth)])


class MelEncoder(nn.Module):
    """Log-mel ``[B, n_mels, T']`` -> latents ``[B, L, T']``."""

    def __init__(self, n_mels: int = 80, hidden: int = 256, code_channels: int = 64, depth: int = 4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(n_mels, hidden, 3, padding=1),
            _res_stack(hidden, depth),
            nn.GroupNorm(1, hidden),
            nn.GELU(),
            nn.Conv1d(hidden, code_channels, 1),
        )

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.net(mel)


class MelDecoder(nn.Module):
    """Latents ``[B, L, T']`` -> log-mel ``[B, n_mels, T']``."""

    def __init__(self, n_mels: int = 80, hidden: int = 256, code_channels: int = 64, depth: int = 4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(code_channels, hidden, 3, padding=1),
            _res_stack(hidden, depth),
            nn.GroupNorm(1, hidden),
            nn.GELU(),
            nn.Conv1d(hidden, n_mels, 3, padding=1),
        )

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.net(latent)


class WaveEncoder(nn.Module):
    """Waveform ``[B, T]`` -> latents ``[B, L, ceil(T / prod(strides))]``."""

    def __init__(
        self,
        hidden: int = 32,
        code_channels: int = 64,
        strides: tuple[int, ...] = (4, 4, 4, 4),
        max_channels: int = 256,
        input_scale: float = 3.0,
    ) -> None:
        super().__init__()
        self.hop = math.prod(strides)
        self.input_scale = input_scale
        layers: list[nn.Module] = [nn.Conv1d(1, hidden, 7, padding=3)]
        ch = hidden
        for stride in strides:
            out = min(max_channels, ch * 2)
            layers += [
                ResBlock1d(ch),
                nn.GELU(),
                nn.Conv1d(ch, out, 2 * stride, stride=stride, padding=stride // 2),
            ]
            ch = out
        layers += [ResBlock1d(ch), nn.GELU(), nn.Conv1d(ch, code_channels, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = wave.unsqueeze(1) if wave.dim() == 2 else wave
        pad = (-x.shape[-1]) % self.hop
        x = F.pad(x, (0, pad))
        z = self.net(x * self.input_scale)
        return z[..., : x.shape[-1] // self.hop]


class WaveDecoder(nn.Module):
    """Latents ``[B, L, T']`` -> waveform ``[B, num_samples]``."""

    def __init__(
        self,
        num_samples: int,
        hidden: int = 32,
        code_channels: int = 64,
        strides: tuple[int, ...] = (4, 4, 4, 4),
        max_channels: int = 256,
        input_scale: float = 3.0,
    ) -> None:
        super().__init__()
        self.num_samples = num_samples
        self.input_scale = input_scale
        widths = [hidden]
        for _ in strides:
            widths.append(min(max_channels, widths[-1] * 2))
        ch = widths[-1]
        layers: list[nn.Module] = [nn.Conv1d(code_channels, ch, 3, padding=1), ResBlock1d(ch)]
        for stride, out in zip(reversed(strides), reversed(widths[:-1])):
            layers += [
                nn.GELU(),
                nn.ConvTranspose1d(ch, out, 2 * stride, stride=stride, padding=stride // 2),
                ResBlock1d(out),
            ]
            ch = out
        layers += [nn.GELU(), nn.Conv1d(ch, 1, 7, padding=3)]
        self.net = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        wave = self.net(latent).squeeze(1) / self.input_scale
        if wave.shape[-1] >= self.num_samples:
            return wave[..., : self.num_samples]
        return F.pad(wave, (0, self.num_samples - wave.shape[-1]))


class MelReconstructionLoss(nn.Module):
    """L1 (default) or MSE between predicted and target log-mels."""

    def __init__(self, kind: str = "l1") -> None:
        super().__init__()
        if kind not in ("l1", "mse"):
            raise ValueError(f"mel loss must be l1 or mse, got {kind!r}")
        self.kind = kind

    def forward(self, pred: torch.Tensor, target: torch.Tensor):
        if self.kind == "l1":
            loss = F.l1_loss(pred, target)
        else:
            loss = F.mse_loss(pred, target)
        return loss, {}


class WaveReconstructionLoss(nn.Module):
    """Waveform L1 plus multi-resolution STFT loss (the metric, used as a loss).

    Resolutions longer than the clip are dropped, so tiny test clips work too.
    """

    def __init__(self, l1_weight: float = 1.0, stft_weight: float = 1.0, sample_rate: int = 16000) -> None:
        super().__init__()
        self.l1_weight = l1_weight
        self.stft_weight = stft_weight
        self.sample_rate = sample_rate

    def forward(self, pred: torch.Tensor, target: torch.Tensor):
        from anytime_audio.audio.metrics import default_stft_resolutions, multi_resolution_stft_distance

        length = target.shape[-1]
        resolutions = [r for r in default_stft_resolutions(self.sample_rate) if r[0] <= length // 2]
        resolutions = resolutions or [(2 ** int(math.log2(max(16, length // 2))), 2 ** int(math.log2(max(16, length // 2))) // 4, 2 ** int(math.log2(max(16, length // 2))))]
        l1 = F.l1_loss(pred, target)
        stft = multi_resolution_stft_distance(target.float(), pred.float(), self.sample_rate, resolutions).mean()
        return self.l1_weight * l1 + self.stft_weight * stft, {"wave_l1": float(l1.detach()), "stft": float(stft.detach())}
