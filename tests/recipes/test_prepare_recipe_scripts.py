"""The shell side of the recipes: tools/parse_options.sh, the thin run.sh /
local/data.sh pairs (options, help, errors), the data scripts driven with a fake
Python, and the shared stages 2-7 of recipes/TEMPLATE/anytime.sh driven with a
fake CLI (so the stage commands, markers and skips are checked without
training anything)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PARSE = REPO / "tools" / "parse_options.sh"
TEMPLATE = REPO / "recipes" / "TEMPLATE" / "anytime.sh"
COMMON = REPO / "recipes" / "TEMPLATE" / "common.sh"
RECIPES = ["tts_digits", "sc09", "vctk", "ljspeech", "nsynth", "gm_notes", "mnist", "cifar10",
           "celeba", "sklearn_digits", "fashion_mnist", "prompts"]
# Corpus options every recipe's local/data.sh documents (run.sh --help shows them).
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
    "fashion_mnist": ["--corpus-dir", "--source-dir", "--download", "--valid-size", "--nj"],
    "prompts": ["--sounds-dir", "--install", "--sets", "--held-out-speaker", "--segment-seconds",
                "--max-segments", "--min-seconds", "--seed", "--nj"],
}
TEMPLATE_OPTIONS = ["--stage", "--stop-stage", "--data-script", "--data-dir", "--data-config", "--exp", "--model",
                    "--config", "--baseline", "--priors", "--budgets", "--num-samples",
                    "--extra-overrides", "--cli", "--python", "--dry-run"]
IMAGE_SETS = {"mnist", "cifar10", "celeba", "sklearn_digits", "fashion_mnist"}
MODEL_DEFAULTS = {"fashion_mnist": "image28"}  # image presets sized for one corpus


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


# ------------------------------------------------------- run.sh + data.sh
def _help_options(text: str) -> list[tuple[str, str]]:
    """(option, its help line) for every documented option."""
    return [(m.group(1), line) for line in text.splitlines()
            if (m := re.match(r"\s+(--[a-z][a-z-]*)", line))]


def _recipe(name: str) -> Path:
    return REPO / "recipes" / name / "run.sh"


def test_every_recipe_script_parses() -> None:
    scripts = [TEMPLATE, COMMON, PARSE, *(REPO / "recipes").glob("*/run.sh"),
               *(REPO / "recipes").glob("*/local/data.sh")]
    assert len(scripts) == 3 + 2 * len(RECIPES)
    for script in scripts:
        r = bash("-n", str(script))
        assert r.returncode == 0, f"{script}: {r.stderr}"


@pytest.mark.parametrize("recipe", RECIPES)
def test_run_sh_is_a_thin_call_of_the_template(recipe: str) -> None:
    """run.sh only sets the corpus defaults; stages 0-1 live in local/data.sh."""
    run = _recipe(recipe)
    text = run.read_text()
    assert len(text.splitlines()) <= 25, f"{run} has {len(text.splitlines())} lines"
    assert "../TEMPLATE/anytime.sh" in text and "--data-script local/data.sh" in text
    assert text.rstrip().endswith('"$@"')
    data = run.parent / "local" / "data.sh"
    assert data.is_file() and data.stat().st_mode & 0o111, f"{data} is missing or not executable"
    body = data.read_text()
    assert "set -euo pipefail" in body and "tools/parse_options.sh" in body
    assert 'log "Stage 0:' in body and 'log "Stage 1:' in body


@pytest.mark.parametrize("recipe", RECIPES)
def test_run_sh_help_documents_options(recipe: str) -> None:
    r = bash(str(_recipe(recipe)), "--help")
    assert r.returncode == 0, r.stderr
    documented = [o for o, _ in _help_options(r.stdout)]
    for opt in TEMPLATE_OPTIONS + RECIPE_OPTIONS[recipe]:
        assert opt in documented, f"{recipe}: {opt} missing from --help"
    assert len(documented) == len(set(documented)), "an option is documented twice"
    model_line = next(line for o, line in _help_options(r.stdout) if o == "--model")
    family = 'image' if recipe in IMAGE_SETS else 'mel'
    assert f"(default: {MODEL_DEFAULTS.get(recipe, family)})" in model_line
    assert f"(default: {recipe})" in next(l for o, l in _help_options(r.stdout) if o == "--data-config")


@pytest.mark.parametrize("recipe", RECIPES)
def test_run_sh_accepts_every_documented_option(recipe: str) -> None:
    """Each option in --help is one the parser knows; an unknown one is one clear
    error line. --stop-stage -1 (given last) makes the script stop before any stage."""
    run = _recipe(recipe)
    args: list[str] = []
    for opt, line in _help_options(bash(str(run), "--help").stdout):
        if opt != "--data-script":
            args += [opt, "true" if "true|false" in line else "1"]
    r = bash(str(run), *args, "--stop-stage", "-1")
    assert r.returncode == 0, r.stderr
    assert "Nothing to do" in r.stdout
    for bad_args, msg in [(["--not-an-option", "1"], "unknown option '--not-an-option'"),
                          (["--stage", "2", "--not-an-option", "1"], "unknown option '--not-an-option'"),
                          (["--baseline", "maybe"], "takes true or false"),
                          (["stray"], "unexpected argument 'stray'")]:
        bad = bash(str(run), *bad_args)
        assert bad.returncode != 0 and bad.stdout == ""
        assert bad.stderr.splitlines() == [
            f"recipes/{recipe}/run.sh: {bad.stderr.split(': ', 1)[1].strip()}"], bad.stderr
        assert msg in bad.stderr and "--help" in bad.stderr


def test_shell_splits_match_the_package() -> None:
    from anytime_audio.manifest import SPLITS

    r = bash("-c", f'. "{COMMON}"; echo "${{SPLITS[*]}}"')
    assert r.stdout.split() == list(SPLITS)


FAKE_PYTHON = """#!/usr/bin/env bash
# Records its arguments instead of running a prepare script.
echo "$*" >> "{log}"
"""


def test_data_script_is_idempotent_and_gets_the_corpus_options(tmp_path: Path) -> None:
    log = tmp_path / "python.log"
    py = tmp_path / "fake_python"
    py.write_text(FAKE_PYTHON.format(log=log))
    py.chmod(0o755)
    data = tmp_path / "data"
    args = ["--stop-stage", "1", "--data-dir", str(data), "--python", str(py), "--seed", "3"]
    r = bash(str(_recipe("sklearn_digits")), *args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert log.read_text().splitlines() == [
        f"local/prepare_sklearn_digits.py prepare --output-dir {data} --image-size 8 --seed 3"]
    assert re.search(r"\(data\.sh:\d+\) Stage 0: ", r.stdout)
    assert re.search(r"\(data\.sh:\d+\) Stage 1: ", r.stdout)
    assert (data / ".done.prepare").is_file()
    r = bash(str(_recipe("sklearn_digits")), *args)
    assert r.returncode == 0 and "Stage 1: already done, skipping prepare" in r.stdout
    assert len(log.read_text().splitlines()) == 1
    # --dry-run logs the data script's command and runs nothing.
    r = bash(str(_recipe("sklearn_digits")), *args[:2], "--data-dir", str(tmp_path / "d2"),
             "--dry-run", "true", "--image-size", "16")
    assert r.returncode == 0, r.stderr
    assert "Stages 0-1: local/data.sh --stage 0 --stop-stage 1" in r.stdout
    assert "--image-size 16" in r.stdout and not (tmp_path / "d2").exists()


# ------------------------------------------------- template with a fake CLI
FAKE_CLI = """#!/usr/bin/env bash
# Records its arguments; fails when FAKE_FAIL names the command or FAKE_FAIL_ARG is one of
# its arguments; the ordered train-ae sleeps FAKE_SLEEP_ORDERED seconds, the unordered one
# FAKE_SLEEP_BASELINE (each then records "end <exp_dir>"), train-prior FAKE_SLEEP_PRIOR and
# train-vocoder FAKE_SLEEP_VOCODER (then "end <command>"); stage 4 writes codes.
echo "$*" >> "{log}"
[ "${{FAKE_FAIL:-}}" = "$1" ] && exit 3
[[ " $* " == *" ${{FAKE_FAIL_ARG:-none-given}} "* ]] && exit 3
if [ "$1" = train-ae ]; then
  t=${{FAKE_SLEEP_ORDERED:-}}
  [[ "$*" == *truncation=none* ]] && t=${{FAKE_SLEEP_BASELINE:-}}
  [ -n "$t" ] && {{ sleep "$t"; echo "end $2" >> "{log}"; }}
fi
t=
[ "$1" = train-prior ] && t=${{FAKE_SLEEP_PRIOR:-}}
[ "$1" = train-vocoder ] && t=${{FAKE_SLEEP_VOCODER:-}}
[ -n "$t" ] && {{ sleep "$t"; echo "end $1" >> "{log}"; }}
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
                  "--config", "fast", "--num-samples", "4", "--extra-overrides", "train.device=cpu",
                  "--side-lane", "false")
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
        f"evaluate exp_dir={e}/ordered +experiment=fast eval.baseline_dir={e}/unordered {x}",
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
    r = _template(fake, "--stage", "2", "--stop-stage", "4", "--side-lane", "false", env={"FAKE_FAIL": "train-ae"})
    assert r.returncode != 0
    assert "Stage 2: train_ae failed" in r.stdout
    assert not (fake["exp"] / ".done.train_ae").exists()
    assert len(_calls(fake)) == 1  # stopped at the failing stage


def test_template_side_lane_trains_the_baseline_beside_stage_2(fake: dict) -> None:
    e = fake["exp"]
    r = _template(fake, "--stage", "2", "--stop-stage", "7", "--side-lane", "true",
                  env={"FAKE_SLEEP_ORDERED": "1", "FAKE_SLEEP_BASELINE": "0.5"})
    assert r.returncode == 0, r.stdout + r.stderr
    calls = _calls(fake)
    baseline = next(i for i, c in enumerate(calls) if "truncation=none" in c)
    # The baseline started before the ordered model finished, on one thread, and stage 7
    # (evaluate, which reads it) came after it ended.
    assert baseline < calls.index(f"end exp_dir={e}/ordered")
    assert calls[baseline].endswith("num_threads=1")
    assert calls.index(f"end exp_dir={e}/unordered") < next(i for i, c in enumerate(calls) if c.startswith("evaluate"))
    assert "side lane" in r.stdout and "Stage 3: train_ae_baseline done (side lane)" in r.stdout
    assert (e / ".done.train_ae_baseline").is_file()
    assert "train_ae_baseline" in (e / "log" / "train_ae_baseline.log").read_text()
    # A rerun skips it like any finished step.
    n = len(_calls(fake))
    r = _template(fake, "--stage", "2", "--stop-stage", "7", "--side-lane", "true")
    assert r.returncode == 0 and len(_calls(fake)) == n
    assert "Stage 3: already done, skipping train_ae_baseline" in r.stdout


def test_template_side_lane_failure_stops_before_stage_7(fake: dict) -> None:
    r = _template(fake, "--stage", "2", "--stop-stage", "7", "--side-lane", "true",
                  env={"FAKE_FAIL_ARG": "model.truncation=none"})
    assert r.returncode != 0
    assert "Stage 3: train_ae_baseline failed (see" in r.stdout and "train_ae_baseline.log" in r.stdout
    assert not (fake["exp"] / ".done.train_ae_baseline").exists()
    assert not any(c.startswith(("train-classifier", "evaluate")) for c in _calls(fake))


def test_template_side_lane_trains_the_vocoder_beside_the_priors(fake: dict) -> None:
    e = fake["exp"]
    r = _template(fake, "--stage", "5", "--stop-stage", "6", "--side-lane", "true", "--vocoder", "true",
                  env={"FAKE_SLEEP_PRIOR": "1", "FAKE_SLEEP_VOCODER": "0.5"})
    assert r.returncode == 0, r.stdout + r.stderr
    calls = _calls(fake)
    vocoder = next(i for i, c in enumerate(calls) if c.startswith("train-vocoder"))
    # It started before the prior ended, on one thread, and stage 6 (which renders with it) waited for it.
    assert vocoder < calls.index("end train-prior") and "num_threads=1" in calls[vocoder]
    sample = next(i for i, c in enumerate(calls) if c.startswith("sample"))
    assert calls.index("end train-vocoder") < sample
    assert f"model.vocoder={e}/ordered/vocoder" in calls[sample]
    assert "Stage 5: train_vocoder done (side lane)" in r.stdout
    assert (e / ".done.train_vocoder").is_file() and (e / "log" / "train_vocoder.log").is_file()
    # Without the side lane the vocoder trains after the priors, in the main lane.
    fake["log"].unlink()
    r = _template(fake, "--stage", "5", "--stop-stage", "6", "--side-lane", "false", "--vocoder", "true",
                  "--exp", str(e.parent / "exp_in_turn"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert [c.split()[0] for c in _calls(fake)] == ["train-prior", "train-vocoder", "sample"]


def test_template_main_lane_failure_stops_the_side_lane(fake: dict) -> None:
    import time

    start = time.monotonic()
    r = _template(fake, "--stage", "2", "--stop-stage", "7", "--side-lane", "true",
                  env={"FAKE_FAIL": "dump-codes", "FAKE_SLEEP_BASELINE": "30"})
    assert r.returncode != 0 and "Stage 4: dump_codes failed" in r.stdout
    assert "Stopping stage 3 (train_ae_baseline, side lane" in r.stdout
    assert time.monotonic() - start < 20  # did not wait for the 30 s baseline
    assert not (fake["exp"] / ".done.train_ae_baseline").exists()


def test_template_checks_manifests_and_options(fake: dict, tmp_path: Path) -> None:
    (fake["data"] / "labels.json").unlink()
    r = _template(fake, "--stage", "2", "--stop-stage", "2")
    assert r.returncode != 0 and "labels.json not found" in r.stdout
    r = _template(fake, "--stage", "5", "--stop-stage", "5", "--priors", "gpt")
    assert r.returncode != 0 and "unknown prior 'gpt'" in r.stdout
    r = subprocess.run(["bash", str(TEMPLATE), "--stage", "2"], capture_output=True, text=True)
    assert r.returncode != 0 and "--data-dir is required" in r.stdout
    r = _template(fake, "--corpus-dir", "x")  # no data script: no corpus options
    assert r.returncode != 0 and "unknown option '--corpus-dir'" in r.stderr
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


FAKE_MAKE_DIGITS = """#!/usr/bin/env bash
# Stands in for `python local/make_digits.py --out-dir DIR ...`: a 2/2/2-line corpus.
echo "$*" >> "{log}"
while [ $# -gt 0 ]; do [ "$1" = --out-dir ] && out=$2; shift; done
mkdir -p "$out"
for s in train valid test; do printf '{{}}\\n{{}}\\n' > "$out/$s.jsonl"; done
echo '[]' > "$out/labels.json"; echo '{{}}' > "$out/meta.json"
"""


def test_tts_digits_run_sh_stages_0_to_2(fake: dict, tmp_path: Path) -> None:
    """The default recipe's run.sh end to end at the shell level: stage 0 calls
    local/make_digits.py with the corpus options, stage 1 checks and counts the
    manifests, stage 2 goes to the CLI; a rerun skips everything."""
    log = tmp_path / "python.log"
    py = tmp_path / "fake_python"
    py.write_text(FAKE_MAKE_DIGITS.format(log=log))
    py.chmod(0o755)
    data = tmp_path / "tts"
    args = ["--stop-stage", "2", "--num-clips", "20", "--nj", "1", "--data-dir", str(data),
            "--python", str(py), "--make-digits-args", "--no-progress --force",
            "--exp", str(fake["exp"]), "--cli", fake["cli"], "--config", "fast"]
    r = bash(str(_recipe("tts_digits")), *args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert log.read_text().splitlines() == [
        f"local/make_digits.py --out-dir {data} --num-clips 20 --jobs 1 --seed 0 --no-progress --force"]
    assert "Stage 1: train/valid/test = 2/2/2 clips" in r.stdout
    assert _calls(fake) == [f"train-ae exp_dir={fake['exp']}/ordered data=tts_digits "
                            f"data.manifest_dir={data} model=mel +experiment=fast"]
    r = bash(str(_recipe("tts_digits")), *args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Stage 0: already done, skipping" in r.stdout
    assert "Stage 2: already done, skipping train_ae" in r.stdout
    assert len(_calls(fake)) == 1 and len(log.read_text().splitlines()) == 1


def test_template_dry_run_writes_nothing(fake: dict) -> None:
    r = _template(fake, "--stage", "2", "--stop-stage", "7", "--dry-run", "true")
    assert r.returncode == 0, r.stderr
    assert _calls(fake) == []
    assert not fake["exp"].exists()
    assert "train-ae exp_dir=" in r.stdout and "evaluate exp_dir=" in r.stdout


def test_bash_is_available() -> None:
    assert shutil.which("bash"), "the recipes need bash"
