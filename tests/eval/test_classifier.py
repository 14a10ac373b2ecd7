"""Classifiers learn tiny separable toys; scores have the documented shape."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from anytime_audio.audio.metrics import log_mel
from anytime_audio.eval.classifier import (
    AudioClassifier,
    ImageClassifier,
    classifier_scores,
    evaluate_classifier,
    inception_score,
    split_batch,
    train_classifier,
)

SR = 8000
N_MELS = 32


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # On a shared 2-core box, intra-op threads oversubscribe: tiny convs run ~100x slower.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _tones(n, seed):
    """Two classes: 300 Hz vs 1500 Hz tones, 0.25 s, random phase/amplitude, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    t = torch.arange(SR // 4) / SR
    freq = torch.where(y == 1, 1500.0, 300.0)[:, None]
    amp = 0.2 + 0.6 * torch.rand(n, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    wav = amp * torch.sin(2 * math.pi * freq * t + phase) + 0.05 * torch.randn(n, t.numel(), generator=g)
    return wav, y


class _LogMel(nn.Module):
    def forward(self, x):
        return log_mel(x, SR, n_fft=256, hop_length=64, n_mels=N_MELS)


def _loader(x, y, shuffle, seed=0):
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=shuffle, generator=torch.Generator().manual_seed(seed))


def test_audio_classifier_learns_two_tones():
    torch.manual_seed(0)
    frontend = _LogMel()
    wav, y = _tones(64, 0)
    wav_v, y_v = _tones(32, 1)
    model = AudioClassifier(n_classes=2, n_mels=N_MELS, channels=(16, 32), embed_dim=16)
    hist = train_classifier(
        model, _loader(frontend(wav), y, True), _loader(frontend(wav_v), y_v, False),
        epochs=4, lr=3e-3, progress=False,
    )
    assert hist["steps"] == 16 and len(hist["train_loss"]) == 16 and hist["epochs"] == 4
    assert hist["best_valid_accuracy"] >= 0.95
    assert sum(hist["train_loss"][-4:]) < sum(hist["train_loss"][:4])
    assert not model.training
    assert evaluate_classifier(model, _loader(frontend(wav_v), y_v, False))["accuracy"] >= 0.95

    # the same model fed waveforms through a frontend
    wrapped = AudioClassifier(n_classes=2, n_mels=N_MELS, channels=(16, 32), embed_dim=16, frontend=frontend)
    wrapped.load_state_dict(model.state_dict())
    wrapped.eval()
    with torch.no_grad():
        assert torch.allclose(wrapped(wav_v), model(frontend(wav_v)), atol=1e-5)
    scores = classifier_scores(wrapped, wav_v, labels=y_v, batch_size=10)
    assert scores["accuracy"] >= 0.95
    assert scores["features"].shape == (32, 16)
    assert 1.0 < scores["inception_score"] <= 2.0 + 1e-6  # in [1, n_classes]; near 1 while still unconfident
    with pytest.raises(ValueError, match="frontend"):
        model(wav_v)


def test_image_classifier_learns_stripes_with_step_budget():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 64
    y = torch.arange(n) % 2
    base = (torch.arange(16) % 4 < 2).float()
    horiz, vert = base[:, None].expand(16, 16), base[None, :].expand(16, 16)
    x = torch.where(y[:, None, None] == 1, vert, horiz).unsqueeze(1) + 0.3 * torch.randn(n, 1, 16, 16, generator=g)
    model = ImageClassifier(n_classes=2, in_channels=1, channels=(8, 16), embed_dim=16)
    hist = train_classifier(model, _loader(x, y, True), _loader(x[:32], y[:32], False), steps=20, lr=1e-2, progress=False)
    assert hist["steps"] == 20
    assert hist["best_valid_accuracy"] >= 0.95
    assert sum(hist["train_loss"][-3:]) < sum(hist["train_loss"][:3])
    scores = classifier_scores(model, x)
    assert math.isnan(scores["accuracy"])
    assert scores["probs"].shape == (n, 2) and scores["predictions"].shape == (n,)
    assert model.embed(x[:3]).shape == (3, 16)


def test_inception_score_bounds():
    assert inception_score(torch.full((10, 5), 0.2)) == pytest.approx(1.0)
    assert inception_score(torch.eye(5).repeat(2, 1)) == pytest.approx(5.0, rel=1e-6)


def test_split_batch_and_arguments():
    x, y = split_batch({"mel": torch.zeros(2, 3), "label": [0, 1]})
    assert x.shape == (2, 3) and y.tolist() == [0, 1]
    with pytest.raises(KeyError):
        split_batch({"label": [0]})
    with pytest.raises(ValueError):
        train_classifier(ImageClassifier(2), [], None)
    with pytest.raises(ValueError):
        AudioClassifier(n_classes=1)
