"""The digit intelligibility judge: hears clear digits, rejects noise, takes any rate or channel layout."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from anytime_audio.audio import judge as judge_mod
from anytime_audio.audio.judge import DIGIT_WORDS, DigitJudge

pytestmark = pytest.mark.skipif(not judge_mod.is_available(), reason="pocketsphinx is not installed")

LABELS = list(range(len(DIGIT_WORDS)))


def _espeak(words, tmp_path, voice="en-us"):
    """Synthesise each word with espeak-ng (22.05 kHz) and return (waves, sample_rate)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed; it synthesises this test's speech")
    waves, rate = [], None
    for i, word in enumerate(words):
        path = tmp_path / f"{i}_{word}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), word], check=True, capture_output=True)
        wave, rate = sf.read(path, dtype="float32")
        waves.append(wave)
    return waves, rate


@pytest.fixture(scope="module")
def judge():
    """One judge for the module: building the decoder is the slow part."""
    return DigitJudge()


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The ten digits spoken by espeak-ng's en-us voice."""
    return _espeak(DIGIT_WORDS, tmp_path_factory.mktemp("digits"))


def test_is_available_reports_the_installed_package():
    assert judge_mod.is_available() is True


def test_recognises_clear_synthesised_digits(judge, digits):
    waves, rate = digits
    # Measured 1.0 on this voice (0.97 over 6 espeak-ng voices x pitch x speed); 0.8 leaves room.
    assert judge.accuracy(waves, LABELS, rate) >= 0.8
    predictions = judge.recognise_batch(waves, rate)
    assert all(p in range(-1, 10) for p in predictions)
    assert judge.recognise_batch(waves, rate) == predictions  # deterministic
    assert judge.recognise_batch(waves[::-1], rate)[::-1] == predictions  # independent of order


def test_noise_and_silence_are_not_heard_as_the_labels(judge):
    rng = np.random.default_rng(1)
    clips = [rng.standard_normal(16000).astype(np.float32) * 0.1 for _ in range(8)] + [np.zeros(16000, np.float32)] * 2
    predictions = judge.recognise_batch(clips, 16000)
    assert predictions[-1] == -1  # pure silence: nothing recognised
    assert judge.accuracy(clips, LABELS, 16000) <= 0.3  # measured 0.0
    assert sum(p == -1 for p in predictions) >= 7
    assert judge.recognise(np.zeros(0, np.float32), 16000) == -1  # empty clip
    assert judge.recognise(np.full(8000, np.nan, np.float32), 8000) == -1  # a diverged model's output


@pytest.mark.parametrize("rate,minimum", [(16000, 0.8), (22050, 0.8), (8000, 0.6)])
def test_any_sample_rate(judge, digits, rate, minimum):
    import soxr

    waves, native = digits
    resampled = [soxr.resample(w, native, rate) for w in waves]
    # 8 kHz drops the fricatives of "six"/"seven" (measured 0.8 on this voice).
    assert judge.accuracy(resampled, LABELS, rate) >= minimum


def test_level_and_channel_layout_do_not_change_the_answer(judge, digits):
    waves, rate = digits
    mono = judge.recognise_batch(waves, rate)
    assert [judge.recognise(0.02 * w, rate) for w in waves] == mono
    assert [judge.recognise(np.stack([w, w]), rate) for w in waves] == mono  # (channels, n)
    assert [judge.recognise(np.stack([w, w], axis=1), rate) for w in waves] == mono  # (n, channels)


def test_other_word_lists(tmp_path):
    waves, rate = _espeak(["yes", "no", "no"], tmp_path)
    yes_no = DigitJudge(["yes", "no"])
    assert yes_no.recognise_batch(waves, rate) == [0, 1, 1]


def test_word_not_in_the_dictionary_is_one_clear_error():
    with pytest.raises(ValueError, match=r"not in the pocketsphinx dictionary.*'qzxv'") as err:
        DigitJudge(["zero", "qzxv"])
    assert "\n" not in str(err.value)


def test_bad_inputs_are_one_line_errors(judge):
    with pytest.raises(ValueError, match="one label per clip"):
        judge.accuracy([np.zeros(1600, np.float32)], [0, 1], 16000)
    with pytest.raises(ValueError, match="distinct"):
        DigitJudge(["one", "one"])
    with pytest.raises(ValueError, match="shape"):
        judge.recognise(np.zeros((2, 2, 100), np.float32), 16000)
