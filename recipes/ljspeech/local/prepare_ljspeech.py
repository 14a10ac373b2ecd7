#!/usr/bin/env python3
"""LJSpeech 1.1: one speaker, 13,100 utterances, resampled to 16 kHz and cut into 2 s clips.

Corpus layout (LJSpeech-1.1.tar.bz2 unpacked)::

    LJSpeech-1.1/
      metadata.csv      "LJ001-0001|raw text|normalized text" per line (no quoting)
      wavs/LJ001-0001.wav   (22.05 kHz, 16-bit mono)

Each utterance listed in metadata.csv is resampled to ``sample_rate`` and cut
into consecutive ``segment_seconds`` clips (at most ``max_segments`` per
utterance) written under ``<output_dir>/wav/``. The split is by utterance id
(seeded, deterministic; all clips of an utterance share its split). There is
one speaker, so labels are null and ``labels.json`` is empty.

    python local/prepare_ljspeech.py download --target-dir downloads
    python local/prepare_ljspeech.py prepare --corpus-dir downloads/LJSpeech-1.1 --output-dir data/ljspeech
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.ljspeech")

URL = "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"


def download_ljspeech(target_dir: str | Path) -> Path:
    """Download and unpack LJSpeech 1.1 (about 2.6 GB) into ``target_dir/LJSpeech-1.1``."""
    target = Path(target_dir)
    corpus = target / "LJSpeech-1.1"
    if (corpus / "metadata.csv").is_file():
        log.info("%s already present", corpus)
        return corpus
    archive = rc.download_url(URL, target / "LJSpeech-1.1.tar.bz2")
    rc.extract_archive(archive, target)
    return corpus


def read_metadata(path: Path) -> list[tuple[str, str]]:
    """(utterance id, normalized text) per line of metadata.csv."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) < 2 or not parts[0]:
            log.warning("%s:%d: malformed line, ignored", path, n)
            continue
        rows.append((parts[0], parts[-1] if len(parts) >= 3 else parts[1]))
    return rows


def prepare_ljspeech(
    corpus_dir: str | Path,
    output_dir: str | Path,
    sample_rate: int = 16000,
    segment_seconds: float = 2.0,
    max_segments: int = 2,
    min_seconds: float = 1.0,
    fractions: tuple[float, float, float] = (0.9, 0.05, 0.05),
    seed: int = 0,
    nj: int = 1,
) -> dict[str, int]:
    """Write WAV clips and ``{train,valid,test}.jsonl`` + ``labels.json``.

    Missing or bad WAVs are reported, listed in ``output_dir/skipped.jsonl``
    and skipped. Returns the split sizes.
    """
    corpus = Path(corpus_dir)
    out = Path(output_dir)
    meta = corpus / "metadata.csv"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta} not found: not an LJSpeech-1.1 folder?")
    rows = read_metadata(meta)
    log.info("%d utterances in %s", len(rows), meta)
    text_of = dict(rows)
    assign = rc.split_keys(text_of, fractions, seed)

    jobs = [(str(corpus / "wavs" / f"{utt}.wav"), str(out / "wav" / utt), sample_rate,
             segment_seconds, max_segments, min_seconds) for utt, _ in rows]
    report = rc.SkipReport("utterances")
    splits: dict[str, list[dict]] = {s: [] for s in rc.SPLITS}
    for src, written, err in rc.parallel_map(rc.segment_job, jobs, nj, "ljspeech"):
        utt = Path(src).stem
        if err is not None:
            report.skip(f"wavs/{utt}.wav", err)
            continue
        report.ok()
        for path, duration in written:
            splits[assign[utt]].append({
                "id": Path(path).stem,
                "path": rc.manifest_path(path, out),
                "duration": round(float(duration), 6),
                "sample_rate": sample_rate,
                "label": None,
                "label_name": None,
                "speaker": "LJ",
                "text": text_of[utt],
            })
    return rc.write_manifests(out, splits, [], report)


def main(argv: list[str] | None = None) -> None:
    ap, _, p = rc.corpus_parser(__doc__, "write clips and manifests",
                                fetch_help="download LJSpeech 1.1",
                                corpus_dir_help="the LJSpeech-1.1 folder")
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--segment-seconds", type=float, default=2.0)
    p.add_argument("--max-segments", type=int, default=2, help="per utterance; 0 = all")
    p.add_argument("--min-seconds", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=1)
    rc.run_cli(ap, argv, download=lambda a: print(download_ljspeech(a.target_dir)),
               prepare=lambda a: prepare_ljspeech(
                   a.corpus_dir, a.output_dir, sample_rate=a.sample_rate,
                   segment_seconds=a.segment_seconds, max_segments=a.max_segments,
                   min_seconds=a.min_seconds, seed=a.seed, nj=a.nj))


if __name__ == "__main__":
    main()
