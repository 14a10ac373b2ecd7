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
    rows = bits["bits_vs_steps"]
    assert {r["schedule"] for r in rows} == {"dp", "even"} and {r["steps"] for r in rows} == {8, 4, 2, 1}
    assert all(r["bits_per_code"] > 0 for r in rows)
    assert main(["sample", f"exp_dir={exp}", "prior=ardm", "budgets=[0.5,1.0]", "n=2", "steps=2"]) == 0
    manifest = [json.loads(l) for l in (exp / "samples_ardm_steps2" / "manifest.jsonl").read_text().splitlines()]
    assert {(m["codes_used"], m["steps"]) for m in manifest} == {(4, 2), (8, 2)}
    assert len(list((exp / "samples_ardm_steps2" / "0.5").glob("*.wav"))) == 2
    assert main(["sample", f"exp_dir={exp}", "prior=ardm", "budgets=[1.0]", "n=2", "steps=auto"]) == 0
    assert main(["sample", f"exp_dir={exp}", "prior=ardm", "budgets=[0.5]", "n=1", "steps=9"]) == 1


def test_bad_options_fail_clearly(experiment, capsys):
    exp, _ = experiment
    assert main(["sample", f"exp_dir={exp}", "budgets=[2.5]", "n=1"]) == 2  # a bad option: usage error
    assert main(["no-such-command"]) == 2
    assert main(["train-ae", "oops"]) == 2
    assert main(["dump-codes", f"exp_dir={exp.parent / 'missing'}"]) == 1


def test_evaluate_writes_report(experiment):
    exp, _ = experiment
    assert main(["train-classifier", f"exp_dir={exp}", *TINY_EVAL]) == 0
    assert main(["evaluate", f"exp_dir={exp}", *TINY_EVAL]) == 0
    assert "unordered" not in json.loads((exp / "metrics.json").read_text())["reconstruction"]  # only when named
    assert main(["evaluate", f"exp_dir={exp}", f"eval.baseline_dir={exp.parent / 'unordered'}", *TINY_EVAL]) == 0
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


# ---- options are parsed and checked before any command runs: one line, no traceback (issue 9)
@pytest.fixture
def captured(monkeypatch):
    """Replace the `sample` command by a stub that keeps the configuration it is given."""
    from anytime_audio import commands

    seen = []
    monkeypatch.setattr(commands, "sample", lambda cfg, explicit: seen.append(cfg))
    return seen


@pytest.fixture
def must_not_run(monkeypatch):
    """Every command fails the test if reached: the error must come before it runs."""
    from anytime_audio import commands

    def never(cfg, explicit):
        raise AssertionError("the command ran despite a bad option")

    for name in ("train_ae", "dump_codes", "train_prior", "sample", "train_classifier", "evaluate"):
        monkeypatch.setattr(commands, name, never)


def one_error_line(capsys) -> str:
    """The single line the CLI printed on stderr (and check that it is just that)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("anytime-audio: error: "), err
    return lines[0]


@pytest.mark.parametrize("option,labels", [
    ("budgets=0.5", ["0.5"]),
    ("budgets=4", ["4codes"]),
    ("budgets='16'", ["16codes"]),
    ("budgets=150ms", ["150ms"]),
    ("budgets=0.2s", ["200ms"]),
    ("budgets=25%", ["0.25"]),
    ("budgets=[0.25,64,150ms]", ["0.25", "64codes", "150ms"]),
    ("budgets='[0.25, 64]'", ["0.25", "64codes"]),
    ("budgets='0.5,25%'", ["0.5", "0.25"]),
    ("sample.budgets=1.0", ["1.0"]),
])
def test_cli_budget_forms_reach_the_command_parsed(tmp_path, captured, option, labels):
    from anytime_audio.core.budget import parse_budgets

    assert main(["sample", f"exp_dir={tmp_path}", option]) == 0
    cfg = captured[0]
    # the expression the sample command applies to the option
    assert [b.folder_name for b in parse_budgets(list(cfg.sample.budgets))] == labels


def test_cli_whole_number_options_are_normalised(tmp_path, captured):
    assert main(["sample", f"exp_dir={tmp_path}", "n='3'", "top_k=2.0", "steps=auto", "label=null"]) == 0
    cfg = captured[0]
    assert cfg.sample.n == 3 and isinstance(cfg.sample.n, int) and cfg.sample.top_k == 2
    assert cfg.sample.steps == "auto" and cfg.sample.label is None


@pytest.mark.parametrize("option,words", [
    ("budgets=abc", ["budgets", "'abc'", "25%", "150ms"]),
    ("budgets=[2.5]", ["budgets", "fraction", "(0, 1]"]),
    ("budgets=0ms", ["budgets", "deadline"]),
    ("budgets=[]", ["budgets", "no budgets"]),
    ("budgets=0.5,25%", ["budgets", "[0.5,25%]"]),
    ("n=1.5", ["n must be a whole number >= 1, got 1.5"]),
    ("n=0", ["n must be a whole number >= 1, got 0"]),
    ("top_k=-5", ["top_k must be a whole number >= 0, got -5"]),
    ("train.steps=abc", ["train.steps must be a whole number >= 1, got 'abc'"]),
    ("prior.train.batch_size=2.5", ["prior.train.batch_size", "whole number"]),
    ("sample.batch_size=0", ["sample.batch_size", "whole number >= 1"]),
    ("eval.num_test=x", ["eval.num_test", "whole number"]),
    ("steps=0", ["steps must be a whole number >= 1, auto or null, got 0"]),
    ("steps=fast", ["steps", "auto or null", "'fast'"]),
    ("label=-1", ["label", "whole number >= 0 or null"]),
    ("temperature=0", ["temperature", "> 0"]),
    ("top_p=1.5", ["top_p", "(0, 1]"]),
    ("schedule=foo", ["schedule must be one of dp, even, got 'foo'"]),
    ("train.resume=yes", ["train.resume must be true or false, got 'yes'"]),
    ("resume=1", ["train.resume must be true or false"]),
    ("eval.fractions=[0.5,2]", ["eval.fractions", "(0, 1]"]),
    ("device=tpu", ["device", "'tpu'", "cpu", "cuda"]),
    ("nosuch=1", ["nosuch", "--cfg", "+nosuch=1"]),
    ("train.step=5", ["train.step", "train.steps", "--cfg"]),
    ("data=nosuch", ["data=nosuch", "tts_digits", "sc09", "vctk"]),
    ("model=nosuch", ["model=nosuch", "mel", "wave", "image"]),
    ("budgets=[0.5", ["budgets=[0.5"]),
])
def test_cli_bad_options_are_one_line_errors(tmp_path, must_not_run, capsys, option, words):
    assert main(["sample", f"exp_dir={tmp_path}", option]) == 2
    line = one_error_line(capsys)
    for word in words:
        assert word in line, line


def test_cli_cuda_without_a_gpu_is_a_one_line_error(tmp_path, must_not_run, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["sample", f"exp_dir={tmp_path}", "device=cuda"]) == 1
    line = one_error_line(capsys)
    assert "'cuda'" in line and "not available" in line and "device=cpu" in line


def _experiment_with_checkpoint(root, write):
    """An exp_dir with a tiny saved config and a checkpoint.pt that ``write(path)`` makes."""
    from omegaconf import OmegaConf

    from anytime_audio.options import compose

    exp = root / "exp"
    exp.mkdir()
    OmegaConf.save(compose([f"exp_dir={exp}", *TINY_AE[:4]]), exp / "config.yaml")
    if write is not None:
        write(exp / "checkpoint.pt")
    return exp


class _Payload:
    """Pickles to a call that creates a marker file, as a malicious checkpoint would run code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _truncated(path):
    import torch

    torch.save({"model": {"w": torch.zeros(1000)}}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("kind,words", [
    ("missing", ["no checkpoint", "checkpoint.pt"]),
    ("empty", ["checkpoint.pt", "empty"]),
    ("truncated", ["checkpoint.pt", "truncated or corrupt"]),
    ("garbage", ["checkpoint.pt", "truncated or corrupt"]),
])
def test_cli_broken_checkpoints_name_the_file(tmp_path, capsys, kind, words):
    write = {"missing": None, "empty": lambda p: p.write_bytes(b""), "truncated": _truncated,
             "garbage": lambda p: p.write_bytes(b"not a checkpoint at all")}[kind]
    exp = _experiment_with_checkpoint(tmp_path, write)
    assert main(["dump-codes", f"exp_dir={exp}"]) == 1
    line = one_error_line(capsys)
    assert str(exp / "checkpoint.pt") in line
    for word in words:
        assert word in line, line


def test_cli_refuses_a_pickled_payload_without_suggesting_weights_only(tmp_path, capsys):
    import torch

    marker = tmp_path / "payload_ran"
    exp = _experiment_with_checkpoint(tmp_path, lambda p: torch.save({"model": _Payload(marker)}, p))
    assert main(["dump-codes", f"exp_dir={exp}"]) == 1
    line = one_error_line(capsys)
    assert str(exp / "checkpoint.pt") in line and "refused" in line and "run code" in line
    assert "weights_only" not in line
    assert not marker.exists()


def test_load_checkpoint_errors_are_checkpoint_errors_without_torch_advice(tmp_path):
    import torch

    from anytime_audio.core.checkpoint import CheckpointError, load_checkpoint

    path = tmp_path / "evil.pt"
    torch.save({"x": _Payload(tmp_path / "ran")}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert isinstance(info.value, ValueError) and "weights_only" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(tmp_path / "empty.pt")


def test_evaluate_reports_the_intelligibility_judge(experiment, monkeypatch):
    """With a judge (here a stand-in that hears every other clip right), every view gets judge_accuracy."""
    from anytime_audio import budget_evaluation

    class HalfRightJudge:
        def recognise_batch(self, waves, sample_rate):
            assert waves.ndim == 2 and sample_rate == 16000  # waveforms, not log-mels
            self.calls = getattr(self, "calls", 0) + 1
            return [0 if i % 2 else -1 for i in range(len(waves))]

    monkeypatch.setattr(budget_evaluation, "select_judge", lambda names, setting: HalfRightJudge())
    exp, data = experiment
    (data / "test_other.jsonl").write_text((data / "test.jsonl").read_text())  # a second held-out split
    assert main(["train-classifier", f"exp_dir={exp}", *TINY_EVAL]) == 0
    assert main(["evaluate", f"exp_dir={exp}", "data.extra_test_splits=[test_other]", *TINY_EVAL]) == 0
    metrics = json.loads((exp / "metrics.json").read_text())
    recon, gen = metrics["reconstruction"], metrics["generation"]
    assert recon["ordered (test_other)"]["0.5"]["mse"] == recon["ordered"]["0.5"]["mse"]  # same clips, same numbers
    for row in (recon["ordered"]["0.25"], recon["vocoder_on_input"]["1.0"], recon["test_clips"]["1.0"],
                recon["test_clips (test_other)"]["1.0"], gen["transformer"]["1.0"]):
        assert 0.0 <= row["judge_accuracy"] <= 0.5, row


def test_the_judge_is_chosen_by_labels():
    from anytime_audio.budget_evaluation import select_judge

    assert select_judge(["tone0", "tone1"], "auto") is None
    assert select_judge(["zero", "one"], "false") is None
