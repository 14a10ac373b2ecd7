"""End to end through the console script on a tiny tone corpus: train, dump, prior, sample, evaluate."""

import json

import numpy as np
import pytest
import soundfile as sf

from anytime_audio.cli import main

TINY_AE = ["model.hidden=16", "model.depth=1", "model.code_channels=8", "model.num_codes=16",
           "train.steps=40", "train.batch_size=8", "train.valid_every=20", "train.checkpoint_every=20",
           "train.log_every=10", "train.progress=false", "num_threads=1"]
TINY_PRIOR = ["prior.d_model=32", "prior.n_layers=1", "prior.n_heads=2", "prior.train.steps=40",
              "prior.train.batch_size=8", "prior.train.valid_every=20", "prior.train.checkpoint_every=20",
              "prior.train.log_every=10", "train.progress=false", "prior.train.warmup_steps=0"]
TINY_EVAL = ["eval.num_test=6", "eval.num_generated=6", "eval.classifier.steps=10", "eval.classifier.batch_size=8",
             "eval.pesq_stoi=false"]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    from tests.conftest import make_tone_corpus

    root = tmp_path_factory.mktemp("cli")
    data = make_tone_corpus(root / "tones")
    exp = root / "exp" / "ordered"
    common = [f"exp_dir={exp}", f"data.manifest_dir={data}", "data.num_classes=3"]
    assert main(["train-ae", *common, *TINY_AE]) == 0
    assert main(["train-ae", f"exp_dir={root / 'exp' / 'unordered'}", f"data.manifest_dir={data}",
                 "data.num_classes=3", "model.truncation=none", *TINY_AE]) == 0
    assert main(["dump-codes", f"exp_dir={exp}"]) == 0
    assert main(["train-prior", f"exp_dir={exp}", *TINY_PRIOR]) == 0
    assert main(["train-prior", f"exp_dir={exp}", "prior=ardm", *TINY_PRIOR]) == 0
    return exp, data


def test_train_ae_writes_config_checkpoint_and_curves(experiment):
    exp, _ = experiment
    assert (exp / "config.yaml").is_file() and (exp / "checkpoint.pt").is_file()
    assert "valid,mse@0.125" in (exp / "metrics.csv").read_text()


def test_dump_codes_shapes(experiment):
    exp, _ = experiment
    codes = np.load(exp / "codes" / "train.npy")
    labels = np.load(exp / "codes" / "train_labels.npy")
    assert codes.shape == (24, 8) and labels.shape == (24,)
    assert codes.min() >= 0 and codes.max() < 16


def test_train_prior_reports_bits_per_code(experiment):
    exp, _ = experiment
    bits = json.loads((exp / "prior_transformer" / "bits.json").read_text())
    assert 0 < bits["valid_bits_per_code"] < 8  # log2(16) = 4 is the uniform baseline; allow overfit noise


def test_sample_writes_wavs_at_every_budget(experiment):
    exp, _ = experiment
    assert main(["sample", f"exp_dir={exp}", "budgets=[0.25,0.5,1.0,150ms]", "n=3", "label=1"]) == 0
    for budget in ("0.25", "0.5", "1.0", "150ms"):
        wavs = sorted((exp / "samples" / budget).glob("*.wav"))
        assert len(wavs) == 3 and wavs[0].name == "0000_tone1.wav"
        audio, sr = sf.read(wavs[0])
        assert sr == 16000 and len(audio) == 16000 and np.isfinite(audio).all()
        assert sf.info(wavs[0]).subtype == "PCM_16"
    manifest = [json.loads(l) for l in (exp / "samples" / "manifest.jsonl").read_text().splitlines()]
    assert {m["codes_used"] for m in manifest if m["budget"] == "0.25"} == {2}


def test_ardm_sampling_with_a_step_budget(experiment):
    exp, _ = experiment
    bits = json.loads((exp / "prior_ardm" / "bits.json").read_text())
    assert set(bits["bits_vs_steps"]) == {"dp", "even"} and "8" in bits["bits_vs_steps"]["dp"]
    assert main(["sample", f"exp_dir={exp}", "prior=ardm", "budgets=[0.5,1.0]", "n=2", "steps=2"]) == 0
    manifest = [json.loads(l) for l in (exp / "samples_ardm_steps2" / "manifest.jsonl").read_text().splitlines()]
    assert {(m["codes_used"], m["steps"]) for m in manifest} == {(4, 2), (8, 2)}
    assert len(list((exp / "samples_ardm_steps2" / "0.5").glob("*.wav"))) == 2
    assert main(["sample", f"exp_dir={exp}", "prior=ardm", "budgets=[1.0]", "n=2", "steps=auto"]) == 0
    assert main(["sample", f"exp_dir={exp}", "prior=ardm", "budgets=[0.5]", "n=1", "steps=9"]) == 1


def test_bad_options_fail_clearly(experiment, capsys):
    exp, _ = experiment
    assert main(["sample", f"exp_dir={exp}", "budgets=[2.5]", "n=1"]) == 1
    assert main(["no-such-command"]) == 2
    assert main(["train-ae", "oops"]) == 2
    assert main(["dump-codes", f"exp_dir={exp.parent / 'missing'}"]) == 1


def test_evaluate_writes_report(experiment):
    exp, _ = experiment
    assert main(["train-classifier", f"exp_dir={exp}", *TINY_EVAL]) == 0
    assert main(["evaluate", f"exp_dir={exp}", *TINY_EVAL]) == 0
    metrics = json.loads((exp / "metrics.json").read_text())
    recon = metrics["reconstruction"]
    assert set(recon) == {"ordered", "unordered", "vocoder_on_input"}
    assert set(recon["ordered"]) == {"0.125", "0.25", "0.5", "1.0"}
    assert {"mse", "mel_distance", "si_sdr", "stft_distance"} <= set(recon["ordered"]["1.0"])
    gen = metrics["generation"]["transformer"]["0.5"]
    assert gen["frechet_distance"] >= 0 and 0 <= gen["accuracy"] <= 1
    assert metrics["cost"]["transformer"]["1.0"]["network_calls"] == 8
    assert metrics["cost"]["ardm"]["0.5"]["network_calls"] == 4
    ardm = metrics["ardm_steps"]["schedules"]
    assert set(ardm) == {"dp", "even"} and ardm["dp"]["0.25"]["steps"] == 2
    assert (exp / "report.md").read_text().count("|") > 20
    assert (exp / "budget_curve.png").stat().st_size > 1000


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("train-ae", "dump-codes", "train-prior", "sample", "evaluate"):
        assert command in out
