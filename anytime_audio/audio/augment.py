"""Training-time augmentation of log-mel inputs: more voices than the corpus holds.

A speech corpus has a few hundred voices; the voices a user brings differ from
all of them in vocal-tract length (formant positions) more than in anything
else. :class:`MelFrequencyWarp` stretches or squeezes each training example's
mel axis by its own random factor, moving every formant by up to ``max_warp``
of its position, the vocal-tract-length perturbation of Jaitly & Hinton
(2013) applied to the log-mel directly. Input and target are the same warped
spectrogram (an autoencoder reconstructs what it is given), so the model
simply sees a wider range of voices; validation and encoding never warp.
"""

from __future__ import annotations

import torch
from torch import nn


class MelFrequencyWarp(nn.Module):
    """Log-mel ``[B, n_mels, T]`` -> the same with each example's mel axis warped by a factor
    drawn uniformly from ``[1 - max_warp, 1 + max_warp]`` (linear interpolation; bins read from
    beyond the top edge repeat the top bin)."""

    def __init__(self, max_warp: float = 0.1) -> None:
        super().__init__()
        if not 0.0 <= max_warp < 1.0:
            raise ValueError(f"model.freq_warp must lie in [0, 1), got {max_warp}")
        self.max_warp = float(max_warp)

    def forward(self, mel: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.max_warp == 0.0:
            return mel
        batch, n_mels = mel.shape[0], mel.shape[1]
        u = torch.rand(batch, generator=generator, device="cpu" if generator is None else generator.device)
        factor = (1.0 + self.max_warp * (2.0 * u - 1.0)).to(mel.device, mel.dtype)
        # output bin i reads input position i / factor: factor > 1 moves formants up
        pos = (torch.arange(n_mels, device=mel.device, dtype=mel.dtype)[None, :] / factor[:, None])
        pos = pos.clamp(0, n_mels - 1)
        lo = pos.floor().long()
        hi = (lo + 1).clamp(max=n_mels - 1)
        frac = (pos - lo.to(mel.dtype))[:, :, None]
        index_lo = lo[:, :, None].expand(-1, -1, mel.shape[2])
        index_hi = hi[:, :, None].expand(-1, -1, mel.shape[2])
        return torch.gather(mel, 1, index_lo) * (1 - frac) + torch.gather(mel, 1, index_hi) * frac
