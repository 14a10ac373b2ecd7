"""LJSpeech recipe: a tiny fake LJSpeech-1.1 (metadata.csv + 22.05 kHz wavs/)."""

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


def wav(path: Path, seconds: float, sr: int = 22050) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, 0.3 * np.sin(2 * np.pi * 180.0 * t), sr, subtype="PCM_16")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_prepare_ljspeech(tmp_path: Path, caplog) -> None:
    mod = load("ljspeech")
    c = tmp_path / "LJSpeech-1.1"
    ids = [f"LJ001-{i:04d}" for i in range(1, 11)]
    lines = []
    for i, utt in enumerate(ids):
        lines.append(f"{utt}|Raw text {i}, 1st.|Raw text {i}, first.")
        if utt == "LJ001-0009":
            (c / "wavs").mkdir(parents=True, exist_ok=True)
            (c / "wavs" / f"{utt}.wav").write_bytes(b"RIFF....WAVEfmt corrupt")
        elif utt != "LJ001-0010":  # 0010 is listed but missing
            wav(c / "wavs" / f"{utt}.wav", 4.5 if i % 2 else 2.2)
    (c / "metadata.csv").write_text("\n".join(lines) + "\n")

    out = tmp_path / "data" / "ljspeech"
    with caplog.at_level(logging.WARNING):
        sizes = mod.prepare_ljspeech(c, out, fractions=(0.6, 0.2, 0.2))
    # 8 good utterances: 4 x 2.2 s -> 1 clip, 4 x 4.5 s -> 2 clips
    assert sum(sizes.values()) == 12
    assert all(sizes[s] > 0 for s in ("train", "valid", "test"))
    assert json.loads((out / "labels.json").read_text()) == []
    utt_split = {}
    for split in ("train", "valid", "test"):
        for r in read(out / f"{split}.jsonl"):
            utt = r["id"].rsplit("_", 1)[0]
            assert utt_split.setdefault(utt, split) == split, "an utterance spans two splits"
            assert r["speaker"] == "LJ" and r["label"] is None
            assert r["text"] == f"Raw text {ids.index(utt)}, first."  # the normalized column
            audio, sr = sf.read(out / r["path"])
            assert sr == 16000 and r["sample_rate"] == 16000 and len(audio) == 32000
    skipped = {s["item"] for s in read(out / "skipped.jsonl")}
    assert skipped == {"wavs/LJ001-0009.wav", "wavs/LJ001-0010.wav"}
    assert "skipped 2 of 10 utterances" in caplog.text

    # deterministic: the same split again
    out2 = tmp_path / "again"
    mod.prepare_ljspeech(c, out2, fractions=(0.6, 0.2, 0.2))
    for split in ("train", "valid", "test"):
        assert [r["id"] for r in read(out / f"{split}.jsonl")] == \
               [r["id"] for r in read(out2 / f"{split}.jsonl")]


def test_prepare_ljspeech_rejects_truncated_and_cancelling_audio(tmp_path: Path) -> None:
    """Issue 9: a truncated WAV (header 4.5 s, data 1.5 s) used to become a
    short clip; anti-phase stereo and a 10 ms clip must be skipped too."""
    from tests.helpers import bad_audio

    mod = load("ljspeech")
    c = tmp_path / "LJSpeech-1.1"
    wav(c / "wavs" / "LJ002-0001.wav", 2.2)
    bad_audio.truncated(c / "wavs" / "LJ002-0002.wav", seconds=4.5, sr=22050)
    bad_audio.anti_phase_stereo(c / "wavs" / "LJ002-0003.wav", seconds=2.2, sr=22050)
    bad_audio.blip(c / "wavs" / "LJ002-0004.wav", sr=22050)
    (c / "metadata.csv").write_text("".join(f"LJ002-000{i}|t|t\n" for i in range(1, 5)))
    out = tmp_path / "out"
    sizes = mod.prepare_ljspeech(c, out, fractions=(1.0, 0.0, 0.0))
    assert sizes == {"train": 1, "valid": 0, "test": 0}
    skipped = {s["item"]: s["reason"] for s in read(out / "skipped.jsonl")}
    assert skipped["wavs/LJ002-0002.wav"].startswith("truncated (header says 4.500 s, data holds 1.500 s")
    assert skipped["wavs/LJ002-0003.wav"].startswith("silent")
    assert skipped["wavs/LJ002-0004.wav"].startswith("too short")
