"""The codec on a tiny random-init experiment: files, cuts, errors, batch sizes and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from anytime_audio import codec
from anytime_audio.cli import main

TINY = ["data.sample_rate=8000", "data.clip_seconds=0.25", "data.num_classes=3", "model.n_mels=16",
        "model.n_fft=128", "model.hop_length=64", "model.hidden=8", "model.depth=1", "model.code_channels=8",
        "model.num_codes=16", "model.griffin_lim_iters=2", "model.vocoder=griffin_lim", "device=cpu"]
TINY_PRIOR = ["prior.d_model=16", "prior.n_layers=1", "prior.n_heads=2", "prior.dropout=0.0"]


def save_prior(exp, name: str, seed: int, num_codes=16, length=8, classes=3) -> None:
    from anytime_audio.builders import build_prior
    from anytime_audio.core.checkpoint import save_checkpoint
    from anytime_audio.options import compose

    section = compose([f"prior={name}", *TINY_PRIOR]).prior
    torch.manual_seed(seed)
    prior = build_prior(section, num_codes, length, classes)
    save_checkpoint(exp / f"prior_{name}" / "checkpoint.pt", {
        "model": prior.state_dict(), "prior_config": OmegaConf.to_container(section, resolve=True),
        "num_codes": num_codes, "length": length, "num_classes": classes})


def make_experiment(root):
    """A random-init tiny mel experiment with both priors, and a folder of three short WAVs."""
    from anytime_audio.builders import build_autoencoder
    from anytime_audio.core.checkpoint import save_checkpoint
    from anytime_audio.options import compose
    from tests.conftest import make_tone_corpus

    corpus = make_tone_corpus(root / "tones", n_per_split=(3, 1, 1), sample_rate=8000, seconds=0.25)
    exp = root / "exp"
    cfg = compose([f"exp_dir={exp}", f"data.manifest_dir={corpus}", *TINY])
    exp.mkdir()
    OmegaConf.save(cfg, exp / "config.yaml")
    torch.manual_seed(0)
    save_checkpoint(exp / "checkpoint.pt", {"model": build_autoencoder(cfg.model, cfg.data).state_dict()})
    for seed, name in enumerate(codec.PRIORS):
        save_prior(exp, name, seed)
    wavs = root / "wavs"
    wavs.mkdir()
    for i, src in enumerate(sorted((corpus / "wav").glob("train_*.wav"))):
        (wavs / f"clip{i}.wav").write_bytes(src.read_bytes())
    return exp, wavs


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("codec")
    exp, wavs = make_experiment(root)
    return root, exp, wavs


def expected_codes(c: codec.Codec, wav) -> np.ndarray:
    from anytime_audio.audio.io import load_audio

    return c.encode_waves([load_audio(wav, 8000, silence_threshold=None)[0]])[0]


@pytest.mark.parametrize("prior,options", [("ardm", {"steps": 4, "schedule": "even"}),
                                           ("transformer", {"layers": 3})])
def test_folder_round_trip_is_lossless_over_codes(setup, prior, options):
    root, exp, wavs = setup
    c = codec.Codec(exp, prior, **options)
    files = codec.compress(c, wavs, root / f"ata_{prior}", label=1, batch_size=2, progress=False)
    assert [p.name for p in files] == ["clip0.ata", "clip1.ata", "clip2.ata"]
    for wav, ata in zip(sorted(wavs.glob("*.wav")), files):
        decoded = c.decode(ata.read_bytes(), str(ata))
        assert decoded.k == 8 and np.array_equal(decoded.codes, expected_codes(c, wav))
        assert decoded.header.prior == prior and decoded.header.label == 1
        assert (decoded.header.sample_rate, decoded.header.length, decoded.header.num_codes) == (8000, 8, 16)
        assert decoded.network_calls == (4 if prior == "ardm" else 8)  # ARDM: one call per layer
    out = codec.decompress(c, root / f"ata_{prior}", root / f"wav_{prior}", progress=False)
    import soundfile as sf

    audio, rate = sf.read(out[0])
    assert rate == 8000 and len(audio) == 2000 and np.isfinite(audio).all()


def test_truncate_keeps_whole_layers_that_decode_to_the_first_codes(setup):
    root, exp, wavs = setup
    c = codec.Codec(exp, "ardm", steps=4, schedule="even")
    full = codec.compress(c, wavs / "clip0.wav", root / "cut" / "clip0.ata", progress=False)[0]
    codes = c.decode(full.read_bytes()).codes
    for budget, k in (("25%", 2), (0.6, 4), (3, 2), (1, 2)):
        small = codec.truncate(full, root / "cut" / f"{k}_{budget}.ata", budget=budget, progress=False)[0]
        decoded = c.decode(small.read_bytes(), str(small))
        assert decoded.k == k and np.array_equal(decoded.codes[:k], codes[:k]) and not decoded.codes[k:].any()
        assert decoded.network_calls == k // 2
        assert small.stat().st_size < full.stat().st_size
    again = codec.cut(codec.cut(full.read_bytes(), "50%"), 1.0)  # cutting a cut file keeps what it has
    assert c.decode(again).k == 4
    with pytest.raises(ValueError, match="budget"):
        codec.cut(full.read_bytes(), "150ms")


def test_bytes_do_not_depend_on_batch_size_or_threads(setup):
    root, exp, wavs = setup
    c = codec.Codec(exp, "ardm", steps=2, schedule="even")  # few calls: 2 threads stall on a busy machine
    one = codec.compress(c, wavs, root / "b1", batch_size=1, progress=False)
    torch.set_num_threads(2)
    try:
        three = codec.compress(c, wavs, root / "b3", batch_size=3, progress=False)
    finally:
        torch.set_num_threads(1)
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in three]


def test_damaged_truncated_foreign_and_wrong_model_files_are_clear_errors(setup, tmp_path):
    root, exp, wavs = setup
    c = codec.Codec(exp, "ardm", steps=4, schedule="even")
    data, coded = c.encode_codes(expected_codes(c, wavs / "clip1.wav"), label=2)
    header, payload = codec.parse(data)
    assert sum(header.layer_bytes) == len(payload) == len(coded.payload)
    body = len(data) - len(payload)
    damaged = bytearray(data)
    damaged[body + len(payload) // 2] ^= 0x10
    with pytest.raises(codec.CodecError, match="layer .* damaged"):  # the model names the layer
        c.decode(bytes(damaged), "x.ata")
    with pytest.raises(codec.CodecError, match="payload damaged"):  # without the model (truncate)
        codec.cut(bytes(damaged), "50%")
    head = bytearray(data)
    head[16] ^= 1  # sample rate
    with pytest.raises(codec.CodecError, match="header damaged"):
        c.decode(bytes(head), "x.ata")
    with pytest.raises(codec.CodecError, match="truncated inside layer"):
        c.decode(data[:-1], "x.ata")
    with pytest.raises(codec.CodecError, match="truncated inside its header"):
        c.decode(data[:10], "x.ata")
    with pytest.raises(codec.CodecError, match="not an anytime-audio codec file"):
        c.decode((wavs / "clip0.wav").read_bytes(), "clip0.wav")
    with pytest.raises(codec.CodecError, match="after the last layer"):
        c.decode(data + b"\0", "x.ata")
    # a prior whose probabilities differ but whose files look the same: the code checks catch it
    prior = c.prior("ardm")
    saved = {k: v.clone() for k, v in prior.state_dict().items()}
    with torch.no_grad():
        prior.head.bias.add_(torch.linspace(-3, 3, 16))
    try:
        with pytest.raises(codec.CodecError, match="computes the ardm prior's probabilities differently"):
            c.decode(data, "x.ata")
    finally:
        prior.load_state_dict(saved)
    # another model: a retrained prior checkpoint changes the fingerprint
    save_prior(exp, "ardm", seed=7)
    try:
        with pytest.raises(codec.CodecError, match="another model"):
            codec.Codec(exp).decode(data, "x.ata")
    finally:
        save_prior(exp, "ardm", seed=1)
    assert np.array_equal(codec.Codec(exp).decode(data).codes, coded.codes)


def test_cli_compress_truncate_decompress(setup, capsys):
    root, exp, wavs = setup
    assert main(["compress", f"exp_dir={exp}", f"input={wavs}", f"output={root / 'cli'}", "prior=ardm",
                 "steps=2", "schedule=even", "codec.batch_size=2"]) == 0
    assert main(["truncate", f"input={root / 'cli'}", "budget=50%", f"output={root / 'cli_half'}"]) == 0
    assert main(["decompress", f"exp_dir={exp}", f"input={root / 'cli_half'}", f"output={root / 'cli_wav'}"]) == 0
    assert sorted(p.name for p in (root / "cli_wav").glob("*.wav")) == ["clip0.wav", "clip1.wav", "clip2.wav"]
    assert codec.parse((root / "cli_half" / "clip0.ata").read_bytes())[0].codes == 4
    (root / "bad.ata").write_bytes(b"RIFF0000WAVE")
    capsys.readouterr()
    assert main(["decompress", f"exp_dir={exp}", f"input={root / 'bad.ata'}"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]  # (and the progress bar)
    assert len(err) == 1 and "bad.ata" in err[0] and "not an anytime-audio codec file" in err[0]
    assert main(["truncate", f"input={root / 'cli'}", "budget=abc"]) == 1
    assert "budget" in capsys.readouterr().err
