"""Small corpus classifiers that define the feature space for generation metrics.

No pretrained embedder (VGGish, Inception, ...) can be downloaded here, so,
as in the SC09 literature, we train a small classifier on the corpus labels
and use its penultimate layer as the embedding for the Fréchet distance
(:mod:`anytime_audio.eval.frechet`) and its softmax for accuracy and the
Inception score.  Numbers are therefore only comparable between runs that
share the same classifier checkpoint.

* :class:`AudioClassifier` takes log-mel ``[B, n_mels, frames]``.  Give it a
  ``frontend`` module (e.g. ``anytime_audio.audio.features.LogMel``) to feed
  waveforms ``[B, T]`` directly; the frontend is applied to 2-D inputs
  only.  A registered frontend's buffers are part of the state dict, so
  build the model with the same frontend before loading a checkpoint.
* :class:`ImageClassifier` takes images ``[B, C, H, W]``.

Both expose ``embed(x) -> [B, embed_dim]`` and ``forward(x) -> logits``.
:func:`train_classifier` fits either one; :func:`classifier_scores`
computes accuracy, Inception score and features for a batch of samples.

Loaders yield ``(input, label)`` tuples/lists, or dicts with a ``"label"``
key and the input under one of ``"input"``, ``"x"``, ``"mel"``, ``"audio"``,
``"image"``.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

__all__ = [
    "AudioClassifier",
    "ImageClassifier",
    "split_batch",
    "train_classifier",
    "evaluate_classifier",
    "inception_score",
    "classifier_scores",
]

_INPUT_KEYS = ("input", "x", "mel", "audio", "image")


class AudioClassifier(nn.Module):
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


class ImageClassifier(nn.Module):
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


# --------------------------------------------------------------------------- training


def split_batch(batch: Any) -> tuple[Tensor, Tensor]:
    """``(input, label)`` from a tuple/list batch or a dict batch (see module doc)."""
    if isinstance(batch, dict):
        if "label" not in batch:
            raise KeyError(f"batch dict has no 'label' key (keys: {sorted(batch)})")
        for k in _INPUT_KEYS:
            if k in batch:
                return batch[k], torch.as_tensor(batch["label"])
        raise KeyError(f"batch dict has none of the input keys {_INPUT_KEYS} (keys: {sorted(batch)})")
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[0], torch.as_tensor(batch[1])
    raise TypeError(f"cannot split batch of type {type(batch).__name__} into (input, label)")


@torch.no_grad()
def evaluate_classifier(
    model: nn.Module,
    loader: Iterable,
    device: str | torch.device = "cpu",
    transform: Callable[[Tensor], Tensor] | None = None,
) -> dict[str, float]:
    """``{"accuracy", "loss"}`` of ``model`` over ``loader`` (eval mode; restores the mode)."""
    was_training = model.training
    model.eval()
    n = correct = 0
    loss_sum = 0.0
    try:
        for batch in loader:
            x, y = split_batch(batch)
            x, y = x.to(device), y.to(device).long()
            if transform is not None:
                x = transform(x)
            logits = model(x)
            loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(-1) == y).sum())
            n += y.numel()
    finally:
        model.train(was_training)
    if n == 0:
        return {"accuracy": float("nan"), "loss": float("nan")}
    return {"accuracy": correct / n, "loss": loss_sum / n}


def train_classifier(
    model: nn.Module,
    train_loader: Iterable,
    valid_loader: Iterable | None = None,
    *,
    epochs: int | None = None,
    steps: int | None = None,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    device: str | torch.device = "cpu",
    transform: Callable[[Tensor], Tensor] | None = None,
    keep_best: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Fit ``model`` with AdamW + cross-entropy (cosine-decayed learning rate).

    Give ``epochs`` (full passes) or ``steps`` (optimizer steps, cycling the
    loader); with both, training stops at whichever comes first.  ``transform``
    is applied to each input on ``device`` (e.g. a LogMel frontend kept
    outside the model).  After each epoch (or at the end in step mode) the
    model is scored on ``valid_loader``; with ``keep_best`` the weights with
    the best valid accuracy are restored at the end.  The model is left in
    eval mode.

    Returns ``{"train_loss": [per step], "train_accuracy": [per step],
    "valid_accuracy": [per evaluation], "valid_loss": [per evaluation],
    "best_valid_accuracy": float (NaN without a valid_loader),
    "steps": int, "epochs": float}``.
    """
    if epochs is None and steps is None:
        raise ValueError("give epochs or steps")
    try:
        steps_per_epoch = len(train_loader)  # type: ignore[arg-type]
    except TypeError:
        steps_per_epoch = None
    if steps is None:
        if steps_per_epoch is None:
            raise ValueError("epochs needs a train_loader with len(); give steps instead")
        total = epochs * steps_per_epoch
    else:
        total = steps if epochs is None or steps_per_epoch is None else min(steps, epochs * steps_per_epoch)
    if total <= 0:
        raise ValueError(f"nothing to train: {total} steps")

    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    history: dict[str, Any] = {"train_loss": [], "train_accuracy": [], "valid_accuracy": [], "valid_loss": []}
    best_acc, best_state = -1.0, None

    def run_valid() -> None:
        nonlocal best_acc, best_state
        if valid_loader is None:
            return
        res = evaluate_classifier(model, valid_loader, device, transform)
        history["valid_accuracy"].append(res["accuracy"])
        history["valid_loss"].append(res["loss"])
        logger.info("classifier step %d: valid accuracy %.4f loss %.4f", step, res["accuracy"], res["loss"])
        if keep_best and res["accuracy"] > best_acc:
            best_acc = res["accuracy"]
            best_state = copy.deepcopy(model.state_dict())

    step = 0
    model.train()
    bar = tqdm(total=total, desc="classifier", disable=not progress, leave=False)
    try:
        while step < total:
            seen_any = False
            for batch in train_loader:
                seen_any = True
                x, y = split_batch(batch)
                x, y = x.to(device), y.to(device).long()
                if transform is not None:
                    with torch.no_grad():
                        x = transform(x)
                logits = model(x)
                loss = F.cross_entropy(logits, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                acc = float((logits.detach().argmax(-1) == y).float().mean())
                history["train_loss"].append(float(loss.detach()))
                history["train_accuracy"].append(acc)
                bar.update(1)
                bar.set_postfix(loss=f"{history['train_loss'][-1]:.3f}", acc=f"{acc:.2f}")
                if step >= total:
                    break
            if not seen_any:
                raise ValueError("train_loader is empty")
            if steps_per_epoch is not None and step % steps_per_epoch == 0 and step < total:
                run_valid()
                model.train()
        run_valid()
    finally:
        bar.close()

    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history["best_valid_accuracy"] = max(history["valid_accuracy"]) if history["valid_accuracy"] else float("nan")
    history["steps"] = step
    history["epochs"] = step / steps_per_epoch if steps_per_epoch else float("nan")
    return history


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
