"""The ordered autoencoder: channel-wise codes ordered by importance.

``OrderedAutoencoder`` joins an encoder, a :class:`VectorQuantizer` and a
decoder handed in by a modality package (audio, image). During training it
draws a truncation length ``k`` per example, keeps codes ``1..k``, zeroes the
rest, decodes and reconstructs the *whole* input. Because early codes must
serve every ``k`` while late codes only serve large ``k``, the encoder learns to
put the coarse content first: the codes end up ordered like PCA components
(Xu et al., "Anytime Sampling for Autoregressive Models via Ordered
Autoencoding", ICLR 2021).

The paper trains in two steps, full codes first, then with truncation; here the
two are one run: ``pretrain_steps`` full-code steps followed by ordered steps.
``truncation="none"`` gives the unordered baseline: the same network trained on
full codes only.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from anytime_audio.core.quantizer import VectorQuantizer

TRUNCATIONS = ("uniform", "geometric", "none")


def sample_truncation(
    batch_size: int,
    length: int,
    kind: str = "uniform",
    geometric_p: float = 0.05,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    full_code_prob: float = 0.0,
) -> torch.Tensor:
    """Draw one truncation length ``k`` in ``1..length`` per example.

    ``uniform`` is the paper's choice. ``geometric`` puts more mass on short
    prefixes (``P(k) ~ (1-p)^(k-1)``, truncated at ``length``), which sharpens
    the first codes at some cost to the full-length reconstruction. ``none``
    always keeps all codes. ``full_code_prob`` mixes in a point mass at
    ``k = length``: under a uniform draw the last codes are trained only
    ``1/length`` of the time, and a little extra mass there closes most of the
    gap to an unordered model at full codes without disturbing the order.
    """
    if kind != "none" and full_code_prob > 0:
        k = sample_truncation(batch_size, length, kind, geometric_p, generator, "cpu")
        full = torch.rand(batch_size, generator=generator) < full_code_prob
        return torch.where(full, torch.full_like(k, length), k).to(device)
    if kind == "uniform":
        return torch.randint(1, length + 1, (batch_size,), generator=generator).to(device)
    if kind == "geometric":
        ks = torch.arange(1, length + 1, dtype=torch.float)
        weights = (1 - geometric_p) ** (ks - 1)
        draws = torch.multinomial(weights, batch_size, replacement=True, generator=generator)
        return (draws + 1).to(device)
    if kind == "none":
        return torch.full((batch_size,), length, dtype=torch.long, device=device)
    raise ValueError(f"truncation must be one of {TRUNCATIONS}, got {kind!r}")


def prefix_mask(k: torch.Tensor, length: int) -> torch.Tensor:
    """Boolean ``[B, length]`` mask, True for code positions ``< k`` (0-based)."""
    positions = torch.arange(length, device=k.device)
    return positions[None, :] < k[:, None]


class OrderedAutoencoder(nn.Module):
    """Encoder + quantizer + decoder with truncated-prefix training.

    Args:
        encoder: maps the model input ``x`` to ``[B, L, *spatial]``.
        quantizer: a :class:`VectorQuantizer` (``channel`` mode for ordered codes).
        decoder: maps ``[B, L, *spatial]`` back to the shape of ``x``.
        reconstruction_loss: ``f(x_hat, x) -> (loss, {name: float})``.
        input_shape: shape of one input without the batch dimension; used to
            find the latent shape once, so ``decode`` can work from codes alone.
        frontend: optional module turning a raw batch (e.g. waveforms) into the
            model input (e.g. log-mel); applied by :meth:`prepare`.
        truncation: ``uniform`` | ``geometric`` | ``none`` (unordered baseline).
        pretrain_steps: full-code steps before truncation starts.
        commitment: weight of the quantizer's commitment loss.
        full_code_prob: extra probability of training with all codes (see
            :func:`sample_truncation`).
    """

    def __init__(
        self,
        encoder: nn.Module,
        quantizer: VectorQuantizer,
        decoder: nn.Module,
        reconstruction_loss: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, dict]],
        input_shape: tuple[int, ...],
        frontend: nn.Module | None = None,
        truncation: str = "uniform",
        geometric_p: float = 0.05,
        pretrain_steps: int = 0,
        commitment: float = 0.25,
        full_code_prob: float = 0.0,
        augment: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
        self.encoder = encoder
        self.quantizer = quantizer
        self.decoder = decoder
        self.reconstruction_loss = reconstruction_loss
        self.frontend = frontend
        self.truncation = truncation
        self.geometric_p = geometric_p
        self.pretrain_steps = pretrain_steps
        self.commitment = commitment
        self.full_code_prob = full_code_prob
        self.augment = augment  # training-time input augmentation, called as augment(x, generator=...)
        self.input_shape = tuple(input_shape)
        with torch.no_grad():
            was_training = encoder.training
            encoder.eval()
            latent = encoder(torch.zeros(1, *self.input_shape))
            encoder.train(was_training)
        self.latent_shape = tuple(latent.shape[1:])

    # ------------------------------------------------------------ properties
    @property
    def code_length(self) -> int:
        """Number of codes per example (``L`` in channel mode)."""
        if self.quantizer.mode == "channel":
            return self.latent_shape[0]
        n = 1
        for s in self.latent_shape[1:]:
            n *= s
        return n

    @property
    def num_codes(self) -> int:
        return self.quantizer.num_codes

    # --------------------------------------------------------------- helpers
    def prepare(self, raw) -> torch.Tensor:
        """Raw batch -> model input (identity without a frontend).

        ``raw`` may be a tensor or a dataset batch ``(inputs, labels)``.
        """
        if isinstance(raw, (tuple, list)):
            raw = raw[0]
        if self.frontend is None:
            return raw
        with torch.no_grad():
            return self.frontend(raw)

    def _mask_latent(self, quantized: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Zero the quantized vectors of codes at positions ``>= k``."""
        mask = prefix_mask(k, self.code_length).to(quantized.dtype)
        if self.quantizer.mode == "channel":
            shape = (mask.shape[0], mask.shape[1]) + (1,) * (quantized.dim() - 2)
            return quantized * mask.reshape(shape)
        shape = (mask.shape[0], 1) + tuple(quantized.shape[2:])
        return quantized * mask.reshape(shape)

    def _as_k(self, k: int | float | torch.Tensor | None, batch: int, device) -> torch.Tensor:
        length = self.code_length
        if k is None:
            k = length
        if isinstance(k, torch.Tensor):
            k_t = k.to(device=device, dtype=torch.long).reshape(-1)
            if k_t.numel() == 1:
                k_t = k_t.expand(batch)
        else:
            if isinstance(k, float) and not float(k).is_integer():
                raise ValueError(f"k must be a whole number of codes, got {k}")
            k_t = torch.full((batch,), int(k), dtype=torch.long, device=device)
        if int(k_t.min()) < 1 or int(k_t.max()) > length:
            raise ValueError(f"k must lie in 1..{length}, got {k_t.tolist()[:8]}")
        return k_t

    # ------------------------------------------------------------ public API
    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Model input ``x`` -> integer codes ``[B, L]``."""
        return self.quantizer(self.encoder(x)).codes

    def decode(self, codes: torch.Tensor, k: int | torch.Tensor | None = None) -> torch.Tensor:
        """Decode the first ``k`` codes; codes at positions ``>= k`` are never read."""
        k_t = self._as_k(k, codes.shape[0], codes.device)
        keep = prefix_mask(k_t, self.code_length)
        safe_codes = torch.where(keep, codes, torch.zeros_like(codes))
        latent = self.quantizer.dequantize(safe_codes, (codes.shape[0],) + self.latent_shape)
        return self.decoder(self._mask_latent(latent, k_t))

    def forward(self, x: torch.Tensor, k: torch.Tensor | None = None):
        z = self.encoder(x)
        out = self.quantizer(z)
        k_t = self._as_k(k, x.shape[0], x.device)
        x_hat = self.decoder(self._mask_latent(out.quantized, k_t))
        return x_hat, out, z

    def training_loss(self, raw: torch.Tensor, step: int = 0, generator=None):
        """One training objective evaluation: reconstruction + commitment.

        Returns ``(loss, stats)``; stats include codebook usage and the spread of
        encoder outputs, the two early signs of codebook collapse.
        """
        x = self.prepare(raw)
        if self.augment is not None and self.training:
            with torch.no_grad():
                x = self.augment(x, generator=generator)
        kind = "none" if step < self.pretrain_steps else self.truncation
        k = sample_truncation(
            x.shape[0], self.code_length, kind, self.geometric_p, generator, x.device, self.full_code_prob
        )
        x_hat, out, z = self(x, k)
        recon, recon_stats = self.reconstruction_loss(x_hat, x)
        loss = recon + self.commitment * out.commitment_loss
        stats = {
            "loss": float(loss.detach()),
            "recon": float(recon.detach()),
            "commit": float(out.commitment_loss.detach()),
            "usage": out.usage,
            "perplexity": out.perplexity,
            "z_std": float(z.detach().float().std()),
            **recon_stats,
        }
        return loss, stats

    @torch.no_grad()
    def validation_errors(
        self, raw: torch.Tensor, fractions=(0.125, 0.25, 0.5, 1.0)
    ) -> dict[str, float]:
        """Mean squared reconstruction error at each code fraction (the ordering curve)."""
        x = self.prepare(raw)
        out = self.quantizer(self.encoder(x))
        errors = {}
        for fraction in fractions:
            k = max(1, round(fraction * self.code_length))
            k_t = torch.full((x.shape[0],), k, dtype=torch.long, device=x.device)
            x_hat = self.decoder(self._mask_latent(out.quantized, k_t))
            errors[f"mse@{fraction:g}"] = float((x_hat - x).pow(2).mean())
        return errors
