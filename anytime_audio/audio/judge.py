"""An offline intelligibility judge for spoken digits: ASR accuracy, as codec and TTS papers report.

Codec and TTS papers score intelligibility with the word error rate of a
speech recogniser. For a corpus of isolated spoken digits ("zero".."nine")
the analogue is the recogniser's accuracy: the fraction of clips it hears as
their own label. :class:`DigitJudge` computes it fully offline with
CMU PocketSphinx (PyPI wheel ``pocketsphinx``), whose wheel ships its default
US English acoustic model (``pocketsphinx/model/en-us/en-us``, a continuous
HMM trained with sphinxtrain) and the CMU pronouncing dictionary
(``cmudict-en-us.dict``). Licence: BSD-style (Carnegie Mellon University
for PocketSphinx and the dictionary, Alpha Cephei Inc. for the acoustic
model), so the judge needs no download and no network.

How it decides. Recognition is restricted to exactly one of the given words
by a JSGF grammar (``public <w> = zero | one | ... ;``); PocketSphinx adds
optional silence and noise fillers around it by itself. A clip whose best
path never completes a word (silence, white noise, a steady tone) gets -1.
Before decoding, the waveform is mixed to mono, resampled to 16 kHz, peak
normalised to 0.5 (so the level of a codec's output does not matter) and
given a fixed -60 dBFS white noise floor (seeded, so a clip always gets the
same answer); cepstral mean normalisation runs over the whole clip, and
the front end is reset before every clip, so an answer does not depend on
the clips judged before it.

The noise floor matters most. Synthesisers write exact digital silence
around a word, and the acoustic model never heard it: its log-energy floor
drags the cepstral mean and the word's first fricative vanishes ("six" was
heard right on 1 of 36 espeak-ng clips, "seven" on 9, even with 0.2 s of
zero padding).

Measured (the ten digits per voice; espeak-ng: 6 voices x 3 pitches x 2 speeds = 360 clips;
flite: kal, kal16, slt, rms, awb; festival: kal and ked diphone, slt HTS;
corpus: the 240 test clips of ``recipes/tts_digits/local/make_digits.py``
with its defaults):

=============================  =========  =====  ========  ======
decoder input                  espeak-ng  flite  festival  corpus
=============================  =========  =====  ========  ======
as is (digital silence)        0.59       0.98   1.00      0.60
+0.2 s zero padding            0.67       0.98   1.00      0.60
-60 dBFS floor                 0.96       0.98   1.00      0.78
peak 0.5, -60 dBFS floor       0.97       0.98   1.00      0.78
=============================  =========  =====  ========  ======

Other searches, measured the same way (with the floor): keyword spotting of
the ten words, keeping the best-scoring detection, reaches only 0.34-0.38
on espeak-ng and 0.66-0.88 on flite and fires on noise at permissive
thresholds; the full trigram LM keeping the first digit word reached 0.15
on espeak-ng and 0.74 on flite (without the floor) and is 50x slower. Both
are left out. White noise (0.01-0.5 rms), brown noise, a steady tone and
silence: -1 on 58 of 60 clips; time-reversed digits: 0.11 (chance).
Narrowband input (8 kHz, as telephone speech) loses the fricatives the
16 kHz model listens for: espeak-ng "six" and "seven" suffer, 0.6-0.9 on a
voice that scores 1.0 at 16 kHz or more.

Speed: one decoder is built once (0.2 s) and reused: about 70 one-second
clips per CPU-second, so 1,000 clips take about 15 s on one core.

Labels follow the corpus' ``labels.json`` order, "zero".."nine" as 0..9; pass
another word list for other label sets (every word must be in the
dictionary, lowercase).
"""

from __future__ import annotations

import importlib.util
from typing import Sequence

import numpy as np

DIGIT_WORDS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
JUDGE_SAMPLE_RATE = 16000  # the acoustic model's rate
PEAK = 0.5  # every clip is peak-normalised to this before decoding
NOISE_FLOOR_DB = -60.0  # white noise added under every clip (dB re full scale); see the module docstring
_SEARCH = "words"


def is_available() -> bool:
    """Whether the judge can run here (the ``pocketsphinx`` package is importable); callers skip it and log why otherwise."""
    return importlib.util.find_spec("pocketsphinx") is not None


class JudgeUnavailableError(RuntimeError):
    """pocketsphinx is not installed, so no intelligibility judge can be built."""


def _to_mono_16k(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mix a waveform to mono float32 at 16 kHz.

    Accepts shape ``(n,)``, or 2-D with the shorter axis taken as channels
    (``(channels, n)`` or ``(n, channels)``), which are averaged.
    """
    x = np.nan_to_num(np.asarray(wave, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)  # a diverged model's NaNs are silence
    if x.ndim == 2:
        x = x.mean(axis=0 if x.shape[0] <= x.shape[1] else 1)
    elif x.ndim != 1:
        raise ValueError(f"judge expects a mono (n,) or 2-D multichannel waveform, got shape {x.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if sample_rate != JUDGE_SAMPLE_RATE and x.size:
        # soxr directly (librosa's own default resampler, a librosa dependency): librosa.resample's
        # first call spends ~5 s on lazy imports.
        import soxr

        x = soxr.resample(x, sample_rate, JUDGE_SAMPLE_RATE, quality="HQ").astype(np.float32)
    return x


class DigitJudge:
    """Recognises which of a few words (default: the ten digits) a short clip says.

    One PocketSphinx decoder with a one-word grammar is built at construction
    and reused for every clip (building it loads the acoustic model and the
    dictionary, about a second). Not thread-safe: use one judge per thread
    or process.
    """

    def __init__(self, words: Sequence[str] = DIGIT_WORDS) -> None:
        """Build the decoder for ``words`` (label i is ``words[i]``); raises on a word the dictionary lacks."""
        if not is_available():
            raise JudgeUnavailableError("the intelligibility judge needs pocketsphinx: pip install pocketsphinx")
        import pocketsphinx

        self.words = tuple(str(w) for w in words)
        if not self.words:
            raise ValueError("DigitJudge needs at least one word")
        if len(set(self.words)) != len(self.words):
            raise ValueError(f"DigitJudge words must be distinct, got {list(self.words)}")
        for w in self.words:
            if not w or not all(c.isalpha() or c in "'-" for c in w):
                raise ValueError(f"judge word {w!r} must be a single word of letters")
        # lm=None: no trigram LM (it would load ~30 MB for nothing); our grammar replaces it.
        self._decoder = pocketsphinx.Decoder(lm=None, cmn="batch", loglevel="FATAL")
        missing = [w for w in self.words if self._decoder.lookup_word(w) is None]
        if missing:
            raise ValueError(f"judge words not in the pocketsphinx dictionary (use lowercase English words): {missing}")
        grammar = f"#JSGF V1.0; grammar judge; public <word> = {' | '.join(self.words)} ;"
        self._decoder.add_jsgf_string(_SEARCH, grammar)
        self._decoder.activate_search(_SEARCH)
        self._index = {w: i for i, w in enumerate(self.words)}

    def recognise(self, wave: np.ndarray, sample_rate: int) -> int:
        """The label index (0..len(words)-1) heard in ``wave``, or -1 when no word is recognised.

        ``wave`` is a float waveform at any level and any ``sample_rate``;
        multichannel input is mixed to mono. Deterministic: the same clip always
        gets the same answer.
        """
        x = _to_mono_16k(wave, sample_rate)
        if x.size < JUDGE_SAMPLE_RATE // 100:  # under one 10 ms frame: nothing to hear
            return -1
        peak = float(np.abs(x).max()) if x.size else 0.0
        if peak > 0.0:
            x = x * (PEAK / peak)
        floor = np.random.default_rng(0).standard_normal(x.size).astype(np.float32)
        x = x + floor * np.float32(10.0 ** (NOISE_FLOOR_DB / 20.0))
        pcm = (np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        dec = self._decoder
        # the front end's noise tracker carries over between utterances: reset it, so a
        # clip's label does not depend on the clips judged before it (same as a fresh judge)
        dec.reinit_feat()
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()
        if dec.hyp() is None:
            return -1
        for seg in dec.seg():
            word = seg.word.strip().split("(")[0]  # "zero(2)" is an alternative pronunciation
            if word in self._index:
                return self._index[word]
        return -1

    def recognise_batch(self, waves: Sequence[np.ndarray] | np.ndarray, sample_rate: int) -> list[int]:
        """:meth:`recognise` for each clip of ``waves`` (a list of 1-D arrays, or a 2-D array of clips)."""
        return [self.recognise(w, sample_rate) for w in waves]

    def accuracy(self, waves: Sequence[np.ndarray] | np.ndarray, labels: Sequence[int], sample_rate: int) -> float:
        """Fraction of ``waves`` recognised as their own label (-1, nothing heard, counts as wrong)."""
        labels = [int(y) for y in labels]
        if len(labels) != len(waves):
            raise ValueError(f"accuracy needs one label per clip, got {len(waves)} clips and {len(labels)} labels")
        if not labels:
            raise ValueError("accuracy needs at least one clip")
        hits = sum(int(p == y) for p, y in zip(self.recognise_batch(waves, sample_rate), labels))
        return hits / len(labels)
