#!/usr/bin/env python3
"""SC09: the ten spoken digits of Speech Commands v0.02 (16 kHz, <= 1 s clips).

Corpus layout (as torchaudio's SPEECHCOMMANDS or the official tarball unpack it)::

    speech_commands_v0.02/
      zero/ one/ ... nine/        <speaker-hash>_nohash_<n>.wav
      (other words: right/, yes/, ... ignored)
      validation_list.txt         "zero/0a7c2a8d_nohash_0.wav" per line
      testing_list.txt

Splits follow the corpus' own lists (files in neither list are train), so
they are speaker-disjoint as the corpus intends. label = digit (0..9),
speaker = the hash prefix of the filename. The manifests point at the corpus
files in place (absolute paths); each file is decoded once to validate it
(``load_audio``: truncated, silent after mixdown, non-finite, or shorter than
``min_seconds``, by default half the 1 s model clip), and bad files are
reported and skipped.

    python local/prepare_sc09.py download --target-dir downloads
    python local/prepare_sc09.py prepare --corpus-dir downloads/SpeechCommands/speech_commands_v0.02 \
        --output-dir data/sc09 --nj 2
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.sc09")

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SAMPLE_RATE = 16000
URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"


def download_sc09(target_dir: str | Path) -> Path:
    """Download Speech Commands v0.02 under ``target_dir``; return the corpus folder.

    Uses ``torchaudio.datasets.SPEECHCOMMANDS(download=True)`` (layout
    ``<target>/SpeechCommands/speech_commands_v0.02``); if torchaudio no
    longer ships its datasets, downloads and unpacks the official tarball
    into the same place. Skipped when the corpus is already there.
    """
    target = Path(target_dir)
    corpus = target / "SpeechCommands" / "speech_commands_v0.02"
    if (corpus / "testing_list.txt").is_file():
        log.info("%s already present", corpus)
        return corpus
    target.mkdir(parents=True, exist_ok=True)
    try:
        from torchaudio.datasets import SPEECHCOMMANDS
    except ImportError:
        SPEECHCOMMANDS = None
    if SPEECHCOMMANDS is not None:
        SPEECHCOMMANDS(str(target), url="speech_commands_v0.02", download=True)
    else:
        archive = rc.download_url(URL, target / "SpeechCommands" / "speech_commands_v0.02.tar.gz")
        rc.extract_archive(archive, corpus)
    return corpus


def _read_list(path: Path) -> set[str]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a Speech Commands v0.02 folder?")
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def prepare_sc09(corpus_dir: str | Path, output_dir: str | Path, nj: int = 1,
                 min_seconds: float = 0.5) -> dict[str, int]:
    """Write ``output_dir/{train,valid,test}.jsonl`` + ``labels.json`` for SC09.

    Returns the split sizes. Unreadable, truncated, empty, silent, too short
    (< ``min_seconds``) or non-16 kHz files are reported and skipped (listed
    in ``output_dir/skipped.jsonl``).
    """
    corpus = Path(corpus_dir).resolve()
    out = Path(output_dir)
    valid_list = _read_list(corpus / "validation_list.txt")
    test_list = _read_list(corpus / "testing_list.txt")

    files = []
    for word in DIGITS:
        wdir = corpus / word
        if not wdir.is_dir():
            log.warning("%s missing: no '%s' clips", wdir, word)
            continue
        files += sorted(wdir.glob("*.wav"))
    if not files:
        raise FileNotFoundError(f"no digit clips under {corpus}")
    log.info("%d digit clips under %s", len(files), corpus)

    report = rc.SkipReport("clips")
    splits: dict[str, list[dict]] = {s: [] for s in rc.SPLITS}
    for path, duration, sr, err in rc.parallel_map(functools.partial(rc.probe_audio, min_seconds=min_seconds),
                                                     [str(f) for f in files], nj, "sc09"):
        p = Path(path)
        rel = f"{p.parent.name}/{p.name}"
        if err is None and sr != SAMPLE_RATE:
            err = f"sample rate {sr} Hz, expected {SAMPLE_RATE}"
        if err is not None:
            report.skip(rel, err)
            continue
        report.ok()
        word = p.parent.name
        split = "valid" if rel in valid_list else "test" if rel in test_list else "train"
        splits[split].append({
            "id": f"{word}_{p.stem}",
            "path": rc.manifest_path(p, out),
            "duration": round(float(duration), 6),
            "sample_rate": SAMPLE_RATE,
            "label": DIGITS.index(word),
            "label_name": word,
            "speaker": p.stem.split("_nohash_")[0],
        })
    return rc.write_manifests(out, splits, list(DIGITS), report)


def main(argv: list[str] | None = None) -> None:
    ap, _, p = rc.corpus_parser(__doc__, "write the SC09 manifests",
                                fetch_help="download Speech Commands v0.02",
                                corpus_dir_help="the speech_commands_v0.02 folder")
    p.add_argument("--nj", type=int, default=1, help="worker processes")
    p.add_argument("--min-seconds", type=float, default=0.5, help="shorter clips are skipped")
    rc.run_cli(ap, argv, download=lambda a: print(download_sc09(a.target_dir)),
               prepare=lambda a: prepare_sc09(a.corpus_dir, a.output_dir, nj=a.nj,
                                              min_seconds=a.min_seconds))


if __name__ == "__main__":
    main()
