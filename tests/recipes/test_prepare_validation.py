"""Checks every prepare script shares (recipes/TEMPLATE/pyscripts/recipe_common.py):
labels against labels.json at preparation time, the per-reason skip summary,
and segment validation after mixdown (issue 9)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "recipes" / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402


def _rec(i: int, label) -> dict:
    return {"id": f"c{i}", "path": f"wav/c{i}.wav", "label": label}


@pytest.mark.parametrize("label, words", [(3, "label 3 outside 0..2"), (-1, "label -1 outside 0..2"),
                                          ("1", "not an integer"), (True, "not an integer")])
def test_write_manifests_refuses_labels_outside_labels_json(tmp_path, label, words):
    splits = {"train": [_rec(0, 0), _rec(1, None), _rec(2, label)], "valid": [], "test": []}
    with pytest.raises(ValueError) as info:
        rc.write_manifests(tmp_path, splits, ["a", "b", "c"])
    msg = str(info.value)
    assert f"{tmp_path / 'train.jsonl'}:3: " in msg and words in msg and "\n" not in msg
    assert not (tmp_path / "train.jsonl").exists()  # nothing half-written


def test_write_manifests_refuses_labels_without_names(tmp_path):
    with pytest.raises(ValueError, match=r"valid\.jsonl:1: label 0 given but labels\.json lists no labels"):
        rc.write_manifests(tmp_path, {"valid": [_rec(0, 0)]}, [])


def test_written_manifest_reads_back_and_bad_edit_is_caught(tmp_path):
    from anytime_audio.manifest import read_manifest

    rc.write_manifests(tmp_path, {"train": [_rec(0, 1), _rec(1, 2)]}, ["a", "b", "c"])
    assert [e["label"] for e in read_manifest(tmp_path / "train.jsonl")] == [1, 2]
    (tmp_path / "labels.json").write_text(json.dumps(["a", "b"]))  # a label name removed later
    with pytest.raises(ValueError, match=r"train\.jsonl:2: label 2 outside 0\.\.1"):
        read_manifest(tmp_path / "train.jsonl")


def test_skip_report_summarises_per_reason(tmp_path, caplog):
    report = rc.SkipReport("clips")
    report.ok()
    report.skip("a.wav", "silent (peak 0.00e+00 < 0.0001 after mixdown)")
    report.skip("b.wav", "silent (peak 1.00e-05 < 0.0001 after mixdown)")
    report.skip("c.wav", "too short (0.010 s < minimum 0.5 s)")
    with caplog.at_level(logging.WARNING, logger="recipes"):
        report.summary(tmp_path)
    assert "skipped 3 of 4 clips" in caplog.text and "silent: 2" in caplog.text
    assert "too short: 1" in caplog.text
    rows = [json.loads(line) for line in (tmp_path / "skipped.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in rows] == ["silent", "silent", "too short"]


def test_probe_audio_applies_the_minimum(tmp_path):
    from tests.helpers import bad_audio

    path = str(bad_audio.blip(tmp_path / "b.wav", seconds=0.2))
    assert rc.probe_audio(path)[3] is None
    _, duration, sr, reason = rc.probe_audio(path, min_seconds=0.5)
    assert duration is None and reason.startswith("too short (0.200 s < minimum 0.5 s")


def test_segment_job_skips_silent_segments_with_the_shared_check(tmp_path):
    from anytime_audio.audio.io import write_wav

    sr = 8000
    x = np.zeros(3 * sr, np.float32)
    x[:sr] = 0.3 * np.sin(np.arange(sr) / 3)  # only the first of three 1 s segments sounds
    src = write_wav(tmp_path / "u.wav", x, sr)
    _, written, err = rc.segment_job((str(src), str(tmp_path / "o" / "u"), sr, 1.0, 0, 0.5))
    assert err is None and [Path(p).name for p, _ in written] == ["u_0.wav"]
    x[:sr] = 0.0
    x[5] = 0.5  # loud enough as a file, but every segment past the first is silent
    write_wav(src, x, sr)
    _, written, err = rc.segment_job((str(src), str(tmp_path / "o2" / "u"), sr, 1.0, 0, 0.5))
    assert err is None and len(written) == 1
