"""Helpers shared by the recipes' ``local/prepare_<set>.py`` scripts.

Every corpus recipe writes the same thing (format in anytime_audio/manifest.py):
``<output_dir>/{train,valid,test}.jsonl`` (one JSON object per line) and
``<output_dir>/labels.json`` (label names, index = label id). This module holds
what they share: atomic manifest and PNG writes, deterministic splits,
report-and-skip bookkeeping for bad files, a process pool with a progress
bar, download/extract helpers (used by the real ``download_<set>``
functions only; tests never download) and the common command line
(:func:`corpus_parser`, :func:`run_cli`).

The scripts import it with ``sys.path.insert(0, <recipes>/TEMPLATE/pyscripts)``
so a recipe runs from a plain checkout; nothing here is part of the installed
package.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import tarfile
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger("recipes")

SPLITS = ("train", "valid", "test")

T = TypeVar("T")
R = TypeVar("R")


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr with a Kaldi-like prefix (time, script, level)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )


# ----------------------------------------------------------------------- writes
from anytime_audio.core.atomic import atomic_write, atomic_write_bytes as _atomic_write_bytes  # noqa: E402


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as pretty JSON, atomically."""
    p = Path(path)
    _atomic_write_bytes(p, (json.dumps(obj, indent=1, ensure_ascii=False) + "\n").encode())
    return p


def write_jsonl(path: str | os.PathLike, records: Iterable[dict]) -> Path:
    """Write one JSON object per line, atomically."""
    p = Path(path)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    _atomic_write_bytes(p, text.encode())
    return p


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a ``.jsonl`` manifest (blank lines ignored)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def manifest_path(path: str | os.PathLike, manifest_dir: str | os.PathLike) -> str:
    """Path as stored in a manifest: relative to ``manifest_dir`` when the file
    lies inside it (the data folder can then be moved as a whole), else absolute."""
    p = Path(path).resolve()
    root = Path(manifest_dir).resolve()
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


def write_manifests(
    output_dir: str | os.PathLike,
    splits: dict[str, list[dict]],
    label_names: Sequence[str],
    report: SkipReport | None = None,
) -> dict[str, int]:
    """Write ``{train,valid,test}.jsonl`` and ``labels.json``; return the sizes.

    Records are sorted by ``id`` so reruns give identical files. Every split
    file is written even when empty (with a warning), so the layout is fixed.
    With ``report``, its :meth:`SkipReport.summary` is logged and written to
    ``output_dir`` afterwards (the usual last step of a ``prepare_<set>``).
    Every label must be null or in ``0..len(label_names)-1``; otherwise a
    ValueError names the split file and line, and nothing is written.
    """
    out = Path(output_dir)
    _check_labels(out, splits, len(label_names))
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for split in SPLITS:
        recs = sorted(splits.get(split, []), key=lambda r: r["id"])
        ids = [r["id"] for r in recs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate ids in split {split}")
        if not recs:
            log.warning("split %s is empty", split)
        write_jsonl(out / f"{split}.jsonl", recs)
        sizes[split] = len(recs)
    extra = set(splits) - set(SPLITS)
    if extra:
        raise ValueError(f"unknown split names {sorted(extra)}; expected {SPLITS}")
    write_json(out / "labels.json", list(label_names))
    log.info("wrote %s: %s, %d labels", out, ", ".join(f"{k}={v}" for k, v in sizes.items()),
             len(label_names))
    if report is not None:
        report.summary(out)
    return sizes


def _check_labels(out: Path, splits: dict[str, list[dict]], num_labels: int) -> None:
    """Refuse a label outside labels.json before any file is written, naming
    the line it would have in its split file (records are sorted by id)."""
    from anytime_audio.manifest import label_problem

    for split, recs in splits.items():
        for line_no, rec in enumerate(sorted(recs, key=lambda r: r["id"]), 1):
            problem = label_problem(rec.get("label"), num_labels)
            if problem:
                raise ValueError(f"{out / f'{split}.jsonl'}:{line_no}: {problem} (id {rec['id']!r}); "
                                 "fix the prepare script's labels or label names")


def save_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Save a uint8 image ``[H, W]`` (grey) or ``[H, W, 3]`` (RGB) as PNG, atomically."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"{path}: expected uint8 pixels, got {arr.dtype}")
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"{path}: expected [H, W] or [H, W, 3], got {arr.shape}")
    p = Path(path)
    with atomic_write(p) as f:
        Image.fromarray(arr).save(f, format="PNG")
    return p


# ----------------------------------------------------------------------- splits
def split_keys(
    keys: Iterable[str],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> dict[str, str]:
    """Assign each distinct key (speaker, utterance id, program...) to a split.

    Deterministic: keys are sorted, then permuted by a seeded generator, and
    cut by ``fractions`` (train, valid, test). With at least three keys the
    valid and test splits get at least one key each.
    """
    uniq = sorted(set(keys))
    if not uniq:
        return {}
    if len(fractions) != 3 or min(fractions) < 0 or sum(fractions) <= 0:
        raise ValueError(f"fractions must be three non-negative numbers, got {fractions}")
    total = float(sum(fractions))
    order = np.random.default_rng(seed).permutation(len(uniq))
    n = len(uniq)
    n_valid = int(round(n * fractions[1] / total))
    n_test = int(round(n * fractions[2] / total))
    if n >= 3:
        n_valid = max(n_valid, 1 if fractions[1] > 0 else 0)
        n_test = max(n_test, 1 if fractions[2] > 0 else 0)
    n_valid = min(n_valid, n)
    n_test = min(n_test, n - n_valid)
    out = {}
    for rank, i in enumerate(order):
        if rank < n_test:
            out[uniq[i]] = "test"
        elif rank < n_test + n_valid:
            out[uniq[i]] = "valid"
        else:
            out[uniq[i]] = "train"
    return out


def stratified_split(
    labels: Sequence[int],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> list[str]:
    """Split item indices per class (so every class is in every split when it
    has at least three items); returns the split name of each item."""
    labels = list(labels)
    result = [""] * len(labels)
    for c in sorted(set(labels)):
        idx = [i for i, y in enumerate(labels) if y == c]
        assign = split_keys([f"{i:09d}" for i in idx], fractions, seed=seed + int(c))
        for i in idx:
            result[i] = assign[f"{i:09d}"]
    return result


# ------------------------------------------------------------- bad-file report
class SkipReport:
    """Report-and-skip bookkeeping: bad inputs are logged one by one and
    counted; :meth:`summary` logs the total per reason at the end and writes
    them to ``skipped.jsonl`` (item, reason, kind), so one corrupt file never
    stops a long preparation and none slips in unnoticed. A reason's kind is
    its text before the first " (" (``"silent"``, ``"too short"``,
    ``"truncated"``... as :class:`anytime_audio.audio.io.AudioFileError`
    words them)."""

    def __init__(self, what: str = "files") -> None:
        self.what = what
        self.total = 0
        self.skipped: list[tuple[str, str]] = []

    def ok(self) -> None:
        self.total += 1

    def skip(self, item: str, reason: str) -> None:
        self.total += 1
        self.skipped.append((str(item), str(reason)))
        log.warning("skipping %s: %s", item, reason)

    def __len__(self) -> int:
        return len(self.skipped)

    @staticmethod
    def kind(reason: str) -> str:
        return reason.split(" (", 1)[0]

    def summary(self, output_dir: str | os.PathLike | None = None) -> None:
        if self.skipped:
            kinds = Counter(self.kind(r) for _, r in self.skipped)
            log.warning("skipped %d of %d %s (bad or unreadable: %s)", len(self.skipped),
                        self.total, self.what, ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())))
            if output_dir is not None:
                write_jsonl(Path(output_dir) / "skipped.jsonl",
                            [{"item": i, "reason": r, "kind": self.kind(r)} for i, r in self.skipped])
        else:
            log.info("all %d %s usable, none skipped", self.total, self.what)
            if output_dir is not None:
                (Path(output_dir) / "skipped.jsonl").unlink(missing_ok=True)


# ------------------------------------------------------------------- parallel
def parallel_map(fn: Callable[[T], R], items: Sequence[T], nj: int = 1,
                 desc: str = "") -> Iterator[R]:
    """``map(fn, items)`` in order, over ``nj`` worker processes, with a
    progress bar. ``fn`` must be a module-level function and must not raise
    for a bad item (return an error value instead)."""
    from tqdm import tqdm

    if nj <= 1 or len(items) <= 1:
        for it in tqdm(items, desc=desc, disable=len(items) < 100):
            yield fn(it)
        return
    chunk = max(1, min(64, len(items) // (nj * 8)))
    with ProcessPoolExecutor(max_workers=nj) as ex:
        yield from tqdm(ex.map(fn, items, chunksize=chunk), total=len(items), desc=desc,
                        disable=len(items) < 100)


# ----------------------------------------------------------------- audio bits
def crop_segments(audio: np.ndarray, sample_rate: int, seconds: float,
                  max_segments: int = 0, min_seconds: float = 1.0) -> list[np.ndarray]:
    """Cut ``audio`` into consecutive non-overlapping segments of ``seconds``.

    The remainder is dropped; a clip shorter than ``seconds`` but at least
    ``min_seconds`` long gives one short segment (the data loader pads).
    ``max_segments`` > 0 keeps at most that many segments.
    """
    seg = int(round(seconds * sample_rate))
    if seg <= 0:
        raise ValueError(f"segment length must be positive, got {seconds} s")
    n = len(audio) // seg
    if n == 0:
        return [audio] if len(audio) >= min_seconds * sample_rate else []
    if max_segments > 0:
        n = min(n, max_segments)
    return [audio[i * seg:(i + 1) * seg] for i in range(n)]


def probe_audio(path: str, min_seconds: float = 0.0) -> tuple[str, float | None, int | None, str | None]:
    """Worker that decodes and validates one file (``load_audio``: after
    mixdown, silent, truncated, non-finite or shorter than ``min_seconds`` is
    rejected): ``(path, duration, sample_rate, None)``, or
    ``(path, None, None, reason)`` for a bad file (never raises). Give it a
    minimum with ``functools.partial(probe_audio, min_seconds=...)``."""
    from anytime_audio.audio.io import AudioFileError, load_audio

    try:
        audio, sr = load_audio(path, min_seconds=min_seconds)
    except AudioFileError as e:
        return path, None, None, e.reason
    return path, len(audio) / sr, sr, None


def segment_job(job: tuple[str, str, int, float, int, float]
                ) -> tuple[str, list[tuple[str, float]] | None, str | None]:
    """Worker for the speech corpora: load ``src`` (resampled to
    ``sample_rate``), cut it with :func:`crop_segments` and write
    ``<out_stem>_<k>.wav`` per segment. The file is validated by
    ``load_audio`` (shorter than ``min_seconds``, truncated, silent after
    mixdown... are rejected with the reason) and each segment by
    ``validate_audio`` (silent stretches are dropped).

    ``job = (src, out_stem, sample_rate, seconds, max_segments, min_seconds)``.
    Returns ``(src, [(wav_path, duration), ...], None)`` or
    ``(src, None, reason)``; it never raises for a bad file, so one corrupt
    clip cannot stop a pool.
    """
    from anytime_audio.audio.io import AudioFileError, load_audio, validate_audio, write_wav

    src, out_stem, sample_rate, seconds, max_segments, min_seconds = job
    try:
        audio, sr = load_audio(src, sample_rate=sample_rate, min_seconds=min_seconds)
        segments = crop_segments(audio, sr, seconds, max_segments, min_seconds=0.0)
        written = []
        for k, seg in enumerate(segments):
            try:
                validate_audio(seg, sr, f"{src}[segment {k}]")
            except AudioFileError:  # a silent stretch: not worth a clip
                continue
            path = write_wav(f"{out_stem}_{k}.wav", seg, sr)
            written.append((str(path), len(seg) / sr))
        if not written:
            return src, None, "only silent segments"
        return src, written, None
    except (AudioFileError, ValueError, OSError) as e:
        return src, None, getattr(e, "reason", None) or str(e)


# -------------------------------------------------------------- downloading
def download_url(url: str, dest: str | os.PathLike, md5: str | None = None,
                 timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` (skipped when it exists and the checksum,
    if given, matches). Written through :func:`atomic_write`, so an interrupted
    or corrupt download never looks complete."""
    from tqdm import tqdm

    p = Path(dest)
    if p.is_file() and (md5 is None or file_md5(p) == md5):
        log.info("%s already downloaded", p)
        return p
    log.info("downloading %s -> %s", url, p)
    req = urllib.request.Request(url, headers={"User-Agent": "anytime-audio-recipes"})
    with urllib.request.urlopen(req, timeout=timeout) as r, atomic_write(p) as f:
        size = int(r.headers.get("Content-Length") or 0) or None
        digest = hashlib.md5()
        with tqdm(total=size, unit="B", unit_scale=True, desc=p.name) as bar:
            while True:
                block = r.read(1 << 20)
                if not block:
                    break
                f.write(block)
                digest.update(block)
                bar.update(len(block))
        if md5 is not None and digest.hexdigest() != md5:  # raising here discards the temporary file
            raise OSError(f"checksum mismatch for {url} (expected md5 {md5})")
    return p


def file_md5(path: str | os.PathLike) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def extract_archive(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract a .tar(.gz/.bz2) or .zip archive into ``dest`` safely: members
    that would land outside ``dest`` (absolute paths, ``..``, links) are refused
    (tarfile's "data" filter; the same check by hand for zip)."""
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    log.info("extracting %s -> %s", archive, dest)
    if zipfile.is_zipfile(archive):
        root = dest.resolve()
        with zipfile.ZipFile(archive) as z:
            for m in z.infolist():
                target = (dest / m.filename).resolve()
                if target != root and root not in target.parents:
                    raise OSError(f"{archive}: member {m.filename!r} escapes {dest}")
            z.extractall(dest)
    else:
        with tarfile.open(archive) as t:
            t.extractall(dest, filter="data")
    return dest


def remove_tree(path: str | os.PathLike) -> None:
    shutil.rmtree(path, ignore_errors=True)


# -------------------------------------------------------------- command line
def corpus_parser(
    description: str,
    prepare_help: str,
    fetch_help: str | None = None,
    fetch_cmd: str = "download",
    corpus_dir_help: str | None = None,
    corpus_dir_default: str | None = None,
) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser | None, argparse.ArgumentParser]:
    """The command line every ``prepare_<set>.py`` shares, built in one place.

    Returns ``(parser, fetch, prepare)``: ``fetch`` is the ``download`` (or
    ``fetch_cmd``) subcommand with ``--target-dir``, ``prepare`` the
    ``prepare`` subcommand with ``--corpus-dir`` and ``--output-dir``; the
    caller adds its own options to them (they are listed after these) and
    hands the parser to :func:`run_cli`. Without ``fetch_help`` there is no
    fetch subcommand (``fetch`` is None) and no ``--corpus-dir`` either: the
    data ships in a package. ``--corpus-dir`` is required unless
    ``corpus_dir_default`` is given. The run.sh scripts call these commands,
    so the options must stay as they are.
    """
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    fetch = None
    if fetch_help is not None:
        fetch = sub.add_parser(fetch_cmd, help=fetch_help)
        fetch.add_argument("--target-dir", required=True)
    prepare = sub.add_parser("prepare", help=prepare_help)
    if fetch is not None:
        if corpus_dir_default is None:
            prepare.add_argument("--corpus-dir", required=True, help=corpus_dir_help)
        else:
            prepare.add_argument("--corpus-dir", default=corpus_dir_default, help=corpus_dir_help)
    prepare.add_argument("--output-dir", required=True)
    return ap, fetch, prepare


def run_cli(parser: argparse.ArgumentParser, argv: list[str] | None,
            **commands: Callable[[argparse.Namespace], object]) -> None:
    """Parse ``argv``, set up logging and run ``commands[<subcommand>](args)``."""
    args = parser.parse_args(argv)
    setup_logging()
    commands[args.cmd](args)
