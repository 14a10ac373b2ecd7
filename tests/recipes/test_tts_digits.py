"""Tests for the offline spoken-digits generator (recipes/tts_digits/local/make_digits.py).

espeak-ng is required (CI installs it): without it these tests fail with the
install command instead of skipping, so a missing corpus tool is never silent.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from anytime_audio.audio.io import audio_info, load_audio

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "recipes" / "tts_digits" / "local" / "make_digits.py"
MODULE_NAME = "tts_digits_make_digits"  # registered so pool workers can unpickle tasks


def _load_module():
    if MODULE_NAME in sys.modules:
        return sys.modules[MODULE_NAME]
    spec = importlib.util.spec_from_file_location(MODULE_NAME, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def md():
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed; install it with `apt-get install espeak-ng`")
    return _load_module()


@pytest.fixture(scope="module")
def tiny(md, tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    meta = md.make_digits(out, num_clips=40, jobs=2, seed=0, progress=False)
    return out, meta


def _rows(out: Path) -> dict[str, list[dict]]:
    return {s: [json.loads(line) for line in (out / f"{s}.jsonl").open()] for s in ("train", "valid", "test")}


def test_tiny_corpus_layout_and_clips(md, tiny):
    out, meta = tiny
    assert not meta["skipped"] and meta["written"] == 40 and meta["failed"] == []
    assert json.loads((out / "labels.json").read_text()) == list(md.LABELS)
    rows = _rows(out)
    assert {s: len(r) for s, r in rows.items()} == {"train": 32, "valid": 4, "test": 4}
    labels = Counter()
    for split_rows in rows.values():
        for row in split_rows:
            assert set(row) == {"id", "path", "duration", "sample_rate", "label", "label_name", "speaker"}
            assert not Path(row["path"]).is_absolute() and row["path"].startswith("wav/")
            assert row["sample_rate"] == 16000 and row["duration"] == 1.0
            assert md.LABELS[row["label"]] == row["label_name"]
            path = out / row["path"]
            info = audio_info(path)
            assert (info.frames, info.sample_rate, info.channels) == (16000, 16000, 1)
            audio, _ = load_audio(path)  # raises if silent or non-finite
            assert np.sqrt(np.mean(audio**2)) > 1e-3
            labels[row["label_name"]] += 1
    assert len(labels) >= 8  # digits cycle over speakers


def test_split_is_by_speaker(tiny):
    rows = _rows(tiny[0])
    speakers = {s: {r["speaker"] for r in split_rows} for s, split_rows in rows.items()}
    assert not speakers["train"] & speakers["test"]
    assert not speakers["train"] & speakers["valid"]
    assert not speakers["valid"] & speakers["test"]


def test_second_run_is_skipped(md, tiny, capsys):
    out, meta = tiny
    before = (out / "train.jsonl").stat().st_mtime_ns
    again = md.make_digits(out, num_clips=40, jobs=2, seed=0, progress=False)
    assert again["skipped"] and again["written"] == meta["written"]
    assert md.main(["--out-dir", str(out), "--num-clips", "40", "--jobs", "2", "--no-progress"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert (out / "train.jsonl").stat().st_mtime_ns == before
    # a different request is not mistaken for a finished one
    assert not md.is_complete(out, num_clips=41, seed=0)
    assert not md.is_complete(out, num_clips=40, seed=1)


def test_output_does_not_depend_on_jobs(md, tiny, tmp_path):
    out, _ = tiny
    md.make_digits(tmp_path, num_clips=40, jobs=1, seed=0, progress=False)
    for row in _rows(out)["test"] + _rows(out)["train"][:5]:
        assert (tmp_path / row["path"]).read_bytes() == (out / row["path"]).read_bytes(), row["id"]


def test_full_plan_split_and_balance(md, tmp_path):
    tasks = md.plan_clips(2400, tmp_path, seed=0)
    by_split = {s: [t for t in tasks if t.split == s] for s in ("train", "valid", "test")}
    assert [len(by_split[s]) for s in ("train", "valid", "test")] == [1920, 240, 240]
    spk = {s: {t.speaker for t in ts} for s, ts in by_split.items()}
    assert not spk["train"] & (spk["valid"] | spk["test"]) and not spk["valid"] & spk["test"]
    counts = Counter(t.label for t in tasks)
    assert max(counts.values()) - min(counts.values()) <= 0.1 * 240
    assert len({t.clip_id for t in tasks}) == 2400
    # the speaker split does not depend on how many clips are asked for
    small = md.plan_clips(40, tmp_path, seed=0)
    assert all(t.speaker in spk[t.split] for t in small)


def _synth_seven(backend):
    return _load_module().get_synth(backend)("seven", "en-us+m3", 50, 170, 40)


def test_cli_backend_matches_library(md, tmp_path):
    # in a forked child: this test process must not initialise espeak itself
    # (make_digits' forked workers would inherit that state)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        lib_audio, sr_lib = pool.apply(_synth_seven, ("lib",))
    cli_audio, sr_cli = _synth_seven("cli")
    assert sr_lib == sr_cli
    # a fresh process's first word is the same samples either way
    np.testing.assert_array_equal(lib_audio, cli_audio)
    meta = md.make_digits(tmp_path, num_clips=10, jobs=2, seed=3, progress=False, backend="cli")
    assert meta["written"] == 10


def test_failing_clips_are_reported_and_skipped(md, tmp_path, monkeypatch):
    real = md.render_word

    def fail_on_seven(task, synth=None):
        if md.LABELS[task.label] == "seven":
            raise ValueError("word lasts 1.20 s > 1 s")
        return real(task, synth)

    monkeypatch.setattr(md, "render_word", fail_on_seven)  # inherited by forked workers
    meta = md.make_digits(tmp_path, num_clips=20, jobs=2, seed=0, progress=False)
    assert meta["failed"] and all("> 1 s" in msg for msg in meta["failed"])
    assert meta["written"] == 20 - len(meta["failed"])
    names = [r["label_name"] for rows in _rows(tmp_path).values() for r in rows]
    assert len(names) == meta["written"] and "seven" not in names


def test_too_long_word_raises(md):
    task = md.plan_clips(1, "/tmp", seed=0)[0]

    def slow_synth(text, voice, pitch, speed, amplitude=40):
        return np.full(int(1.5 * 22050), 0.1, np.float32), 22050

    with pytest.raises(ValueError, match="> 1 s"):
        md.render_word(task, slow_synth)


def test_missing_espeak_gives_install_hint(md, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(md.shutil, "which", lambda name: None)
    with pytest.raises(md.EspeakNotFoundError, match="apt-get install espeak-ng"):
        md.make_digits(tmp_path, num_clips=4, progress=False)
    assert md.main(["--out-dir", str(tmp_path), "--num-clips", "4"]) == 2
    assert "apt-get install espeak-ng" in capsys.readouterr().err
