"""Conv2d encoder and decoder for images on the same ordered core.

Images ``[B, C, H, W]`` (values in [-1, 1]) map to latents ``[B, L, H/s, W/s]``;
channel-wise quantization makes each of the ``L`` feature maps one code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ResBlock2d(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.GroupNorm(1, channels), nn.GELU(), nn.Conv2d(channels, channels, 3, padding=1),
            nn.GroupNorm(1, channels), nn.GELU(), nn.Conv2d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ImageEncoder(nn.Module):
    """``[B, C, H, W]`` -> ``[B, L, H / 2^downsample, W / 2^downsample]``."""

    def __init__(self, in_channels: int = 1, hidden: int = 64, code_channels: int = 32,
                 downsample: int = 1, depth: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, hidden, 3, padding=1)]
        for _ in range(downsample):
            layers += [ResBlock2d(hidden), nn.GELU(), nn.Conv2d(hidden, hidden, 4, stride=2, padding=1)]
        layers += [ResBlock2d(hidden) for _ in range(depth)]
        layers += [nn.GroupNorm(1, hidden), nn.GELU(), nn.Conv2d(hidden, code_channels, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ImageDecoder(nn.Module):
    """``[B, L, h, w]`` -> ``[B, C, h * 2^upsample, w * 2^upsample]`` in [-1, 1]."""

    def __init__(self, out_channels: int = 1, hidden: int = 64, code_channels: int = 32,
                 upsample: int = 1, depth: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(code_channels, hidden, 3, padding=1)]
        layers += [ResBlock2d(hidden) for _ in range(depth)]
        for _ in range(upsample):
            layers += [nn.GELU(), nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1), ResBlock2d(hidden)]
        layers += [nn.GroupNorm(1, hidden), nn.GELU(), nn.Conv2d(hidden, out_channels, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(latent))


class ImageReconstructionLoss(nn.Module):
    """Mean squared error on [-1, 1] pixels."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor):
        return F.mse_loss(pred, target), {}
