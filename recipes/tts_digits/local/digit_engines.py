"""Speech engines other than espeak-ng for the spoken-digits corpus.

Each engine turns a digit word into a waveform for one voice and one set of
prosody parameters. An engine that is not installed reports why
(:meth:`Engine.unavailable`) and the corpus is made without it. espeak-ng
(and MBROLA voices driven through it) live in ``make_digits.py``, next to
the in-process libespeak-ng binding.

Prosody: every speaker (voice + variant) has a *pitch* factor and a *tempo*
factor (> 1 = faster) relative to the voice's own; each clip jitters both a
little. Engines map them onto their own controls:

* flite: ``--setf duration_stretch=1/tempo``, ``--setf int_f0_target_mean=``
  the voice's mean F0 x pitch (the ``rms`` voice ignores that feature: it
  gets its pitch from "tape" resampling, see below);
* festival diphone voices: ``Duration_Stretch`` and the target F0 mean/std
  of ``int_lr_params``; HTS voices: hts_engine's ``-r`` speed rate (festival's
  hts_engine ignores the other hts_engine options, ``-fm`` included, so pitch
  comes from tape resampling);
* pico, RHVoice: tape resampling only.

"Tape" resampling plays the waveform back ``pitch`` times faster (resample
from ``sr * pitch`` instead of ``sr``): pitch *and* formants move by the
factor, like a smaller or larger speaker, and the word gets ``pitch`` times
shorter (the native tempo control makes up for it where there is one).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

PITCH_RANGE = (0.82, 1.22)  # speaker pitch factor (log-uniform) through a native F0 control
TAPE_PITCH_RANGE = (0.85, 1.08)  # ... through tape resampling: higher moved slt (HTS) past the judge
TEMPO_RANGE = (0.85, 1.18)  # speaker tempo factor (log-uniform)
PITCH_JITTER = 0.04  # per clip, log scale (about +-4%)
TEMPO_JITTER = 0.06
FASTER = 1.4  # tempo factor of the one retry for a word that does not fit in 1 s
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


@dataclass(frozen=True)
class Voice:
    """One voice of one engine.

    ``group`` names the recorded person (or design) behind the voice: voices
    of one group never straddle two splits, even across engines (flite's
    ``kal16`` and festival's ``kal_diphone`` are both Kal).
    """

    engine: str
    name: str
    group: str
    kind: str = ""  # engine-specific: "diphone", "hts", "cg", "formant", ...
    f0: float | None = None  # the voice's mean F0 in Hz, where the engine takes a target

    @property
    def key(self) -> str:
        return f"{self.engine}/{self.name}"


@dataclass
class Rendered:
    """A synthesised word (``audio`` at ``sample_rate``) or the reason it failed."""

    audio: np.ndarray | None = None
    sample_rate: int = 0
    error: str | None = None


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


@dataclass
class Engine:
    """Base class: a speech engine with its voices and prosody controls."""

    name: str = ""
    licence: str = ""
    package: str = ""  # the Debian package(s) that provide it
    weight: float = 1.0  # share of the clips relative to the other engines
    dropped: dict[str, str] = field(default_factory=dict)  # voice -> why it is not used

    def unavailable(self) -> str | None:
        """``None`` if the engine can run here, else a one-line reason."""
        raise NotImplementedError

    def voices(self) -> list[Voice]:
        """The installed voices this corpus uses (dropped ones are in :attr:`dropped`)."""
        raise NotImplementedError

    def uses_tape(self, voice: Voice) -> bool:
        """Whether ``voice`` gets its pitch from tape resampling (no native F0 control)."""
        return True

    def draw_speaker(self, voice: Voice, rng: np.random.Generator) -> dict:
        """Prosody of one speaker (a voice variant), drawn from ``rng``."""
        pitch = log_uniform(rng, *(TAPE_PITCH_RANGE if self.uses_tape(voice) else PITCH_RANGE))
        return {"pitch": round(pitch, 3), "tempo": round(log_uniform(rng, *TEMPO_RANGE), 3)}

    def jitter(self, voice: Voice, params: dict, rng: np.random.Generator) -> dict:
        """One clip's prosody: the speaker's, jittered a little."""
        return {
            "pitch": round(params["pitch"] * float(np.exp(rng.uniform(-PITCH_JITTER, PITCH_JITTER))), 3),
            "tempo": round(params["tempo"] * float(np.exp(rng.uniform(-TEMPO_JITTER, TEMPO_JITTER))), 3),
        }

    def faster(self, params: dict) -> dict:
        """The parameters of the one retry for a word longer than 1 s."""
        return {**params, "tempo": round(params["tempo"] * FASTER, 3)}

    def render(self, items: Sequence[tuple[str, Voice, dict]]) -> list[Rendered]:
        """Synthesise ``(text, voice, params)`` items, in order (one result each)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release helper processes (none by default)."""


def _read_wav(path: Path) -> Rendered:
    if not path.is_file() or path.stat().st_size <= 44:
        return Rendered(error="no audio")
    audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return Rendered(audio.mean(axis=1), int(sr))


# ---------------------------------------------------------------- flite
FLITE_VOICES = {  # name -> (group, kind, mean F0 in Hz or None when the voice ignores int_f0_target_mean)
    "kal": ("kal", "diphone-8k", 100.0),
    "kal16": ("kal", "diphone", 100.0),
    "awb": ("awb", "cg", 100.0),
    "rms": ("rms", "cg", None),
    "slt": ("slt", "cg", 160.0),
}
FLITE_DROPPED = {
    "awb_time": "limited-domain voice (speaks clock times only) that ignores the prosody features",
}


class FliteLibrary:
    """In-process flite through ctypes (``libflite.so.1`` + ``libflite_cmu_us_<voice>.so.1``,
    package libflite1): ~1-20 ms per word instead of a ~30 ms process start.

    Bit-identical to the ``flite`` program: every feature the recipe uses is
    set before each word (voices are registered once and keep features
    between calls), and libc's ``rand`` -- which the clustergen voices (awb,
    rms, slt) use for their excitation noise -- is reseeded with 1 before
    each word, as in a fresh ``flite`` process.
    """

    def __init__(self) -> None:
        import ctypes

        class Wave(ctypes.Structure):  # cst_wave
            _fields_ = [("type", ctypes.c_char_p), ("sample_rate", ctypes.c_int), ("num_samples", ctypes.c_int),
                        ("num_channels", ctypes.c_int), ("samples", ctypes.POINTER(ctypes.c_short))]  # fmt: skip

        class VoiceStruct(ctypes.Structure):  # the head of cst_voice
            _fields_ = [("name", ctypes.c_char_p), ("features", ctypes.c_void_p)]

        self._ctypes, self._Voice = ctypes, VoiceStruct
        self._lib = lib = ctypes.CDLL("libflite.so.1")  # OSError when missing
        self._libc = ctypes.CDLL(None)
        lib.flite_init()
        lib.flite_text_to_wave.restype = ctypes.POINTER(Wave)
        lib.flite_text_to_wave.argtypes = [ctypes.c_char_p, ctypes.POINTER(VoiceStruct)]
        lib.flite_feat_set_float.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_float]
        lib.delete_wave.argtypes = [ctypes.POINTER(Wave)]
        self._voices: dict = {}
        self._keys: dict[str, bytes] = {}

    def _voice(self, name: str):
        if name not in self._voices:
            ctypes = self._ctypes
            register = getattr(ctypes.CDLL(f"libflite_cmu_us_{name}.so.1"), f"register_cmu_us_{name}")
            register.restype, register.argtypes = ctypes.POINTER(self._Voice), [ctypes.c_char_p]
            voice = register(None)
            if not voice:
                raise RuntimeError(f"flite could not register voice {name!r}")
            self._voices[name] = voice
        return self._voices[name]

    def synth(self, text: str, voice: str, features: dict[str, float]) -> tuple[np.ndarray, int]:
        """Say ``text`` with ``voice`` and float ``features``; return ``(float32 waveform, sample_rate)``."""
        vox = self._voice(voice)
        for key, value in features.items():
            # flite keeps the name's pointer, not a copy: the bytes must outlive the voice
            name = self._keys.setdefault(key, key.encode())
            self._lib.flite_feat_set_float(vox.contents.features, name, float(value))
        self._libc.srand(1)
        wave = self._lib.flite_text_to_wave(text.encode(), vox)
        if not wave or wave.contents.num_samples <= 0:
            raise RuntimeError(f"flite library gave no audio for {text!r} with voice {voice!r}")
        w = wave.contents
        audio = np.ctypeslib.as_array(w.samples, shape=(w.num_samples * max(1, w.num_channels),)).astype(np.float32)
        sample_rate, channels = int(w.sample_rate), max(1, int(w.num_channels))
        self._lib.delete_wave(wave)
        return audio.reshape(-1, channels).mean(axis=1) / 32768.0, sample_rate


def flite_cli(text: str, voice: str, features: dict[str, float]) -> tuple[np.ndarray, int]:
    """The ``flite`` program: one process per word (the reference for :class:`FliteLibrary`)."""
    with tempfile.TemporaryDirectory(prefix="flite-") as tmp:
        wav = Path(tmp) / "word.wav"
        cmd = ["flite", "-voice", voice]
        for key, value in features.items():
            cmd += ["--setf", f"{key}={value}"]
        proc = subprocess.run(cmd + ["-t", text, "-o", str(wav)], capture_output=True, timeout=60)
        res = _read_wav(wav)
    if proc.returncode != 0 or res.audio is None:
        raise RuntimeError(f"flite failed (rc={proc.returncode}): {proc.stderr.decode(errors='replace').strip()[:200]}")
    return res.audio, res.sample_rate


@dataclass
class FliteEngine(Engine):
    """CMU flite. Voices from ``flite -lv``; in-process through libflite (``backend``
    ``"lib"``), or the ``flite`` program (``"cli"``); ``"auto"`` = lib if it loads."""

    name: str = "flite"
    licence: str = "BSD-like (CMU/Edinburgh permissive licence)"
    package: str = "flite"
    backend: str = "auto"
    _library: FliteLibrary | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:  # sent to workers without the loaded library
        return {**self.__dict__, "_library": None}

    def uses_tape(self, voice: Voice) -> bool:
        return voice.f0 is None

    def unavailable(self) -> str | None:
        return None if shutil.which("flite") else "the flite program is not on PATH (apt-get install flite)"

    def installed_voices(self) -> list[str]:
        out = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=30).stdout
        return out.split(":", 1)[-1].split() if ":" in out else []

    def voices(self) -> list[Voice]:
        voices = []
        for name in self.installed_voices():
            if name in FLITE_VOICES:
                group, kind, f0 = FLITE_VOICES[name]
                voices.append(Voice(self.name, name, group, kind, f0))
            elif name in FLITE_DROPPED:
                self.dropped[name] = FLITE_DROPPED[name]
            else:
                self.dropped[name] = "not a voice this recipe knows (add it to FLITE_VOICES after listening)"
        return voices

    @staticmethod
    def native(voice: Voice, params: dict) -> tuple[dict[str, float], float]:
        """``(flite float features, tape factor)`` for ``params``."""
        if voice.f0 is not None:
            return {"duration_stretch": round(1.0 / params["tempo"], 4),
                    "int_f0_target_mean": round(voice.f0 * params["pitch"], 1)}, 1.0  # fmt: skip
        # no F0 control: tape for pitch, stretched so the tempo still holds after it
        return {"duration_stretch": round(params["pitch"] / params["tempo"], 4)}, params["pitch"]

    def synth_fn(self):
        """The synthesis function of :attr:`backend` (loads libflite on first use)."""
        if self.backend != "cli":
            if self._library is None:
                try:
                    self._library = FliteLibrary()
                except (OSError, AttributeError) as exc:
                    if self.backend == "lib":
                        raise
                    log.warning("libflite not usable (%s); using the slower flite program", exc)
                    self.backend = "cli"
                    return flite_cli
            return self._library.synth
        return flite_cli

    def render(self, items: Sequence[tuple[str, Voice, dict]]) -> list[Rendered]:
        synth = self.synth_fn()
        results = []
        for text, voice, params in items:
            features, tape = self.native(voice, params)
            try:
                audio, sr = synth(text, voice.name, features)
                results.append(Rendered(audio, int(round(sr * tape))))
            except Exception as exc:  # reported per clip
                results.append(Rendered(error=f"{type(exc).__name__}: {exc}"))
        return results


# ---------------------------------------------------------------- festival
FESTIVAL_VOICES = {  # name -> group; kind comes from the name's suffix
    "kal_diphone": "kal",
    "ked_diphone": "ked",
    "cmu_us_slt_arctic_hts": "slt",
}
FESTIVAL_ENGLISH_DIRS = ("english", "us", "british", "en")  # voices/<language>/<voice>
FESTIVAL_VOICE_ROOTS = ("/usr/share/festival/voices", "/usr/lib/festival/voices", "/usr/local/share/festival/voices")
DIPHONE_F0 = (105.0, 14.0)  # festival's int_lr_params target mean/std of the kal/ked diphone voices


def festival_kind(name: str) -> str:
    for suffix in ("hts", "diphone", "cg", "clunits", "ldom", "multisyn"):
        if name.endswith("_" + suffix):
            return suffix
    return "other"


@dataclass
class FestivalEngine(Engine):
    """The Festival Speech Synthesis System (``festival --batch``, one process per batch).

    A batch of words costs one festival start (~0.2 s) plus ~10-30 ms per
    word. English voices are found in festival's voice folders
    (``voices/{english,us}/<voice>``); other languages are skipped.
    """

    name: str = "festival"
    licence: str = "festival: X11-style (Univ. of Edinburgh/CMU); voices: see recipes/tts_digits/README.md"
    package: str = "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"
    roots: tuple[str, ...] = FESTIVAL_VOICE_ROOTS

    def unavailable(self) -> str | None:
        if not shutil.which("festival"):
            return "the festival program is not on PATH (apt-get install festival festvox-kallpc16k)"
        return None if self._voice_dirs() else "festival has no English voice installed (apt-get install festvox-kallpc16k)"

    def uses_tape(self, voice: Voice) -> bool:
        return voice.kind != "diphone"

    def _voice_dirs(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for root in self.roots:
            for scm in sorted(Path(root).glob("*/*/festvox/*.scm")):
                lang, name = scm.parents[2].name, scm.parents[1].name
                if scm.stem != name or name in found or not _NAME.match(name):
                    continue
                if lang not in FESTIVAL_ENGLISH_DIRS:
                    self.dropped[name] = f"not English (voices/{lang})"
                    continue
                found[name] = lang
        return found

    def voices(self) -> list[Voice]:
        voices = []
        for name in sorted(self._voice_dirs()):
            kind = festival_kind(name)
            if kind in ("ldom",):
                self.dropped[name] = "limited-domain voice"
                continue
            f0 = DIPHONE_F0[0] if kind == "diphone" else None
            voices.append(Voice(self.name, name, FESTIVAL_VOICES.get(name, f"festival:{name}"), kind, f0))
        return voices

    @staticmethod
    def script_for(text: str, voice: Voice, params: dict, wav: str) -> str:
        """Festival Scheme that says ``text`` with ``voice`` and ``params`` into ``wav``."""
        lines = [f"(voice_{voice.name})"]
        tape = 1.0
        if voice.kind == "hts":
            tape = params["pitch"]
            lines.append("(Parameter.set 'Duration_Stretch 1.0)")
            lines.append(f"(set! hts_engine_params (append {voice.name}::hts_engine_params "
                         f"'((\"-r\" {params['tempo'] / tape:.4f}))))")  # fmt: skip
        elif voice.kind == "diphone":
            mean, std = DIPHONE_F0
            lines.append(f"(Parameter.set 'Duration_Stretch {1.0 / params['tempo']:.4f})")
            lines.append(f"(set! int_lr_params '((target_f0_mean {mean * params['pitch']:.1f}) "
                         f"(target_f0_std {std * params['pitch']:.1f}) (model_f0_mean 170) (model_f0_std 34)))")  # fmt: skip
        else:  # unknown kinds: native stretch, tape for pitch
            tape = params["pitch"]
            lines.append(f"(Parameter.set 'Duration_Stretch {tape / params['tempo']:.4f})")
        lines.append(f'(set! u (Utterance Text "{text}"))')
        lines.append("(utt.synth u)")
        lines.append(f"(utt.save.wave u \"{wav}\" 'riff)")
        return "\n".join(lines) + "\n"

    def render(self, items: Sequence[tuple[str, Voice, dict]]) -> list[Rendered]:
        if not items:
            return []
        with tempfile.TemporaryDirectory(prefix="festival-") as tmp:
            wavs = [str(Path(tmp) / f"{i}.wav") for i in range(len(items))]
            script = "".join(self.script_for(t, v, p, w) for (t, v, p), w in zip(items, wavs))
            (Path(tmp) / "batch.scm").write_text(script)
            proc = subprocess.run(["festival", "--batch", str(Path(tmp) / "batch.scm")],
                                  capture_output=True, timeout=120 + 5 * len(items))  # fmt: skip
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            results = []
            for (_, voice, params), wav in zip(items, wavs):
                res = _read_wav(Path(wav))
                if res.audio is None:
                    res.error = f"festival gave no audio (rc={proc.returncode}): {err[-1][:200] if err else ''}"
                elif voice.kind != "diphone":
                    res.sample_rate = int(round(res.sample_rate * params["pitch"]))
                results.append(res)
        return results


# ---------------------------------------------------------------- optional engines (when installed)
@dataclass
class PicoEngine(Engine):
    """SVOX pico (``pico2wave``, package libttspico-utils, non-free: used only when installed)."""

    name: str = "pico"
    licence: str = "Apache-2.0 code; non-free language data (Debian non-free)"
    package: str = "libttspico-utils"

    def unavailable(self) -> str | None:
        return None if shutil.which("pico2wave") else "pico2wave is not on PATH (non-free: not installed by setup.sh)"

    def voices(self) -> list[Voice]:
        return [Voice(self.name, "en-US", "pico:en-US", "unit"), Voice(self.name, "en-GB", "pico:en-GB", "unit")]

    def render(self, items: Sequence[tuple[str, Voice, dict]]) -> list[Rendered]:
        results = []
        with tempfile.TemporaryDirectory(prefix="pico-") as tmp:
            for i, (text, voice, params) in enumerate(items):
                wav = Path(tmp) / f"{i}.wav"
                proc = subprocess.run(["pico2wave", "-l", voice.name, "-w", str(wav), text], capture_output=True, timeout=60)
                res = _read_wav(wav)
                if proc.returncode != 0 or res.audio is None:
                    res = Rendered(error=f"pico2wave failed (rc={proc.returncode})")
                else:
                    res.sample_rate = int(round(res.sample_rate * params["pitch"]))
                results.append(res)
        return results


RHVOICE_ENGLISH = ("alan", "bdl", "clb", "slt", "evgeniy-eng", "lyubov")


@dataclass
class RHVoiceEngine(Engine):
    """RHVoice (``RHVoice-test``; not in Debian: used only when installed).

    Voices: the English ones of :data:`RHVOICE_ENGLISH` that say a probe word.
    """

    name: str = "rhvoice"
    licence: str = "LGPL-2.1+ engine; voices under their own licences"
    package: str = "(not in Debian)"

    def unavailable(self) -> str | None:
        return None if shutil.which("RHVoice-test") else "RHVoice-test is not on PATH (not packaged for Debian)"

    def voices(self) -> list[Voice]:
        voices = []
        for name in RHVOICE_ENGLISH:
            voice = Voice(self.name, name, f"rhvoice:{name}", "hts")
            probe = self.render([("zero", voice, {"pitch": 1.0, "tempo": 1.0})])[0]
            if probe.audio is None:
                self.dropped[name] = "not installed (probe failed)"
            else:
                voices.append(voice)
        return voices

    def render(self, items: Sequence[tuple[str, Voice, dict]]) -> list[Rendered]:
        results = []
        with tempfile.TemporaryDirectory(prefix="rhvoice-") as tmp:
            for i, (text, voice, params) in enumerate(items):
                wav = Path(tmp) / f"{i}.wav"
                proc = subprocess.run(["RHVoice-test", "-p", voice.name, "-o", str(wav)], input=text.encode(),
                                      capture_output=True, timeout=60)  # fmt: skip
                res = _read_wav(wav)
                if proc.returncode != 0 or res.audio is None:
                    res = Rendered(error=f"RHVoice-test failed (rc={proc.returncode})")
                else:
                    res.sample_rate = int(round(res.sample_rate * params["pitch"]))
                results.append(res)
        return results
