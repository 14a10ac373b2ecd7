#!/usr/bin/env python3
"""VCTK 0.92: 110 English speakers, resampled to 16 kHz and cut into 2 s clips.

Corpus layout (VCTK-Corpus-0.92.zip unpacked)::

    VCTK-Corpus-0.92/
      wav48_silence_trimmed/p225/p225_001_mic1.flac   (48 kHz FLAC, mic1 and mic2)
      txt/p225/p225_001.txt                           (transcript; p315 has none)
      speaker-info.txt

Each utterance of the chosen microphone is loaded (resampled to
``sample_rate``), cut into consecutive ``segment_seconds`` segments (at most
``max_segments`` per utterance; an utterance shorter than a segment but at
least ``min_seconds`` long gives one short clip) and written as 16-bit WAVs
under ``<output_dir>/wav/<speaker>/``. Splits are by speaker (no voice in two
splits); labels are null and ``labels.json`` is empty. With
``speaker_labels=True`` the label is the speaker index instead and the split
is by utterance within each speaker (a classifier must see every speaker).

    python local/prepare_vctk.py download --target-dir downloads
    python local/prepare_vctk.py prepare --corpus-dir downloads/VCTK-Corpus-0.92 --output-dir data/vctk
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.vctk")

URL = "https://datashare.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip"
AUDIO_DIR = "wav48_silence_trimmed"


def download_vctk(target_dir: str | Path) -> Path:
    """Download and unpack VCTK 0.92 (about 11 GB) into ``target_dir/VCTK-Corpus-0.92``."""
    target = Path(target_dir)
    corpus = target / "VCTK-Corpus-0.92"
    if (corpus / AUDIO_DIR).is_dir():
        log.info("%s already present", corpus)
        return corpus
    archive = rc.download_url(URL, target / "VCTK-Corpus-0.92.zip")
    rc.extract_archive(archive, corpus)
    return corpus


def prepare_vctk(
    corpus_dir: str | Path,
    output_dir: str | Path,
    sample_rate: int = 16000,
    segment_seconds: float = 2.0,
    max_segments: int = 2,
    min_seconds: float = 1.0,
    mic: str = "mic1",
    speaker_labels: bool = False,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    nj: int = 1,
) -> dict[str, int]:
    """Write WAV clips and ``{train,valid,test}.jsonl`` + ``labels.json``.

    Bad files (unreadable, empty, silent, too short) are reported, listed in
    ``output_dir/skipped.jsonl`` and skipped. Returns the split sizes.
    """
    corpus = Path(corpus_dir)
    out = Path(output_dir)
    audio_root = corpus / AUDIO_DIR
    if not audio_root.is_dir():
        raise FileNotFoundError(f"{audio_root} not found: not a VCTK 0.92 folder?")
    files = sorted(audio_root.glob(f"p*/*_{mic}.flac")) + sorted(audio_root.glob(f"s*/*_{mic}.flac"))
    if not files:
        raise FileNotFoundError(f"no *_{mic}.flac files under {audio_root}")
    log.info("%d %s utterances under %s", len(files), mic, audio_root)

    jobs = []
    for f in files:
        spk = f.parent.name
        utt = f.stem[: -len(mic) - 1]  # p225_001_mic1 -> p225_001
        jobs.append((str(f), str(out / "wav" / spk / utt), sample_rate, segment_seconds,
                     max_segments, min_seconds))

    report = rc.SkipReport("utterances")
    clips = []  # (speaker, utt, seg_path, duration, text)
    for src, written, err in rc.parallel_map(rc.segment_job, jobs, nj, "vctk"):
        src_p = Path(src)
        if err is not None:
            report.skip(f"{src_p.parent.name}/{src_p.name}", err)
            continue
        report.ok()
        spk = src_p.parent.name
        utt = src_p.stem[: -len(mic) - 1]
        txt = corpus / "txt" / spk / f"{utt}.txt"
        text = txt.read_text(encoding="utf-8", errors="replace").strip() if txt.is_file() else None
        for path, duration in written:
            clips.append((spk, utt, path, duration, text))

    speakers = sorted({c[0] for c in clips})
    if speaker_labels:
        spk_index = {s: i for i, s in enumerate(speakers)}
        utts = sorted({(c[0], c[1]) for c in clips})
        assign_list = rc.stratified_split([spk_index[s] for s, _ in utts], fractions, seed)
        assign = {u: a for (_, u), a in zip(utts, assign_list)}
        split_of = lambda c: assign[c[1]]  # noqa: E731
        label_names = speakers
    else:
        spk_assign = rc.split_keys(speakers, fractions, seed)
        split_of = lambda c: spk_assign[c[0]]  # noqa: E731
        label_names = []

    splits: dict[str, list[dict]] = {s: [] for s in rc.SPLITS}
    for c in clips:
        spk, utt, path, duration, text = c
        splits[split_of(c)].append({
            "id": Path(path).stem,
            "path": rc.manifest_path(path, out),
            "duration": round(float(duration), 6),
            "sample_rate": sample_rate,
            "label": speakers.index(spk) if speaker_labels else None,
            "label_name": spk if speaker_labels else None,
            "speaker": spk,
            "text": text,
        })
    return rc.write_manifests(out, splits, label_names, report)


def main(argv: list[str] | None = None) -> None:
    ap, _, p = rc.corpus_parser(__doc__, "write clips and manifests",
                                fetch_help="download VCTK 0.92",
                                corpus_dir_help="the VCTK-Corpus-0.92 folder")
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--segment-seconds", type=float, default=2.0)
    p.add_argument("--max-segments", type=int, default=2, help="per utterance; 0 = all")
    p.add_argument("--min-seconds", type=float, default=1.0)
    p.add_argument("--mic", default="mic1", choices=["mic1", "mic2"])
    p.add_argument("--speaker-labels", default="false", choices=["true", "false"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=1)
    rc.run_cli(ap, argv, download=lambda a: print(download_vctk(a.target_dir)),
               prepare=lambda a: prepare_vctk(
                   a.corpus_dir, a.output_dir, sample_rate=a.sample_rate,
                   segment_seconds=a.segment_seconds, max_segments=a.max_segments,
                   min_seconds=a.min_seconds, mic=a.mic,
                   speaker_labels=a.speaker_labels == "true", seed=a.seed, nj=a.nj))


if __name__ == "__main__":
    main()
