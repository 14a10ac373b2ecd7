#!/usr/bin/env python3
"""Asterisk prompts: recorded studio speech, offline, from Debian's telephony prompt packages.

The offline stand-in for VCTK / LJSpeech: real voices (professional speakers
reading the prompts of the Asterisk PBX) through the whole pipeline, with no
download beyond Debian's own packages. Layout after ``apt-get install``
(``dpkg -L``), one folder per voice set under ``/usr/share/asterisk/sounds``::

    en_US_f_Allison/*.g722, digits/, letters/, phonetic/, dictate/, followme/, silence/
    es_MX_f_Allison/...   fr_CA_f_June/...   it_IT_m_Carlo/...   ru_RU_f_IvrvoiceRU/...
                                    (asterisk-core-sounds-<lang>-g722: 16 kHz G.722)
    it_IT_f_Menardi/*.wav           (asterisk-prompt-it-menardi-wav: 8 kHz 16-bit PCM)
    fr/*.gsm                        (asterisk-prompt-fr-armelle: 8 kHz GSM 6.10)
    es/*.gsm, es/digits/*.gsm       (asterisk-prompt-es-co: 8 kHz GSM 6.10)

A speaker is one person: the English and the Mexican-Spanish core sets are both
Allison Smith, so they are one speaker (``speaker`` in the manifest; ``set``
and ``language`` say which recording). When one prompt exists in several
formats in a set folder (the -g722 and -wav packages share it) the best is
used: G.722, then WAV, then GSM. ``silence/`` and the tones (``beep``...) are
not speech and are left out.

Each prompt is decoded (G.722 and GSM by ffmpeg, one process per batch of
files; WAV by soundfile), resampled to ``sample_rate``, trimmed of leading and
trailing silence (10 ms frames quieter than ``trim_db`` below the loudest
frame, keeping 50 ms of margin) and cut into consecutive clips of exactly
``segment_seconds``: a prompt shorter than a clip, or the tail of a longer
one, is zero-padded at the end when it holds at least ``min_seconds`` of
speech and dropped otherwise (digits and letters are mostly shorter than 1 s:
they are counted in ``meta.json``, not reported as bad files). Each clip is
checked with ``validate_audio`` and written as a 16-bit WAV under
``<output_dir>/wav/<set>/``.

Splits (by source file: one prompt's clips never straddle two splits):

* ``test``: every prompt of the held-out speaker (``held_out_speaker``,
  default ``june``, fr-CA), a voice never seen in training;
* ``train`` / ``valid`` / ``test_seen_speakers``: the other speakers'
  prompts, 80/10/10 per set (seeded). ``test_seen_speakers`` is evaluated
  beside ``test`` (``data.extra_test_splits``). With ``held_out_speaker="none"``
  the 10 % go to ``test`` instead and there is no extra split.

Labels are null (``labels.json`` is empty). ``meta.json`` records every set's
speaker, licence, files used and minutes per split.

    python local/prepare_prompts.py install --target-dir /usr/share/asterisk/sounds
    python local/prepare_prompts.py prepare --corpus-dir /usr/share/asterisk/sounds --output-dir data/prompts
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.prompts")

DEBIAN_SOUNDS = Path("/usr/share/asterisk/sounds")
EXTRA_SPLIT = "test_seen_speakers"
FFMPEG_FORMATS = {"g722": "g722", "gsm": "gsm"}  # extension -> ffmpeg demuxer (raw, headerless)
FORMAT_ORDER = ("g722", "wav", "gsm")  # the best first: 16 kHz G.722, then PCM, then GSM
NOT_SPEECH = {"beep", "beeperr", "ascending-2tone", "descending-2tone"}
BATCH = 32  # files per ffmpeg process (one process per file costs ~10x more)


class VoiceSet(NamedTuple):
    """One recorded set: a folder under the sounds dir, from one Debian package."""

    name: str        # folder under /usr/share/asterisk/sounds
    speaker: str     # the person (two sets may share one)
    language: str
    package: str     # Debian package that installs it
    licence: str     # from /usr/share/doc/<package>/copyright
    fmt: str         # the package's format: g722 (16 kHz), wav or gsm (8 kHz)
    core: bool       # 16 kHz core set (the default selection)


VOICE_SETS = (
    VoiceSet("en_US_f_Allison", "allison", "en-US", "asterisk-core-sounds-en-g722", "CC-BY-SA-3.0", "g722", True),
    VoiceSet("es_MX_f_Allison", "allison", "es-MX", "asterisk-core-sounds-es-g722", "CC-BY-SA-3.0", "g722", True),
    VoiceSet("fr_CA_f_June", "june", "fr-CA", "asterisk-core-sounds-fr-g722", "CC-BY-SA-3.0", "g722", True),
    VoiceSet("it_IT_m_Carlo", "carlo", "it-IT", "asterisk-core-sounds-it-g722", "CC-BY-3.0", "g722", True),
    VoiceSet("ru_RU_f_IvrvoiceRU", "ivrvoiceru", "ru-RU", "asterisk-core-sounds-ru-g722", "CC-BY-3.0", "g722", True),
    VoiceSet("it_IT_f_Menardi", "menardi", "it-IT", "asterisk-prompt-it-menardi-wav", "CC-BY-SA-3.0-IT", "wav", False),
    VoiceSet("fr", "armelle", "fr-FR", "asterisk-prompt-fr-armelle", "BSD-2-Clause-like", "gsm", False),
    VoiceSet("es", "july", "es-CO", "asterisk-prompt-es-co", "GPL-2", "gsm", False),
)
BY_NAME = {v.name: v for v in VOICE_SETS}


def select_sets(sets: str | Sequence[str]) -> list[VoiceSet]:
    """``"core"`` (the five 16 kHz sets), ``"extra"`` (the three 8 kHz ones),
    ``"all"``, or set folder names (a list or a comma-separated string)."""
    if isinstance(sets, str):
        if sets in ("core", "extra", "all"):
            return [v for v in VOICE_SETS if sets == "all" or v.core == (sets == "core")]
        sets = [s.strip() for s in sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in BY_NAME]
    if unknown or not sets:
        raise ValueError(f"--sets: unknown set {unknown or sets!r}; use core, extra, all or names from "
                         f"{', '.join(BY_NAME)}")
    return [BY_NAME[s] for s in sets]


def find_files(sounds_dir: Path, vs: VoiceSet) -> list[Path]:
    """The set's speech prompts, one file per prompt (the best format), sorted."""
    root = sounds_dir / vs.name
    if not root.is_dir() or (not vs.core and root.is_symlink()):  # "fr" may link to another set
        return []
    best: dict[Path, Path] = {}
    for p in sorted(root.rglob("*")):
        ext = p.suffix[1:].lower()
        rel = p.relative_to(root)
        if ext not in FORMAT_ORDER or not p.is_file() or rel.parts[0] == "silence" or p.stem in NOT_SPEECH:
            continue
        key = rel.with_suffix("")
        if key not in best or FORMAT_ORDER.index(ext) < FORMAT_ORDER.index(best[key].suffix[1:].lower()):
            best[key] = p
    return [best[k] for k in sorted(best)]


# ------------------------------------------------------------------ install
def install_prompts(sounds_dir: str | Path = DEBIAN_SOUNDS, sets: str = "core",
                    install: bool = True) -> Path:
    """Make sure the chosen sets (and ffmpeg, for G.722/GSM) are there.

    Missing Debian packages are installed with ``apt-get install -y
    --no-install-recommends`` when ``install`` is true, the process is root and
    ``sounds_dir`` is Debian's folder (no package source is added; the package
    lists are refreshed once when the first try fails). Otherwise a one-line
    error names the packages and ``--sounds-dir``.
    """
    sounds = Path(sounds_dir)
    wanted = select_sets(sets)
    missing = [v for v in wanted if not find_files(sounds, v)]
    need = [v.package for v in missing]
    if shutil.which("ffmpeg") is None and any(v.fmt in FFMPEG_FORMATS for v in wanted):
        need.append("ffmpeg")
    if not need:
        log.info("all %d sets present in %s and ffmpeg found: nothing to install", len(wanted), sounds)
        return sounds
    debian = sounds.resolve() == DEBIAN_SOUNDS.resolve()
    can_apt = install and os.geteuid() == 0 and shutil.which("apt-get") is not None
    if can_apt and (debian or not missing):
        log.info("apt-get install %s", " ".join(need))
        cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *need]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(cmd, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
            subprocess.run(cmd, env=env, check=False)
        missing = [v for v in wanted if not find_files(sounds, v)]
        need = [v.package for v in missing] + (["ffmpeg"] if "ffmpeg" in need and not shutil.which("ffmpeg") else [])
        if not need:
            return sounds
    where = f"no {', '.join(v.name for v in missing)} in {sounds}" if missing else "ffmpeg not found"
    raise FileNotFoundError(f"{where}: apt-get install {' '.join(need)} (as root; stage 0 does it with "
                            f"--install true) or give --sounds-dir DIR with a copy of the sets")


# ------------------------------------------------------------------ decoding
def decode_files(paths: Sequence[str]) -> list[tuple[np.ndarray | None, int, str | None]]:
    """Decode audio files to float32 mono: ``(audio, rate, None)`` or ``(None, 0, reason)``.

    Raw G.722 and GSM go through one ffmpeg process for the whole list (on a
    failure, file by file to find the bad one); other files through soundfile.
    Never raises for a bad file.
    """
    import soundfile as sf

    out: list[tuple[np.ndarray | None, int, str | None]] = [(None, 0, "not decoded")] * len(paths)
    raw = [i for i, p in enumerate(paths) if Path(p).suffix[1:].lower() in FFMPEG_FORMATS]
    for i in sorted(set(range(len(paths))) - set(raw)):
        try:
            audio, sr = sf.read(paths[i], dtype="float32", always_2d=True)
            out[i] = (audio.mean(axis=1), int(sr), None)
        except (sf.LibsndfileError, RuntimeError, OSError) as e:
            out[i] = (None, 0, f"unreadable or corrupt audio file ({' '.join(str(e).split())})")
    if raw:
        for i, res in zip(raw, _ffmpeg([paths[i] for i in raw])):
            out[i] = res
    return out


def _ffmpeg(paths: list[str]) -> list[tuple[np.ndarray | None, int, str | None]]:
    import soundfile as sf

    if shutil.which("ffmpeg") is None:
        return [(None, 0, "ffmpeg not found (apt-get install ffmpeg)")] * len(paths)
    with tempfile.TemporaryDirectory(prefix="prompts-") as tmp:
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        for p in paths:
            cmd += ["-f", FFMPEG_FORMATS[Path(p).suffix[1:].lower()], "-i", p]
        for i in range(len(paths)):
            cmd += ["-map", f"{i}:a:0", "-ac", "1", "-c:a", "pcm_s16le", f"{tmp}/{i}.wav"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            if len(paths) > 1:
                return [res for p in paths for res in _ffmpeg([p])]
            why = (r.stderr.strip().splitlines() or ["no message"])[-1]
            return [(None, 0, f"unreadable or corrupt audio file (ffmpeg: {why})")]
        results = []
        for i in range(len(paths)):
            audio, sr = sf.read(f"{tmp}/{i}.wav", dtype="float32")
            results.append((audio, int(sr), None))
        return results


# ------------------------------------------------------------------ clips
def trim_silence(audio: np.ndarray, sample_rate: int, trim_db: float = 40.0,
                 frame_seconds: float = 0.01, margin_seconds: float = 0.05) -> tuple[np.ndarray, int]:
    """Cut leading and trailing silence: ``(trimmed, first kept sample)``.

    Silence = 10 ms frames whose RMS is more than ``trim_db`` below the loudest
    frame's; ``margin_seconds`` of it is kept on each side so onsets and
    decays survive. All-zero audio gives an empty array.
    """
    hop = max(1, int(round(frame_seconds * sample_rate)))
    n = len(audio) // hop
    if n == 0:
        return audio, 0
    rms = np.sqrt(np.mean(np.square(audio[: n * hop].reshape(n, hop), dtype=np.float64), axis=1))
    if rms.max() <= 0:
        return audio[:0], 0
    active = np.flatnonzero(rms >= rms.max() * 10 ** (-trim_db / 20))
    margin = int(round(margin_seconds * sample_rate))
    start = max(0, int(active[0]) * hop - margin)
    end = min(len(audio), (int(active[-1]) + 1) * hop + margin)
    return audio[start:end], start


def make_clips(audio: np.ndarray, rate: int, name: str, sample_rate: int = 16000,
               segment_seconds: float = 2.0, max_segments: int = 0, min_seconds: float = 1.0,
               trim_db: float = 40.0) -> tuple[list[tuple[float, np.ndarray, float]], float]:
    """One decoded prompt -> ``([(offset s, clip, speech s), ...], trimmed seconds)``.

    Resampled, trimmed, cut into clips of exactly ``segment_seconds`` (the
    last one zero-padded when it holds at least ``min_seconds``), at most
    ``max_segments`` (0 = all). Raises ``AudioFileError`` for empty,
    non-finite or silent audio; silent clips are dropped.
    """
    from anytime_audio.audio.io import AudioFileError, resample, validate_audio

    audio = validate_audio(audio, rate, name)
    audio = resample(audio, rate, sample_rate)
    audio, _ = trim_silence(audio, sample_rate, trim_db)
    if len(audio) == 0:
        raise AudioFileError(name, "silent (nothing above the trimming threshold)", "silent")
    seg = int(round(segment_seconds * sample_rate))
    clips = []
    for start in range(0, len(audio), seg):
        piece = audio[start:start + seg]
        if len(piece) < seg and len(piece) < min_seconds * sample_rate:
            break
        if 0 < max_segments <= len(clips):
            break
        try:
            validate_audio(piece, sample_rate, f"{name}[segment {len(clips)}]")
        except AudioFileError:  # a silent stretch inside a long prompt
            continue
        clips.append((start / sample_rate, np.pad(piece, (0, seg - len(piece))), len(piece) / sample_rate))
    return clips, len(audio) / sample_rate


def clip_batch(job: tuple) -> list[tuple[str, list[tuple[str, float, float]], float, str | None]]:
    """Pool worker: decode a batch and write its clips. Per file ``(src, [(wav, offset,
    speech s), ...], trimmed s, reason)``; reason None, ``"too short"`` or why it is bad."""
    from anytime_audio.audio.io import AudioFileError, write_wav

    files, sample_rate, segment_seconds, max_segments, min_seconds, trim_db = job
    results = []
    for (src, stem), (audio, rate, err) in zip(files, decode_files([s for s, _ in files])):
        if err is not None:
            results.append((src, [], 0.0, err))
            continue
        try:
            clips, seconds = make_clips(audio, rate, src, sample_rate, segment_seconds, max_segments,
                                        min_seconds, trim_db)
            written = [(str(write_wav(f"{stem}_{k}.wav", clip, sample_rate)), off, speech)
                       for k, (off, clip, speech) in enumerate(clips)]
            results.append((src, written, seconds, None if written else "too short"))
        except (AudioFileError, ValueError, OSError) as e:
            results.append((src, [], 0.0, getattr(e, "reason", None) or str(e)))
    return results


# ------------------------------------------------------------------ prepare
def prepare_prompts(
    corpus_dir: str | Path,
    output_dir: str | Path,
    sets: str | Sequence[str] = "core",
    held_out_speaker: str = "june",
    sample_rate: int = 16000,
    segment_seconds: float = 2.0,
    max_segments: int = 0,
    min_seconds: float = 1.0,
    trim_db: float = 40.0,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    nj: int = 1,
) -> dict[str, int]:
    """Write the clips, ``{train,valid,test}.jsonl`` (+ ``test_seen_speakers.jsonl``),
    ``labels.json`` and ``meta.json``; return the split sizes (see the module docstring)."""
    sounds, out = Path(corpus_dir), Path(output_dir)
    wanted = select_sets(sets)
    files = {v.name: find_files(sounds, v) if sounds.is_dir() else [] for v in wanted}
    present = [v for v in wanted if files[v.name]]
    if not present:
        what = "not found" if not sounds.is_dir() else "holds none of the sets"
        raise FileNotFoundError(f"sounds folder {sounds} {what}: apt-get install "
                                f"{' '.join(v.package for v in wanted)} (stage 0 does it as root) "
                                "or give --sounds-dir DIR with a copy")
    for v in wanted:
        if not files[v.name]:
            log.warning("set %s not found in %s (apt-get install %s); going on without it", v.name, sounds, v.package)
    speakers = sorted({v.speaker for v in VOICE_SETS})
    if held_out_speaker != "none" and held_out_speaker not in speakers:
        raise ValueError(f"--held-out-speaker {held_out_speaker!r} is not one of {', '.join(speakers)}, none")
    if held_out_speaker != "none" and held_out_speaker not in {v.speaker for v in present}:
        pkgs = " ".join(v.package for v in VOICE_SETS if v.speaker == held_out_speaker)
        raise FileNotFoundError(f"--held-out-speaker {held_out_speaker}: none of its sets is in {sounds} "
                                f"(apt-get install {pkgs}, or choose another speaker)")
    if any(p.suffix[1:].lower() in FFMPEG_FORMATS for fs in files.values() for p in fs) \
            and shutil.which("ffmpeg") is None:
        raise FileNotFoundError("ffmpeg not found, needed for G.722/GSM: apt-get install ffmpeg "
                                "(stage 0 does it as root)")

    sources = [(v, p) for v in present for p in files[v.name]]
    jobs = []
    for b in range(0, len(sources), BATCH):
        batch = [(str(p), str(out / "wav" / v.name / p.relative_to(sounds / v.name).with_suffix("")))
                 for v, p in sources[b:b + BATCH]]
        jobs.append((batch, sample_rate, segment_seconds, max_segments, min_seconds, trim_db))
    log.info("%d prompts in %d sets under %s; %d batches on %d workers", len(sources), len(present),
             sounds, len(jobs), nj)
    report = rc.SkipReport("prompts")
    meta_sets = {v.name: {**v._asdict(), "files": len(files[v.name]), "used": 0, "too_short": 0,
                          "trimmed_minutes": 0.0} for v in present}
    usable: dict[str, list[tuple[Path, list]]] = {v.name: [] for v in present}
    results = (r for batch in rc.parallel_map(clip_batch, jobs, nj, "prompts") for r in batch)
    for (v, p), (src, written, seconds, reason) in zip(sources, results):
        m = meta_sets[v.name]
        m["trimmed_minutes"] += seconds / 60
        if reason == "too short":
            m["too_short"] += 1
        elif reason is not None:
            report.skip(str(p.relative_to(sounds)), reason)
        else:
            report.ok()
            m["used"] += 1
            usable[v.name].append((p, written))

    splits: dict[str, list[dict]] = {s: [] for s in (*rc.SPLITS, EXTRA_SPLIT)}
    for v in present:
        keys = [str(p.relative_to(sounds)) for p, _ in usable[v.name]]
        assign = {k: "test" for k in keys} if v.speaker == held_out_speaker else {
            k: (EXTRA_SPLIT if s == "test" and held_out_speaker != "none" else s)
            for k, s in rc.split_keys(keys, fractions, seed).items()}
        for key, (p, written) in zip(keys, usable[v.name]):
            for wav, offset, speech in written:
                splits[assign[key]].append({
                    "id": f"{v.name}__{'__'.join(Path(wav).relative_to(out / 'wav' / v.name).with_suffix('').parts)}",
                    "path": rc.manifest_path(wav, out), "duration": float(segment_seconds),
                    "sample_rate": sample_rate, "label": None, "label_name": None, "speaker": v.speaker,
                    "set": v.name, "language": v.language, "source": key, "offset": round(offset, 6),
                    "speech_seconds": round(speech, 6)})
    extra = splits.pop(EXTRA_SPLIT)
    sizes = rc.write_manifests(out, splits, [], report)
    if held_out_speaker != "none":
        rc.write_jsonl(out / f"{EXTRA_SPLIT}.jsonl", sorted(extra, key=lambda r: r["id"]))
        sizes[EXTRA_SPLIT] = len(extra)
    else:
        (out / f"{EXTRA_SPLIT}.jsonl").unlink(missing_ok=True)
    _write_meta(out, meta_sets, {**splits, EXTRA_SPLIT: extra}, held_out_speaker, seed)
    return sizes


def _write_meta(out: Path, meta_sets: dict, splits: dict[str, list[dict]], held_out: str, seed: int) -> None:
    """meta.json: per set, its facts, files used and clips / minutes per split."""
    for m in meta_sets.values():
        m["trimmed_minutes"] = round(m["trimmed_minutes"], 2)
        m["splits"] = {}
    for split, recs in splits.items():
        for r in recs:
            s = meta_sets[r["set"]]["splits"].setdefault(split, {"clips": 0, "minutes": 0.0, "speech_minutes": 0.0})
            s["clips"] += 1
            s["minutes"] += r["duration"] / 60
            s["speech_minutes"] += r["speech_seconds"] / 60
    for m in meta_sets.values():
        for s in m["splits"].values():
            s["minutes"], s["speech_minutes"] = round(s["minutes"], 2), round(s["speech_minutes"], 2)
    rc.write_json(out / "meta.json", {"held_out_speaker": held_out, "seed": seed, "sets": meta_sets,
                                      "clips": {k: len(v) for k, v in splits.items()}})


def main(argv: list[str] | None = None) -> None:
    ap, inst, p = rc.corpus_parser(__doc__, "write clips and manifests", fetch_cmd="install",
                                   fetch_help="install the Debian packages (as root) or check a copy",
                                   corpus_dir_help="the sounds folder", corpus_dir_default=str(DEBIAN_SOUNDS))
    for sub in (inst, p):
        sub.add_argument("--sets", default="core", help="core | extra | all | set folder names, comma-separated")
    inst.add_argument("--install", default="true", choices=["true", "false"])
    p.add_argument("--held-out-speaker", default="june", help="the test speaker, or none")
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--segment-seconds", type=float, default=2.0)
    p.add_argument("--max-segments", type=int, default=0, help="per prompt; 0 = all")
    p.add_argument("--min-seconds", type=float, default=1.0, help="shorter prompts / tails are dropped")
    p.add_argument("--trim-db", type=float, default=40.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=1)
    try:
        rc.run_cli(ap, argv, install=lambda a: install_prompts(a.target_dir, a.sets, a.install == "true"),
                   prepare=lambda a: prepare_prompts(
                       a.corpus_dir, a.output_dir, sets=a.sets, held_out_speaker=a.held_out_speaker,
                       sample_rate=a.sample_rate, segment_seconds=a.segment_seconds,
                       max_segments=a.max_segments, min_seconds=a.min_seconds, trim_db=a.trim_db,
                       seed=a.seed, nj=a.nj))
    except (OSError, ValueError) as e:  # one line, naming the option at fault
        raise SystemExit(f"prepare_prompts.py: error: {e}") from None


if __name__ == "__main__":
    main()
