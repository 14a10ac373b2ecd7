"""Classifiers learn tiny separable toys; scores have the documented shape."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from anytime_audio.audio.metrics import log_mel
from anytime_audio.core.trainer import Trainer, TrainConfig, iterate_batches
from anytime_audio.scoring.classifier import (
    AudioClassifier,
    ImageClassifier,
    classifier_accuracy,
    classifier_scores,
    inception_score,
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


def _fit(model, x, y, out_dir, steps, lr):
    """Train with the project's one training loop; returns the logged train losses."""
    config = TrainConfig(steps=steps, batch_size=16, lr=lr, log_every=1, valid_every=10**6,
                         checkpoint_every=10**6, device="cpu", progress=False, seed=0)
    Trainer(model, TensorDataset(x, y), out_dir, config).fit()
    rows = (out_dir / "metrics.csv").read_text().splitlines()
    return [float(r.split(",")[3]) for r in rows if ",train,loss," in r]


def test_audio_classifier_learns_two_tones(tmp_path):
    torch.manual_seed(0)
    frontend = _LogMel()
    wav, y = _tones(64, 0)
    wav_v, y_v = _tones(32, 1)
    model = AudioClassifier(n_classes=2, n_mels=N_MELS, channels=(16, 32), embed_dim=16)
    losses = _fit(model, frontend(wav), y, tmp_path, steps=16, lr=3e-3)
    assert len(losses) == 16
    assert sum(losses[-4:]) < sum(losses[:4])
    valid = TensorDataset(frontend(wav_v), y_v)
    assert classifier_accuracy(model, iterate_batches(valid, 16)) >= 0.95

    # the same model fed waveforms through a frontend
    wrapped = AudioClassifier(n_classes=2, n_mels=N_MELS, channels=(16, 32), embed_dim=16, frontend=frontend)
    wrapped.load_state_dict(model.state_dict())
    wrapped.eval()
    model.eval()
    with torch.no_grad():
        assert torch.allclose(wrapped(wav_v), model(frontend(wav_v)), atol=1e-5)
    scores = classifier_scores(wrapped, wav_v, labels=y_v, batch_size=10)
    assert scores["accuracy"] >= 0.95
    assert scores["features"].shape == (32, 16)
    assert 1.0 < scores["inception_score"] <= 2.0 + 1e-6  # in [1, n_classes]; near 1 while still unconfident
    with pytest.raises(ValueError, match="frontend"):
        model(wav_v)


def test_image_classifier_learns_stripes(tmp_path):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 64
    y = torch.arange(n) % 2
    base = (torch.arange(16) % 4 < 2).float()
    horiz, vert = base[:, None].expand(16, 16), base[None, :].expand(16, 16)
    x = torch.where(y[:, None, None] == 1, vert, horiz).unsqueeze(1) + 0.3 * torch.randn(n, 1, 16, 16, generator=g)
    model = ImageClassifier(n_classes=2, in_channels=1, channels=(8, 16), embed_dim=16)
    losses = _fit(model, x, y, tmp_path, steps=20, lr=1e-2)
    assert len(losses) == 20
    assert classifier_accuracy(model, iterate_batches(TensorDataset(x[:32], y[:32]), 16)) >= 0.95
    assert sum(losses[-3:]) < sum(losses[:3])
    scores = classifier_scores(model, x)
    assert math.isnan(scores["accuracy"])
    assert scores["probs"].shape == (n, 2) and scores["predictions"].shape == (n,)
    assert model.embed(x[:3]).shape == (3, 16)


def test_inception_score_bounds():
    assert inception_score(torch.full((10, 5), 0.2)) == pytest.approx(1.0)
    assert inception_score(torch.eye(5).repeat(2, 1)) == pytest.approx(5.0, rel=1e-6)


def test_classifier_arguments():
    with pytest.raises(ValueError):
        AudioClassifier(n_classes=1)
    with pytest.raises(ValueError, match="images"):
        ImageClassifier(2).embed(torch.zeros(2, 3, 8, 8))
