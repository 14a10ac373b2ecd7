#!/usr/bin/env python3
"""Intelligibility of the spoken-digits voices and corpus, by the offline judge.

The judge is :class:`anytime_audio.audio.judge.DigitJudge` (PocketSphinx
restricted to the ten digit words). Two commands:

``screen``
    Synthesise ``--clips-per-voice`` clips (each digit in turn, over the
    voice's variants) for *every* candidate voice of every installed engine,
    judge them, and write each voice's accuracy to ``voice_screen.json``
    (next to ``make_digits.py`` by default). ``make_digits.py`` drops whole
    voices below ``--min-accuracy`` with it: curation by voice, never by
    clip. The screen uses its own seed (``--seed``, default 1000), so its
    clips are not the corpus' clips. ::

        python recipes/tts_digits/local/judge_digits.py screen --jobs 2

``corpus``
    Judge every clip of a finished corpus and write ``<dir>/judge.json``:
    accuracy per split, per engine and split, and per voice. ::

        python recipes/tts_digits/local/judge_digits.py corpus data/tts_digits --jobs 2
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_digits as md  # noqa: E402

from anytime_audio.audio.judge import DigitJudge  # noqa: E402
from anytime_audio.core.atomic import atomic_write_json  # noqa: E402

log = logging.getLogger(__name__)
SCREEN_SEED = 1000

_JUDGE: DigitJudge | None = None


def _judge_files(paths: Sequence[str]) -> list[int]:
    """Worker: the judge's label for each WAV file (one judge per worker process)."""
    global _JUDGE
    if _JUDGE is None:
        _JUDGE = DigitJudge(md.LABELS)
    out = []
    for p in paths:
        audio, sr = sf.read(p, dtype="float32")
        out.append(_JUDGE.recognise(audio, sr))
    return out


def judge_paths(paths: Sequence[str], jobs: int = 1, chunk: int = 64) -> list[int]:
    """The judge's label for each file, ``jobs`` processes in parallel (order kept)."""
    chunks = [list(paths[i : i + chunk]) for i in range(0, len(paths), chunk)]
    if jobs <= 1 or len(chunks) <= 1:
        return [y for c in chunks for y in _judge_files(c)]
    with mp.get_context("fork").Pool(min(jobs, len(chunks))) as pool:
        return [y for part in pool.map(_judge_files, chunks) for y in part]


def screen_tasks(inv: md.Inventory, clips_per_voice: int, out_dir: Path, seed: int = SCREEN_SEED) -> list[md.ClipTask]:
    """Clips for the screen: ``clips_per_voice`` per voice, digits in turn, over the voice's variants."""
    tasks: list[md.ClipTask] = []
    by_voice: dict[str, list[md.Speaker]] = defaultdict(list)
    for spk in md.make_speakers(inv, seed):
        by_voice[spk.voice.key].append(spk)
    for key, speakers in by_voice.items():
        engine = inv.engines[speakers[0].voice.engine]
        for j in range(clips_per_voice):
            spk = speakers[j % len(speakers)]
            rng = np.random.default_rng([seed, 2, md._crc(key), j])
            params = engine.jitter(spk.voice, spk.params, rng)
            clip_id = f"screen_{len(tasks):06d}"
            tasks.append(md.ClipTask(len(tasks), clip_id, "screen", j % len(md.LABELS), spk.name, spk.voice, params,
                                     float(rng.uniform(-md.GAIN_JITTER_DB, md.GAIN_JITTER_DB)),
                                     float(rng.uniform(0, 1)), str(out_dir / f"{clip_id}.wav")))  # fmt: skip
    return tasks


def synthesise(tasks: Sequence[md.ClipTask], inv: md.Inventory, jobs: int) -> dict[int, str | None]:
    """Write the tasks' clips (fixed batches, forked workers, as make_digits); index -> error or None."""
    batches: list[tuple[list[md.ClipTask], md.Engine]] = []
    for t in tasks:
        if batches and batches[-1][0][-1].engine == t.engine and len(batches[-1][0]) < md.BATCH_SIZE:
            batches[-1][0].append(t)
        else:
            batches.append(([t], inv.engines[t.engine]))
    errors: dict[int, str | None] = {}
    with mp.get_context("fork").Pool(max(1, min(jobs, len(batches))), maxtasksperchild=1) as pool:
        for results in pool.imap_unordered(md.synth_batch, batches):
            errors.update({i: err for i, _, err in results})
    return errors


def screen(out_path: Path, clips_per_voice: int = 20, jobs: int = 2, seed: int = SCREEN_SEED,
           engines: Sequence[str] | None = None) -> dict:  # fmt: skip
    """Judge every candidate voice (no curation) and write the screen file; return it."""
    t0 = time.perf_counter()
    inv = md.make_inventory(engines, screen=None)
    with tempfile.TemporaryDirectory(prefix="digit-screen-") as tmp:
        tasks = screen_tasks(inv, clips_per_voice, Path(tmp), seed)
        log.info("screen: %d voices, %d clips", len({t.voice.key for t in tasks}), len(tasks))
        errors = synthesise(tasks, inv, jobs)
        ok = [t for t in tasks if errors.get(t.index) is None]
        heard = judge_paths([t.wav_path for t in ok], jobs)
    hits: dict[str, list[int]] = defaultdict(list)
    for t, y in zip(ok, heard):
        hits[t.voice.key].append(int(y == t.label))
    voices = {}
    for key in dict.fromkeys(t.voice.key for t in tasks):
        n_fail = sum(1 for t in tasks if t.voice.key == key and errors.get(t.index) is not None)
        h = hits.get(key, [])
        # a clip that could not be made counts as not understood
        voices[key] = {"accuracy": round(sum(h) / (len(h) + n_fail), 3) if h or n_fail else 0.0,
                       "clips": len(h) + n_fail, "failed": n_fail}  # fmt: skip
    data = {
        "judge": "anytime_audio.audio.judge.DigitJudge (pocketsphinx, ten-digit grammar)",
        "seed": seed,
        "clips_per_voice": clips_per_voice,
        "generator_version": md.GENERATOR_VERSION,
        "seconds": round(time.perf_counter() - t0, 1),
        "voices": voices,
    }
    atomic_write_json(out_path, data)
    return data


def judge_corpus(corpus: Path, jobs: int = 2) -> dict:
    """Judge every clip of a corpus folder; write and return ``judge.json`` (accuracy by split, engine, voice)."""
    rows = []
    for split in md.ALL_SPLITS:
        path = corpus / f"{split}.jsonl"
        if path.is_file():
            rows += [dict(json.loads(line), split=split) for line in path.open() if line.strip()]
    heard = judge_paths([str(corpus / r["path"]) for r in rows], jobs)

    def acc(sel: list[int]) -> dict:
        return {"accuracy": round(float(np.mean([heard[i] == rows[i]["label"] for i in sel])), 3), "clips": len(sel)}

    groups: dict[str, dict[str, list[int]]] = {"split": defaultdict(list), "engine": defaultdict(list),
                                                "voice": defaultdict(list)}  # fmt: skip
    for i, r in enumerate(rows):
        groups["split"][r["split"]].append(i)
        groups["engine"][f"{r['split']}/{r['engine']}"].append(i)
        groups["voice"][f"{r['engine']}/{r['voice']}"].append(i)
    out = {kind: {k: acc(v) for k, v in sorted(g.items())} for kind, g in groups.items()}
    atomic_write_json(corpus / "judge.json", out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("screen", help="judge every candidate voice; write voice_screen.json")
    p.add_argument("--out", default=str(md.SCREEN_PATH), help="screen file to write (default: next to make_digits.py)")
    p.add_argument("--clips-per-voice", type=int, default=20)
    p.add_argument("--seed", type=int, default=SCREEN_SEED)
    p.add_argument("--engines", default="all", help="comma-separated engines (default: all installed)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    c = sub.add_parser("corpus", help="judge a finished corpus; write <dir>/judge.json")
    c.add_argument("corpus", help="corpus folder (train.jsonl ... and wav/)")
    c.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "screen":
        engines = None if args.engines == "all" else [e.strip() for e in args.engines.split(",") if e.strip()]
        data = screen(Path(args.out), args.clips_per_voice, args.jobs, args.seed, engines)
        by_engine: dict[str, list[float]] = defaultdict(list)
        for key, row in data["voices"].items():
            by_engine[key.split("/")[0]].append(row["accuracy"])
        for name, accs in by_engine.items():
            print(f"{name}: {len(accs)} voices, mean accuracy {np.mean(accs):.3f}, "
                  f">= {md.MIN_ACCURACY}: {sum(a >= md.MIN_ACCURACY for a in accs)}")  # fmt: skip
        print(f"wrote {args.out} in {data['seconds']} s")
    else:
        out = judge_corpus(Path(args.corpus), args.jobs)
        for kind in ("split", "engine"):
            print(kind + ": " + ", ".join(f"{k} {v['accuracy']:.3f} ({v['clips']})" for k, v in out[kind].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
