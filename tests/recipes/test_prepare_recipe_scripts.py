"""The shell side of the recipes: tools/parse_options.sh, every run.sh --help,
and the shared stages 2-7 of recipes/TEMPLATE/anytime.sh driven with a fake
CLI (so the stage commands, markers and skips are checked without training
anything)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PARSE = REPO / "tools" / "parse_options.sh"
TEMPLATE = REPO / "recipes" / "TEMPLATE" / "anytime.sh"
RECIPES = ["tts_digits", "sc09", "vctk", "ljspeech", "nsynth", "gm_notes", "mnist", "cifar10",
           "celeba", "sklearn_digits"]
# Recipe-specific options every run.sh must document (beyond the template's).
RECIPE_OPTIONS = {
    "tts_digits": ["--num-clips", "--nj", "--seed", "--make-digits-args"],
    "sc09": ["--corpus-dir", "--download", "--nj"],
    "vctk": ["--corpus-dir", "--download", "--segment-seconds", "--max-segments", "--mic",
             "--speaker-labels", "--nj"],
    "ljspeech": ["--corpus-dir", "--download", "--segment-seconds", "--max-segments", "--nj"],
    "nsynth": ["--corpus-dir", "--download", "--min-pitch", "--max-pitch", "--sources",
               "--max-per-split", "--nj"],
    "gm_notes": ["--corpus-dir", "--soundfont", "--programs", "--pitches", "--velocity",
                 "--split-by", "--nj"],
    "mnist": ["--corpus-dir", "--download", "--source", "--valid-size"],
    "cifar10": ["--corpus-dir", "--download", "--valid-size", "--max-per-split"],
    "celeba": ["--corpus-dir", "--download", "--crop-size", "--image-size", "--max-per-split", "--nj"],
    "sklearn_digits": ["--image-size", "--seed"],
}
TEMPLATE_OPTIONS = ["--stage", "--stop-stage", "--data-dir", "--data-config", "--exp", "--model",
                    "--config", "--baseline", "--priors", "--budgets", "--num-samples",
                    "--extra-overrides", "--cli", "--python", "--dry-run"]
IMAGE_SETS = {"mnist", "cifar10", "celeba", "sklearn_digits"}


def bash(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


# ------------------------------------------------------------ parse_options.sh
@pytest.fixture()
def parse_script(tmp_path: Path) -> Path:
    s = tmp_path / "p.sh"
    s.write_text(
        "set -euo pipefail\n"
        "stage=0\nstop_stage=100\nbaseline=true\nconfig=default\n"
        'help_message="Usage: p.sh [--stage N] [--stop-stage N]"\n'
        f". {PARSE}\n"
        'echo "stage=$stage stop_stage=$stop_stage baseline=$baseline config=$config rest=$*"\n'
    )
    return s


def test_parse_options_sets_variables(parse_script: Path) -> None:
    r = bash(str(parse_script), "--stage", "3", "--stop-stage", "5")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "stage=3 stop_stage=5 baseline=true config=default rest="


def test_parse_options_equals_form_booleans_and_rest(parse_script: Path) -> None:
    r = bash(str(parse_script), "--stop-stage=7", "--baseline", "false", "--config", "fast", "x", "y")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "stage=0 stop_stage=7 baseline=false config=fast rest=x y"


@pytest.mark.parametrize("args,msg", [
    (["--no-such-option", "1"], "unknown option '--no-such-option'"),
    (["--stage"], "needs a value"),
    (["--baseline", "maybe"], "true or false"),
    (["--PATH", "/x"], "invalid option name"),
])
def test_parse_options_rejects(parse_script: Path, args: list[str], msg: str) -> None:
    r = bash(str(parse_script), *args)
    assert r.returncode != 0
    assert msg in r.stderr
    assert "stage=" not in r.stdout  # the script stopped before doing anything


def test_parse_options_help(parse_script: Path) -> None:
    r = bash(str(parse_script), "--help")
    assert r.returncode == 0
    assert r.stdout.strip() == "Usage: p.sh [--stage N] [--stop-stage N]"


# ------------------------------------------------------------------- run.sh
def _help_options(text: str) -> list[tuple[str, str]]:
    """(option, its help line) for every documented option."""
    return [(m.group(1), line) for line in text.splitlines()
            if (m := re.match(r"\s+(--[a-z][a-z-]*)", line))]


@pytest.mark.parametrize("recipe", RECIPES)
def test_run_sh_help_documents_options(recipe: str) -> None:
    run = REPO / "recipes" / recipe / "run.sh"
    r = bash(str(run), "--help")
    assert r.returncode == 0, r.stderr
    documented = [o for o, _ in _help_options(r.stdout)]
    for opt in TEMPLATE_OPTIONS + RECIPE_OPTIONS[recipe]:
        assert opt in documented, f"{recipe}: {opt} missing from --help"
    model_line = next(line for o, line in _help_options(r.stdout) if o == "--model")
    assert f"(default: {'image' if recipe in IMAGE_SETS else 'mel'})" in model_line
    assert f"(default: {recipe})" in next(l for o, l in _help_options(r.stdout) if o == "--data-config")


@pytest.mark.parametrize("recipe", RECIPES)
def test_run_sh_accepts_every_documented_option(recipe: str) -> None:
    """Each option in --help is one the parser knows; an unknown one is an error.
    --stop-stage -1 (given last) makes the script stop before any stage."""
    run = REPO / "recipes" / recipe / "run.sh"
    args: list[str] = []
    for opt, line in _help_options(bash(str(run), "--help").stdout):
        args += [opt, "true" if "true|false" in line else "1"]
    r = bash(str(run), *args, "--stop-stage", "-1")
    assert r.returncode == 0, r.stderr
    bad = bash(str(run), "--not-an-option", "1")
    assert bad.returncode != 0 and "unknown option" in bad.stderr


# ------------------------------------------------- template with a fake CLI
FAKE_CLI = """#!/usr/bin/env bash
# Records its arguments; fails when FAKE_FAIL names the command; stage 4 writes codes.
echo "$*" >> "{log}"
[ "${{FAKE_FAIL:-}}" = "$1" ] && exit 3
if [ "$1" = dump-codes ]; then
  d="${{2#exp_dir=}}/codes"; mkdir -p "$d"; touch "$d/train.npy" "$d/valid.npy" "$d/test.npy"
fi
exit 0
"""


@pytest.fixture()
def fake(tmp_path: Path) -> dict:
    data = tmp_path / "data"
    data.mkdir()
    for f in ("train.jsonl", "valid.jsonl", "test.jsonl"):
        (data / f).write_text("")
    (data / "labels.json").write_text("[]\n")
    log = tmp_path / "calls.log"
    cli = tmp_path / "fake_cli.sh"
    cli.write_text(FAKE_CLI.format(log=log))
    return {"data": data, "exp": tmp_path / "exp", "log": log, "cli": f"bash {cli}"}


def _template(fake: dict, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        ["bash", str(TEMPLATE), "--data-dir", str(fake["data"]), "--data-config", "toy",
         "--exp", str(fake["exp"]), "--cli", fake["cli"], *extra],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def _calls(fake: dict) -> list[str]:
    return fake["log"].read_text().splitlines() if fake["log"].exists() else []


def test_template_runs_the_contract_commands_in_order(fake: dict) -> None:
    r = _template(fake, "--stage", "2", "--stop-stage", "7", "--priors", "transformer ardm",
                  "--config", "fast", "--num-samples", "4", "--extra-overrides", "train.device=cpu")
    assert r.returncode == 0, r.stdout + r.stderr
    e, d = fake["exp"], fake["data"]
    data = f"data=toy data.manifest_dir={d}"
    x = "train.device=cpu"
    assert _calls(fake) == [
        f"train-ae exp_dir={e}/ordered {data} model=mel +experiment=fast {x}",
        f"train-ae exp_dir={e}/unordered {data} model=mel model.truncation=none +experiment=fast {x}",
        f"dump-codes exp_dir={e}/ordered {x}",
        f"train-prior exp_dir={e}/ordered prior=transformer +experiment=fast {x}",
        f"train-prior exp_dir={e}/ordered prior=ardm +experiment=fast {x}",
        f"sample exp_dir={e}/ordered prior=transformer budgets=[0.125,0.25,0.5,1.0] n=4 {x}",
        f"sample exp_dir={e}/ordered prior=ardm budgets=[0.125,0.25,0.5,1.0] n=4 {x}",
        f"train-classifier exp_dir={e}/ordered {data} +experiment=fast {x}",
        f"evaluate exp_dir={e}/ordered +experiment=fast {x}",
    ]
    for n in range(2, 8):
        assert re.search(rf"\) Stage {n}: ", r.stdout), f"no 'Stage {n}:' log line"
    assert f"{e}/ordered/report.md" in r.stdout
    markers = sorted(p.name for p in e.glob(".done.*"))
    assert markers == sorted([".done.train_ae", ".done.train_ae_baseline", ".done.dump_codes",
                              ".done.train_prior.transformer", ".done.train_prior.ardm",
                              ".done.sample.transformer", ".done.sample.ardm",
                              ".done.train_classifier", ".done.evaluate"])

    # Second run: every stage is skipped, visibly, and the CLI is not called again.
    n_calls = len(_calls(fake))
    r2 = _template(fake, "--stage", "2", "--stop-stage", "7", "--priors", "transformer ardm")
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert len(_calls(fake)) == n_calls
    for n in range(2, 8):
        assert f"Stage {n}: already done, skipping" in r2.stdout


def test_template_stage_range_baseline_and_defaults(fake: dict) -> None:
    r = _template(fake, "--stage", "3", "--stop-stage", "3", "--baseline", "false")
    assert r.returncode == 0, r.stderr
    assert _calls(fake) == []
    assert "Stage 3: --baseline false, skipping" in r.stdout
    r = _template(fake, "--stage", "6", "--stop-stage", "6", "--model", "wave")
    assert r.returncode == 0, r.stderr
    assert _calls(fake) == [
        f"sample exp_dir={fake['exp']}/ordered prior=transformer budgets=[0.125,0.25,0.5,1.0] n=16"]


def test_template_failure_leaves_no_marker(fake: dict) -> None:
    r = _template(fake, "--stage", "2", "--stop-stage", "4", env={"FAKE_FAIL": "train-ae"})
    assert r.returncode != 0
    assert "Stage 2: train_ae failed" in r.stdout
    assert not (fake["exp"] / ".done.train_ae").exists()
    assert len(_calls(fake)) == 1  # stopped at the failing stage


def test_template_checks_manifests_and_options(fake: dict, tmp_path: Path) -> None:
    (fake["data"] / "labels.json").unlink()
    r = _template(fake, "--stage", "2", "--stop-stage", "2")
    assert r.returncode != 0 and "labels.json not found" in r.stdout
    r = _template(fake, "--stage", "5", "--stop-stage", "5", "--priors", "gpt")
    assert r.returncode != 0 and "unknown prior 'gpt'" in r.stdout
    r = subprocess.run(["bash", str(TEMPLATE), "--stage", "2"], capture_output=True, text=True)
    assert r.returncode != 0 and "--data-dir is required" in r.stdout
    assert _calls(fake) == []


def test_run_sh_forwards_options_to_the_template(fake: dict, tmp_path: Path) -> None:
    run = REPO / "recipes" / "sklearn_digits" / "run.sh"
    r = bash(str(run), "--stage", "2", "--stop-stage", "2", "--data-dir", str(fake["data"]),
             "--exp", str(fake["exp"]), "--cli", fake["cli"], "--config", "fast",
             "--ae-overrides", "train.max_steps=3")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _calls(fake) == [
        f"train-ae exp_dir={fake['exp']}/ordered data=sklearn_digits "
        f"data.manifest_dir={fake['data']} model=image +experiment=fast train.max_steps=3"]


def test_template_dry_run_writes_nothing(fake: dict) -> None:
    r = _template(fake, "--stage", "2", "--stop-stage", "7", "--dry-run", "true")
    assert r.returncode == 0, r.stderr
    assert _calls(fake) == []
    assert not fake["exp"].exists()
    assert "train-ae exp_dir=" in r.stdout and "evaluate exp_dir=" in r.stdout


def test_bash_is_available() -> None:
    assert shutil.which("bash"), "the recipes need bash"
