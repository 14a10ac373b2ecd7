"""Asterisk prompts recipe on a tiny fake sounds tree in the Debian packages' layout
(``<sounds>/<lang>_<REGION>_<f|m>_<Name>/{*.wav, digits/, silence/}``, WAVs as the
-wav packages ship them); nothing is installed and ffmpeg is only needed by the
test of the G.722 path."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
SR = 16000
SEG = 2 * SR
LEAD = 0.6  # seconds of silence before each burst
# speech seconds of each prompt -> clips: trimmed = speech + 2 x 50 ms margin, cut in 2 s,
# a tail of at least 1 s is padded, a shorter one dropped.
PROMPTS = {"a": 2.3, "b": 4.5, "c": 1.5, "d": 5.0, "e": 3.0, "f": 2.2}
CLIPS = {"a": 1, "b": 2, "c": 1, "d": 3, "e": 2, "f": 1}
SETS = {"en_US_f_Allison": 220.0, "it_IT_m_Carlo": 150.0, "fr_CA_f_June": 300.0}


@pytest.fixture(scope="module")
def mod():
    path = REPO / "recipes" / "prompts" / "local" / "prepare_prompts.py"
    spec = importlib.util.spec_from_file_location("prepare_prompts", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def burst(seconds: float, freq: float, sr: int = SR, lead: float = LEAD, tail: float = 0.8) -> np.ndarray:
    """A tone with a little noise (a voice stand-in) between stretches of silence."""
    rng = np.random.default_rng(int(freq * 10 + seconds * 100))
    t = np.arange(int(seconds * sr)) / sr
    tone = 0.4 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(len(t))
    return np.concatenate([np.zeros(int(lead * sr)), tone, np.zeros(int(tail * sr))])


def wav(path: Path, audio: np.ndarray, sr: int = SR) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, sr, subtype="PCM_16")


def make_sounds(root: Path) -> Path:
    sounds = root / "sounds"
    for name, freq in SETS.items():
        for stem, seconds in PROMPTS.items():
            wav(sounds / name / f"{stem}.wav", burst(seconds, freq))
        wav(sounds / name / "digits" / "1.wav", burst(0.5, freq))   # too short: counted, not a clip
        wav(sounds / name / "silence" / "1.wav", np.zeros(SR))      # not speech: left out
        wav(sounds / name / "beep.wav", burst(2.5, 1000.0))         # a tone: left out
    # an 8 kHz prompt (resampled) and a corrupt one (reported in skipped.jsonl)
    wav(sounds / "it_IT_m_Carlo" / "g.wav", burst(2.5, 150.0, sr=8000), sr=8000)
    (sounds / "it_IT_m_Carlo" / "h.wav").write_bytes(b"RIFF not really")
    return sounds


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


ALL_SPLITS = ("train", "valid", "test", "test_seen_speakers")


@pytest.fixture(scope="module")
def prepared(mod, tmp_path_factory):
    root = tmp_path_factory.mktemp("prompts")
    sounds = make_sounds(root)
    out = root / "data"
    sizes = mod.prepare_prompts(sounds, out, nj=1)
    return sounds, out, sizes, {s: read(out / f"{s}.jsonl") for s in ALL_SPLITS}


def test_held_out_speaker_is_the_test_split_and_no_file_straddles(prepared) -> None:
    _, out, sizes, rows = prepared
    assert {r["speaker"] for r in rows["test"]} == {"june"}
    for split in ("train", "valid", "test_seen_speakers"):
        assert rows[split], f"{split} is empty"
        assert "june" not in {r["speaker"] for r in rows[split]}
    assert {r["speaker"] for r in rows["train"]} == {"allison", "carlo"}
    split_of: dict[str, set[str]] = {}
    for split, recs in rows.items():
        for r in recs:
            split_of.setdefault(r["source"], set()).add(split)
    assert all(len(s) == 1 for s in split_of.values()), {k: v for k, v in split_of.items() if len(v) > 1}
    # every June prompt is in test, with all its clips; silence/, beep and 0.5 s digits are not clips
    assert len(rows["test"]) == sum(CLIPS.values())
    assert not [k for k in split_of if "silence" in k or "beep" in k or "digits" in k]
    assert sizes == {s: len(rows[s]) for s in ALL_SPLITS}
    assert json.loads((out / "labels.json").read_text()) == []
    meta = json.loads((out / "meta.json").read_text())
    assert meta["sets"]["fr_CA_f_June"]["too_short"] == 1
    assert meta["sets"]["fr_CA_f_June"]["splits"]["test"]["clips"] == sum(CLIPS.values())
    skipped = read(out / "skipped.jsonl")
    assert [s["item"] for s in skipped] == ["it_IT_m_Carlo/h.wav"]


def test_clips_are_exact_trimmed_and_padded(prepared) -> None:
    _, out, _, rows = prepared
    recs = [r for split in rows.values() for r in split]
    by_source: dict[str, list[dict]] = {}
    for r in recs:
        assert r["duration"] == 2.0 and r["sample_rate"] == SR and r["label"] is None
        assert not Path(r["path"]).is_absolute()
        by_source.setdefault(r["source"], []).append(r)
    for name in SETS:
        for stem, n in CLIPS.items():
            assert len(by_source[f"{name}/{stem}.wav"]) == n, (name, stem)
    assert len(by_source["it_IT_m_Carlo/g.wav"]) == 1  # the 8 kHz prompt, resampled
    for r in recs:
        audio, sr = sf.read(out / r["path"])
        assert sr == SR and audio.shape == (SEG,)
    # leading silence trimmed: the first clip starts with the burst (50 ms margin), not 0.6 s of zeros
    first = sorted(by_source["fr_CA_f_June/a.wav"], key=lambda r: r["offset"])[0]
    audio, _ = sf.read(out / first["path"])
    assert first["offset"] == 0.0 and np.sqrt(np.mean(audio[800:1600] ** 2)) > 0.1
    assert np.abs(audio[:400]).max() < 0.01  # what is left of the silence is the margin
    # the 1.5 s prompt: 1.6 s of it, then zero padding to 2 s
    (short,) = by_source["fr_CA_f_June/c.wav"]
    audio, _ = sf.read(out / short["path"])
    assert short["speech_seconds"] == pytest.approx(1.6, abs=0.011)
    assert np.all(audio[int(1.62 * SR):] == 0) and np.abs(audio[int(1.5 * SR):int(1.54 * SR)]).max() > 0.1
    # the 5 s prompt: clips at 0, 2 and 4 s, the last a padded 1.1 s tail
    tails = sorted(by_source["en_US_f_Allison/d.wav"], key=lambda r: r["offset"])
    assert [r["offset"] for r in tails] == [0.0, 2.0, 4.0]
    assert tails[-1]["speech_seconds"] == pytest.approx(1.1, abs=0.011)


def test_trim_silence_keeps_the_margin(mod) -> None:
    audio = burst(1.0, 200.0, lead=0.5, tail=0.7)
    trimmed, start = mod.trim_silence(audio, SR, trim_db=40.0, margin_seconds=0.05)
    assert start == int(0.45 * SR)
    assert len(trimmed) == pytest.approx(1.1 * SR, abs=0.011 * SR)
    assert len(mod.trim_silence(np.zeros(SR, dtype=np.float32), SR)[0]) == 0


def test_seeded_runs_give_identical_manifests(mod, prepared, tmp_path: Path) -> None:
    sounds, out, sizes, rows = prepared
    again = mod.prepare_prompts(sounds, tmp_path / "again", nj=2)  # a process pool: same output
    assert again == sizes
    for split in ALL_SPLITS:
        assert (tmp_path / "again" / f"{split}.jsonl").read_text() == (out / f"{split}.jsonl").read_text()
    other = mod.prepare_prompts(sounds, tmp_path / "seed1", seed=1, nj=1)
    assert read(tmp_path / "seed1" / "test.jsonl") == rows["test"]  # the held-out speaker: all of it
    assert read(tmp_path / "seed1" / "valid.jsonl") != rows["valid"]
    assert sum(other.values()) == sum(sizes.values())


def test_held_out_speaker_option(mod, prepared, tmp_path: Path) -> None:
    sounds = prepared[0]
    sizes = mod.prepare_prompts(sounds, tmp_path / "carlo", held_out_speaker="carlo")
    test = read(tmp_path / "carlo" / "test.jsonl")
    assert {r["speaker"] for r in test} == {"carlo"} and sizes["test"] == len(test)
    none = mod.prepare_prompts(sounds, tmp_path / "none", held_out_speaker="none")
    assert "test_seen_speakers" not in none
    assert not (tmp_path / "none" / "test_seen_speakers.jsonl").exists()
    assert {r["speaker"] for r in read(tmp_path / "none" / "test.jsonl")} == {"allison", "carlo", "june"}
    with pytest.raises(ValueError, match="--held-out-speaker 'bob'"):
        mod.prepare_prompts(sounds, tmp_path / "bob", held_out_speaker="bob")
    with pytest.raises(FileNotFoundError, match="--held-out-speaker ivrvoiceru.*asterisk-core-sounds-ru-g722"):
        mod.prepare_prompts(sounds, tmp_path / "ru", held_out_speaker="ivrvoiceru")


def test_missing_sounds_dir_is_one_line_naming_the_option(mod, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        mod.main(["prepare", "--corpus-dir", str(tmp_path / "nowhere"), "--output-dir", str(tmp_path / "d")])
    msg = str(e.value.code)
    assert "\n" not in msg and "--sounds-dir" in msg and "asterisk-core-sounds-en-g722" in msg
    assert not (tmp_path / "d").exists()
    with pytest.raises(SystemExit) as e:  # stage 0 without apt: the package and the option
        mod.main(["install", "--target-dir", str(tmp_path / "nowhere"), "--sets", "fr_CA_f_June",
                  "--install", "false"])
    msg = str(e.value.code)
    assert "\n" not in msg and "apt-get install asterisk-core-sounds-fr-g722" in msg and "--sounds-dir" in msg


def test_install_finds_a_complete_copy(mod, prepared) -> None:
    sounds = prepared[0]
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed: install would ask for it")
    assert mod.install_prompts(sounds, "en_US_f_Allison,it_IT_m_Carlo", install=False) == sounds


def test_install_runs_apt_get_for_the_missing_packages_only(mod, tmp_path: Path, monkeypatch) -> None:
    """As root on Debian's folder: one apt-get install of what is missing, nothing else."""
    sounds = tmp_path / "sounds"
    wav(sounds / "en_US_f_Allison" / "a.wav", burst(2.3, 220.0))
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        wav(sounds / "fr_CA_f_June" / "a.wav", burst(2.3, 300.0))  # what the package installs
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(mod, "DEBIAN_SOUNDS", sounds)
    monkeypatch.setattr(mod.os, "geteuid", lambda: 0)
    monkeypatch.setattr(mod.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(mod.subprocess, "run", fake_run)
    assert mod.install_prompts(sounds, "en_US_f_Allison,fr_CA_f_June") == sounds
    assert calls == [["apt-get", "install", "-y", "-q", "--no-install-recommends", "asterisk-core-sounds-fr-g722"]]
    calls.clear()
    assert mod.install_prompts(sounds, "en_US_f_Allison,fr_CA_f_June") == sounds and calls == []
    with pytest.raises(FileNotFoundError, match="apt-get install asterisk-core-sounds-it-g722 .*--sounds-dir"):
        mod.install_prompts(tmp_path / "copy", "it_IT_m_Carlo")  # a copy elsewhere: apt-get cannot fill it
    assert calls == []


def test_the_best_format_of_a_prompt_is_used(mod, tmp_path: Path) -> None:
    root = tmp_path / "sounds" / "en_US_f_Allison"
    for name in ("x.gsm", "x.wav", "x.g722", "y.gsm", "y.wav", "z.gsm", "notes.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    files = mod.find_files(tmp_path / "sounds", mod.BY_NAME["en_US_f_Allison"])
    assert [p.name for p in files] == ["x.g722", "y.wav", "z.gsm"]
    assert [v.name for v in mod.select_sets("core")] == [
        "en_US_f_Allison", "es_MX_f_Allison", "fr_CA_f_June", "it_IT_m_Carlo", "ru_RU_f_IvrvoiceRU"]
    with pytest.raises(ValueError, match="--sets"):
        mod.select_sets("klingon")


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (apt-get install ffmpeg)")
def test_g722_decoding_through_ffmpeg(mod, tmp_path: Path) -> None:
    t = np.arange(SR) / SR
    src = tmp_path / "tone.wav"
    wav(src, 0.5 * np.sin(2 * np.pi * 440.0 * t))
    g722 = tmp_path / "tone.g722"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(src), "-f", "g722", str(g722)],
                   check=True)
    missing = str(tmp_path / "missing.g722")
    (audio, sr, err), bad = mod.decode_files([str(g722), missing])  # one bad file spoils no batch
    assert err is None and sr == SR and abs(len(audio) - SR) < SR * 0.01
    assert np.argmax(np.abs(np.fft.rfft(audio))) == pytest.approx(440, abs=2)  # 1 Hz bins
    assert bad[0] is None and "ffmpeg" in bad[2]


def test_data_sh_runs_install_then_prepare_once(tmp_path: Path) -> None:
    """local/data.sh with a fake interpreter: the commands of stages 0-1; a rerun skips stage 1."""
    log = tmp_path / "python.log"
    fake = tmp_path / "python"
    fake.write_text(f'#!/usr/bin/env bash\necho "$*" >> "{log}"\n'
                    'if [ "$2" = prepare ]; then\n'
                    '  while [ $# -gt 0 ]; do [ "$1" = --output-dir ] && o=$2; shift; done\n'
                    '  mkdir -p "$o"\n'
                    '  for s in train valid test test_seen_speakers; do echo "{}" > "$o/$s.jsonl"; done\n'
                    '  echo "[]" > "$o/labels.json"; fi\n')
    fake.chmod(0o755)
    script = REPO / "recipes" / "prompts" / "local" / "data.sh"
    data = tmp_path / "data"
    args = ["--python", str(fake), "--sounds-dir", "/copy", "--data-dir", str(data), "--install", "false",
            "--held-out-speaker", "carlo", "--nj", "1"]
    r = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert log.read_text().splitlines() == [
        "local/prepare_prompts.py install --target-dir /copy --sets core --install false",
        f"local/prepare_prompts.py prepare --corpus-dir /copy --output-dir {data} --sets core "
        "--held-out-speaker carlo --segment-seconds 2.0 --max-segments 0 --min-seconds 1.0 --seed 0 --nj 1"]
    assert "Stage 1: train/valid/test = 1/1/1 clips" in r.stdout and "test_seen_speakers = 1 clips" in r.stdout
    r = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Stage 1: already done, skipping prepare" in r.stdout
    assert len(log.read_text().splitlines()) == 3  # stage 0 checks again; stage 1 is not redone
