"""Tests for anytime_audio.audio.io: round trips, resampling, and bad files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from anytime_audio.audio.io import AudioFileError, audio_info, load_audio, write_wav


def _tone(sr: int = 16000, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_round_trip_16bit(tmp_path):
    x = _tone()
    path = write_wav(tmp_path / "a.wav", x, 16000, normalize=False)
    y, sr = load_audio(path)
    assert sr == 16000
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=1.5 / 32768)
    assert sf.info(str(path)).subtype == "PCM_16"


def test_write_normalises_peak_and_accepts_torch(tmp_path):
    x = torch.from_numpy(_tone())[None] * 0.1  # [1, T] torch tensor
    path = write_wav(tmp_path / "sub" / "dir" / "b.wav", x, 16000, peak=0.9)
    y, _ = load_audio(path)
    assert abs(np.abs(y).max() - 0.9) < 1e-3


def test_write_all_zero_skips_normalisation(tmp_path):
    path = write_wav(tmp_path / "z.wav", np.zeros(100, np.float32), 16000)
    y, _ = load_audio(path, silence_threshold=None)
    assert np.all(y == 0)


def test_resampling_length(tmp_path):
    path = write_wav(tmp_path / "c.wav", _tone(sr=22050, seconds=1.0), 22050)
    y, sr = load_audio(path, sample_rate=16000)
    assert sr == 16000
    assert abs(len(y) - 16000) <= 1


def test_stereo_mixdown(tmp_path):
    left = _tone()
    right = np.zeros_like(left)
    path = tmp_path / "st.wav"
    sf.write(str(path), np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    y, _ = load_audio(path)
    assert y.ndim == 1
    np.testing.assert_allclose(y, left / 2, atol=1e-6)
    both, _ = load_audio(path, mono=False)
    assert both.shape == (2, len(left))


def test_audio_info(tmp_path):
    path = write_wav(tmp_path / "i.wav", _tone(seconds=0.25), 16000)
    info = audio_info(path)
    assert (info.frames, info.sample_rate, info.channels) == (4000, 16000, 1)
    assert info.duration == pytest.approx(0.25)
    with pytest.raises(AudioFileError, match="missing"):
        audio_info(tmp_path / "nope.wav")


def _bad_files(tmp_path):
    missing = tmp_path / "missing_clip.wav"
    corrupt = tmp_path / "corrupt_clip.wav"
    corrupt.write_bytes(b"this is not a wav file at all" * 10)
    empty = tmp_path / "empty_clip.wav"
    sf.write(str(empty), np.zeros(0, np.float32), 16000, subtype="PCM_16")
    silent = tmp_path / "silent_clip.wav"
    sf.write(str(silent), np.zeros(1600, np.float32), 16000, subtype="PCM_16")
    nonfinite = tmp_path / "nan_clip.wav"
    x = _tone()
    x[10] = np.nan
    sf.write(str(nonfinite), x, 16000, subtype="FLOAT")
    return [
        (missing, "missing"),
        (corrupt, "corrupt"),
        (empty, "empty"),
        (silent, "silent"),
        (nonfinite, "non-finite"),
    ]


def test_bad_files_raise_named_errors(tmp_path):
    for path, reason in _bad_files(tmp_path):
        with pytest.raises(AudioFileError) as info:
            load_audio(path)
        msg = str(info.value)
        assert path.name in msg, msg
        assert reason in msg, msg
        assert isinstance(info.value, ValueError)


def test_silence_threshold_can_be_disabled(tmp_path):
    path = tmp_path / "quiet.wav"
    sf.write(str(path), np.full(160, 1e-5, np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioFileError, match="silent"):
        load_audio(path)
    y, _ = load_audio(path, silence_threshold=None)
    assert len(y) == 160


def test_write_rejects_nan(tmp_path):
    x = _tone()
    x[5] = np.nan
    target = tmp_path / "bad.wav"
    with pytest.raises(ValueError, match="bad.wav"):
        write_wav(target, x, 16000)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "out.wav"
    write_wav(target, _tone(), 16000)
    write_wav(target, _tone(freq=220.0), 16000)  # overwrite in place
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_failed_write_removes_temp_file(tmp_path, monkeypatch):
    import anytime_audio.audio.io as aio

    real_write = sf.write

    def write_then_fail(file, *args, **kwargs):
        real_write(file, *args, **kwargs)  # the temp file now exists
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(aio.sf, "write", write_then_fail)
    with pytest.raises(OSError, match="simulated"):
        write_wav(tmp_path / "x.wav", _tone(), 16000)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------ validation after mixdown (issue 9)
def _write_float(path, data, sr=16000):
    sf.write(str(path), data, sr, subtype="FLOAT")
    return path


def test_anti_phase_stereo_is_silent_after_mixdown(tmp_path):
    x = _tone()
    path = _write_float(tmp_path / "anti.wav", np.stack([x, -x], axis=1))
    with pytest.raises(AudioFileError, match=r"anti\.wav: silent"):
        load_audio(path)
    both, _ = load_audio(path, mono=False)  # the channels themselves are not silent
    assert both.shape == (2, len(x))


def test_float_wav_out_of_range_is_normalised_with_a_warning(tmp_path, caplog):
    path = _write_float(tmp_path / "loud.wav", 50.0 * _tone())  # peak 25
    with caplog.at_level("WARNING", logger="anytime_audio.audio.io"):
        y, _ = load_audio(path)
    assert np.max(np.abs(y)) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(y, _tone() / 0.5, atol=1e-5)
    assert "loud.wav" in caplog.text and "outside [-1, 1]" in caplog.text


def test_truncated_wav_names_header_and_data_durations(tmp_path):
    full = write_wav(tmp_path / "full.wav", _tone(seconds=1.0), 16000)
    raw = full.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(raw[: 44 + 2 * 5333])  # header still says 16000 frames
    with pytest.raises(AudioFileError) as info:
        load_audio(cut)
    msg = str(info.value)
    assert "cut.wav" in msg and "truncated" in msg
    assert "1.000 s" in msg and "0.333 s" in msg, msg
    assert "\n" not in msg


def test_clip_shorter_than_minimum_is_rejected(tmp_path):
    path = write_wav(tmp_path / "blip.wav", _tone(seconds=0.01), 16000)
    y, _ = load_audio(path)  # no minimum by default
    assert len(y) == 160
    with pytest.raises(AudioFileError, match=r"blip\.wav: too short \(0\.010 s < minimum 0\.5 s"):
        load_audio(path, min_seconds=0.5)
    # the minimum applies after resampling, in seconds
    y, sr = load_audio(write_wav(tmp_path / "ok.wav", _tone(sr=8000, seconds=0.6), 8000),
                       sample_rate=16000, min_seconds=0.5)
    assert sr == 16000 and len(y) == 9600


def test_directory_named_like_a_wav_is_not_missing(tmp_path):
    d = tmp_path / "x.wav"
    d.mkdir()
    for fn in (load_audio, audio_info):
        with pytest.raises(AudioFileError) as info:
            fn(d)
        assert "is a directory" in str(info.value) and "missing" not in str(info.value)


def test_validate_audio_checks_arrays_directly():
    from anytime_audio.audio.io import validate_audio

    x = _tone()
    np.testing.assert_array_equal(validate_audio(x, 16000, "seg"), x)
    with pytest.raises(AudioFileError, match="seg: silent"):
        validate_audio(np.zeros(1600, np.float32), 16000, "seg")
    bad = x.copy()
    bad[3] = np.inf
    with pytest.raises(AudioFileError, match="seg: non-finite"):
        validate_audio(bad, 16000, "seg")
    with pytest.raises(AudioFileError, match="seg: empty"):
        validate_audio(np.zeros(0, np.float32), 16000, "seg")
    with pytest.raises(AudioFileError, match="seg: truncated"):
        validate_audio(x, 16000, "seg", header_seconds=1.0)
    assert validate_audio(x, 16000, "seg", header_seconds=0.5).shape == x.shape


def test_rejections_carry_a_short_kind(tmp_path):
    path = _write_float(tmp_path / "anti.wav", np.stack([_tone(), -_tone()], axis=1))
    with pytest.raises(AudioFileError) as info:
        load_audio(path)
    assert info.value.kind == "silent"
    with pytest.raises(AudioFileError) as info:
        load_audio(tmp_path / "gone.wav")
    assert info.value.kind == "missing"
