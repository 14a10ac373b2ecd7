import math

import pytest
import torch
import torchaudio

from anytime_audio.audio.features import LogMel, MelToWave
from anytime_audio.audio.griffin_lim import FastGriffinLim, spectral_convergence

N_FFT, HOP = 256, 64


def _harmonic_chirp(batch: int = 2, num_samples: int = 4096, sample_rate: int = 8000) -> torch.Tensor:
    """Voiced-speech-like test signal: a gliding pitch with decaying harmonics."""
    t = torch.arange(num_samples) / sample_rate
    waves = []
    for b in range(batch):
        f0 = 120.0 + 40.0 * b + 60.0 * t
        phase = 2 * math.pi * torch.cumsum(f0, 0) / sample_rate
        wave = sum(torch.sin(h * phase) / h for h in range(1, 8))
        waves.append(wave * torch.hann_window(num_samples, periodic=False))
    return torch.stack(waves) / 3.0


def _magnitude(wave: torch.Tensor, n_fft: int = N_FFT, hop: int = HOP) -> torch.Tensor:
    return torch.stft(wave, n_fft, hop, window=torch.hann_window(n_fft), return_complex=True).abs()


@pytest.mark.parametrize("n_fft,hop", [(256, 64), (200, 80)])
def test_framing_and_overlap_add_invert_each_other(n_fft, hop):
    gl = FastGriffinLim(n_fft, hop, n_iter=0)
    n_frames = 40
    signal = torch.randn(3, (n_frames - 1) * hop + n_fft)
    spectrum = gl._signal_to_spectrum(signal)
    reference = torch.stft(signal, n_fft, hop, window=torch.hann_window(n_fft), center=False,
                           return_complex=True).transpose(1, 2)
    assert torch.allclose(spectrum, reference, atol=1e-3)
    inv_env = gl._inverse_envelope(n_frames, signal.device, signal.dtype)
    rebuilt = gl._frames_to_signal(torch.fft.irfft(spectrum, n=n_fft), inv_env)
    # the output span (frame centres, as istft(center=True) keeps) comes back exactly
    inner = slice(n_fft // 2, -(n_fft // 2))
    assert (inv_env[inner] > 0).all()
    assert torch.allclose(rebuilt[:, inner], signal[:, inner], atol=1e-4)


def test_a_consistent_starting_spectrum_is_kept_and_cropped_where_asked():
    """``initial`` replaces the flat start: the true spectrum of a signal is a fixed point of the
    projections, so the signal comes back from any sample ``start`` for ``length`` samples, while
    the flat start of the same magnitude does not get there in as many iterations."""
    wave = _harmonic_chirp(batch=2, num_samples=4096)
    spec = torch.stft(wave, N_FFT, HOP, window=torch.hann_window(N_FFT), center=False, return_complex=True)
    frames = spec.shape[-1]
    gl = FastGriffinLim(N_FFT, HOP, n_iter=4)
    start, length = 96, (frames - 2) * HOP
    kept = gl(spec.abs(), initial=spec, start=start, length=length)
    assert kept.shape == (2, length)
    assert torch.allclose(kept, wave[:, start:start + length], atol=1e-4)
    flat = gl(spec.abs(), start=start, length=length)
    assert (flat - wave[:, start:start + length]).abs().max() > 0.05
    with pytest.raises(ValueError, match="initial must be shaped like"):
        gl(spec.abs(), initial=spec[..., 1:])
    with pytest.raises(ValueError, match="outside"):
        gl(spec.abs(), start=0, length=frames * HOP + N_FFT)


def test_consistency_improves_with_iterations_and_matches_torchaudio():
    wave = _harmonic_chirp()
    mag = _magnitude(wave)
    errors = {n: spectral_convergence(mag, FastGriffinLim(N_FFT, HOP, n_iter=n)(mag), N_FFT, HOP).mean().item()
              for n in (0, 4, 16, 48)}
    assert errors[0] > errors[4] > errors[16] > errors[48]
    assert errors[48] < 0.2
    # same algorithm as torchaudio's fast Griffin-Lim: comparable consistency
    for n in (4, 16):
        reference = torchaudio.transforms.GriffinLim(n_fft=N_FFT, hop_length=HOP, power=1.0, n_iter=n,
                                                     momentum=0.99, rand_init=False)(mag)
        ours = FastGriffinLim(N_FFT, HOP, n_iter=n, init="zero")(mag)
        ref_err = spectral_convergence(mag, reference, N_FFT, HOP).mean().item()
        our_err = spectral_convergence(mag, ours, N_FFT, HOP).mean().item()
        assert our_err < 1.15 * ref_err + 0.01, (n, our_err, ref_err)


def test_output_shape_follows_centred_istft():
    mag = torch.rand(2, 3, N_FFT // 2 + 1, 17)
    wave = FastGriffinLim(N_FFT, HOP, n_iter=2)(mag)
    assert wave.shape == (2, 3, 16 * HOP)
    assert torch.isfinite(wave).all()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="magnitude"):
        FastGriffinLim(N_FFT, HOP)(torch.rand(2, 100, 10))
    with pytest.raises(ValueError, match="momentum"):
        FastGriffinLim(N_FFT, HOP, momentum=1.0)
    with pytest.raises(ValueError, match="init"):
        FastGriffinLim(N_FFT, HOP, init="random")
    with pytest.raises(ValueError, match="hop_length"):
        FastGriffinLim(N_FFT, 0)


def test_mel_vocoder_renders_a_clip_whose_mel_matches():
    wave = _harmonic_chirp(num_samples=8000, sample_rate=16000)
    logmel = LogMel(sample_rate=16000, n_fft=512, hop_length=128, n_mels=64)
    target = logmel(wave)
    far = MelToWave(logmel, n_iter=0, num_samples=8000)(target)
    near = MelToWave(logmel, n_iter=16, num_samples=8000)(target)
    assert near.shape == wave.shape
    err_far = (logmel(far) - target).abs().mean()
    err_near = (logmel(near) - target).abs().mean()
    assert err_near < err_far
    assert err_near < 0.5


def test_cpu_chunking_does_not_change_the_result():
    mag = _magnitude(_harmonic_chirp(batch=5))
    whole = FastGriffinLim(N_FFT, HOP, n_iter=3, cpu_chunk_floats=10 ** 9)(mag)
    one_clip_at_a_time = FastGriffinLim(N_FFT, HOP, n_iter=3, cpu_chunk_floats=1)(mag)
    assert torch.allclose(whole, one_clip_at_a_time, atol=1e-5)
