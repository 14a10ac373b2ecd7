#!/usr/bin/env python3
"""NSynth: 4 s single notes at 16 kHz from ~1,000 instruments.

Corpus layout (the public ``nsynth-{train,valid,test}.jsonwav.tar.gz`` archives unpacked)::

    <corpus_dir>/nsynth-train/examples.json     {note_str: {"pitch": 60, "velocity": 100,
                                                  "instrument_family": 0,
                                                  "instrument_family_str": "bass",
                                                  "instrument_str": "bass_synthetic_033",
                                                  "instrument_source_str": "synthetic", ...}}
    <corpus_dir>/nsynth-train/audio/<note_str>.wav
    <corpus_dir>/nsynth-valid/...   <corpus_dir>/nsynth-test/...

The official splits are kept (nsynth-train -> train, nsynth-valid -> valid,
nsynth-test -> test). label = instrument_family (labels.json holds the 11
family names), speaker = the instrument (the "voice"), and pitch, velocity
and instrument source go into the manifest too. The WAVs are used in place;
each is decoded once to validate it (bad or missing files are reported and
skipped; ``load_audio`` rejects truncated, silent, non-finite and notes
shorter than ``min_seconds``, by default half the 4 s model clip). Optional filters: pitch range, instrument sources, and a per-split
cap (a seeded subset, so a quick experiment need not index 300k notes).

    python local/prepare_nsynth.py download --target-dir downloads/nsynth
    python local/prepare_nsynth.py prepare --corpus-dir downloads/nsynth --output-dir data/nsynth
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.nsynth")

URL = "http://download.magenta.tensorflow.org/datasets/nsynth/nsynth-{split}.jsonwav.tar.gz"
FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
            "string", "synth_lead", "vocal")
SOURCES = ("acoustic", "electronic", "synthetic")
SPLIT_DIRS = {"train": "nsynth-train", "valid": "nsynth-valid", "test": "nsynth-test"}
SAMPLE_RATE = 16000


def download_nsynth(target_dir: str | Path, splits: tuple[str, ...] = ("train", "valid", "test")) -> Path:
    """Download and unpack the NSynth json/wav archives (train is ~22 GB) into ``target_dir``."""
    target = Path(target_dir)
    for split in splits:
        folder = target / SPLIT_DIRS[split]
        if (folder / "examples.json").is_file():
            log.info("%s already present", folder)
            continue
        archive = rc.download_url(URL.format(split=split), target / f"nsynth-{split}.jsonwav.tar.gz")
        rc.extract_archive(archive, target)
    return target


def prepare_nsynth(
    corpus_dir: str | Path,
    output_dir: str | Path,
    pitch_range: tuple[int, int] = (0, 127),
    sources: tuple[str, ...] = SOURCES,
    max_per_split: int = 0,
    seed: int = 0,
    nj: int = 1,
    min_seconds: float = 2.0,
) -> dict[str, int]:
    """Write ``{train,valid,test}.jsonl`` + ``labels.json`` for NSynth.

    ``pitch_range`` is inclusive (MIDI numbers); ``max_per_split`` > 0 keeps a
    seeded random subset of that size per split. Returns the split sizes.
    """
    corpus = Path(corpus_dir).resolve()
    out = Path(output_dir)
    probe = functools.partial(rc.probe_audio, min_seconds=min_seconds)
    bad_sources = set(sources) - set(SOURCES)
    if bad_sources:
        raise ValueError(f"unknown instrument sources {sorted(bad_sources)}; use {SOURCES}")
    found = [s for s, d in SPLIT_DIRS.items() if (corpus / d / "examples.json").is_file()]
    if not found:
        raise FileNotFoundError(f"no nsynth-*/examples.json under {corpus}")

    report = rc.SkipReport("notes")
    splits: dict[str, list[dict]] = {s: [] for s in rc.SPLITS}
    for split in found:
        folder = corpus / SPLIT_DIRS[split]
        with open(folder / "examples.json", encoding="utf-8") as f:
            examples: dict[str, dict] = json.load(f)
        keep = sorted(
            k for k, e in examples.items()
            if pitch_range[0] <= int(e["pitch"]) <= pitch_range[1]
            and e.get("instrument_source_str", SOURCES[int(e.get("instrument_source", 0))]) in sources
        )
        if max_per_split > 0 and len(keep) > max_per_split:
            rng = np.random.default_rng(seed)
            keep = sorted(rng.choice(keep, size=max_per_split, replace=False).tolist())
        log.info("%s: %d of %d notes kept", folder.name, len(keep), len(examples))
        paths = [str(folder / "audio" / f"{k}.wav") for k in keep]
        for key, (path, duration, sr, err) in zip(keep, rc.parallel_map(probe, paths, nj, split)):
            if err is None and sr != SAMPLE_RATE:
                err = f"sample rate {sr} Hz, expected {SAMPLE_RATE}"
            if err is not None:
                report.skip(f"{folder.name}/audio/{key}.wav", err)
                continue
            report.ok()
            e = examples[key]
            fam = int(e["instrument_family"])
            splits[split].append({
                "id": key,
                "path": rc.manifest_path(path, out),
                "duration": round(float(duration), 6),
                "sample_rate": SAMPLE_RATE,
                "label": fam,
                "label_name": FAMILIES[fam],
                "speaker": e.get("instrument_str"),
                "pitch": int(e["pitch"]),
                "velocity": int(e.get("velocity", 0)),
                "instrument_source": e.get("instrument_source_str"),
            })
    return rc.write_manifests(out, splits, list(FAMILIES), report)


def main(argv: list[str] | None = None) -> None:
    ap, _, p = rc.corpus_parser(__doc__, "write the manifests",
                                fetch_help="download the NSynth json/wav archives",
                                corpus_dir_help="folder holding nsynth-{train,valid,test}/")
    p.add_argument("--min-pitch", type=int, default=0)
    p.add_argument("--max-pitch", type=int, default=127)
    p.add_argument("--sources", default="acoustic,electronic,synthetic",
                   help="comma-separated instrument sources to keep")
    p.add_argument("--max-per-split", type=int, default=0, help="0 = all notes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=1)
    p.add_argument("--min-seconds", type=float, default=2.0, help="shorter notes are skipped")
    rc.run_cli(ap, argv, download=lambda a: print(download_nsynth(a.target_dir)),
               prepare=lambda a: prepare_nsynth(
                   a.corpus_dir, a.output_dir, pitch_range=(a.min_pitch, a.max_pitch),
                   sources=tuple(s for s in a.sources.split(",") if s),
                   max_per_split=a.max_per_split, seed=a.seed, nj=a.nj,
                   min_seconds=a.min_seconds))


if __name__ == "__main__":
    main()
