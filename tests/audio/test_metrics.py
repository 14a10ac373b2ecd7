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


def test_pesq_modes_rates_and_silence(signals):
    ref, _, slightly = signals
    half, half_noisy = ref[:, ::2], slightly[:, ::2]  # 8 kHz (aliased, but the same for both)
    nb = M.pesq(half, half_noisy, 8000)  # auto: narrow-band at 8 kHz, no resampling
    assert torch.equal(nb, M.pesq(half, half_noisy, 8000, mode="nb"))
    wb = M.pesq_wb(half, half_noisy, 8000)  # wide-band asked for at 8 kHz: resampled to 16 kHz
    assert torch.isfinite(nb).all() and torch.isfinite(wb).all() and not torch.equal(nb, wb)
    with pytest.raises(ValueError, match="mode"):
        M.pesq(ref, ref, SR, mode="swb")
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


# --------------------------------------------------------------- rates other than 8 / 16 kHz, short speech

SR_HIFIGAN = 22050  # the model=mel_hifigan preset


def _vowel(f0: float, seconds: float = 1.0, sr: int = SR, formants=(700.0, 1200.0, 2600.0)) -> torch.Tensor:
    """Harmonics of f0 (with vibrato) up to 7 kHz shaped by formant resonances, under a syllable envelope."""
    t = torch.arange(int(seconds * sr)) / sr
    phase = 2 * math.pi * f0 * t + 0.3 * torch.sin(2 * math.pi * 3 * t)
    x = torch.zeros_like(t)
    for k in range(1, int(7000 // f0) + 1):
        gain = sum(1.0 / (1.0 + ((k * f0 - f) / 120.0) ** 2) for f in formants) + 0.02
        x = x + gain * torch.sin(k * phase)
    env = torch.sin(2 * math.pi * 3.5 * t).clamp_min(0).sqrt()
    x = x * env
    return 0.3 * x / x.abs().max()


def test_pesq_at_22050_resamples_to_16k_wideband():
    g = torch.Generator().manual_seed(1)
    ref = torch.stack([_vowel(120.0, sr=SR_HIFIGAN), _vowel(220.0, sr=SR_HIFIGAN, formants=(400.0, 2000.0, 2900.0))])
    degraded = ref + 0.003 * torch.randn(ref.shape, generator=g)
    clean = M.pesq(ref, ref.clone(), SR_HIFIGAN)
    worse = M.pesq(ref, degraded, SR_HIFIGAN)
    assert torch.isfinite(clean).all() and torch.isfinite(worse).all(), (clean, worse)
    assert torch.all((worse >= 1.0) & (worse <= 4.6)), worse
    assert torch.all(clean > worse), (clean, worse)
    # the same as resampling to 16 kHz by hand and scoring wide-band; deterministic
    import torchaudio

    by_hand = M.pesq(torchaudio.functional.resample(ref, SR_HIFIGAN, SR),
                     torchaudio.functional.resample(degraded, SR_HIFIGAN, SR), SR, mode="wb")
    assert torch.equal(worse, by_hand)
    assert torch.equal(M.pesq(ref, degraded, SR_HIFIGAN), worse)
    assert torch.isfinite(M.compute_metrics(ref, degraded, SR_HIFIGAN, metrics=("pesq",))["pesq"]).all()


def _short_word(speech_seconds: float, seconds: float = 1.0, sr: int = SR, seed: int = 0) -> torch.Tensor:
    """``speech_seconds`` of vowel in the middle of a quiet (-80 dB noise floor) clip."""
    g = torch.Generator().manual_seed(seed)
    x = 3e-5 * torch.randn(int(seconds * sr), generator=g)
    n = int(speech_seconds * sr)
    start = (x.numel() - n) // 2
    t = torch.arange(n) / sr
    x[start:start + n] += _vowel(150.0, 1.0, sr)[:n] * torch.sin(math.pi * t / speech_seconds).sqrt()
    return x


def test_stoi_clip_with_too_little_speech_is_not_scored_1e5():
    short, long = _short_word(0.3), _short_word(0.8, seed=1)
    ref = torch.stack([short, long])
    with pytest.warns(RuntimeWarning, match="STOI"):
        out = M.stoi(ref, ref.clone(), SR)
    assert out.shape == (2,)
    assert not torch.any((out - 1e-5).abs() < 1e-7), out  # pystoi's "could not score" value is never passed on
    assert torch.isnan(out[0]), out  # under 384 ms of speech: STOI is undefined -> NaN, skipped by summarize
    assert out[1] > 0.99, out
    # the same clips at the mel_hifigan rate
    with pytest.warns(RuntimeWarning, match="STOI"):
        out22 = M.stoi(torch.stack([_short_word(0.3, sr=SR_HIFIGAN), _short_word(0.8, sr=SR_HIFIGAN, seed=1)]),
                       torch.stack([_short_word(0.3, sr=SR_HIFIGAN), _short_word(0.8, sr=SR_HIFIGAN, seed=1)]),
                       SR_HIFIGAN)
    assert torch.isnan(out22[0]) and out22[1] > 0.99, out22
    with pytest.warns(RuntimeWarning, match="STOI cannot score 1/2"):
        values = M.compute_metrics(ref, ref.clone(), SR, metrics=("mse", "stoi"))
    assert M.summarize(values)["stoi"] > 0.99
    assert M.scored_counts(values) == {"mse": 2, "stoi": 1}
