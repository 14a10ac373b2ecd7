"""Tests for the offline spoken-digits generator (recipes/tts_digits/local/make_digits.py).

espeak-ng is required (CI installs it): without it these tests fail with the
install command instead of skipping, so a missing corpus tool is never silent.
flite and festival are optional: their tests skip with the reason when the
programs are not installed. Planning and splitting are also tested with fake
engines, which need no binary.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import multiprocessing
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from anytime_audio.audio.io import audio_info, load_audio

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "recipes" / "tts_digits" / "local" / "make_digits.py"
MODULE_NAME = "tts_digits_make_digits"  # registered so pool workers can unpickle tasks
ESPEAK_ONLY = ["espeak-ng"]
SPLITS = ("train", "valid", "test", "test_unseen_engine")
ROW_KEYS = {"id", "path", "duration", "sample_rate", "label", "label_name", "speaker", "engine", "voice"}

needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")
needs_festival = pytest.mark.skipif(
    shutil.which("festival") is None or not list(Path("/usr/share/festival/voices").glob("*/*_diphone")),
    reason="festival or its diphone voices are not installed (apt-get install festival festvox-kallpc16k)",
)


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
    meta = md.make_digits(out, num_clips=40, jobs=2, seed=0, progress=False, engines=ESPEAK_ONLY, screen=None)
    return out, meta


def _rows(out: Path) -> dict[str, list[dict]]:
    return {s: [json.loads(line) for line in (out / f"{s}.jsonl").open()] for s in SPLITS}


def _check_clips(md, out: Path, rows: dict[str, list[dict]]) -> Counter:
    """Every clip: manifest fields, 16 kHz mono, exactly 1 s, not silent. Returns label counts."""
    labels = Counter()
    for split_rows in rows.values():
        for row in split_rows:
            assert set(row) == ROW_KEYS
            assert not Path(row["path"]).is_absolute() and row["path"].startswith("wav/")
            assert row["sample_rate"] == 16000 and row["duration"] == 1.0
            assert md.LABELS[row["label"]] == row["label_name"]
            info = audio_info(out / row["path"])
            assert (info.frames, info.sample_rate, info.channels) == (16000, 16000, 1)
            audio, _ = load_audio(out / row["path"])  # raises if silent or non-finite
            assert np.sqrt(np.mean(audio**2)) > 1e-3
            labels[row["label_name"]] += 1
    return labels


def _voices(rows: dict[str, list[dict]]) -> dict[str, set]:
    return {s: {(r["engine"], r["voice"]) for r in split_rows} for s, split_rows in rows.items()}


def _assert_disjoint(sets: dict[str, set]) -> None:
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not sets[a] & sets[b], (a, b, sets[a] & sets[b])


def test_tiny_corpus_layout_and_clips(md, tiny):
    out, meta = tiny
    assert not meta["skipped"] and meta["written"] == 40 and meta["failed"] == []
    assert json.loads((out / "labels.json").read_text()) == list(md.LABELS)
    rows = _rows(out)
    assert {s: len(r) for s, r in rows.items()} == {"train": 32, "valid": 4, "test": 4, "test_unseen_engine": 0}
    assert meta["unseen_engine"] is None  # espeak-ng alone: nothing to hold out
    assert len(_check_clips(md, out, rows)) >= 8  # digits cycle over speakers
    assert {r["engine"] for split_rows in rows.values() for r in split_rows} == {"espeak-ng"}
    assert meta["engines"]["espeak-ng"]["clips"] == meta["per_split"]


def test_splits_hold_out_whole_voices(tiny):
    rows = _rows(tiny[0])
    _assert_disjoint(_voices(rows))
    _assert_disjoint({s: {r["speaker"] for r in split_rows} for s, split_rows in rows.items()})


def test_second_run_is_skipped(md, tiny, capsys):
    out, meta = tiny
    before = (out / "train.jsonl").stat().st_mtime_ns
    again = md.make_digits(out, num_clips=40, jobs=2, seed=0, progress=False, engines=ESPEAK_ONLY, screen=None)
    assert again["skipped"] and again["written"] == meta["written"]
    args = ["--out-dir", str(out), "--num-clips", "40", "--jobs", "2", "--no-progress", "--engines", "espeak-ng",
            "--screen", "none"]  # fmt: skip
    assert md.main(args) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert (out / "train.jsonl").stat().st_mtime_ns == before
    # a different request is not mistaken for a finished one
    assert not md.is_complete(out, num_clips=41, seed=0)
    assert not md.is_complete(out, num_clips=40, seed=1)
    assert not md.is_complete(out, 40, 0, {**meta["request"], "min_accuracy": 0.5})


def test_output_does_not_depend_on_jobs(md, tiny, tmp_path):
    out, _ = tiny
    md.make_digits(tmp_path, num_clips=40, jobs=1, seed=0, progress=False, engines=ESPEAK_ONLY, screen=None)
    for row in _rows(out)["test"] + _rows(out)["train"][:5]:
        assert (tmp_path / row["path"]).read_bytes() == (out / row["path"]).read_bytes(), row["id"]


def test_full_plan_split_and_balance(md, tmp_path):
    inv = md.make_inventory(ESPEAK_ONLY, screen=None)
    tasks = md.plan_clips(2400, tmp_path, seed=0, inv=inv)
    by_split = {s: [t for t in tasks if t.split == s] for s in SPLITS}
    assert [len(by_split[s]) for s in SPLITS] == [1920, 240, 240, 0]
    _assert_disjoint({s: {t.voice.key for t in ts} for s, ts in by_split.items()})
    counts = Counter(t.label for t in tasks)
    assert max(counts.values()) - min(counts.values()) <= 0.1 * 240
    assert len({t.clip_id for t in tasks}) == 2400
    # the voice split does not depend on how many clips are asked for
    voice_split = {t.voice.key: t.split for t in tasks}
    assert all(voice_split.get(t.voice.key, t.split) == t.split for t in md.plan_clips(40, tmp_path, 0, inv))
    # and a seed draws a different split
    other = {t.voice.key: t.split for t in md.plan_clips(2400, tmp_path, seed=1, inv=inv)}
    assert {k for k, s in other.items() if s == "test"} != {k for k, s in voice_split.items() if s == "test"}


# ---------------------------------------------------------------- planning with fake engines (no binaries)
def _fake_inventory(md, engines: dict[str, list[tuple[str, str]]]):
    """An Inventory of fake engines: name -> [(voice, group)]."""
    de = sys.modules["digit_engines"]

    @dataclass
    class Fake(de.Engine):
        def unavailable(self):
            return None

    inv = md.Inventory({}, {})
    for name, voices in engines.items():
        inv.engines[name] = md.EspeakEngine() if name == "espeak-ng" else Fake(name=name)
        inv.voices[name] = [de.Voice(name, v, g, "fake", 100.0) for v, g in voices]
    return inv


def test_unseen_engine_is_held_out_and_groups_stay_together(md, tmp_path):
    espeak = [(f"e{i}", f"e{i}") for i in range(30)]
    flite = [("kal", "kal"), ("kal16", "kal"), ("awb", "awb"), ("rms", "rms"), ("slt", "slt")]
    festival = [("kal_diphone", "kal"), ("ked_diphone", "ked"), ("slt_hts", "slt")]
    inv = _fake_inventory(md, {"espeak-ng": espeak, "flite": flite, "festival": festival})
    assert md.resolve_unseen("auto", inv) == "festival"
    tasks = md.plan_clips(400, tmp_path, seed=3, inv=inv)
    by_split = {s: [t for t in tasks if t.split == s] for s in SPLITS}
    assert [len(by_split[s]) for s in SPLITS] == [320, 40, 40, 40]
    assert {t.engine for t in by_split["test_unseen_engine"]} == {"festival"}
    assert all(t.engine != "festival" for s in ("train", "valid", "test") for t in by_split[s])
    _assert_disjoint({s: {t.voice.key for t in ts} for s, ts in by_split.items()})
    flite_split = {t.voice.name: t.split for t in tasks if t.engine == "flite"}
    assert flite_split["kal"] == flite_split["kal16"]  # one person, one split
    assert {"train", "test"} <= set(flite_split.values())  # a few voices still give a held-out one
    # engines share the clips by weight: espeak-ng 2, flite 1
    train = Counter(t.engine for t in by_split["train"])
    assert train == {"espeak-ng": 213, "flite": 107}
    # with festival training too, its kal follows flite's kal
    split = md.split_voices(inv, seed=3, unseen=None)
    assert split["festival/kal_diphone"] == split["flite/kal"] and split["festival/slt_hts"] == split["flite/slt"]
    # espeak-ng's voices land in the same splits whichever other engines are installed
    alone = md.split_voices(_fake_inventory(md, {"espeak-ng": espeak}), seed=3)
    assert {k: v for k, v in split.items() if k.startswith("espeak-ng/")} == alone


def test_unseen_engine_options(md):
    inv = _fake_inventory(md, {"espeak-ng": [("a", "a"), ("b", "b")], "flite": [("kal", "kal")]})
    assert md.resolve_unseen("auto", inv) == "flite"  # festival missing: the next one
    assert md.resolve_unseen("none", inv) is None and md.resolve_unseen(None, inv) is None
    assert md.resolve_unseen("festival", inv) is None  # known but not installed: empty split
    with pytest.raises(ValueError, match="not a known engine"):
        md.resolve_unseen("nope", inv)
    alone = _fake_inventory(md, {"espeak-ng": [("a", "a")]})
    assert md.resolve_unseen("auto", alone) is None
    with pytest.raises(ValueError, match="only engine"):
        md.resolve_unseen("espeak-ng", alone)


def test_curation_drops_whole_voices_below_the_threshold(md, tmp_path):
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"voices": {"espeak-ng/en-us+m3": {"accuracy": 0.5},
                                             "espeak-ng/en+f2": {"accuracy": 0.95}}}))  # fmt: skip
    inv = md.make_inventory(ESPEAK_ONLY, screen=screen, min_accuracy=0.8)
    names = {v.name for v in inv.voices["espeak-ng"]}
    assert "en-us+m3" not in names and "en+f2" in names and "en-us+m4" in names  # unscreened: kept
    assert "0.50 < 0.80" in inv.dropped["espeak-ng"]["en-us+m3"]
    assert "en-us+m4" in inv.unscreened["espeak-ng"]
    with pytest.raises(FileNotFoundError, match="--screen none"):
        md.make_inventory(ESPEAK_ONLY, screen=tmp_path / "missing.json")


def test_missing_engines_are_skipped_with_one_line_each(md, monkeypatch, caplog):
    real = shutil.which
    monkeypatch.setattr(md.shutil, "which", lambda name: real(name) if name == "espeak-ng" else None)
    with caplog.at_level(logging.INFO):
        inv = md.make_inventory(screen=None)
    assert list(inv.voices) == ["espeak-ng"]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert sorted(m.split()[1] for m in skipped) == sorted(n for n in md.ENGINE_ORDER if n != "espeak-ng")


def test_festival_script_sets_the_prosody(md):
    de = sys.modules["digit_engines"]
    diphone = de.Voice("festival", "kal_diphone", "kal", "diphone", 105.0)
    hts = de.Voice("festival", "cmu_us_slt_arctic_hts", "slt", "hts")
    script = de.FestivalEngine.script_for("seven", diphone, {"pitch": 1.2, "tempo": 0.8}, "/x.wav")
    assert "(voice_kal_diphone)" in script and "Duration_Stretch 1.2500" in script and "target_f0_mean 126.0" in script
    script = de.FestivalEngine.script_for("seven", hts, {"pitch": 1.05, "tempo": 1.05}, "/x.wav")
    assert '("-r" 1.0000)' in script and 'Utterance Text "seven"' in script


# ---------------------------------------------------------------- espeak backends and failures
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
    meta = md.make_digits(tmp_path, num_clips=10, jobs=2, seed=3, progress=False, backend="cli",
                          engines=ESPEAK_ONLY, screen=None)  # fmt: skip
    assert meta["written"] == 10


def test_failing_clips_are_reported_and_skipped(md, tmp_path, monkeypatch):
    real = md.EspeakEngine.render

    def fail_on_seven(self, items):
        out = real(self, items)
        return [md.Rendered(error="engine broke") if text == "seven" else r for (text, _, _), r in zip(items, out)]

    monkeypatch.setattr(md.EspeakEngine, "render", fail_on_seven)  # inherited by forked workers
    meta = md.make_digits(tmp_path, num_clips=20, jobs=2, seed=0, progress=False, engines=ESPEAK_ONLY, screen=None)
    assert meta["failed"] and all("engine broke" in msg for msg in meta["failed"])
    assert meta["written"] == 20 - len(meta["failed"])
    names = [r["label_name"] for rows in _rows(tmp_path).values() for r in rows]
    assert len(names) == meta["written"] and "seven" not in names


def test_too_long_word_is_retried_faster_then_dropped(md):
    de = sys.modules["digit_engines"]
    inv = md.make_inventory(ESPEAK_ONLY, screen=None)
    task = md.plan_clips(1, "/tmp", seed=0, inv=inv)[0]
    calls = []

    class Slow(de.Engine):
        def render(self, items):
            calls.append([p for _, _, p in items])
            return [de.Rendered(np.full(int(1.5 * 22050), 0.1, np.float32), 22050) for _ in items]

        def faster(self, params):
            return {**params, "speed": 999}

    (word, params, err), = md.render_words([task], Slow())
    assert word is None and "> 1 s" in err and params["speed"] == 999 and len(calls) == 2


def test_missing_espeak_gives_install_hint(md, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(md.shutil, "which", lambda name: None)
    with pytest.raises(md.EspeakNotFoundError, match="apt-get install espeak-ng"):
        md.make_digits(tmp_path, num_clips=4, progress=False)
    assert md.main(["--out-dir", str(tmp_path), "--num-clips", "4"]) == 2
    assert "apt-get install espeak-ng" in capsys.readouterr().err


# ---------------------------------------------------------------- other engines, when installed
@needs_flite
def test_flite_library_matches_the_program(md):
    de = sys.modules["digit_engines"]
    engine = de.FliteEngine()
    voices = {v.name: v for v in engine.voices()}
    assert {"kal16", "slt"} <= set(voices) and "awb_time" in engine.dropped
    lib = de.FliteLibrary()
    for name in ("slt", "kal16"):  # clustergen (random excitation) and diphone
        features, _ = engine.native(voices[name], {"pitch": 1.1, "tempo": 0.9})
        a, sr_a = lib.synth("eight", name, features)
        a2, _ = lib.synth("eight", name, features)  # a second call is the same samples
        b, sr_b = de.flite_cli("eight", name, features)
        assert sr_a == sr_b == 16000
        np.testing.assert_array_equal(a, a2)
        np.testing.assert_array_equal(a, b)


@needs_flite
@needs_festival
def test_many_engine_corpus(md, tmp_path):
    kw = dict(num_clips=40, seed=0, progress=False, engines=["espeak-ng", "flite", "festival"],
              unseen_engine="festival", unseen_clips=8, screen=None)  # fmt: skip
    meta = md.make_digits(tmp_path / "a", jobs=2, **kw)
    assert meta["failed"] == [] and meta["unseen_engine"] == "festival"
    rows = _rows(tmp_path / "a")
    assert {s: len(r) for s, r in rows.items()} == {"train": 32, "valid": 4, "test": 4, "test_unseen_engine": 8}
    _check_clips(md, tmp_path / "a", rows)
    engines = {s: {r["engine"] for r in split_rows} for s, split_rows in rows.items()}
    assert engines["test_unseen_engine"] == {"festival"}
    assert "festival" not in engines["train"] | engines["valid"] | engines["test"]
    assert engines["train"] == {"espeak-ng", "flite"}
    _assert_disjoint(_voices(rows))
    assert meta["engines"]["festival"]["clips"]["test_unseen_engine"] == 8
    assert set(meta["engines"]["festival"]["voices"]) >= {"kal_diphone"}
    # deterministic: another run with one job makes the same files
    md.make_digits(tmp_path / "b", jobs=1, **kw)
    for split_rows in rows.values():
        for row in split_rows[:6]:
            assert (tmp_path / "a" / row["path"]).read_bytes() == (tmp_path / "b" / row["path"]).read_bytes()


@needs_flite
def test_judge_report_on_a_tiny_corpus(md, tmp_path):
    pytest.importorskip("pocketsphinx", reason="the judge needs pocketsphinx")
    jd_path = SCRIPT.parent / "judge_digits.py"
    spec = importlib.util.spec_from_file_location("tts_digits_judge", jd_path)
    jd = importlib.util.module_from_spec(spec)
    sys.modules["make_digits"] = md  # the judge script imports the generator by its file name
    spec.loader.exec_module(jd)
    md.make_digits(tmp_path, num_clips=20, jobs=2, seed=0, progress=False, engines=["espeak-ng", "flite"],
                   unseen_engine="flite", unseen_clips=10, screen=None)  # fmt: skip
    report = jd.judge_corpus(tmp_path, jobs=1)
    assert json.loads((tmp_path / "judge.json").read_text()) == report
    assert report["split"]["test_unseen_engine"]["clips"] == 10
    assert report["engine"]["test_unseen_engine/flite"]["accuracy"] >= 0.7  # flite is clear speech
