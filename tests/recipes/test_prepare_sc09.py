"""SC09 recipe: a tiny fake Speech Commands v0.02 folder (real layout, real WAVs)."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]


def load(name: str):
    path = REPO / "recipes" / name / "local" / f"prepare_{name}.py"
    spec = importlib.util.spec_from_file_location(f"prepare_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def tone(path: Path, seconds: float, sr: int = 16000, freq: float = 440.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, 0.3 * np.sin(2 * np.pi * freq * t), sr, subtype="PCM_16")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def make_corpus(root: Path) -> Path:
    c = root / "speech_commands_v0.02"
    tone(c / "zero" / "aaaa1111_nohash_0.wav", 1.0)
    tone(c / "zero" / "aaaa1111_nohash_1.wav", 1.0)
    tone(c / "zero" / "bbbb2222_nohash_0.wav", 1.0)
    tone(c / "one" / "cccc3333_nohash_0.wav", 0.5)          # shorter than 1 s: kept
    tone(c / "one" / "aaaa1111_nohash_0.wav", 1.0)
    tone(c / "nine" / "dddd4444_nohash_0.wav", 1.0)
    tone(c / "right" / "eeee5555_nohash_0.wav", 1.0)        # not a digit: ignored
    tone(c / "five" / "ffff6666_nohash_0.wav", 1.0, sr=8000)  # wrong rate: skipped
    (c / "two").mkdir()
    (c / "two" / "9999aaaa_nohash_0.wav").write_bytes(b"RIFF\x00\x00garbage, not audio")
    (c / "validation_list.txt").write_text("zero/bbbb2222_nohash_0.wav\nright/eeee5555_nohash_0.wav\n")
    (c / "testing_list.txt").write_text("one/cccc3333_nohash_0.wav\nnine/dddd4444_nohash_0.wav\n")
    return c


def test_prepare_sc09(tmp_path: Path, caplog) -> None:
    mod = load("sc09")
    corpus = make_corpus(tmp_path)
    out = tmp_path / "data" / "sc09"
    with caplog.at_level(logging.WARNING):
        sizes = mod.prepare_sc09(corpus, out, nj=2)
    assert sizes == {"train": 3, "valid": 1, "test": 2}
    assert json.loads((out / "labels.json").read_text()) == list(mod.DIGITS)

    recs = {s: read(out / f"{s}.jsonl") for s in ("train", "valid", "test")}
    assert [r["id"] for r in recs["train"]] == ["one_aaaa1111_nohash_0", "zero_aaaa1111_nohash_0",
                                                "zero_aaaa1111_nohash_1"]
    assert [r["id"] for r in recs["valid"]] == ["zero_bbbb2222_nohash_0"]
    assert [r["id"] for r in recs["test"]] == ["nine_dddd4444_nohash_0", "one_cccc3333_nohash_0"]
    for split in recs.values():
        for r in split:
            assert set(r) == {"id", "path", "duration", "sample_rate", "label", "label_name",
                              "speaker"}
            assert r["sample_rate"] == 16000
            assert r["label"] == mod.DIGITS.index(r["label_name"])
            assert r["speaker"] == r["id"].split("_", 1)[1].split("_nohash_")[0]
            p = Path(r["path"])
            assert p.is_absolute() and p.is_file()  # the corpus lies outside the data dir
    short = next(r for r in recs["test"] if r["id"] == "one_cccc3333_nohash_0")
    assert short["duration"] == 0.5 and short["label"] == 1 and short["label_name"] == "one"

    skipped = read(out / "skipped.jsonl")
    assert sorted(s["item"] for s in skipped) == ["five/ffff6666_nohash_0.wav",
                                                  "two/9999aaaa_nohash_0.wav"]
    assert any("8000" in s["reason"] for s in skipped)
    assert "skipped 2 of 8 clips" in caplog.text


def test_prepare_sc09_cli_and_missing_lists(tmp_path: Path) -> None:
    mod = load("sc09")
    corpus = make_corpus(tmp_path)
    mod.main(["prepare", "--corpus-dir", str(corpus), "--output-dir", str(tmp_path / "o")])
    assert len(read(tmp_path / "o" / "train.jsonl")) == 3
    (corpus / "testing_list.txt").unlink()
    try:
        mod.prepare_sc09(corpus, tmp_path / "o2")
    except FileNotFoundError as e:
        assert "testing_list.txt" in str(e)
    else:
        raise AssertionError("a corpus without testing_list.txt must be refused")


def test_prepare_sc09_rejects_bad_audio_after_mixdown(tmp_path: Path, caplog) -> None:
    """Issue 9: every kind of bad audio is skipped with its reason, and a
    float clip outside [-1, 1] is kept (it is normalised when loaded)."""
    from tests.helpers import bad_audio

    mod = load("sc09")
    corpus = make_corpus(tmp_path)
    bad_audio.anti_phase_stereo(corpus / "three" / "a1a1a1a1_nohash_0.wav")
    bad_audio.truncated(corpus / "three" / "b2b2b2b2_nohash_0.wav")
    bad_audio.blip(corpus / "three" / "c3c3c3c3_nohash_0.wav")
    bad_audio.loud_float(corpus / "three" / "d4d4d4d4_nohash_0.wav")
    out = tmp_path / "data"
    with caplog.at_level(logging.WARNING):
        sizes = mod.prepare_sc09(corpus, out)
    assert sizes == {"train": 4, "valid": 1, "test": 2}
    skipped = {s["item"]: s["reason"] for s in read(out / "skipped.jsonl")}
    assert skipped["three/a1a1a1a1_nohash_0.wav"].startswith("silent")
    assert skipped["three/b2b2b2b2_nohash_0.wav"].startswith("truncated (header says 1.000 s, data holds 0.333 s")
    assert skipped["three/c3c3c3c3_nohash_0.wav"].startswith("too short (0.010 s < minimum 0.5 s")
    assert "three/d4d4d4d4_nohash_0.wav" not in skipped
    assert "d4d4d4d4_nohash_0.wav: peak 25 outside [-1, 1]" in caplog.text
    assert "silent: 1" in caplog.text and "truncated: 1" in caplog.text  # per-reason summary

    # the minimum is an option: 0.6 s also drops the 0.5 s clip
    mod.main(["prepare", "--corpus-dir", str(corpus), "--output-dir", str(tmp_path / "o"),
              "--min-seconds", "0.6"])
    assert "one/cccc3333_nohash_0.wav" in {s["item"] for s in read(tmp_path / "o" / "skipped.jsonl")}
