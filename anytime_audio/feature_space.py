"""The evaluation classifier and the feature space it defines.

Generation metrics (Fréchet distance, accuracy, Inception score) are measured
in the embedding of a small classifier trained on the corpus labels
(:mod:`anytime_audio.scoring.classifier`). For audio that classifier reads
log-mels computed by **the model's own front-end** (sample rate, ``n_fft``,
hop, mel bins), so that a mel model's decoder output can be scored directly
and a model with another front-end is never scored in a foreign space. The
front-end description is stored in the classifier's checkpoint; loading it
for a model with a different front-end raises an error that says so.

Waveform models have no mel front-end of their own; their classifier uses
the log-mel in ``eval.classifier.log_mel`` at the data's sample rate.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from omegaconf import DictConfig

from anytime_audio.builders import build_dataset
from anytime_audio.core.atomic import atomic_write_json
from anytime_audio.core.checkpoint import load_checkpoint
from anytime_audio.core.trainer import Trainer, TrainConfig, iterate_batches
from anytime_audio.scoring.classifier import AudioClassifier, ImageClassifier, classifier_accuracy

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
ACCURACY = "accuracy.json"


def feature_config(cfg: DictConfig) -> dict:
    """What the classifier reads, from the model's front-end (see the module docstring)."""
    data, model = cfg.data, cfg.model
    if str(data.modality) == "image":
        return {"kind": "pixels", "channels": int(data.channels), "image_size": int(data.image_size)}
    if str(model.family) == "mel":
        source = model
    else:
        source = cfg.eval.classifier.log_mel
    return {"kind": "log_mel", "sample_rate": int(data.sample_rate), "n_fft": int(source.n_fft),
            "hop_length": int(source.hop_length), "n_mels": int(source.n_mels)}


def build_classifier(features: dict, num_classes: int) -> torch.nn.Module:
    """A classifier for ``features`` (:func:`feature_config`); audio ones take waveforms or log-mels."""
    if features["kind"] == "pixels":
        return ImageClassifier(num_classes, in_channels=int(features["channels"]))
    from anytime_audio.audio.features import LogMel

    frontend = LogMel(features["sample_rate"], features["n_fft"], features["hop_length"], features["n_mels"])
    return AudioClassifier(num_classes, n_mels=features["n_mels"], frontend=frontend)


def _valid_accuracy(model, batch) -> dict[str, float]:
    x, y = batch
    return {"accuracy": float((model(x).argmax(-1) == y.long()).float().mean())}


def fit_classifier(cfg: DictConfig, out_dir: Path, train_cfg: TrainConfig) -> float | None:
    """Train the evaluation classifier with the core Trainer (resumable); returns valid accuracy.

    Returns None (with a warning) for data sets without class labels.
    """
    num_classes = int(cfg.data.get("num_classes", 0) or 0)
    if num_classes < 2:
        log.warning("data set %s has no class labels; generation metrics will be skipped", cfg.data.name)
        return None
    features = feature_config(cfg)
    torch.manual_seed(train_cfg.seed)
    model = build_classifier(features, num_classes)
    train_set = build_dataset(cfg.data, "train", train=True)
    valid_set = build_dataset(cfg.data, "valid")
    extra = {"num_classes": num_classes, "features": features}
    trainer = Trainer(model, train_set, out_dir, train_cfg, valid_set, _valid_accuracy, extra_state=extra)
    trainer.fit()
    accuracy = classifier_accuracy(model, iterate_batches(valid_set, train_cfg.batch_size), trainer.device)
    atomic_write_json(out_dir / ACCURACY, {"valid_accuracy": accuracy, "steps": trainer.step})
    log.info("classifier valid accuracy %.3f -> %s", accuracy, out_dir / CHECKPOINT)
    return accuracy


def load_classifier(cfg: DictConfig, out_dir: Path, device: torch.device):
    """``(classifier, valid accuracy)`` from ``out_dir``, or None when it is not trained.

    Raises ValueError when the classifier's feature space is not the model's.
    """
    path = out_dir / CHECKPOINT
    if not path.is_file():
        return None
    state = load_checkpoint(path)
    expected = feature_config(cfg)
    stored = state.get("features")
    if stored != expected:
        raise ValueError(
            f"{path} was trained on features {stored} but this model's front-end is {expected}; "
            f"delete {out_dir} and run `anytime-audio train-classifier` again")
    model = build_classifier(stored, int(state["num_classes"]))
    model.load_state_dict(state["model"])
    accuracy_path = out_dir / ACCURACY
    accuracy = json.loads(accuracy_path.read_text())["valid_accuracy"] if accuracy_path.is_file() else None
    return model.to(device).eval(), accuracy
