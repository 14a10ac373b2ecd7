"""Fréchet distance: known closed forms and the streaming statistics."""

import math

import numpy as np
import pytest
import torch

from anytime_audio.scoring.frechet import (
    FeatureStats,
    embed_stats,
    frechet_distance,
    frechet_distance_from_stats,
)


def _gauss(n, d, seed, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, d, generator=g, dtype=torch.float64) + shift


def test_self_distance_is_zero():
    x = _gauss(500, 16, 0)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


def test_shift_gives_squared_mean_shift():
    x = _gauss(1000, 8, 1)
    shift = torch.tensor([3.0, -1.0, 0, 0, 0, 0, 0, 2.0], dtype=torch.float64)
    # identical covariances -> exactly ||shift||^2
    assert frechet_distance(x, x + shift) == pytest.approx(14.0, rel=1e-5)
    # independent draws: ||shift||^2 plus a small sampling bias
    y = _gauss(4000, 8, 2, shift=shift)
    x = _gauss(4000, 8, 3)
    assert frechet_distance(x, y) == pytest.approx(14.0, abs=0.3)


def test_scaled_covariance_closed_form():
    # N(0, I) vs N(0, 4I) in D dims: tr(I + 4I - 2*2I) = D
    d = 4
    assert frechet_distance(_gauss(8000, d, 4), _gauss(8000, d, 5, scale=2.0)) == pytest.approx(d, rel=0.08)


def test_symmetric_and_accepts_numpy():
    a, b = _gauss(300, 5, 6), _gauss(300, 5, 7, scale=1.5, shift=0.5)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    assert frechet_distance(a.numpy().astype(np.float32), b.numpy()) == pytest.approx(frechet_distance(a, b), rel=1e-4)


def test_small_n_is_finite_and_nonnegative():
    a, b = _gauss(5, 64, 8), _gauss(6, 64, 9)  # N << D: singular covariances
    fd = frechet_distance(a, b)
    assert math.isfinite(fd) and fd >= 0
    const = torch.ones(10, 3)
    assert frechet_distance(const, const) == pytest.approx(0.0, abs=1e-6)


def test_stats_streaming_and_merge_match_batch():
    x = _gauss(257, 6, 10, shift=1.0)
    streamed = FeatureStats()
    for chunk in x.split(50):
        streamed.update(chunk)
    merged = FeatureStats.from_features(x[:100]).merge(FeatureStats.from_features(x[100:]))
    ref = torch.cov(x.T)
    for s in (streamed, merged):
        assert s.n == 257
        assert torch.allclose(s.mean, x.mean(0))
        assert torch.allclose(s.cov, ref)
    assert FeatureStats().merge(streamed).n == 257
    restored = FeatureStats.from_state_dict(streamed.state_dict())
    y = _gauss(100, 6, 11)
    assert frechet_distance_from_stats(restored, FeatureStats.from_features(y)) == pytest.approx(frechet_distance(x, y))


def test_errors():
    with pytest.raises(ValueError, match="dim"):
        FeatureStats.from_features(torch.zeros(4, 3)).update(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(torch.zeros(1, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(torch.full((3, 2), float("nan")), torch.zeros(3, 2))


def test_embed_stats_with_pluggable_embedder():
    torch.manual_seed(0)
    net = torch.nn.Linear(10, 4)
    data = torch.randn(40, 10)
    batches = [(data[i : i + 8], torch.zeros(8)) for i in range(0, 40, 8)]
    stats = embed_stats(net, batches)
    with torch.no_grad():
        assert torch.allclose(stats.mean, net(data).double().mean(0), atol=1e-6)
    assert stats.n == 40
