"""GM notes recipe: render a few real notes with fluidsynth, check MIDI bytes,
splits and the report-and-skip of bad WAVs."""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
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


def test_midi_bytes_are_a_valid_single_note_file() -> None:
    mod = load("gm_notes")
    b = mod.midi_note_bytes(program=40, pitch=69, velocity=100, note_seconds=3.0, total_seconds=4.0)
    assert b[:4] == b"MThd" and struct.unpack(">IHHH", b[4:14]) == (6, 0, 1, 480)
    assert b[14:18] == b"MTrk" and struct.unpack(">I", b[18:22])[0] == len(b) - 22
    track = b[22:]
    assert track[:3] == b"\x00\xc0\x28"              # program change 40 on channel 0
    assert track[3:7] == b"\x00\x90\x45\x64"         # note on A4, velocity 100
    assert track[7:9] == b"\x96\x40"                 # delta 2880 ticks = 3 s at 120 bpm
    assert track[9:12] == b"\x80\x45\x00"            # note off
    assert track[12:] == b"\x87\x40\xff\x2f\x00"     # 960 ticks later: end of track
    with pytest.raises(ValueError):
        mod.midi_note_bytes(128, 60, 100, 1.0, 2.0)


def test_render_and_prepare_three_notes(tmp_path: Path) -> None:
    if shutil.which("fluidsynth") is None:
        pytest.fail("fluidsynth is not installed: apt-get install fluidsynth fluid-soundfont-gm")
    mod = load("gm_notes")
    if not Path(mod.DEFAULT_SOUNDFONT).is_file():
        pytest.fail(f"{mod.DEFAULT_SOUNDFONT} missing: apt-get install fluid-soundfont-gm")
    corpus = tmp_path / "gm"
    mod.render_gm_notes(corpus, programs=(0, 24, 40), pitches=(60,), nj=2)
    index = read(corpus / "notes.jsonl")
    assert [(n["program"], n["family"], n["pitch"]) for n in index] == [(0, 0, 60), (24, 3, 60),
                                                                        (40, 5, 60)]
    for n in index:
        audio, sr = sf.read(corpus / n["path"])
        assert sr == 16000 and audio.ndim == 1 and len(audio) == 64000
        assert np.abs(audio[:32000]).max() > 0.1  # the note sounds during the first seconds

    out = tmp_path / "data"
    sizes = mod.prepare_gm_notes(corpus, out)
    assert sum(sizes.values()) == 3
    labels = json.loads((out / "labels.json").read_text())
    assert labels == list(mod.FAMILIES) and len(labels) == 16
    assert labels[0] == "piano" and labels[3] == "guitar" and labels[5] == "strings"
    recs = [r for s in ("train", "valid", "test") for r in read(out / f"{s}.jsonl")]
    for r in recs:
        assert r["label"] == r["program"] // 8 and r["label_name"] == labels[r["label"]]
        assert r["pitch"] == 60 and r["duration"] == 4.0 and r["sample_rate"] == 16000
        assert Path(r["path"]).is_file()


def _fake_corpus(root: Path) -> Path:
    """8 piano programs x 2 pitches and 8 organ programs x 1 pitch, as if rendered (4 s)."""
    index = []
    t = np.arange(64000) / 16000
    for program in list(range(0, 8)) + list(range(16, 24)):
        for pitch in ((48, 60) if program < 8 else (55,)):
            nid = f"gm{program:03d}_p{pitch:03d}_v100"
            path = root / "wav" / f"{nid}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, 0.5 * np.sin(2 * np.pi * 3 * pitch * t), 16000, subtype="PCM_16")
            index.append({"id": nid, "path": f"wav/{nid}.wav", "program": program,
                          "family": program // 8, "pitch": pitch, "velocity": 100})
    (root / "wav" / "gm017_p055_v100.wav").write_bytes(b"not a wav")   # corrupt
    sf.write(root / "wav" / "gm018_p055_v100.wav", np.zeros(64000), 16000)  # silent
    sf.write(root / "wav" / "gm019_p055_v100.wav", np.ones(16000) * 0.5, 16000)  # 1 s < 2 s minimum
    (root / "notes.jsonl").write_text("".join(json.dumps(n) + "\n" for n in index))
    return root


def test_prepare_holds_out_programs_and_skips_bad_wavs(tmp_path: Path, caplog) -> None:
    mod = load("gm_notes")
    corpus = _fake_corpus(tmp_path / "gm")
    out = tmp_path / "data"
    with caplog.at_level(logging.WARNING):
        sizes = mod.prepare_gm_notes(corpus, out, split_by="program")
    assert sum(sizes.values()) == 21
    assert json.loads((out / "labels.json").read_text()) == list(mod.FAMILIES)
    progs = {s: {r["program"] for r in read(out / f"{s}.jsonl")} for s in ("train", "valid", "test")}
    assert not progs["train"] & progs["valid"] and not progs["train"] & progs["test"]
    for s in ("valid", "test"):  # one held-out program per family (organ 17-19 have no good note)
        assert len({p for p in progs[s] if p < 8}) == 1
        assert len({p for p in progs[s] if p >= 16}) <= 1
    assert len(progs["train"]) >= 6 + 3
    recs = [r for s in ("train", "valid", "test") for r in read(out / f"{s}.jsonl")]
    assert {r["label"] for r in recs if r["program"] < 8} == {0}
    assert {r["label"] for r in recs if r["program"] >= 16} == {2}
    skipped = {s["item"]: s["reason"] for s in read(out / "skipped.jsonl")}
    assert set(skipped) == {"wav/gm017_p055_v100.wav", "wav/gm018_p055_v100.wav",
                            "wav/gm019_p055_v100.wav"}
    assert "silent" in skipped["wav/gm018_p055_v100.wav"]
    assert skipped["wav/gm019_p055_v100.wav"].startswith("too short (1.000 s < minimum 2 s")
    assert "skipped 3 of 24 notes" in caplog.text

    sizes = mod.prepare_gm_notes(corpus, tmp_path / "by_note", split_by="note")
    assert sum(sizes.values()) == 21 and sizes["valid"] > 0 and sizes["test"] > 0
