#!/usr/bin/env python3
"""Synthesise the offline spoken-digits corpus ("zero".."nine") with several speech engines.

An SC09 look-alike that needs no download: 16 kHz, mono, exactly 1 s per
clip, one spoken digit at a random offset inside the second. The words come
from every offline engine installed here: espeak-ng (required), flite and
festival (Debian main; installed by ``tools/setup.sh``), and MBROLA voices
through espeak-ng, pico and RHVoice when they happen to be installed.
Engines that are missing are skipped with one log line each.
``recipes/tts_digits/README.md`` lists the voices kept or dropped, and why,
with their licences.

Usage::

    python recipes/tts_digits/local/make_digits.py --out-dir data/tts_digits \\
        --num-clips 2400 --jobs 2 --seed 0 [--unseen-engine festival] [--force]

Output (in ``--out-dir``)::

    wav/<id>.wav                  16-bit PCM, 16 kHz, 16000 samples
    train.jsonl valid.jsonl test.jsonl   manifests (paths relative to out-dir)
    test_unseen_engine.jsonl      clips of the held-out engine (may be empty)
    labels.json                   ["zero", ..., "nine"]
    synthesis.jsonl               engine parameters of every clip (debugging)
    meta.json                     request, voices per engine, clips per split; written last, marks "done"

Manifest lines: ``id path duration sample_rate label label_name speaker
engine voice``.

Voices and speakers
-------------------
A *voice* is one voice of one engine (``espeak-ng/en-us+m3``,
``flite/slt``, ``festival/kal_diphone``). Each voice gets a few *variants*
(a base pitch and speed drawn from the seed) and each (voice, variant) is a
*speaker*: 2 variants per espeak-ng voice (it has hundreds of voices), 8 per
voice of the other engines (they have a handful). Every clip then jitters
its speaker's pitch and speed a little, like a person who never says a word
twice the same way. espeak-ng takes ``-p``/``-s``; the other engines'
controls are in ``digit_engines.py`` (flite ``duration_stretch`` and
``int_f0_target_mean``; festival ``Duration_Stretch``, ``int_lr_params`` and
hts_engine ``-r``; "tape" resampling where an engine has no pitch control).

Splits
------
* ``train``/``valid``/``test`` hold out whole voices: each engine's voices
  are shuffled with the seed and cut about 80/10/10 (at least one test and
  one valid voice when the engine has three or more). Voices that are the
  same recorded person in two engines (flite ``kal``/``kal16`` and festival
  ``kal_diphone``; flite ``slt`` and festival ``cmu_us_slt_arctic_hts``) form
  a *group* and always land in the same split.
* ``test_unseen_engine`` holds one whole engine (``--unseen-engine``; default
  ``auto`` = festival, else the first installed of flite, mbrola, pico,
  rhvoice; ``none`` to use every engine for training) that never appears in
  train or valid. Festival is the default because the rest (espeak-ng +
  flite) keeps hundreds of voices and four recorded persons, while festival
  brings a statistical-parametric (HTS) voice and two diphone voices. It is
  an unseen *engine*, not an unseen person: festival's kal and slt are the
  same people as flite's. With espeak-ng alone the split is empty.

``--num-clips`` counts train+valid+test (80/10/10); ``test_unseen_engine``
adds ``--unseen-clips`` more (default: as many as test). Each split's clips
are shared among its engines by weight (espeak-ng 2, every other engine 1),
then spread round-robin over each engine's speakers with the digits
cycling, so digits stay balanced. The voice split does not depend on
``--num-clips``, and a voice's split does not depend on which *other*
engines are installed.

Curation
--------
Whole voices are curated by intelligibility, never single clips:
``voice_screen.json`` (next to this script, written by
``judge_digits.py screen``) holds an offline recogniser's accuracy on
every candidate voice, and voices below ``--min-accuracy`` are dropped.
espeak-ng variants that are whispered, robotic or echoing were dropped by
listening before that (:data:`EXCLUDED_VARIANTS`).

Processing per clip
-------------------
engine -> resample to 16 kHz (soxr, HQ; "tape" pitch factors are applied
here) -> mono -> energy trim (25 ms frames more than 40 dB below the
loudest) -> a word longer than 1 s is re-synthesised once faster, then
dropped (never time-stretched) -> level to a target active RMS (-20 dBFS
± 4 dB jitter) with the peak capped at 0.95 (a peak normalisation that
keeps engines equally loud) -> placed at a seeded random offset in a 1 s
silent frame -> ``write_wav`` (16-bit PCM). Failures are reported and
skipped.

Speed and determinism: every random draw comes from ``(seed, ...)`` in the
parent. Clips are synthesised in fixed batches of 32 clips of one engine,
each batch in a worker freshly forked (``maxtasksperchild=1``) from a
parent that never initialises espeak (espeak carries a little state from
one call to the next); a festival batch is one ``festival --batch``
process. So the files are identical for any ``--jobs`` and across runs.
espeak-ng runs in-process through libespeak-ng with ctypes (~1 ms per word;
``--backend cli`` runs the program instead, bit-identical for a fresh
process's first word); flite is ~10 ms per word; festival ~0.2 s per
batch plus ~20 ms per word. Workers touch neither torch nor CUDA.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import soundfile as sf
import soxr  # a librosa dependency

try:
    from anytime_audio.audio.io import write_wav
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from anytime_audio.audio.io import write_wav

sys.path.insert(0, str(Path(__file__).resolve().parent))  # digit_engines.py, next to this script
from digit_engines import (  # noqa: E402
    Engine,
    FestivalEngine,
    FliteEngine,
    PicoEngine,
    Rendered,
    RHVoiceEngine,
    Voice,
)

log = logging.getLogger(__name__)

GENERATOR_VERSION = 2
LABELS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE  # 1 s
SPLITS = ("train", "valid", "test")
UNSEEN_SPLIT = "test_unseen_engine"
ALL_SPLITS = SPLITS + (UNSEEN_SPLIT,)
SPLIT_FRACTIONS = {"train": 0.8, "valid": 0.1, "test": 0.1}
ENGINE_ORDER = ("espeak-ng", "flite", "festival", "mbrola", "pico", "rhvoice")
UNSEEN_PREFERENCE = ("festival", "flite", "mbrola", "pico", "rhvoice")  # --unseen-engine auto
VARIANTS_PER_VOICE = {"espeak-ng": 2}  # other engines: DEFAULT_VARIANTS
DEFAULT_VARIANTS = 8
SCREEN_PATH = Path(__file__).resolve().parent / "voice_screen.json"
MIN_ACCURACY = 0.85  # voices the judge recognised less often than this are dropped (see README)

ACCENTS: tuple[str, ...] = (
    "en",  # British English (en-gb)
    "en-us",
    "en-gb-scotland",
    "en-gb-x-rp",  # Received Pronunciation
    "en-029",  # Caribbean
    "en-gb-x-gbclan",  # Lancaster
    "en-gb-x-gbcwmd",  # West Midlands
    "en-us-nyc",
)

# "default" = the accent's own voice, no +variant.
VARIANTS: tuple[str, ...] = (
    "default",
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
    "f1", "f2", "f3", "f5",
    "klatt", "klatt2", "klatt3",
    "Alex", "Andy", "adam", "benjamin", "boris", "Denis", "Diogo", "ed", "edward", "edward2",
    "antonio", "Gene", "Gene2", "gustave", "Henrique", "Hugo", "john", "Mario", "max", "Michael", "Mike",
    "michel", "miguel", "Nguyen", "paul", "pedro", "quincy", "rob", "robert", "Storm", "victor",
    "Andrea", "Annie", "anika", "aunty", "belinda", "linda", "steph", "steph2", "steph3",
)  # fmt: skip

EXCLUDED_VARIANTS: dict[str, str] = {
    "whisper": "whispered (voicing 17%)",
    "whisperf": "whispered female; failed the DTW screen",
    "caleb": "voicing 0: whispered",
    "croak": "flutter 20: strong creak/tremolo",
    "grandma": "flutter 20 + weak upper formants",
    "grandpa": "flutter 20 + weak upper formants",
    "Demonic": "pitch 43 Hz, echo, breath noise; failed the DTW screen",
    "announcer": "pitch 37-83 Hz monotone Klatt; failed the DTW screen",
    "UniRobot": "robotic echo; failed the DTW screen",
    "anikaRobot": "robotic echo",
    "robosoft": "robotic echo; failed the DTW screen",
    **{f"robosoft{i}": "robotic echo" for i in range(2, 9)},
    "RicishayMax": "long echo (100 ms), tails push words towards 1 s",
    "RicishayMax2": "long echo; failed the DTW screen",
    "RicishayMax3": "long echo; failed the DTW screen",
    "zac": "pitch 240-390 Hz (chipmunk); failed the DTW screen",
    "Alicia": "very high formants + echo; failed the DTW screen",
    "iven": "formant warp; clips at full scale",
    "iven2": "formant warp (F0 formant 52%)",
    "iven3": "formant warp (F0 formant 52%)",
    "iven4": "formant warp (F0 formant 52%)",
    "kaukovalta": "formant warp (F1 40%); failed the DTW screen",
    "Lee": "formant warp (F3 9%, F4 290%); failed the DTW screen",
    "Jacky": "formant warp (F3/F4 15-30%)",
    "marcelo": "formant warp; failed the DTW screen",
    "sandro": "formant warp (F7/F8 ~33%)",
    "Tweaky": "F3 at 200%",
    "norbert": "F2 at 75%; failed the DTW screen",
    "shelby": "formant warp; failed the DTW screen",
    "travis": "formant warp (F1 50%); failed the DTW screen",
    "david": "very low pitch Klatt; failed the DTW screen",
    "Mr serious": "near duplicate of john; space in the name",
    "f4": "echo; failed the DTW screen",
    "pablo": "echo",
    "Marco": "echo + long stress: words reach 1 s",
    "klatt4": "buzzy Klatt mode used by the robotic variants",
    "klatt5": "breathy Klatt mode used by the robotic variants",
    "klatt6": "Klatt mode duplicated by adam/benjamin",
    "fast": "espeak's unstable speed-test variant",
    "AnxiousAndy": "slow, drawn-out words (0.83 s); near duplicate of Andy",
}

# Level and timing parameters.
TARGET_RMS_DB = -20.0
GAIN_JITTER_DB = 4.0
PEAK_LIMIT = 0.95
TRIM_TOP_DB = 40.0
ESPEAK_AMPLITUDE = 40  # espeak -a; the default 100 clips several variants at full scale
PITCH_RANGE = (25, 75)
SPEED_RANGE = (145, 185)
PITCH_JITTER = 6
SPEED_JITTER = 15
RETRY_SPEED = 230  # a word that does not fit in 1 s is re-synthesised once at this speed
BATCH_SIZE = 32  # clips per freshly forked worker


class EspeakNotFoundError(RuntimeError):
    """espeak-ng is not installed or not on PATH."""


def require_espeak() -> str:
    """Return the espeak-ng executable path, or raise with install advice."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise EspeakNotFoundError(
            "espeak-ng was not found on PATH; the tts_digits corpus is synthesised with it. "
            "Install it with `sudo apt-get install espeak-ng` (Debian/Ubuntu) "
            "or `brew install espeak-ng` (macOS)."
        )
    return exe


@dataclass
class EspeakEngine(Engine):
    """espeak-ng: formant synthesis, ``ACCENTS x VARIANTS`` voices, ``-p``/``-s`` prosody."""

    name: str = "espeak-ng"
    licence: str = "GPL-3.0-or-later"
    package: str = "espeak-ng"
    weight: float = 2.0
    backend: str = "auto"  # see get_synth

    def unavailable(self) -> str | None:
        return None if shutil.which("espeak-ng") else "espeak-ng is not on PATH (apt-get install espeak-ng)"

    def voices(self) -> list[Voice]:
        self.dropped.update({f"<accent>+{v}": why for v, why in EXCLUDED_VARIANTS.items()})
        out = []
        for accent in ACCENTS:
            for variant in VARIANTS:
                name = accent if variant == "default" else f"{accent}+{variant}"
                out.append(Voice(self.name, name, f"{self.name}:{name}", "formant"))
        return out

    def draw_speaker(self, voice: Voice, rng: np.random.Generator) -> dict:
        return {"pitch": int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
                "speed": int(rng.integers(SPEED_RANGE[0], SPEED_RANGE[1] + 1))}  # fmt: skip

    def jitter(self, voice: Voice, params: dict, rng: np.random.Generator) -> dict:
        return {"pitch": int(np.clip(params["pitch"] + rng.integers(-PITCH_JITTER, PITCH_JITTER + 1), 0, 99)),
                "speed": int(params["speed"] + rng.integers(-SPEED_JITTER, SPEED_JITTER + 1))}  # fmt: skip

    def faster(self, params: dict) -> dict:
        return {**params, "speed": max(params["speed"], RETRY_SPEED)}

    def render(self, items: Sequence[tuple[str, Voice, dict]]) -> list[Rendered]:
        synth = get_synth(self.backend)
        results = []
        for text, voice, params in items:
            try:
                raw, sr = synth(text, voice.name, params["pitch"], params["speed"], ESPEAK_AMPLITUDE)
                if float(np.max(np.abs(raw))) >= 0.999:  # clipped inside espeak: quieter
                    raw, sr = synth(text, voice.name, params["pitch"], params["speed"], ESPEAK_AMPLITUDE // 2)
                results.append(Rendered(raw, sr))
            except Exception as exc:  # reported per clip
                results.append(Rendered(error=f"{type(exc).__name__}: {exc}"))
        return results


MBROLA_ENGLISH = ("en1", "us1", "us2", "us3")  # espeak-ng voices mb-en1, mb-us1..3
MBROLA_ROOTS = ("/usr/share/mbrola", "/usr/lib/x86_64-linux-gnu/espeak-ng-data/mbrola")


@dataclass
class MbrolaEngine(EspeakEngine):
    """MBROLA diphone voices driven through espeak-ng (contrib/non-free: used only when installed).

    Always the ``espeak-ng`` program: MBROLA voices speak at 16 kHz while
    the in-process library reports espeak's own 22.05 kHz.
    """

    name: str = "mbrola"
    licence: str = "mbrola: AGPL-3; MBROLA voice data: non-commercial, no redistribution"
    package: str = "mbrola mbrola-en1 mbrola-us1 mbrola-us2 mbrola-us3 (Debian contrib)"
    weight: float = 1.0
    backend: str = "cli"

    def _installed(self) -> list[str]:
        return [v for v in MBROLA_ENGLISH if any((Path(r) / v / v).is_file() or (Path(r) / v).is_file() for r in MBROLA_ROOTS)]

    def unavailable(self) -> str | None:
        if not shutil.which("mbrola") or not shutil.which("espeak-ng"):
            return "mbrola is not on PATH (Debian contrib: not installed by setup.sh)"
        return None if self._installed() else "no English MBROLA voice (mbrola-en1, mbrola-us1..3) is installed"

    def voices(self) -> list[Voice]:
        return [Voice(self.name, f"mb-{v}", f"mbrola:{v}", "diphone") for v in self._installed()]


def all_engines(backend: str = "auto") -> dict[str, Engine]:
    """Every engine this recipe knows, installed or not, in :data:`ENGINE_ORDER`."""
    engines: list[Engine] = [EspeakEngine(backend=backend), FliteEngine(), FestivalEngine(), MbrolaEngine(),
                             PicoEngine(), RHVoiceEngine()]  # fmt: skip
    return {e.name: e for e in engines}


def load_screen(path: str | os.PathLike | None) -> dict[str, float]:
    """Judge accuracy per voice key (``engine/voice``) from a screen file; ``{}`` for ``None``."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"voice screen not found: {path} (make one with judge_digits.py screen, or pass --screen none)")
    data = json.loads(path.read_text())
    return {key: float(row["accuracy"]) for key, row in data["voices"].items()}


def curate(voices: Sequence[Voice], screen: dict[str, float], min_accuracy: float) -> tuple[list[Voice], dict[str, str]]:
    """Keep voices whose screened accuracy is at least ``min_accuracy`` (unscreened ones are kept)."""
    kept, dropped = [], {}
    for v in voices:
        acc = screen.get(v.key)
        if acc is not None and acc < min_accuracy:
            dropped[v.name] = f"judge accuracy {acc:.2f} < {min_accuracy:.2f}"
        else:
            kept.append(v)
    return kept, dropped


@dataclass
class Inventory:
    """The engines and voices a corpus is made from (after availability and curation)."""

    engines: dict[str, Engine]
    voices: dict[str, list[Voice]]  # engine -> kept voices
    unavailable: dict[str, str] = field(default_factory=dict)  # engine -> why it was skipped
    dropped: dict[str, dict[str, str]] = field(default_factory=dict)  # engine -> voice -> why
    unscreened: dict[str, list[str]] = field(default_factory=dict)  # engine -> voices not in the screen

    def summary(self) -> dict:
        return {
            name: {"licence": self.engines[name].licence, "package": self.engines[name].package,
                   "unavailable": self.unavailable.get(name),
                   "voices": [v.name for v in self.voices.get(name, [])],
                   "dropped": self.dropped.get(name, {}), "unscreened": self.unscreened.get(name, [])}
            for name in self.engines
        }  # fmt: skip


def make_inventory(
    engines: Sequence[str] | None = None,
    screen: str | os.PathLike | None = SCREEN_PATH,
    min_accuracy: float = MIN_ACCURACY,
    backend: str = "auto",
) -> Inventory:
    """Find the installed engines (all known ones, or just ``engines``) and their curated voices.

    Logs one line per skipped engine. espeak-ng must be installed.
    """
    require_espeak()
    known = all_engines(backend)
    wanted = list(known) if engines is None else list(engines)
    unknown = [e for e in wanted if e not in known]
    if unknown:
        raise ValueError(f"unknown engine(s) {unknown}; known: {list(known)}")
    scores = load_screen(screen)
    inv = Inventory({n: known[n] for n in ENGINE_ORDER if n in wanted}, {})
    for name, engine in inv.engines.items():
        reason = engine.unavailable()
        if reason is not None:
            inv.unavailable[name] = reason
            log.info("engine %s skipped: %s", name, reason)
            continue
        candidates = engine.voices()
        kept, dropped = curate(candidates, scores, min_accuracy)
        inv.dropped[name] = {**engine.dropped, **dropped}
        if scores:
            inv.unscreened[name] = [v.name for v in kept if v.key not in scores]
            if inv.unscreened[name]:
                log.info("engine %s: %d voice(s) not in the screen, kept unscreened", name, len(inv.unscreened[name]))
        if kept:
            inv.voices[name] = kept
        else:
            inv.unavailable[name] = "no voice left after curation"
            log.info("engine %s skipped: no voice left after curation", name)
    return inv


def resolve_unseen(unseen_engine: str | None, inv: Inventory) -> str | None:
    """The engine held out as ``test_unseen_engine`` (``None``: no such engine here)."""
    present = [e for e in ENGINE_ORDER if e in inv.voices]
    if unseen_engine in (None, "none"):
        return None
    if unseen_engine == "auto":
        for name in UNSEEN_PREFERENCE:
            if name in present:
                return name
        log.info("test_unseen_engine is empty: espeak-ng is the only engine installed")
        return None
    if unseen_engine not in ENGINE_ORDER:
        raise ValueError(f"--unseen-engine {unseen_engine!r} is not a known engine ({', '.join(ENGINE_ORDER)})")
    if unseen_engine not in present:
        log.info("test_unseen_engine is empty: engine %s is not available", unseen_engine)
        return None
    if len(present) < 2:
        raise ValueError(f"cannot hold out {unseen_engine}: it is the only engine, nothing would be left to train on")
    return unseen_engine


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: a voice with one variant's base prosody."""

    name: str  # "<engine>/<voice>/v<variant>"
    voice: Voice
    variant: int
    params: dict = field(hash=False, compare=False)


@dataclass(frozen=True)
class ClipTask:
    """Everything a worker needs to synthesise one clip (all randomness pre-drawn)."""

    index: int
    clip_id: str
    split: str
    label: int
    speaker: str
    voice: Voice
    params: dict = field(hash=False, compare=False)
    gain_db: float = 0.0
    offset_frac: float = 0.0
    wav_path: str = ""  # absolute

    @property
    def engine(self) -> str:
        return self.voice.engine


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def make_speakers(inv: Inventory, seed: int = 0) -> list[Speaker]:
    """All speakers: every kept voice x its variants, each with seeded base prosody."""
    speakers = []
    for name, voices in inv.voices.items():
        engine = inv.engines[name]
        for voice in voices:
            for k in range(VARIANTS_PER_VOICE.get(name, DEFAULT_VARIANTS)):
                rng = np.random.default_rng([seed, _crc(f"{voice.key}#{k}")])
                speakers.append(Speaker(f"{voice.key}/v{k}", voice, k, engine.draw_speaker(voice, rng)))
    return speakers


def split_voices(inv: Inventory, seed: int = 0, unseen: str | None = None) -> dict[str, str]:
    """Voice key -> split. Whole voices (whole groups) per split; see the module docstring.

    Engines are visited in :data:`ENGINE_ORDER`; a group already placed by an
    earlier engine keeps its split, so e.g. festival's kal follows flite's.
    """
    group_split: dict[str, str] = {}
    out: dict[str, str] = {}
    for name in ENGINE_ORDER:
        voices = inv.voices.get(name, [])
        if not voices:
            continue
        if name == unseen:
            out.update({v.key: UNSEEN_SPLIT for v in voices})
            continue
        groups = list(dict.fromkeys(v.group for v in voices))
        n = len(groups)
        want = {"test": max(1, round(n * SPLIT_FRACTIONS["test"])) if n >= 2 else 0,
                "valid": max(1, round(n * SPLIT_FRACTIONS["valid"])) if n >= 3 else 0}  # fmt: skip
        have = {s: sum(group_split.get(g) == s for g in groups) for s in ("test", "valid")}
        free = [g for g in groups if g not in group_split]
        for i in np.random.default_rng([seed, 7, _crc(name)]).permutation(len(free)):
            split = next((s for s in ("test", "valid") if have[s] < want[s]), "train")
            group_split[free[i]] = split
            have[split] = have.get(split, 0) + 1
        out.update({v.key: group_split[v.group] for v in voices})
    return out


def _shares(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, ties by order)."""
    if not weights:
        return {}
    norm = sum(weights.values())
    exact = {k: total * w / norm for k, w in weights.items()}
    out = {k: int(np.floor(x)) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: -(exact[k] - out[k]))[: total - sum(out.values())]:
        out[k] += 1
    return out


def clip_counts(num_clips: int, unseen_clips: int | None = None) -> dict[str, int]:
    """Clips per split: ``num_clips`` cut 80/10/10, plus the unseen-engine split (default: as test)."""
    n_valid = round(num_clips * SPLIT_FRACTIONS["valid"])
    n_test = round(num_clips * SPLIT_FRACTIONS["test"])
    return {"train": num_clips - n_valid - n_test, "valid": n_valid, "test": n_test,
            UNSEEN_SPLIT: n_test if unseen_clips is None else unseen_clips}  # fmt: skip


def plan_clips(
    num_clips: int,
    out_dir: str | os.PathLike,
    seed: int = 0,
    inv: Inventory | None = None,
    unseen_engine: str | None = "auto",
    unseen_clips: int | None = None,
) -> list[ClipTask]:
    """Deterministic list of clips to synthesise (speaker, digit, prosody, offset).

    Within each (split, engine), clip ``j`` goes to speaker ``j % S`` (the
    engine's speakers in that split, shuffled with the seed) and gets digit
    ``(j % S + j // S) % 10``: digits cycle across speakers, and a
    speaker's successive clips are different digits. ``inv`` defaults to
    every installed engine with the default curation.
    """
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    inv = inv if inv is not None else make_inventory()
    unseen = resolve_unseen(unseen_engine, inv)
    voice_split = split_voices(inv, seed, unseen)
    speakers = make_speakers(inv, seed)
    counts = clip_counts(num_clips, unseen_clips)
    wav_dir = Path(out_dir).resolve() / "wav"
    tasks: list[ClipTask] = []
    for split in ALL_SPLITS:
        by_engine: dict[str, list[Speaker]] = {}
        for spk in speakers:
            if voice_split[spk.voice.key] == split:
                by_engine.setdefault(spk.voice.engine, []).append(spk)
        shares = _shares(counts[split], {e: inv.engines[e].weight for e in by_engine})
        for name, spks in by_engine.items():
            engine = inv.engines[name]
            order = np.random.default_rng([seed, 11, _crc(split), _crc(name)]).permutation(len(spks))
            spks = [spks[i] for i in order]
            for j in range(shares[name]):
                s, r = j % len(spks), j // len(spks)
                spk = spks[s]
                label = (s + r) % len(LABELS)
                rng = np.random.default_rng([seed, 1, _crc(split), _crc(name), j])
                params = engine.jitter(spk.voice, spk.params, rng)
                gain_db = float(rng.uniform(-GAIN_JITTER_DB, GAIN_JITTER_DB))
                offset_frac = float(rng.uniform(0.0, 1.0))
                slug = f"{name}_{spk.voice.name}_v{spk.variant}".replace("+", "-").replace("/", "-").replace(" ", "-")
                clip_id = f"{LABELS[label]}_{slug}_{len(tasks):05d}"
                tasks.append(ClipTask(len(tasks), clip_id, split, label, spk.name, spk.voice, params, gain_db,
                                      offset_frac, str(wav_dir / f"{clip_id}.wav")))  # fmt: skip
    return tasks


def espeak_synth_cli(text: str, voice: str, pitch: int, speed: int, amplitude: int = ESPEAK_AMPLITUDE) -> tuple[np.ndarray, int]:
    """Run the ``espeak-ng`` program; return ``(float32 waveform, sample_rate)``.

    The reference backend: one process per word (~15-20 ms, mostly espeak's
    start-up). Raises RuntimeError when espeak-ng fails or returns no audio.
    """
    cmd = ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-a", str(amplitude), "--stdout", text]
    proc = subprocess.run(cmd, capture_output=True, timeout=30)
    if proc.returncode != 0 or len(proc.stdout) <= 44:
        err = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"espeak-ng failed (rc={proc.returncode}) for {' '.join(cmd)}: {err or 'no audio'}")
    # espeak writes a streaming WAV header with a bogus length; libsndfile copes.
    audio, sr = sf.read(io.BytesIO(proc.stdout), dtype="float32")
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    return audio, int(sr)


class EspeakLibrary:
    """In-process espeak-ng through ctypes (``libespeak-ng.so.1``, part of the
    espeak-ng package): ~1 ms per word instead of a ~15 ms process start.

    Same synthesiser and parameters as the CLI (``-v -p -s -a``). The
    ``espeakENDPAUSE`` flag matters: without it espeak never flushes the end
    of the word (up to ~0.2 s went missing for some voices); with it the
    first word a process speaks equals the CLI's sample for sample. espeak keeps a
    little internal state between calls (a clip's exact samples depend on
    the words synthesised before it in the same process), so
    :func:`make_digits` gives every fixed batch of clips a freshly forked
    worker: the output does not depend on ``--jobs`` or scheduling.
    """

    _AUDIO_OUTPUT_SYNCHRONOUS = 2
    _POS_CHARACTER = 1
    _CHARS_UTF8 = 1
    _ENDPAUSE = 0x1000  # as the CLI: pause at the end, which also flushes the last sound
    _RATE, _VOLUME, _PITCH = 1, 2, 3

    def __init__(self) -> None:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        self._lib = lib = ctypes.CDLL(name)  # OSError when missing
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]  # fmt: skip
        self.sample_rate = int(lib.espeak_Initialize(self._AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0))
        if self.sample_rate <= 0:
            raise OSError(f"espeak_Initialize failed ({self.sample_rate})")
        self._chunks: list[np.ndarray] = []
        callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

        def on_audio(wav, n, _events):  # espeak hands over int16 chunks
            if n > 0 and wav:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = callback_type(on_audio)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)

    def synth(self, text: str, voice: str, pitch: int, speed: int, amplitude: int = ESPEAK_AMPLITUDE) -> tuple[np.ndarray, int]:
        """Synthesise ``text``; return ``(float32 waveform, sample_rate)``."""
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError(f"espeak-ng has no voice {voice!r}")
        lib.espeak_SetParameter(self._RATE, int(speed), 0)
        lib.espeak_SetParameter(self._VOLUME, int(amplitude), 0)
        lib.espeak_SetParameter(self._PITCH, int(pitch), 0)
        self._chunks = []
        data = text.encode() + b"\0"
        err = lib.espeak_Synth(data, len(data), 0, self._POS_CHARACTER, 0,
                               self._CHARS_UTF8 | self._ENDPAUSE, None, None)
        lib.espeak_Synchronize()
        if err != 0 or not self._chunks:
            raise RuntimeError(f"espeak-ng library failed (error {err}) on {text!r} with voice {voice!r}")
        audio = np.concatenate(self._chunks).astype(np.float32) / 32768.0
        return audio, self.sample_rate


_LIBRARY: EspeakLibrary | None = None


def resolve_backend(backend: str = "auto") -> str:
    """``"lib"`` if libespeak-ng can be loaded (``backend`` auto/lib), else ``"cli"``.

    Only loads the shared object: it does not initialise espeak, so forked
    workers still start from a pristine synthesiser.
    """
    if backend not in ("auto", "lib", "cli"):
        raise ValueError(f"backend must be auto, lib or cli, got {backend!r}")
    if backend == "cli":
        return "cli"
    import ctypes
    import ctypes.util

    try:
        lib = ctypes.CDLL(ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1")
        lib.espeak_Initialize, lib.espeak_SetSynthCallback, lib.espeak_Synth  # noqa: B018
    except (OSError, AttributeError) as exc:
        if backend == "lib":
            raise
        log.warning("libespeak-ng not usable (%s); using the slower espeak-ng program", exc)
        return "cli"
    return "lib"


def get_synth(backend: str = "auto"):
    """Return a ``synth(text, voice, pitch, speed, amplitude)`` function.

    ``backend``: ``"lib"`` (ctypes, fast), ``"cli"`` (one espeak-ng process
    per word) or ``"auto"`` (lib if it loads, else cli).
    """
    global _LIBRARY
    if backend not in ("auto", "lib", "cli"):
        raise ValueError(f"backend must be auto, lib or cli, got {backend!r}")
    if backend == "cli":
        return espeak_synth_cli
    if _LIBRARY is None:
        try:
            _LIBRARY = EspeakLibrary()
        except (OSError, AttributeError) as exc:
            if backend == "lib":
                raise
            log.warning("libespeak-ng not usable (%s); using the slower espeak-ng program", exc)
            return espeak_synth_cli
    return _LIBRARY.synth


def trim_silence(audio: np.ndarray, sample_rate: int = SAMPLE_RATE, top_db: float = TRIM_TOP_DB) -> np.ndarray:
    """Energy trim: drop leading/trailing audio whose 25 ms frames (10 ms hop,
    centred) are more than ``top_db`` below the loudest frame.

    librosa.effects.trim does the same, but its first call in a process costs
    ~3.5 s of lazy imports and JIT, more than synthesising the whole corpus;
    every freshly forked worker would pay it.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size == 0:
        return audio
    frame = int(0.025 * sample_rate)
    hop = int(0.010 * sample_rate)
    padded = np.pad(audio.astype(np.float64), (frame // 2, frame // 2))
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame)[::hop]
    power = np.mean(frames**2, axis=1)
    ref = float(power.max())
    if ref <= 0.0:
        return audio[:0]
    loud = np.nonzero(power > ref * 10 ** (-top_db / 10))[0]
    start = max(0, int(loud[0]) * hop - frame // 2)  # frame i is centred on sample i * hop
    end = min(audio.size, int(loud[-1]) * hop + frame // 2)
    return audio[start:end]


def to_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Resample to 16 kHz with soxr (high quality; what librosa.resample uses,
    without librosa's start-up cost; no torch in the forked workers)."""
    if sample_rate == SAMPLE_RATE:
        return np.asarray(audio, dtype=np.float32)
    return soxr.resample(np.asarray(audio, dtype=np.float32), sample_rate, SAMPLE_RATE, quality="HQ").astype(np.float32)


def level(word: np.ndarray, gain_db: float = 0.0) -> np.ndarray:
    """Scale so the word's RMS is TARGET_RMS_DB + gain_db, with the peak capped."""
    rms = float(np.sqrt(np.mean(word.astype(np.float64) ** 2)))
    if rms <= 0.0:
        raise ValueError("silent word")
    out = word * (10 ** ((TARGET_RMS_DB + gain_db) / 20) / rms)
    peak = float(np.max(np.abs(out)))
    if peak > PEAK_LIMIT:
        out = out * (PEAK_LIMIT / peak)
    return out.astype(np.float32)


def prepare_word(rendered: Rendered) -> np.ndarray:
    """Engine output -> trimmed 16 kHz mono word. Raises ValueError if it failed or is silent."""
    if rendered.audio is None:
        raise ValueError(rendered.error or "no audio")
    word = trim_silence(to_16k(rendered.audio, rendered.sample_rate))
    if len(word) == 0 or float(np.max(np.abs(word))) < 1e-4:
        raise ValueError("silent synthesis")
    return word


def render_words(tasks: Sequence[ClipTask], engine: Engine) -> list[tuple[np.ndarray | None, dict, str | None]]:
    """Synthesise the batch's words with one engine; re-try words longer than 1 s once, faster.

    Returns ``(word, params_used, None)`` or ``(None, params, error)`` per task.
    """
    out: list[tuple[np.ndarray | None, dict, str | None]] = []
    first = engine.render([(LABELS[t.label], t.voice, t.params) for t in tasks])
    for t, rendered in zip(tasks, first):
        try:
            out.append((prepare_word(rendered), t.params, None))
        except ValueError as exc:
            out.append((None, t.params, str(exc)))
    again = [i for i, (w, _, _) in enumerate(out) if w is not None and len(w) > CLIP_SAMPLES]
    if again:
        faster = [engine.faster(tasks[i].params) for i in again]
        second = engine.render([(LABELS[tasks[i].label], tasks[i].voice, p) for i, p in zip(again, faster)])
        for i, params, rendered in zip(again, faster, second):
            try:
                word = prepare_word(rendered)
                err = None if len(word) <= CLIP_SAMPLES else f"word lasts {len(word) / SAMPLE_RATE:.2f} s > 1 s even faster"
            except ValueError as exc:
                word, err = None, str(exc)
            out[i] = (word if err is None else None, params, err)
    return out


def place(word: np.ndarray, task: ClipTask) -> tuple[np.ndarray, int]:
    """Level ``word`` and put it at the task's offset in a 1 s frame; return ``(clip, offset)``."""
    word = level(word, task.gain_db)
    clip = np.zeros(CLIP_SAMPLES, dtype=np.float32)
    offset = int(task.offset_frac * (CLIP_SAMPLES - len(word) + 1))
    offset = min(offset, CLIP_SAMPLES - len(word))
    clip[offset : offset + len(word)] = word
    return clip, offset


def synth_batch(args: tuple[list[ClipTask], Engine]) -> list[tuple[int, dict | None, str | None]]:
    """Worker entry point: synthesise a batch of one engine's clips and write their files.

    Returns ``(index, info, None)`` or ``(index, None, error)`` per clip.
    """
    tasks, engine = args
    results: list[tuple[int, dict | None, str | None]] = []
    try:
        words = render_words(tasks, engine)
    except Exception as exc:  # the whole batch failed: report every clip
        return [(t.index, None, f"{type(exc).__name__}: {exc}") for t in tasks]
    finally:
        engine.close()
    for t, (word, params, err) in zip(tasks, words):
        if err is not None:
            results.append((t.index, None, err))
            continue
        try:
            clip, offset = place(word, t)
            write_wav(t.wav_path, clip, SAMPLE_RATE, normalize=False)
            results.append((t.index, {"word_samples": len(word), "offset": offset, "params_used": params}, None))
        except Exception as exc:  # reported and skipped by the caller
            results.append((t.index, None, f"{type(exc).__name__}: {exc}"))
    return results


def synth_clip(task: ClipTask, engine: Engine) -> tuple[int, dict | None, str | None]:
    """Make one clip file (a batch of one)."""
    return synth_batch(([task], engine))[0]


from anytime_audio.core.atomic import atomic_write_text as _atomic_write_text  # noqa: E402 (importable: see write_wav)


def _jsonl(rows: Iterable[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _request(num_clips: int, seed: int, inv: Inventory, unseen: str | None, unseen_clips: int | None,
             screen: str | os.PathLike | None, min_accuracy: float) -> dict:  # fmt: skip
    """What a finished corpus was made from: a later run with the same request skips the work."""
    return {
        "version": GENERATOR_VERSION,
        "num_clips": num_clips,
        "seed": seed,
        "unseen_engine": unseen,
        "unseen_clips": clip_counts(num_clips, unseen_clips)[UNSEEN_SPLIT] if unseen else 0,
        "voices": {name: [v.name for v in voices] for name, voices in inv.voices.items()},
        "screen": None if screen is None else Path(screen).name,
        "min_accuracy": min_accuracy,
    }


def is_complete(out_dir: str | os.PathLike, num_clips: int, seed: int, request: dict | None = None) -> bool:
    """True if ``out_dir`` already holds a finished corpus for this request.

    ``request`` (see :func:`make_digits`) also compares the engines, voices
    and options; without it only ``num_clips``, ``seed`` and the version.
    """
    out = Path(out_dir)
    meta_path = out / "meta.json"
    if not meta_path.is_file() or not all((out / f"{s}.jsonl").is_file() for s in ALL_SPLITS):
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return False
    if (meta.get("num_clips"), meta.get("seed"), meta.get("version")) != (num_clips, seed, GENERATOR_VERSION):
        return False
    if request is not None and meta.get("request") != request:
        return False
    lines = sum(sum(1 for _ in (out / f"{s}.jsonl").open()) for s in ALL_SPLITS)
    return lines == meta.get("written")


def make_digits(
    out_dir: str | os.PathLike,
    num_clips: int = 2400,
    jobs: int | None = None,
    seed: int = 0,
    force: bool = False,
    progress: bool = True,
    backend: str = "auto",
    engines: Sequence[str] | None = None,
    unseen_engine: str | None = "auto",
    unseen_clips: int | None = None,
    screen: str | os.PathLike | None = SCREEN_PATH,
    min_accuracy: float = MIN_ACCURACY,
) -> dict:
    """Generate the corpus into ``out_dir``; return the meta dict.

    ``engines``: names to use (default: every installed one); ``unseen_engine``:
    the engine held out as ``test_unseen_engine`` (``"auto"``, a name, or
    ``None``/``"none"``); ``screen``/``min_accuracy``: voice curation (``screen=None``
    keeps every voice). Skips the work (returns the existing meta with
    ``"skipped": True``) when a finished corpus for the same request is
    there, unless ``force``. ``backend`` picks the espeak interface (see
    :func:`get_synth`). Raises :class:`EspeakNotFoundError` without espeak-ng.
    """
    out = Path(out_dir)
    inv = make_inventory(engines, screen, min_accuracy, backend)
    unseen = resolve_unseen(unseen_engine, inv)
    request = _request(num_clips, seed, inv, unseen, unseen_clips, screen, min_accuracy)
    if not force and is_complete(out, num_clips, seed, request):
        meta = json.loads((out / "meta.json").read_text())
        meta["skipped"] = True
        return meta
    jobs = max(1, jobs or os.cpu_count() or 1)
    t0 = time.perf_counter()

    out.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").unlink(missing_ok=True)  # not done until rewritten
    if (out / "wav").exists():
        shutil.rmtree(out / "wav")  # stale clips of an earlier request
    (out / "wav").mkdir()

    tasks = plan_clips(num_clips, out, seed, inv, unseen if unseen else "none", unseen_clips if unseen else 0)
    results: dict[int, dict] = {}
    failures: list[str] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc="synthesising digits", unit="clip", dynamic_ncols=True)

    def collect(items: Iterable[tuple[int, dict | None, str | None]]) -> None:
        for index, info, err in items:
            if err is None:
                results[index] = info
            else:
                t = tasks[index]
                msg = f"skipped clip {t.clip_id} ({t.voice.key} {json.dumps(t.params)}): {err}"
                failures.append(msg)
                log.warning(msg)
            if bar is not None:
                bar.update(1)

    # Each batch (one engine's clips) gets a worker freshly forked from this
    # process, which never synthesises itself: every batch starts from an
    # uninitialised espeak, so the output does not depend on --jobs (see
    # EspeakLibrary). Warm up the DSP here so the forks inherit it.
    for engine in inv.engines.values():
        if isinstance(engine, EspeakEngine) and not isinstance(engine, MbrolaEngine):
            engine.backend = resolve_backend(backend)
    trim_silence(to_16k(np.random.default_rng(0).normal(0, 0.1, 2205).astype(np.float32), 22050))
    batches: list[tuple[list[ClipTask], Engine]] = []
    for t in tasks:
        if batches and batches[-1][0][-1].engine == t.engine and len(batches[-1][0]) < BATCH_SIZE:
            batches[-1][0].append(t)
        else:
            batches.append(([t], inv.engines[t.engine]))
    # slow engines first, so the pool does not end waiting on one festival batch
    order = sorted(range(len(batches)), key=lambda i: (batches[i][1].name == "espeak-ng", i))
    if "fork" in mp.get_all_start_methods():
        # workers use numpy/soxr/soundfile/engines only (no torch), so forking
        # from a process that already imported torch is safe.
        with mp.get_context("fork").Pool(min(jobs, len(batches)), maxtasksperchild=1) as pool:
            for results_batch in pool.imap_unordered(synth_batch, [batches[i] for i in order]):
                collect(results_batch)
    else:  # no fork (Windows): in process, CLI backend is per-call deterministic
        for engine in inv.engines.values():
            if isinstance(engine, EspeakEngine):
                engine.backend = "cli"
        for i in order:
            collect(synth_batch(batches[i]))
    if bar is not None:
        bar.close()

    manifests: dict[str, list[dict]] = {s: [] for s in ALL_SPLITS}
    synthesis = []
    for t in tasks:
        info = results.get(t.index)
        if info is None:
            continue
        manifests[t.split].append({
            "id": t.clip_id,
            "path": f"wav/{t.clip_id}.wav",
            "duration": CLIP_SAMPLES / SAMPLE_RATE,
            "sample_rate": SAMPLE_RATE,
            "label": t.label,
            "label_name": LABELS[t.label],
            "speaker": t.speaker,
            "engine": t.engine,
            "voice": t.voice.name,
        })  # fmt: skip
        synthesis.append({"id": t.clip_id, "engine": t.engine, "voice": t.voice.name, "params": t.params,
                          **info, "gain_db": round(t.gain_db, 2)})  # fmt: skip
    for split, rows in manifests.items():
        _atomic_write_text(out / f"{split}.jsonl", _jsonl(rows))
    _atomic_write_text(out / "labels.json", json.dumps(list(LABELS)) + "\n")
    _atomic_write_text(out / "synthesis.jsonl", _jsonl(synthesis))
    engines_meta = inv.summary()
    for name, row in engines_meta.items():
        row["clips"] = {s: sum(r["engine"] == name for r in rows) for s, rows in manifests.items()}
        row["voices_per_split"] = {s: sorted({r["voice"] for r in rows if r["engine"] == name})
                                   for s, rows in manifests.items()}  # fmt: skip
    meta = {
        "version": GENERATOR_VERSION,
        "num_clips": num_clips,
        "seed": seed,
        "request": request,
        "written": len(synthesis),
        "failed": failures,
        "unseen_engine": unseen,
        "per_split": {s: len(r) for s, r in manifests.items()},
        "speakers_per_split": {s: len({r["speaker"] for r in rows}) for s, rows in manifests.items()},
        "voices_per_split": {s: len({(r["engine"], r["voice"]) for r in rows}) for s, rows in manifests.items()},
        "engines": engines_meta,
        "sample_rate": SAMPLE_RATE,
        "seconds": round(time.perf_counter() - t0, 2),
        "jobs": jobs,
    }
    _atomic_write_text(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    meta["skipped"] = False
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", required=True, help="output folder (manifests + wav/)")
    parser.add_argument("--num-clips", type=int, default=2400, help="train+valid+test clips (default 2400)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="worker processes (default: all cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed for speakers, split and prosody")
    parser.add_argument("--force", action="store_true", help="regenerate even if a finished corpus exists")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--backend", choices=("auto", "lib", "cli"), default="auto",
                        help="espeak interface: libespeak-ng via ctypes (fast), the espeak-ng program, or auto")
    parser.add_argument("--engines", default="all",
                        help=f"comma-separated engines to use if installed (default all: {','.join(ENGINE_ORDER)})")
    parser.add_argument("--unseen-engine", default="auto",
                        help="engine held out as test_unseen_engine: auto (festival, else flite, ...), a name, or none")
    parser.add_argument("--unseen-clips", type=int, default=None,
                        help="clips in test_unseen_engine (default: as many as test)")
    parser.add_argument("--screen", default="default",
                        help="voice screen JSON (default: voice_screen.json next to this script; none = keep all voices)")
    parser.add_argument("--min-accuracy", type=float, default=MIN_ACCURACY,
                        help=f"drop voices the judge recognised less often than this (default {MIN_ACCURACY})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    engines = None if args.engines == "all" else [e.strip() for e in args.engines.split(",") if e.strip()]
    screen = {"default": SCREEN_PATH, "none": None}.get(args.screen, args.screen)
    try:
        meta = make_digits(args.out_dir, args.num_clips, args.jobs, args.seed, args.force,
                           not args.no_progress, args.backend, engines, args.unseen_engine,
                           args.unseen_clips, screen, args.min_accuracy)  # fmt: skip
    except (EspeakNotFoundError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if meta["skipped"]:
        print(f"{args.out_dir}: {meta['written']} clips already generated (same request); "
              f"nothing to do (use --force to regenerate).")  # fmt: skip
        return 0
    voices = {n: len(r["voices"]) for n, r in meta["engines"].items() if r["voices"]}
    print(f"wrote {meta['written']} clips to {args.out_dir} in {meta['seconds']:.1f} s with {meta['jobs']} jobs; "
          f"voices per engine {voices}; clips per split {meta['per_split']}; "
          f"unseen engine {meta['unseen_engine']}; skipped {len(meta['failed'])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
