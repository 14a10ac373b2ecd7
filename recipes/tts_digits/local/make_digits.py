#!/usr/bin/env python3
"""Synthesise the offline spoken-digits corpus ("zero".."nine") with espeak-ng.

An SC09 look-alike that needs no download: 16 kHz, mono, exactly 1 s per
clip, one spoken digit at a random offset inside the second.

Usage::

    python recipes/tts_digits/local/make_digits.py --out-dir data/tts_digits \\
        --num-clips 2400 --jobs 2 --seed 0 [--force]

Output (in ``--out-dir``)::

    wav/<id>.wav                  16-bit PCM, 16 kHz, 16000 samples
    train.jsonl valid.jsonl test.jsonl   manifests (paths relative to out-dir)
    labels.json                   ["zero", ..., "nine"]
    synthesis.jsonl               espeak parameters of every clip (debugging)
    meta.json                     request + counts; written last, marks "done"

Speakers
--------
A *speaker* is one espeak-ng voice: an English accent plus a voice variant,
written ``"<accent>+<variant>"`` (``"+default"`` for the accent's own
voice), e.g. ``"en-gb-scotland+m3"``. Each speaker also gets a fixed base
pitch (espeak ``-p`` 25..75) and base speed (``-s`` 145..185 wpm) drawn
from the seed, so two speakers sharing a variant still sound different;
every clip then jitters pitch (±6) and speed (±15 wpm), like a person who
never says a word twice the same way. 8 accents x 56 variants = 448
speakers. The train/valid/test split is *by speaker* (80/10/10 of the
speakers, shuffled with the seed; a test speaker never appears in train)
and does not depend on ``--num-clips``; clips are then spread round-robin
over each split's speakers with the digits cycling, so digits stay
balanced. Note that a held-out speaker may share its accent with some
training speakers and its variant with others (never both).

Voices kept
-----------
Accents (espeak-ng 1.51 built-in voices): en (British), en-us, en-gb-scotland,
en-gb-x-rp, en-029 (Caribbean), en-gb-x-gbclan (Lancaster), en-gb-x-gbcwmd
(West Midlands), en-us-nyc. The MBROLA English voices (mb-en1, us-mbrola-*,
en-german-* ...) are left out: they need the separate ``mbrola`` binary and
voice packages, which are not installed by ``apt-get install espeak-ng``.

Variants kept (see :data:`VARIANTS`): the default voice, male m1-m8,
female f1 f2 f3 f5, klatt klatt2 klatt3, and the named variants Alex Andy
adam antonio benjamin boris Denis Diogo ed edward edward2 Gene Gene2 gustave
Henrique Hugo john Mario max Michael Mike michel miguel Nguyen paul pedro
quincy rob robert Storm victor (male) and Andrea Annie anika aunty belinda
linda steph steph2 steph3 (female). They change pitch, formants and
voicing mildly and stay intelligible.

Variants excluded, and why (see :data:`EXCLUDED_VARIANTS`): whispered or
unvoiced (whisper, whisperf, caleb); strong tremolo/creak (croak, grandma,
grandpa: flutter 20); robotic or long-echo effects (robosoft..robosoft8,
UniRobot, anikaRobot, RicishayMax 1-3, Demonic, announcer); extreme pitch
(zac 240-390 Hz, Alicia); extreme formant warps (iven 1-4, kaukovalta, Lee,
Jacky, marcelo, sandro, Tweaky, norbert, shelby, travis, david, Mr serious
(near duplicate of john and has a space in its name)); echo (f4, pablo);
slow/echoing stress that pushes words past 1 s (Marco); klatt4-6
(buzzy/breathy Klatt modes, used by the robotic variants); the unstable
test variant ``fast``; AnxiousAndy (slow, drawn-out words, near duplicate
of Andy). The screen was: read each variant file, then a
crude intelligibility check on all ten digits for en-us and en-gb-x-rp:
nearest-template DTW over MFCCs against the default voices of the other
accents; variants that misclassified digits (Alicia, zac, announcer,
kaukovalta, Lee, RicishayMax2/3, UniRobot, david, robosoft*, shelby,
Marco, Demonic, marcelo, norbert, whisperf, f4, travis) were dropped.

Processing per clip
-------------------
espeak-ng (22.05 kHz; in-process through libespeak-ng with ctypes, or the
``espeak-ng --stdout`` program with ``--backend cli``; a fresh process's
first word is bit-identical either way) -> resample to 16 kHz (soxr, HQ)
-> energy trim (25 ms frames more than 40 dB below the loudest frame) -> if the word is longer than 1 s it is re-synthesised
once at a faster speed, then dropped (never time-stretched) -> level to a
target active RMS (-20 dBFS ± 4 dB, peak capped at 0.95) -> placed at a
seeded random offset in a 1 s silent frame -> ``write_wav`` (16-bit PCM,
no re-normalisation so the level variation survives). Failures (espeak
error, too long, silent) are reported and skipped.

Speed and determinism: an espeak-ng process spends ~15 ms starting up
(it scans its voice files) and ~1 ms speaking one digit, so the default
backend loads libespeak-ng once with ctypes. Each clip's random
parameters are drawn in the parent from ``(seed, clip index)``; clips are
synthesised in fixed batches of 32, each in a worker freshly forked
(``maxtasksperchild=1``) from a parent that never initialises espeak,
because espeak carries a little state from one call to the next. So the
files are identical for any ``--jobs`` and across runs. (A process that
already initialised the library itself, e.g. by calling
``get_synth("lib")``, forks workers that inherit that state, and the exact
samples may then differ.) Workers touch neither torch nor CUDA (numpy, soxr,
soundfile, espeak), so forking from a process that imported torch is safe.
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
from dataclasses import dataclass
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

log = logging.getLogger(__name__)

GENERATOR_VERSION = 1
LABELS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE  # 1 s
SPLITS = ("train", "valid", "test")
SPLIT_FRACTIONS = {"train": 0.8, "valid": 0.1, "test": 0.1}

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


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: an accent + variant with a fixed base pitch and speed."""

    name: str  # "<accent>+<variant>"
    voice: str  # espeak -v argument
    base_pitch: int
    base_speed: int


@dataclass(frozen=True)
class ClipTask:
    """Everything a worker needs to synthesise one clip (all randomness pre-drawn)."""

    index: int
    clip_id: str
    split: str
    label: int
    speaker: str
    voice: str
    pitch: int
    speed: int
    gain_db: float
    offset_frac: float
    wav_path: str  # absolute


def _speaker_rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def make_speakers(seed: int = 0) -> list[Speaker]:
    """All speakers (accents x variants), each with seeded base pitch/speed."""
    speakers = []
    for accent in ACCENTS:
        for variant in VARIANTS:
            name = f"{accent}+{variant}"
            voice = accent if variant == "default" else f"{accent}+{variant}"
            rng = _speaker_rng(seed, name)
            pitch = int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1))
            speed = int(rng.integers(SPEED_RANGE[0], SPEED_RANGE[1] + 1))
            speakers.append(Speaker(name, voice, pitch, speed))
    return speakers


def split_speakers(speakers: Sequence[Speaker], seed: int = 0) -> dict[str, list[Speaker]]:
    """Shuffle speakers with ``seed`` and cut them 80/10/10 into train/valid/test."""
    order = np.random.default_rng([seed, 7]).permutation(len(speakers))
    shuffled = [speakers[i] for i in order]
    n = len(shuffled)
    n_valid = max(1, round(n * SPLIT_FRACTIONS["valid"]))
    n_test = max(1, round(n * SPLIT_FRACTIONS["test"]))
    return {
        "test": shuffled[:n_test],
        "valid": shuffled[n_test : n_test + n_valid],
        "train": shuffled[n_test + n_valid :],
    }


def _clip_counts(num_clips: int) -> dict[str, int]:
    n_valid = round(num_clips * SPLIT_FRACTIONS["valid"])
    n_test = round(num_clips * SPLIT_FRACTIONS["test"])
    return {"train": num_clips - n_valid - n_test, "valid": n_valid, "test": n_test}


def plan_clips(num_clips: int, out_dir: str | os.PathLike, seed: int = 0) -> list[ClipTask]:
    """Deterministic list of clips to synthesise (speaker, digit, prosody, offset).

    Within each split, clip ``j`` goes to speaker ``j % S`` (speakers in the
    split's shuffled order) and gets digit ``(j % S + j // S) % 10``: digits
    cycle across speakers, and a speaker's successive clips are different
    digits.
    """
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    wav_dir = Path(out_dir).resolve() / "wav"
    by_split = split_speakers(make_speakers(seed), seed)
    counts = _clip_counts(num_clips)
    tasks: list[ClipTask] = []
    index = 0
    for split in SPLITS:
        spk = by_split[split]
        for j in range(counts[split]):
            s, r = j % len(spk), j // len(spk)
            speaker = spk[s]
            label = (s + r) % len(LABELS)
            rng = np.random.default_rng([seed, 1, index])
            pitch = int(np.clip(speaker.base_pitch + rng.integers(-PITCH_JITTER, PITCH_JITTER + 1), 0, 99))
            speed = int(speaker.base_speed + rng.integers(-SPEED_JITTER, SPEED_JITTER + 1))
            gain_db = float(rng.uniform(-GAIN_JITTER_DB, GAIN_JITTER_DB))
            offset_frac = float(rng.uniform(0.0, 1.0))
            slug = speaker.name.replace("+", "_").replace(" ", "-")
            clip_id = f"{LABELS[label]}_{slug}_{index:05d}"
            tasks.append(
                ClipTask(index, clip_id, split, label, speaker.name, speaker.voice, pitch, speed,
                         gain_db, offset_frac, str(wav_dir / f"{clip_id}.wav"))
            )  # fmt: skip
            index += 1
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


def render_word(task: ClipTask, synth=None) -> tuple[np.ndarray, int]:
    """Synthesise and trim ``task``'s word at 16 kHz; re-try once faster if > 1 s.

    Returns ``(word, speed_used)``. Raises ValueError if it still does not fit.
    """
    synth = synth or get_synth()
    text = LABELS[task.label]
    for speed in (task.speed, max(task.speed, RETRY_SPEED)):
        raw, sr = synth(text, task.voice, task.pitch, speed, ESPEAK_AMPLITUDE)
        if float(np.max(np.abs(raw))) >= 0.999:  # clipped inside espeak: quieter
            raw, sr = synth(text, task.voice, task.pitch, speed, ESPEAK_AMPLITUDE // 2)
        word = trim_silence(to_16k(raw, sr))
        if len(word) == 0 or float(np.max(np.abs(word))) < 1e-4:
            raise ValueError("silent synthesis")
        if len(word) <= CLIP_SAMPLES:
            return word, speed
    raise ValueError(f"word lasts {len(word) / SAMPLE_RATE:.2f} s > 1 s even at speed {speed}")


def synth_clip(task: ClipTask, backend: str = "auto") -> tuple[int, dict | None, str | None]:
    """Make one clip file. Returns ``(index, info, None)`` or ``(index, None, error)``."""
    try:
        word, speed = render_word(task, get_synth(backend))
        word = level(word, task.gain_db)
        clip = np.zeros(CLIP_SAMPLES, dtype=np.float32)
        offset = int(task.offset_frac * (CLIP_SAMPLES - len(word) + 1))
        offset = min(offset, CLIP_SAMPLES - len(word))
        clip[offset : offset + len(word)] = word
        write_wav(task.wav_path, clip, SAMPLE_RATE, normalize=False)
        info = {"word_samples": len(word), "offset": offset, "speed": speed}
        return task.index, info, None
    except Exception as exc:  # reported and skipped by the caller
        return task.index, None, f"{type(exc).__name__}: {exc}"


def synth_batch(args: tuple[list[ClipTask], str]) -> list[tuple[int, dict | None, str | None]]:
    """Worker entry point: synthesise a batch of clips in order."""
    tasks, backend = args
    return [synth_clip(t, backend) for t in tasks]


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _jsonl(rows: Iterable[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def is_complete(out_dir: str | os.PathLike, num_clips: int, seed: int) -> bool:
    """True if ``out_dir`` already holds a finished corpus for this request."""
    out = Path(out_dir)
    meta_path = out / "meta.json"
    if not meta_path.is_file() or not all((out / f"{s}.jsonl").is_file() for s in SPLITS):
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return False
    if (meta.get("num_clips"), meta.get("seed"), meta.get("version")) != (num_clips, seed, GENERATOR_VERSION):
        return False
    lines = sum(sum(1 for _ in (out / f"{s}.jsonl").open()) for s in SPLITS)
    return lines == meta.get("written")


def make_digits(
    out_dir: str | os.PathLike,
    num_clips: int = 2400,
    jobs: int | None = None,
    seed: int = 0,
    force: bool = False,
    progress: bool = True,
    backend: str = "auto",
) -> dict:
    """Generate the corpus into ``out_dir``; return the meta dict.

    Skips the work (returns the existing meta with ``"skipped": True``) when
    a finished corpus for the same ``num_clips`` and ``seed`` is there,
    unless ``force``. ``backend`` picks the espeak interface (see
    :func:`get_synth`). Raises :class:`EspeakNotFoundError` without espeak-ng.
    """
    out = Path(out_dir)
    if not force and is_complete(out, num_clips, seed):
        meta = json.loads((out / "meta.json").read_text())
        meta["skipped"] = True
        return meta
    require_espeak()
    jobs = max(1, jobs or os.cpu_count() or 1)
    t0 = time.perf_counter()

    out.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").unlink(missing_ok=True)  # not done until rewritten
    if (out / "wav").exists():
        shutil.rmtree(out / "wav")  # stale clips of an earlier request
    (out / "wav").mkdir()

    tasks = plan_clips(num_clips, out, seed)
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
                msg = f"skipped clip {t.clip_id} ({t.voice} -p {t.pitch} -s {t.speed}): {err}"
                failures.append(msg)
                log.warning(msg)
            if bar is not None:
                bar.update(1)

    # Each batch gets a worker freshly forked from this process, which never
    # synthesises itself: every batch starts from an uninitialised espeak, so
    # the output does not depend on --jobs (see EspeakLibrary). Warm up the
    # DSP here so the forks inherit it.
    backend = resolve_backend(backend)
    trim_silence(to_16k(np.random.default_rng(0).normal(0, 0.1, 2205).astype(np.float32), 22050))
    batches = [(tasks[i : i + BATCH_SIZE], backend) for i in range(0, len(tasks), BATCH_SIZE)]
    if "fork" in mp.get_all_start_methods():
        # workers use numpy/soxr/soundfile/espeak only (no torch), so forking
        # from a process that already imported torch is safe.
        with mp.get_context("fork").Pool(min(jobs, len(batches)), maxtasksperchild=1) as pool:
            for results_batch in pool.imap_unordered(synth_batch, batches):
                collect(results_batch)
    else:  # no fork (Windows): in process, CLI backend is per-call deterministic
        for batch in batches:
            collect(synth_batch((batch[0], "cli")))
    if bar is not None:
        bar.close()

    manifests: dict[str, list[dict]] = {s: [] for s in SPLITS}
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
        })  # fmt: skip
        synthesis.append({"id": t.clip_id, "voice": t.voice, "pitch": t.pitch, **info,
                          "gain_db": round(t.gain_db, 2)})  # fmt: skip
    for split, rows in manifests.items():
        _atomic_write_text(out / f"{split}.jsonl", _jsonl(rows))
    _atomic_write_text(out / "labels.json", json.dumps(list(LABELS)) + "\n")
    _atomic_write_text(out / "synthesis.jsonl", _jsonl(synthesis))
    meta = {
        "version": GENERATOR_VERSION,
        "num_clips": num_clips,
        "seed": seed,
        "written": len(synthesis),
        "failed": failures,
        "per_split": {s: len(r) for s, r in manifests.items()},
        "speakers_per_split": {s: len({r["speaker"] for r in rows}) for s, rows in manifests.items()},
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
    parser.add_argument("--num-clips", type=int, default=2400, help="clips to synthesise (default 2400)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="worker processes (default: all cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed for speakers, split and prosody")
    parser.add_argument("--force", action="store_true", help="regenerate even if a finished corpus exists")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--backend", choices=("auto", "lib", "cli"), default="auto",
                        help="espeak interface: libespeak-ng via ctypes (fast), the espeak-ng program, or auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        meta = make_digits(args.out_dir, args.num_clips, args.jobs, args.seed, args.force,
                          not args.no_progress, args.backend)
    except EspeakNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if meta["skipped"]:
        print(f"{args.out_dir}: {meta['written']} clips already generated (num_clips={args.num_clips}, "
              f"seed={args.seed}); nothing to do (use --force to regenerate).")  # fmt: skip
        return 0
    print(f"wrote {meta['written']}/{args.num_clips} clips to {args.out_dir} in {meta['seconds']:.1f} s "
          f"with {meta['jobs']} jobs; per split {meta['per_split']}, speakers {meta['speakers_per_split']}, "
          f"skipped {len(meta['failed'])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
