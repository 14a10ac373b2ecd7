"""Vector quantizers for ordered (channel-wise) and unordered (spatial-wise) codes.

The encoder of an ordered autoencoder outputs ``z`` of shape ``[B, L, *spatial]``.

* ``mode="channel"`` (the ordered VQ-VAE): each of the ``L`` channels, flattened
  to a vector of size ``S = prod(spatial)``, is one code, so a clip becomes ``L``
  codes and truncating the sequence removes whole channels. The codebook is
  ``K x S`` and shared by all channels.
* ``mode="spatial"`` (the classic VQ-VAE, kept as the unordered baseline): each
  spatial position's ``L``-dimensional vector is one code, so a clip becomes
  ``prod(spatial)`` codes.

The codebook is learnt with exponential moving averages (van den Oord et al.,
2017; Razavi et al., 2019) rather than by gradient, which is more stable with the
small batches used on CPU. Codes that fall out of use ("dead codes") are revived
by re-seeding them from random encoder outputs of the current batch, and their
EMA statistics are reset with them so that stale averages cannot pull them back.
The codebook is initialised from the first training batch (data-dependent init),
which avoids most dead codes from the start.

All quantizer arithmetic runs in float32 even under autocast: distances between
large vectors in half precision pick wrong codes, and the EMA sums lose mass.
When ``torch.distributed`` is initialised, EMA statistics and the init batch are
all-reduced so every process keeps an identical codebook.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


@dataclass
class QuantizerOutput:
    """What a quantizer returns for one batch.

    Attributes:
        quantized: codebook vectors in the encoder's layout ``[B, L, *spatial]``,
            with a straight-through gradient to the encoder output.
        codes: integer codes, ``[B, L]`` (channel mode) or ``[B, prod(spatial)]``.
        commitment_loss: ``||z - sg(e)||^2`` averaged over elements.
        usage: fraction of codebook entries used in this batch (collapse monitor).
        perplexity: exp(entropy) of the batch code histogram.
    """

    quantized: torch.Tensor
    codes: torch.Tensor
    commitment_loss: torch.Tensor
    usage: float
    perplexity: float


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class VectorQuantizer(nn.Module):
    """EMA vector quantizer with dead-code revival and data-dependent init.

    Args:
        num_codes: codebook size ``K``.
        code_dim: size of one code vector: ``S = prod(spatial)`` in channel mode,
            the channel count ``L`` in spatial mode.
        mode: ``"channel"`` (ordered codes) or ``"spatial"`` (unordered baseline).
        decay: EMA decay of the codebook statistics.
        commitment: weight of the commitment loss (returned unweighted; the
            autoencoder applies the weight so it shows in the logs).
        revive_threshold: a code whose EMA usage falls below this fraction of the
            average usage is re-seeded from the batch. 0 disables revival.
        eps: Laplace smoothing of the cluster sizes.
    """

    def __init__(
        self,
        num_codes: int,
        code_dim: int,
        mode: str = "channel",
        decay: float = 0.99,
        commitment: float = 0.25,
        revive_threshold: float = 0.03,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if mode not in ("channel", "spatial"):
            raise ValueError(f"quantizer mode must be 'channel' or 'spatial', got {mode!r}")
        if num_codes < 2 or code_dim < 1:
            raise ValueError(f"need num_codes >= 2 and code_dim >= 1, got {num_codes}, {code_dim}")
        self.num_codes = num_codes
        self.code_dim = code_dim
        self.mode = mode
        self.decay = decay
        self.commitment = commitment
        self.revive_threshold = revive_threshold
        self.eps = eps
        self.register_buffer("codebook", torch.randn(num_codes, code_dim) / math.sqrt(code_dim))
        self.register_buffer("ema_count", torch.ones(num_codes))
        self.register_buffer("ema_sum", self.codebook.clone())
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    # ------------------------------------------------------------------ layout
    def _to_vectors(self, z: torch.Tensor) -> torch.Tensor:
        """``[B, L, *spatial]`` -> ``[B, N, D]`` vectors to quantize."""
        b, l = z.shape[:2]
        if self.mode == "channel":
            vectors = z.reshape(b, l, -1)
        else:
            vectors = z.reshape(b, l, -1).transpose(1, 2)
        if vectors.shape[-1] != self.code_dim:
            raise ValueError(
                f"{self.mode}-wise quantizer expects code vectors of size {self.code_dim}, "
                f"got {vectors.shape[-1]} from encoder output {tuple(z.shape)}"
            )
        return vectors

    def _from_vectors(self, vectors: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        if self.mode == "channel":
            return vectors.reshape(shape)
        return vectors.transpose(1, 2).reshape(shape)

    # --------------------------------------------------------------- codebook
    def nearest(self, vectors: torch.Tensor) -> torch.Tensor:
        """Index of the nearest codebook vector (squared L2) for ``[..., D]`` inputs."""
        flat = vectors.reshape(-1, self.code_dim).float()
        book = self.codebook.float()
        distances = (
            flat.pow(2).sum(1, keepdim=True) - 2 * flat @ book.t() + book.pow(2).sum(1)[None, :]
        )
        return distances.argmin(dim=1).reshape(vectors.shape[:-1])

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Codebook vectors for integer codes ``[B, N]`` -> ``[B, N, D]``."""
        if codes.min() < 0 or codes.max() >= self.num_codes:
            raise ValueError(f"codes must lie in [0, {self.num_codes}), got [{codes.min()}, {codes.max()}]")
        return F.embedding(codes, self.codebook)

    @torch.no_grad()
    def _init_from_data(self, flat: torch.Tensor) -> None:
        """Seed the codebook with random encoder outputs (all ranks agree)."""
        n = flat.shape[0]
        index = torch.randint(0, n, (self.num_codes,), device=flat.device)
        if n >= self.num_codes:
            index = torch.randperm(n, device=flat.device)[: self.num_codes]
        init = flat[index] + 1e-3 * flat.std() * torch.randn_like(flat[index])
        if _distributed():
            dist.broadcast(init, src=0)
        self.codebook.copy_(init)
        self.ema_sum.copy_(init)
        self.ema_count.fill_(1.0)
        self.initialized.fill_(True)

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, codes: torch.Tensor) -> None:
        onehot = F.one_hot(codes, self.num_codes).type(flat.dtype)
        count = onehot.sum(0)
        total = onehot.t() @ flat
        if _distributed():
            dist.all_reduce(count)
            dist.all_reduce(total)
        self.ema_count.mul_(self.decay).add_(count, alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(total, alpha=1 - self.decay)
        n = self.ema_count.sum()
        smoothed = (self.ema_count + self.eps) / (n + self.num_codes * self.eps) * n
        self.codebook.copy_(self.ema_sum / smoothed[:, None])
        if self.revive_threshold > 0:
            self._revive(flat)

    @torch.no_grad()
    def _revive(self, flat: torch.Tensor) -> None:
        """Re-seed codes used far less than average; reset their EMA statistics."""
        mean_usage = self.ema_count.mean()
        dead = self.ema_count < self.revive_threshold * mean_usage
        n_dead = int(dead.sum())
        if n_dead == 0:
            return
        index = torch.randint(0, flat.shape[0], (n_dead,), device=flat.device)
        fresh = flat[index]
        if _distributed():
            dist.broadcast(fresh, src=0)
        self.codebook[dead] = fresh
        self.ema_sum[dead] = fresh
        self.ema_count[dead] = 1.0

    # ----------------------------------------------------------------- forward
    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        with torch.autocast(device_type=z.device.type, enabled=False):
            z32 = z.float()
            vectors = self._to_vectors(z32)
            flat = vectors.reshape(-1, self.code_dim)
            if self.training and not bool(self.initialized):
                self._init_from_data(flat.detach())
            codes = self.nearest(vectors)
            if self.training:
                self._ema_update(flat.detach(), codes.reshape(-1))
            quantized_vectors = F.embedding(codes, self.codebook)
            commitment_loss = F.mse_loss(vectors, quantized_vectors.detach())
            straight_through = vectors + (quantized_vectors - vectors).detach()
            quantized = self._from_vectors(straight_through, z.shape)
            with torch.no_grad():
                histogram = torch.bincount(codes.reshape(-1), minlength=self.num_codes).float()
                probs = histogram / histogram.sum()
                usage = float((histogram > 0).float().mean())
                perplexity = float(torch.exp(-(probs * torch.log(probs + 1e-10)).sum()))
        return QuantizerOutput(quantized, codes, commitment_loss, usage, perplexity)

    def dequantize(self, codes: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        """Codes ``[B, N]`` back to the encoder layout ``shape = (B, L, *spatial)``."""
        return self._from_vectors(self.lookup(codes), torch.Size(shape))
