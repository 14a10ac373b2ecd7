"""Reconstruction metrics on known cases (1 s at 16 kHz keeps PESQ/STOI fast)."""

import math

import pytest
import torch

from anytime_audio.audio import metrics as M

SR = 16000


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # On a shared 2-core box, intra-op threads oversubscribe and small STFTs crawl.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _speechy(f0: float, seconds: float = 1.0, sr: int = SR) -> torch.Tensor:
    """Harmonic complex with vibrato and a syllable-like envelope (PESQ/STOI need voiced energy)."""
    t = torch.arange(int(seconds * sr)) / sr
    phase = 2 * math.pi * f0 * t + 0.3 * torch.sin(2 * math.pi * 3 * t)
    x = sum(torch.sin(k * phase) / k for k in range(1, 12))
    env = torch.sin(2 * math.pi * 3.5 * t).clamp_min(0).sqrt()
    return 0.3 * x * env


@pytest.fixture(scope="module")
def signals():
    g = torch.Generator().manual_seed(0)
    ref = torch.stack([_speechy(120.0), _speechy(210.0)])
    noise = 0.3 * torch.randn(ref.shape, generator=g)
    slightly = ref + 0.01 * torch.randn(ref.shape, generator=g)
    return ref, noise, slightly


def test_identical_signals(signals):
    ref, _, _ = signals
    out = M.compute_metrics(ref, ref.clone(), SR)
    assert set(out) == set(M.ALL_METRICS)
    for name, val in out.items():
        assert val.shape == (2,), name
    assert torch.all(out["mse"] == 0)
    assert torch.allclose(out["stft_distance"], torch.zeros(2), atol=1e-6)
    assert torch.allclose(out["mel_distance"], torch.zeros(2), atol=1e-6)
    assert torch.all(out["si_sdr"] > 60)
    assert torch.all(out["pesq"] > 4.0)
    assert torch.all(out["stoi"] > 0.99)


def test_noise_scores_badly(signals):
    ref, noise, slightly = signals
    bad = M.compute_metrics(ref, noise, SR)
    good = M.compute_metrics(ref, slightly, SR)
    assert torch.all(bad["si_sdr"] < -10)
    assert torch.all(bad["pesq"] < 1.5)
    assert torch.all(bad["stoi"] < 0.75)
    assert torch.all(good["stoi"] > bad["stoi"])
    for name in ("mse", "stft_distance", "mel_distance"):
        assert torch.all(bad[name] > good[name]) and torch.all(good[name] > 0), name
    assert torch.all(good["si_sdr"] > 20)


def test_si_sdr_scale_invariant(signals):
    ref, _, slightly = signals
    base = M.si_sdr(ref, slightly)
    for scale in (0.1, 3.0):
        assert torch.allclose(M.si_sdr(ref, scale * slightly), base, atol=1e-3)
    # mse is not scale invariant
    assert torch.all(M.mse(ref, 3.0 * ref) > 0)


def test_pesq_unsupported_rate_and_silence(signals):
    ref, _, _ = signals
    with pytest.warns(RuntimeWarning, match="PESQ"):
        out = M.pesq(ref, ref, 22050)
    assert torch.isnan(out).all() and out.shape == (2,)
    with pytest.warns(RuntimeWarning, match="16 kHz"):
        assert torch.isnan(M.pesq_wb(ref[:, ::2], ref[:, ::2], 8000)).all()
    with pytest.warns(RuntimeWarning, match="PESQ failed"):
        out = M.pesq(torch.zeros_like(ref), ref, SR)
    assert torch.isnan(out).all()


def test_log_mel_distance_matches_mel_distance(signals):
    ref, noise, _ = signals
    a, b = M.log_mel(ref, SR), M.log_mel(noise, SR)
    assert a.shape[:2] == (2, 80)
    assert torch.allclose(M.log_mel_distance(a, b), M.mel_distance(ref, noise, SR))
    assert torch.all(M.log_mel_distance(a, a) == 0)


def test_stft_resolutions_parameter_and_gradient(signals):
    ref, noise, _ = signals
    assert M.default_stft_resolutions(16000) == [(512, 128, 512), (1024, 256, 1024), (2048, 512, 2048)]
    assert M.default_stft_resolutions(8000)[0] == (256, 64, 256)
    est = noise.clone().requires_grad_(True)
    d = M.multi_resolution_stft_distance(ref, est, SR, resolutions=[(256, 64, 256)])
    d.sum().backward()
    assert d.shape == (2,) and torch.isfinite(est.grad).all()


def test_reconstruction_metrics_summary_and_alignment(signals):
    ref, _, slightly = signals
    out = M.reconstruction_metrics(ref, slightly[:, :-37], SR, metrics=("mse", "si_sdr", "stft_distance"))
    assert list(out) == ["mse", "si_sdr", "stft_distance"]
    assert all(isinstance(v, float) for v in out.values())
    single = M.reconstruction_metrics(ref[0], ref[0], SR, metrics=("mse",))
    assert single == {"mse": 0.0}
    with pytest.raises(ValueError, match="unknown metric"):
        M.reconstruction_metrics(ref, ref, SR, metrics=("fad",))
    with pytest.raises(ValueError, match="batch"):
        M.mse(ref, ref[:1])


def test_summarize_is_nan_aware():
    s = M.summarize({"a": torch.tensor([1.0, float("nan"), 3.0]), "b": torch.tensor([float("nan")]), "c": [2.0]})
    assert s["a"] == 2.0 and math.isnan(s["b"]) and s["c"] == 2.0
