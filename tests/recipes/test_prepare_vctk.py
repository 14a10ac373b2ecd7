"""VCTK recipe: a tiny fake VCTK-Corpus-0.92 (48 kHz FLAC, txt/) in its real layout."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
SPEAKERS = ["p225", "p226", "p227", "p228", "p229"]


def load(name: str):
    path = REPO / "recipes" / name / "local" / f"prepare_{name}.py"
    spec = importlib.util.spec_from_file_location(f"prepare_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def flac(path: Path, seconds: float, sr: int = 48000, freq: float = 220.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, 0.3 * np.sin(2 * np.pi * freq * t), sr, format="FLAC", subtype="PCM_16")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def make_corpus(root: Path) -> Path:
    c = root / "VCTK-Corpus-0.92"
    for i, spk in enumerate(SPEAKERS):
        for u, seconds in ((1, 2.5), (2, 4.5)):  # 1 and 2 clips of 2 s
            flac(c / "wav48_silence_trimmed" / spk / f"{spk}_{u:03d}_mic1.flac", seconds,
                 freq=200.0 + 50 * i)
            flac(c / "wav48_silence_trimmed" / spk / f"{spk}_{u:03d}_mic2.flac", 0.5)  # other mic
            (c / "txt" / spk).mkdir(parents=True, exist_ok=True)
            (c / "txt" / spk / f"{spk}_{u:03d}.txt").write_text(f"Sentence {u} of {spk}.\n")
    # a corrupt file and a too-short one: reported and skipped
    (c / "wav48_silence_trimmed" / "p229" / "p229_003_mic1.flac").write_bytes(b"fLaC broken")
    flac(c / "wav48_silence_trimmed" / "p229" / "p229_004_mic1.flac", 0.4)
    (c / "speaker-info.txt").write_text("ID  AGE  GENDER  ACCENTS\n")
    return c


def test_prepare_vctk_split_by_speaker(tmp_path: Path, caplog) -> None:
    mod = load("vctk")
    out = tmp_path / "data" / "vctk"
    with caplog.at_level(logging.WARNING):
        sizes = mod.prepare_vctk(make_corpus(tmp_path), out, nj=1)
    assert sum(sizes.values()) == 5 * 3
    assert json.loads((out / "labels.json").read_text()) == []
    spk_of_split = {}
    for split in ("train", "valid", "test"):
        recs = read(out / f"{split}.jsonl")
        assert recs, f"{split} is empty"
        spk_of_split[split] = {r["speaker"] for r in recs}
        for r in recs:
            assert r["label"] is None and r["label_name"] is None
            assert r["sample_rate"] == 16000 and r["duration"] == 2.0
            assert not Path(r["path"]).is_absolute()  # inside the data dir: relative
            audio, sr = sf.read(out / r["path"])
            assert sr == 16000 and audio.shape == (32000,)
            assert r["text"].startswith("Sentence ")
    # speaker-disjoint splits covering every speaker
    assert not spk_of_split["train"] & spk_of_split["valid"]
    assert not spk_of_split["train"] & spk_of_split["test"]
    assert not spk_of_split["valid"] & spk_of_split["test"]
    assert set().union(*spk_of_split.values()) == set(SPEAKERS)
    skipped = {s["item"]: s["reason"] for s in read(out / "skipped.jsonl")}
    assert set(skipped) == {"p229/p229_003_mic1.flac", "p229/p229_004_mic1.flac"}
    assert "too short" in skipped["p229/p229_004_mic1.flac"]
    assert "skipped 2 of 12 utterances" in caplog.text


def test_prepare_vctk_speaker_labels(tmp_path: Path) -> None:
    mod = load("vctk")
    corpus = make_corpus(tmp_path)
    out = tmp_path / "spk"
    mod.main(["prepare", "--corpus-dir", str(corpus), "--output-dir", str(out),
              "--speaker-labels", "true", "--max-segments", "1"])
    assert json.loads((out / "labels.json").read_text()) == SPEAKERS
    recs = [r for s in ("train", "valid", "test") for r in read(out / f"{s}.jsonl")]
    assert len(recs) == 10  # one clip per utterance
    for r in recs:
        assert r["label_name"] == r["speaker"] and SPEAKERS[r["label"]] == r["speaker"]
