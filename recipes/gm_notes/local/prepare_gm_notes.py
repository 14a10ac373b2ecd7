#!/usr/bin/env python3
"""GM notes: an offline, NSynth-like corpus of single notes rendered with fluidsynth.

Every (General MIDI program, pitch) pair becomes one 4 s clip at 16 kHz: a
tiny standard MIDI file (written byte by byte below: one track, a program
change, a note held for ``note_seconds``) rendered with

    fluidsynth -ni -q -R 0 -C 0 -F raw.wav -r 16000 <soundfont.sf2> note.mid

then mixed to mono and cut or padded to exactly ``seconds``. Reverb and
chorus are off, so a clip is the dry instrument. The default is the Debian
General MIDI soundfont (``apt-get install fluidsynth fluid-soundfont-gm``).

label = the GM instrument family, program // 8 (labels.json lists all 16
family names: piano, chromatic_percussion, organ, ...; families whose
programs are not rendered simply have no clips); pitch, program and velocity
are in the manifest, and the program plays the part of NSynth's instrument
("speaker"). The default split holds out whole programs per family, as
NSynth holds out instruments: per family one program for valid, one for
test, the rest train.

Stage 0 renders (``render_gm_notes``; existing WAVs are kept, so a rerun
resumes), stage 1 validates the WAVs and writes the manifests
(``prepare_gm_notes``):

    python local/prepare_gm_notes.py render --target-dir downloads/gm_notes --nj 2
    python local/prepare_gm_notes.py prepare --corpus-dir downloads/gm_notes --output-dir data/gm_notes
"""

from __future__ import annotations

import functools
import logging
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

from anytime_audio.audio.io import validate_audio, write_wav  # noqa: E402

log = logging.getLogger("recipes.gm_notes")

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
FAMILIES = ("piano", "chromatic_percussion", "organ", "guitar", "bass", "strings", "ensemble",
            "brass", "reed", "pipe", "synth_lead", "synth_pad", "synth_effects", "ethnic",
            "percussive", "sound_effects")
# Families 14-15 (percussive, sound effects) are mostly unpitched: left out by default.
DEFAULT_PROGRAMS = tuple(range(112))
DEFAULT_PITCHES = (48, 55, 62, 69)  # C3 G3 D4 A4: inside every melodic program's range
TICKS_PER_QUARTER = 480  # at the default tempo (120 bpm) a quarter note is 0.5 s


def note_id(program: int, pitch: int, velocity: int) -> str:
    return f"gm{program:03d}_p{pitch:03d}_v{velocity:03d}"


def _vlq(n: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def midi_note_bytes(program: int, pitch: int, velocity: int, note_seconds: float,
                    total_seconds: float) -> bytes:
    """A format-0 standard MIDI file: program change, one note on channel 0
    (channel 9 would be drums) held ``note_seconds``, end of track at
    ``total_seconds`` (so the release is rendered too)."""
    if not (0 <= program < 128 and 0 <= pitch < 128 and 0 < velocity < 128):
        raise ValueError(f"bad note: program={program} pitch={pitch} velocity={velocity}")
    ticks_per_s = TICKS_PER_QUARTER * 2  # 120 bpm
    on_ticks = int(round(note_seconds * ticks_per_s))
    tail_ticks = max(0, int(round(total_seconds * ticks_per_s)) - on_ticks)
    track = (
        _vlq(0) + bytes([0xC0, program])
        + _vlq(0) + bytes([0x90, pitch, velocity])
        + _vlq(on_ticks) + bytes([0x80, pitch, 0])
        + _vlq(tail_ticks) + b"\xff\x2f\x00"
    )
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def find_fluidsynth() -> str:
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise FileNotFoundError(
            "fluidsynth not found: install it (Debian/Ubuntu: apt-get install fluidsynth "
            "fluid-soundfont-gm) to render the GM notes corpus")
    return exe


def render_note(program: int, pitch: int, velocity: int, out_wav: Path, soundfont: str,
                sample_rate: int = 16000, seconds: float = 4.0, note_seconds: float = 3.0,
                fluidsynth: str = "fluidsynth") -> Path:
    """Render one note to ``out_wav`` (mono, exactly ``seconds``, 16-bit, peak-normalised).

    Raises RuntimeError when fluidsynth fails and AudioFileError (a
    ValueError) when the render is silent (a program without that key) or
    not finite: the same :func:`validate_audio` as every loaded clip.
    """
    with tempfile.TemporaryDirectory(prefix="gm_note_") as tmp:
        mid = Path(tmp) / "note.mid"
        raw = Path(tmp) / "raw.wav"
        mid.write_bytes(midi_note_bytes(program, pitch, velocity, note_seconds, seconds))
        cmd = [fluidsynth, "-ni", "-q", "-R", "0", "-C", "0", "-F", str(raw),
               "-r", str(sample_rate), soundfont, str(mid)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if res.returncode != 0 or not raw.is_file():
            raise RuntimeError(f"fluidsynth failed ({res.returncode}): {res.stderr.strip()[-300:]}")
        audio, sr = sf.read(str(raw), dtype="float32", always_2d=True)
    if sr != sample_rate:
        raise RuntimeError(f"fluidsynth wrote {sr} Hz instead of {sample_rate}")
    mono = audio.mean(axis=1)
    n = int(round(seconds * sample_rate))
    mono = np.pad(mono[:n], (0, max(0, n - len(mono))))
    mono = validate_audio(mono, sample_rate, f"render of program {program} pitch {pitch}")
    return write_wav(out_wav, mono, sample_rate)


def render_gm_notes(
    target_dir: str | Path,
    programs: tuple[int, ...] = DEFAULT_PROGRAMS,
    pitches: tuple[int, ...] = DEFAULT_PITCHES,
    velocity: int = 100,
    sample_rate: int = 16000,
    seconds: float = 4.0,
    note_seconds: float = 3.0,
    soundfont: str = DEFAULT_SOUNDFONT,
    nj: int = 2,
) -> Path:
    """Render every (program, pitch) into ``target_dir/wav/`` and index them in
    ``target_dir/notes.jsonl``. WAVs already there are kept (a rerun resumes);
    failed renders are reported, counted and left out of the index."""
    exe = find_fluidsynth()
    if not Path(soundfont).is_file():
        raise FileNotFoundError(f"soundfont {soundfont} not found (apt-get install fluid-soundfont-gm)")
    target = Path(target_dir)
    notes = [(p, k) for p in programs for k in pitches]
    log.info("rendering %d notes (%d programs x %d pitches) with %s", len(notes), len(programs),
             len(pitches), soundfont)

    def work(note: tuple[int, int]) -> tuple[int, int, str | None]:
        program, pitch = note
        out = target / "wav" / f"{note_id(program, pitch, velocity)}.wav"
        if out.is_file():
            return program, pitch, None
        try:
            render_note(program, pitch, velocity, out, soundfont, sample_rate, seconds,
                        note_seconds, exe)
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as e:
            return program, pitch, str(e)
        return program, pitch, None

    from tqdm import tqdm

    report = rc.SkipReport("notes")
    index = []
    with ThreadPoolExecutor(max_workers=max(1, nj)) as ex:
        for program, pitch, err in tqdm(ex.map(work, notes), total=len(notes), desc="render",
                                        disable=len(notes) < 20):
            nid = note_id(program, pitch, velocity)
            if err is not None:
                report.skip(nid, err)
                continue
            report.ok()
            index.append({"id": nid, "path": f"wav/{nid}.wav", "program": program,
                          "family": program // 8, "pitch": pitch, "velocity": velocity})
    rc.write_jsonl(target / "notes.jsonl", index)
    report.summary(target)
    return target


def prepare_gm_notes(
    corpus_dir: str | Path,
    output_dir: str | Path,
    split_by: str = "program",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    nj: int = 1,
    min_seconds: float = 2.0,
) -> dict[str, int]:
    """Validate the rendered notes and write ``{train,valid,test}.jsonl`` + ``labels.json``.

    ``split_by="program"`` holds out whole programs per family (like NSynth's
    held-out instruments); ``"note"`` splits notes per family at random
    (seeded). Bad WAVs (``load_audio``: corrupt, truncated, silent,
    non-finite, shorter than ``min_seconds``, by default half the 4 s model
    clip) are reported and skipped. Returns the split sizes.
    """
    corpus = Path(corpus_dir).resolve()
    out = Path(output_dir)
    index_path = corpus / "notes.jsonl"
    if not index_path.is_file():
        raise FileNotFoundError(f"{index_path} not found: run the render step (stage 0) first")
    notes = rc.read_jsonl(index_path)
    families = sorted({int(n["family"]) for n in notes})

    if split_by == "program":
        assign_prog: dict[int, str] = {}
        for fam in families:
            progs = sorted({int(n["program"]) for n in notes if int(n["family"]) == fam})
            a = rc.split_keys([f"{p:03d}" for p in progs], fractions, seed + fam)
            assign_prog.update({int(k): v for k, v in a.items()})
        split_of = [assign_prog[int(n["program"])] for n in notes]
    elif split_by == "note":
        split_of = rc.stratified_split([int(n["family"]) for n in notes], fractions, seed)
    else:
        raise ValueError(f"split_by must be 'program' or 'note', got {split_by!r}")

    report = rc.SkipReport("notes")
    splits: dict[str, list[dict]] = {s: [] for s in rc.SPLITS}
    paths = [str(corpus / n["path"]) for n in notes]
    probe = functools.partial(rc.probe_audio, min_seconds=min_seconds)
    for n, split, (path, duration, sr, err) in zip(notes, split_of,
                                                   rc.parallel_map(probe, paths, nj, "gm_notes")):
        if err is not None:
            report.skip(n["path"], err)
            continue
        report.ok()
        fam = int(n["family"])
        splits[split].append({
            "id": n["id"],
            "path": rc.manifest_path(path, out),
            "duration": round(float(duration), 6),
            "sample_rate": int(sr),
            "label": fam,
            "label_name": FAMILIES[fam],
            "speaker": f"gm{int(n['program']):03d}",
            "pitch": int(n["pitch"]),
            "program": int(n["program"]),
            "velocity": int(n["velocity"]),
        })
    return rc.write_manifests(out, splits, list(FAMILIES), report)


def _int_list(text: str) -> tuple[int, ...]:
    """"0-111" or "0,8,16" or "40-44,60" -> ints."""
    vals: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            vals += range(int(lo), int(hi) + 1)
        else:
            vals.append(int(part))
    return tuple(vals)


def main(argv: list[str] | None = None) -> None:
    ap, r, p = rc.corpus_parser(__doc__, "write the manifests", fetch_cmd="render",
                                fetch_help="render the notes with fluidsynth")
    r.add_argument("--programs", default="0-111", help='GM programs, e.g. "0-111" or "0,24,40"')
    r.add_argument("--pitches", default=",".join(map(str, DEFAULT_PITCHES)), help="MIDI pitches")
    r.add_argument("--velocity", type=int, default=100)
    r.add_argument("--sample-rate", type=int, default=16000)
    r.add_argument("--seconds", type=float, default=4.0)
    r.add_argument("--note-seconds", type=float, default=3.0)
    r.add_argument("--soundfont", default=DEFAULT_SOUNDFONT)
    r.add_argument("--nj", type=int, default=2, help="parallel fluidsynth processes")
    p.add_argument("--split-by", default="program", choices=["program", "note"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=1)
    p.add_argument("--min-seconds", type=float, default=2.0, help="shorter notes are skipped")
    rc.run_cli(
        ap, argv,
        render=lambda a: render_gm_notes(a.target_dir, programs=_int_list(a.programs),
                                         pitches=_int_list(a.pitches), velocity=a.velocity,
                                         sample_rate=a.sample_rate, seconds=a.seconds,
                                         note_seconds=a.note_seconds, soundfont=a.soundfont,
                                         nj=a.nj),
        prepare=lambda a: prepare_gm_notes(a.corpus_dir, a.output_dir, split_by=a.split_by,
                                           seed=a.seed, nj=a.nj, min_seconds=a.min_seconds))


if __name__ == "__main__":
    main()
