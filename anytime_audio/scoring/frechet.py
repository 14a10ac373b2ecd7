"""Fréchet distance between two sets of feature vectors (FID / FAD style).

    FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2})

where ``mu`` and ``S`` are the mean and (unbiased, N-1) covariance of the
features.  The embedder is pluggable: anything mapping a batch to ``[B, D]``
features (here usually :meth:`anytime_audio.scoring.classifier.AudioClassifier.embed`,
since no pretrained embedder can be downloaded; the SC09 practice).

Numerics.  Everything is computed in float64.  ``Tr((S_a S_b)^{1/2})`` is
obtained from the eigenvalues of the symmetric PSD matrix
``S_a^{1/2} S_b S_a^{1/2}`` (same spectrum as ``S_a S_b``), which avoids the
complex-valued output and instability of a general ``sqrtm``; ``eps`` is
added to both covariance diagonals first, so singular covariances (N <= D,
constant features) stay well defined.  The result is clamped at 0.

Bias.  The plug-in estimate is biased upwards for small N (roughly by
O(D / N)) and the bias depends on N, so only compare distances computed
with the same number of samples (and the same embedder); with N of a few
hundred and D = 128 expect a noticeable positive floor even between two
samples of the same distribution.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

logger = logging.getLogger(__name__)

__all__ = ["FeatureStats", "frechet_distance", "frechet_distance_from_stats", "embed_stats"]


def _to_2d_float64(x: Tensor | np.ndarray, name: str = "features") -> Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x.detach())
    t = t.to(device="cpu", dtype=torch.float64)
    if t.dim() == 1:
        t = t.unsqueeze(1)
    if t.dim() != 2:
        raise ValueError(f"{name} must be [N, D], got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contain NaN or inf")
    return t


@dataclass
class FeatureStats:
    """Running first and second moments of ``[N, D]`` features (float64, CPU).

    ``update`` with batches, ``merge`` statistics from several workers or
    shards, then read ``mean`` / ``cov``.  Memory is O(D^2), independent of N.
    """

    dim: int | None = None
    n: int = 0
    sum: Tensor | None = field(default=None, repr=False)
    sum_outer: Tensor | None = field(default=None, repr=False)

    def update(self, feats: Tensor | np.ndarray) -> "FeatureStats":
        """Accumulate a batch ``[B, D]``; returns self."""
        x = _to_2d_float64(feats)
        if self.dim is None:
            self.dim = x.shape[1]
            self.sum = torch.zeros(self.dim, dtype=torch.float64)
            self.sum_outer = torch.zeros(self.dim, self.dim, dtype=torch.float64)
        elif x.shape[1] != self.dim:
            raise ValueError(f"feature dim {x.shape[1]} != accumulated dim {self.dim}")
        self.n += x.shape[0]
        self.sum += x.sum(0)
        self.sum_outer += x.T @ x
        return self

    def merge(self, other: "FeatureStats") -> "FeatureStats":
        """A new FeatureStats holding the union of both sets."""
        if self.n == 0:
            return other.copy()
        if other.n == 0:
            return self.copy()
        if self.dim != other.dim:
            raise ValueError(f"cannot merge stats of dims {self.dim} and {other.dim}")
        return FeatureStats(self.dim, self.n + other.n, self.sum + other.sum, self.sum_outer + other.sum_outer)

    def copy(self) -> "FeatureStats":
        return FeatureStats(
            self.dim,
            self.n,
            None if self.sum is None else self.sum.clone(),
            None if self.sum_outer is None else self.sum_outer.clone(),
        )

    @classmethod
    def from_features(cls, feats: Tensor | np.ndarray) -> "FeatureStats":
        return cls().update(feats)

    @property
    def mean(self) -> Tensor:
        if self.n == 0:
            raise ValueError("no features accumulated")
        return self.sum / self.n

    @property
    def cov(self) -> Tensor:
        """Unbiased covariance ``[D, D]`` (needs N >= 2)."""
        if self.n < 2:
            raise ValueError(f"covariance needs at least 2 feature vectors, have {self.n}")
        mu = self.mean
        c = (self.sum_outer - self.n * torch.outer(mu, mu)) / (self.n - 1)
        return 0.5 * (c + c.T)

    def state_dict(self) -> dict:
        """Plain tensors, e.g. for safetensors / caching reference statistics."""
        return {"n": torch.tensor(self.n), "sum": self.sum, "sum_outer": self.sum_outer}

    @classmethod
    def from_state_dict(cls, state: dict) -> "FeatureStats":
        s = state["sum"].to(torch.float64)
        return cls(s.shape[0], int(state["n"]), s, state["sum_outer"].to(torch.float64))


def _sqrt_psd(m: Tensor) -> Tensor:
    vals, vecs = torch.linalg.eigh(m)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def _frechet(mu_a: Tensor, cov_a: Tensor, mu_b: Tensor, cov_b: Tensor, eps: float) -> float:
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"feature dims differ: {tuple(mu_a.shape)} vs {tuple(mu_b.shape)}")
    eye = torch.eye(cov_a.shape[0], dtype=torch.float64)
    cov_a = cov_a + eps * eye
    cov_b = cov_b + eps * eye
    sa = _sqrt_psd(cov_a)
    inner = sa @ cov_b @ sa
    inner = 0.5 * (inner + inner.T)
    tr_sqrt = torch.linalg.eigvalsh(inner).clamp_min(0).sqrt().sum()
    diff = mu_a - mu_b
    fd = diff.dot(diff) + torch.trace(cov_a) + torch.trace(cov_b) - 2.0 * tr_sqrt
    return max(float(fd), 0.0)


def frechet_distance_from_stats(a: FeatureStats, b: FeatureStats, eps: float = 1e-6) -> float:
    """Fréchet distance between two accumulated feature sets."""
    return _frechet(a.mean, a.cov, b.mean, b.cov, eps)


def frechet_distance(
    feats_a: Tensor | np.ndarray, feats_b: Tensor | np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between feature sets ``[N_a, D]`` and ``[N_b, D]`` (each N >= 2).

    ``eps`` is added to both covariance diagonals for stability.  Biased
    upwards for small N; compare only numbers computed with equal N.
    """
    return frechet_distance_from_stats(
        FeatureStats.from_features(feats_a), FeatureStats.from_features(feats_b), eps
    )


@torch.no_grad()
def embed_stats(
    embedder: Callable[[Tensor], Tensor],
    batches: Iterable[Tensor],
    device: str | torch.device = "cpu",
    stats: FeatureStats | None = None,
) -> FeatureStats:
    """Run ``embedder`` over ``batches`` (tensors, or tuples whose first item is the input)
    and accumulate the features into ``stats`` (a new one if None)."""
    stats = FeatureStats() if stats is None else stats
    for batch in batches:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        feats = embedder(x.to(device))
        stats.update(feats.flatten(1))
    return stats
