"""Small corpus classifiers that define the feature space for generation metrics.

No pretrained embedder (VGGish, Inception, ...) can be downloaded here, so,
as in the SC09 literature, we train a small classifier on the corpus labels
and use its penultimate layer as the embedding for the Fréchet distance
(:mod:`anytime_audio.scoring.frechet`) and its softmax for accuracy and the
Inception score.  Numbers are therefore only comparable between runs that
share the same classifier checkpoint.

* :class:`AudioClassifier` takes log-mel ``[B, n_mels, frames]``.  Give it a
  ``frontend`` module (e.g. ``anytime_audio.audio.features.LogMel``) to feed
  waveforms ``[B, T]`` directly; the frontend is applied to 2-D inputs
  only.  A registered frontend's buffers are part of the state dict, so
  build the model with the same frontend before loading a checkpoint.
* :class:`ImageClassifier` takes images ``[B, C, H, W]``.

Both expose ``embed(x) -> [B, embed_dim]``, ``forward(x) -> logits`` and
``training_loss(batch, step)``, so the project's one training loop
(:class:`anytime_audio.core.trainer.Trainer`) fits them like any other model.
:func:`classifier_accuracy` scores labelled batches; :func:`classifier_scores`
computes accuracy, Inception score and features for generated samples.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

logger = logging.getLogger(__name__)

__all__ = [
    "AudioClassifier",
    "ImageClassifier",
    "classifier_accuracy",
    "inception_score",
    "classifier_scores",
]


class _CrossEntropyTraining:
    """``training_loss`` for :class:`~anytime_audio.core.trainer.Trainer`: cross-entropy on ``(x, label)``."""

    def training_loss(self, batch, step: int = 0) -> tuple[Tensor, dict[str, float]]:
        x, y = batch
        logits = self(x)
        y = y.long()
        loss = F.cross_entropy(logits, y)
        return loss, {"loss": float(loss.detach()), "accuracy": float((logits.detach().argmax(-1) == y).float().mean())}


class AudioClassifier(_CrossEntropyTraining, nn.Module):
    """Conv1d classifier over log-mel ``[B, n_mels, frames]``.

    Input BatchNorm over mel bins (learned per-bin normalisation of the
    log-mel), then ``len(channels)`` blocks of Conv1d(k=3) + BatchNorm +
    GELU + MaxPool(2), global mean+max pooling over time, a Linear
    embedding of size ``embed_dim`` (the Fréchet feature) and a Linear head.
    """

    def __init__(
        self,
        n_classes: int,
        n_mels: int = 80,
        channels: Sequence[int] = (64, 128, 128),
        embed_dim: int = 128,
        dropout: float = 0.1,
        frontend: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.n_classes = n_classes
        self.n_mels = n_mels
        self.embed_dim = embed_dim
        self.frontend = frontend
        self.input_norm = nn.BatchNorm1d(n_mels)
        blocks: list[nn.Module] = []
        c_in = n_mels
        for c in channels:
            blocks += [nn.Conv1d(c_in, c, 3, padding=1), nn.BatchNorm1d(c), nn.GELU(), nn.MaxPool1d(2, ceil_mode=True)]
            c_in = c
        self.body = nn.Sequential(*blocks)
        self.embedding = nn.Sequential(nn.Linear(2 * c_in, embed_dim), nn.GELU())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embed_dim, n_classes)

    def features_in(self, x: Tensor) -> Tensor:
        """Apply the frontend to waveforms ``[B, T]``; pass log-mels through."""
        if x.dim() == 2:
            if self.frontend is None:
                raise ValueError("got [B, T] waveforms but the classifier has no frontend; pass log-mels [B, n_mels, frames]")
            x = self.frontend(x)
        if x.dim() != 3 or x.shape[1] != self.n_mels:
            raise ValueError(f"expected log-mel [B, {self.n_mels}, frames], got {tuple(x.shape)}")
        return x

    def embed(self, x: Tensor) -> Tensor:
        """Penultimate features ``[B, embed_dim]``."""
        h = self.body(self.input_norm(self.features_in(x)))
        h = torch.cat([h.mean(-1), h.amax(-1)], dim=1)
        return self.embedding(h)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[B, n_classes]``."""
        return self.head(self.dropout(self.embed(x)))


class ImageClassifier(_CrossEntropyTraining, nn.Module):
    """Conv2d classifier over images ``[B, C, H, W]``.

    ``len(channels)`` blocks of two 3x3 convs (BatchNorm, GELU) with a
    stride-2 first conv, global average pooling, a Linear embedding of size
    ``embed_dim`` and a Linear head.
    """

    def __init__(
        self,
        n_classes: int,
        in_channels: int = 1,
        channels: Sequence[int] = (32, 64, 128),
        embed_dim: int = 128,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.n_classes = n_classes
        self.in_channels = in_channels
        self.embed_dim = embed_dim
        blocks: list[nn.Module] = []
        c_in = in_channels
        for c in channels:
            blocks += [
                nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.GELU(),
                nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.GELU(),
            ]
            c_in = c
        self.body = nn.Sequential(*blocks)
        self.embedding = nn.Sequential(nn.Linear(c_in, embed_dim), nn.GELU())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embed_dim, n_classes)

    def embed(self, x: Tensor) -> Tensor:
        """Penultimate features ``[B, embed_dim]``."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected images [B, {self.in_channels}, H, W], got {tuple(x.shape)}")
        return self.embedding(self.body(x).mean(dim=(-2, -1)))

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[B, n_classes]``."""
        return self.head(self.dropout(self.embed(x)))


@torch.no_grad()
def classifier_accuracy(model: nn.Module, batches: Iterable, device: str | torch.device = "cpu") -> float:
    """Accuracy of ``model`` over ``(input, label)`` batches (eval mode; restores the mode)."""
    was_training = model.training
    model.eval()
    correct = total = 0
    try:
        for x, y in batches:
            predictions = model(x.to(device)).argmax(-1).cpu()
            correct += int((predictions == y.long()).sum())
            total += y.numel()
    finally:
        model.train(was_training)
    return correct / total if total else float("nan")


# --------------------------------------------------------------------------- scoring


def inception_score(probs: Tensor, eps: float = 1e-12) -> float:
    """``exp(E_x KL(p(y|x) || p(y)))`` over one split of ``probs [N, C]``.

    Ranges from 1 (every sample gets the same class distribution) to C
    (confident predictions spread evenly over all classes).
    """
    probs = probs.double().clamp_min(eps)
    marginal = probs.mean(0, keepdim=True)
    kl = (probs * (probs.log() - marginal.log())).sum(1).mean()
    return float(kl.exp())


@torch.no_grad()
def classifier_scores(
    model: nn.Module,
    x: Tensor,
    labels: Tensor | Sequence[int] | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
) -> dict[str, Any]:
    """Score generated samples ``x`` with a trained classifier.

    ``labels`` are the classes the samples were *requested* to have
    (class-conditional sampling); accuracy is NaN without them.  Returns
    ``{"accuracy": float, "inception_score": float, "features": Tensor [N, D]
    (CPU), "probs": Tensor [N, C] (CPU), "predictions": Tensor [N]}``.
    The model is run in eval mode (its mode is restored afterwards).
    """
    if device is None:
        device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    feats, probs = [], []
    try:
        for i in range(0, x.shape[0], batch_size):
            xb = x[i : i + batch_size].to(device)
            h = model.embed(xb)
            logits = model.head(h) if hasattr(model, "head") else model(xb)
            feats.append(h.float().cpu())
            probs.append(logits.float().softmax(-1).cpu())
    finally:
        model.train(was_training)
    if not feats:
        raise ValueError("no samples to score")
    features = torch.cat(feats)
    p = torch.cat(probs)
    preds = p.argmax(-1)
    if labels is None:
        acc = float("nan")
    else:
        y = torch.as_tensor(labels).long().flatten().cpu()
        if y.numel() != preds.numel():
            raise ValueError(f"{y.numel()} labels for {preds.numel()} samples")
        acc = float((preds == y).float().mean())
    return {
        "accuracy": acc,
        "inception_score": inception_score(p),
        "features": features,
        "probs": p,
        "predictions": preds,
    }
