"""Mel frequency warping (vocal-tract-length perturbation) for training on more voices than the corpus has."""

from __future__ import annotations

import torch

from anytime_audio.audio.augment import MelFrequencyWarp
from anytime_audio.builders import build_autoencoder
from anytime_audio.options import compose


def _formant(n_mels=80, frames=5, centre=30):
    bins = torch.arange(n_mels, dtype=torch.float32)
    peak = torch.exp(-0.5 * ((bins - centre) / 2.0) ** 2)
    return (torch.log(peak + 1e-5)).reshape(1, n_mels, 1).expand(1, n_mels, frames).clone()


def test_warp_moves_a_formant_and_zero_warp_is_identity():
    x = _formant().repeat(64, 1, 1)
    g = torch.Generator().manual_seed(0)
    warped = MelFrequencyWarp(0.15)(x, generator=g)
    peaks = warped[:, :, 0].argmax(dim=1).float()
    assert peaks.min() < 29 and peaks.max() > 31  # the formant moves both ways across the batch
    assert (peaks - 30).abs().max() <= 0.15 * 30 + 1.5  # by at most the warp factor
    assert torch.equal(MelFrequencyWarp(0.0)(x, generator=g), x)


def test_warp_is_seeded():
    x = torch.randn(8, 80, 10)
    a = MelFrequencyWarp(0.1)(x, generator=torch.Generator().manual_seed(3))
    b = MelFrequencyWarp(0.1)(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, x)


def test_autoencoder_warps_in_training_only():
    cfg = compose(["model=mel", "data=tts_digits", "model.hidden=8", "model.depth=1", "model.code_channels=4",
                   "model.num_codes=4", "model.freq_warp=0.2"])
    ae = build_autoencoder(cfg.model, cfg.data)
    raw = 0.1 * torch.randn(2, 16000)
    assert isinstance(ae.augment, MelFrequencyWarp)
    ae.train()
    seen = []
    ae.augment.register_forward_hook(lambda mod, inp, out: seen.append(out))
    ae.training_loss(raw, generator=torch.Generator().manual_seed(0))
    assert len(seen) == 1 and not torch.allclose(seen[0], ae.prepare(raw))
    ae.eval()
    ae.training_loss(raw, generator=torch.Generator().manual_seed(0))
    assert len(seen) == 1  # not applied outside training (validation, encode)
