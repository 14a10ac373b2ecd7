"""NSynth recipe: a tiny fake nsynth-{train,valid,test} (examples.json + audio/*.wav)."""

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


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


FAMILIES = ["bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string",
            "synth_lead", "vocal"]
SOURCES = ["acoustic", "electronic", "synthetic"]


def note(family: int, source: int, inst: int, pitch: int) -> tuple[str, dict]:
    inst_str = f"{FAMILIES[family]}_{SOURCES[source]}_{inst:03d}"
    key = f"{inst_str}-{pitch:03d}-100"
    return key, {
        "note": inst * 1000 + pitch, "note_str": key, "instrument": inst, "instrument_str": inst_str,
        "pitch": pitch, "velocity": 100, "sample_rate": 16000, "qualities": [0] * 10,
        "qualities_str": [], "instrument_family": family, "instrument_family_str": FAMILIES[family],
        "instrument_source": source, "instrument_source_str": SOURCES[source],
    }


def make_corpus(root: Path) -> Path:
    plan = {
        "train": [note(0, 2, 1, 40), note(0, 2, 1, 52), note(3, 0, 2, 60), note(9, 2, 3, 72),
                  note(6, 1, 4, 110)],
        "valid": [note(3, 0, 5, 60), note(10, 0, 6, 64)],
        "test": [note(2, 0, 7, 70), note(4, 1, 8, 48)],
    }
    for split, notes in plan.items():
        d = root / f"nsynth-{split}"
        (d / "audio").mkdir(parents=True)
        for i, (key, e) in enumerate(notes):
            t = np.arange(64000) / 16000
            sf.write(d / "audio" / f"{key}.wav", 0.5 * np.sin(2 * np.pi * (100 + 20 * i) * t),
                     16000, subtype="PCM_16")
        examples = dict(notes)
        if split == "train":  # a listed note whose WAV is missing, and a corrupt WAV
            k, e = note(1, 0, 9, 50)
            examples[k] = e
            k, e = note(7, 0, 10, 55)
            examples[k] = e
            (d / "audio" / f"{k}.wav").write_bytes(b"RIFF$\x00\x00\x00WAVEjunk")
        (d / "examples.json").write_text(json.dumps(examples))
    return root


def test_prepare_nsynth(tmp_path: Path, caplog) -> None:
    mod = load("nsynth")
    corpus = make_corpus(tmp_path / "nsynth")
    out = tmp_path / "data" / "nsynth"
    with caplog.at_level(logging.WARNING):
        sizes = mod.prepare_nsynth(corpus, out, nj=1)
    assert sizes == {"train": 5, "valid": 2, "test": 2}
    assert json.loads((out / "labels.json").read_text()) == FAMILIES
    for split in ("train", "valid", "test"):
        for r in read(out / f"{split}.jsonl"):
            fam, src, _ = r["speaker"].rsplit("_", 2)
            assert r["label_name"] == fam and FAMILIES[r["label"]] == fam
            assert r["instrument_source"] == src
            assert r["id"].startswith(r["speaker"]) and r["pitch"] == int(r["id"].split("-")[1])
            assert r["duration"] == 4.0 and r["sample_rate"] == 16000
            assert Path(r["path"]).is_file() and f"nsynth-{split}" in r["path"]
    skipped = {s["item"] for s in read(out / "skipped.jsonl")}
    assert skipped == {"nsynth-train/audio/brass_acoustic_009-050-100.wav",
                       "nsynth-train/audio/reed_acoustic_010-055-100.wav"}
    assert "skipped 2 of 11 notes" in caplog.text


def test_prepare_nsynth_filters(tmp_path: Path) -> None:
    mod = load("nsynth")
    corpus = make_corpus(tmp_path / "nsynth")
    out = tmp_path / "f"
    mod.main(["prepare", "--corpus-dir", str(corpus), "--output-dir", str(out),
              "--min-pitch", "45", "--max-pitch", "108", "--sources", "acoustic,synthetic"])
    train = read(out / "train.jsonl")
    assert [r["pitch"] for r in train] == [52, 60, 72]  # 40 too low, 110 too high
    test = read(out / "test.jsonl")
    assert [r["instrument_source"] for r in test] == ["acoustic"]  # the electronic note dropped
    sizes = mod.prepare_nsynth(corpus, tmp_path / "cap", max_per_split=1)
    # one note drawn per split (the train draw may be one of the two bad ones: then skipped)
    assert sizes["valid"] == sizes["test"] == 1 and sizes["train"] <= 1
    again = mod.prepare_nsynth(corpus, tmp_path / "cap2", max_per_split=1)
    assert again == sizes and read(tmp_path / "cap" / "valid.jsonl") == read(tmp_path / "cap2" / "valid.jsonl")


def test_prepare_nsynth_rejects_bad_audio(tmp_path: Path) -> None:
    """Issue 9: truncated, cancelling-stereo and far-too-short notes are skipped."""
    from tests.helpers import bad_audio

    mod = load("nsynth")
    corpus = make_corpus(tmp_path / "nsynth")
    folder = corpus / "nsynth-test"
    examples = json.loads((folder / "examples.json").read_text())
    makers = {40: bad_audio.truncated, 41: bad_audio.anti_phase_stereo, 42: bad_audio.blip}
    for pitch, make in makers.items():
        key, e = note(5, 0, 11, pitch)
        examples[key] = e
        make(folder / "audio" / f"{key}.wav", **({"seconds": 4.0} if pitch != 42 else {}))
    (folder / "examples.json").write_text(json.dumps(examples))
    sizes = mod.prepare_nsynth(corpus, tmp_path / "out")
    assert sizes["test"] == 2
    skipped = {s["item"].split("-")[-2]: s["reason"] for s in read(tmp_path / "out" / "skipped.jsonl")}
    assert skipped["040"].startswith("truncated (header says 4.000 s")
    assert skipped["041"].startswith("silent")
    assert skipped["042"].startswith("too short (0.010 s < minimum 2 s")
