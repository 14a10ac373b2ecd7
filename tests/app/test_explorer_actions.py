"""The explorer's functions called directly: start-up checks, uploads, generate, reconstruct, results."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from anytime_audio.app import actions
from anytime_audio.app.actions import GenerateSettings
from anytime_audio.app.media import load_upload
from anytime_audio.app.session import ExplorerError, open_session
from tests.app.conftest import make_experiment
from tests.helpers.bad_audio import anti_phase_stereo, truncated

SR, CLIP = 16000, 16000


def _tone(seconds, sr, channels=1, start=0.0):
    t = np.arange(int(seconds * sr)) / sr
    x = 0.4 * np.sin(2 * np.pi * 440 * t) * (t >= start)
    return np.stack([x, 0.5 * x], 1) if channels == 2 else x


# ------------------------------------------------------------------ start-up
def test_missing_or_broken_experiments_fail_at_start_up_in_one_line(tmp_path, audio_exp):
    with pytest.raises(ExplorerError, match="does not exist: train one with `anytime-audio train-ae"):
        open_session(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExplorerError, match="holds no config.yaml"):
        open_session(tmp_path / "empty")
    broken = tmp_path / "broken"
    shutil.copytree(audio_exp, broken)
    (broken / "checkpoint.pt").unlink()
    with pytest.raises(ExplorerError, match="no trained autoencoder"):
        open_session(broken)
    (broken / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ExplorerError) as error:
        open_session(broken)
    assert "cannot load the experiment" in str(error.value) and "\n" not in str(error.value)


def test_a_half_trained_experiment_starts_with_a_clear_warning(tmp_path):
    exp = make_experiment(tmp_path, priors=("transformer", "ardm"), step=10, finished_priors=False)
    session = open_session(exp)
    assert any("stopped at step 10 of 50" in note for note in session.notes)
    assert any("prior_ardm has a checkpoint but no bits.json" in note for note in session.notes)
    assert session.priors == []
    update = next(actions.generate(session, GenerateSettings()))
    assert update.error and "train-prior" in update.status


def test_a_finished_experiment_has_no_notes(audio_session):
    assert audio_session.notes == [] and audio_session.priors == ["transformer", "ardm"]


# ------------------------------------------------------------------- uploads
def test_stereo_44k_is_mixed_down_resampled_and_padded(tmp_path):
    path = tmp_path / "stereo.wav"
    sf.write(path, _tone(0.5, 44100, channels=2), 44100)
    upload = load_upload(path, SR, CLIP)
    assert upload.wave.shape == (CLIP,) and upload.wave.dtype == np.float32
    text = "; ".join(upload.notes)
    assert "2 channels mixed down to mono" in text and "resampled 44.1 kHz to 16 kHz" in text
    assert "padded 0.50 s with silence" in text
    assert np.abs(upload.wave[CLIP // 2 + 100:]).max() == 0  # the padding is silence


def test_a_ten_minute_file_is_cropped_to_its_loudest_clip_and_says_so(tmp_path):
    path = tmp_path / "long.wav"
    sr = 8000
    x = 0.01 * np.random.default_rng(0).standard_normal(600 * sr)
    x[300 * sr: 301 * sr] += _tone(1.0, sr)  # the loud second sits at 300 s
    sf.write(path, x.astype(np.float32), sr)
    upload = load_upload(path, SR, CLIP)
    assert upload.wave.shape == (CLIP,)
    note = next(n for n in upload.notes if n.startswith("cropped"))
    assert "cropped 600.0 s to the model's 1 s clip" in note and "from 300.00 s" in note


@pytest.mark.parametrize("make, expected", [
    (lambda p: p.write_text("this is not audio"), "is not an audio file this page can read"),
    (lambda p: p.write_bytes(b""), "is empty (0 bytes)"),
    (lambda p: sf.write(p, np.zeros(SR, np.float32), SR), "cannot be used: silent"),
    (lambda p: anti_phase_stereo(p), "cannot be used: silent"),
    (lambda p: truncated(p), "cannot be used: truncated"),
])
def test_bad_uploads_come_back_as_one_clear_line(tmp_path, audio_session, make, expected):
    path = tmp_path / "upload.wav"
    make(path)
    view = actions.reconstruct(audio_session, path, 4)
    assert view.error and expected in view.message and "\n" not in view.message
    assert view.at_k is None and str(tmp_path) not in view.message  # the page names the file, not our temp path


def test_no_upload_says_what_to_do(audio_session):
    view = actions.reconstruct(audio_session, None, 4)
    assert view.error and "upload a file, record from the microphone, or pick a test clip" in view.message


# ------------------------------------------------------------------ generate
def test_generate_streams_then_ends_with_the_ladder(audio_session):
    updates = list(actions.generate(audio_session, GenerateSettings(budget=6, seed=3, label="tone1")))
    stream, final = updates[:-1], updates[-1]
    assert stream[0].status.startswith("Streaming: 1 of 8 codes")  # streamed updates come first
    assert stream[-1].status.startswith("Streaming: 6 of 8 codes")
    assert all(not u.ladder for u in stream) and len(stream) == 6  # k=6 streams every code
    assert not final.error and len(final.ladder) == 4
    assert [r.codes_used for r in final.ladder] == [1, 2, 4, 8]
    assert [r.network_calls for r in final.ladder] == [1, 2, 4, 8]
    for rung in final.ladder:
        sr, samples = rung.audio
        assert sr == SR and samples.shape == (CLIP,) and samples.dtype == np.int16
        assert rung.picture.ndim == 3 and rung.picture.shape[2] == 3 and rung.milliseconds > 0
    assert final.live.codes_used == 6 and "6 of 8 codes" in final.live.caption


def test_same_seed_same_sample_and_the_stream_matches_the_result(audio_session):
    first = list(actions.generate(audio_session, GenerateSettings(budget=8, seed=5)))
    again = list(actions.generate(audio_session, GenerateSettings(budget=8, seed=5)))
    np.testing.assert_array_equal(first[-1].live.audio[1], again[-1].live.audio[1])
    np.testing.assert_array_equal(first[-2].live.audio[1], first[-1].ladder[-1].audio[1])


def test_ardm_reports_its_network_calls_per_rung(audio_session):
    updates = list(actions.generate(audio_session, GenerateSettings(prior="ardm", budget=8, steps=4,
                                                                   schedule="even")))
    final = updates[-1]
    assert not final.error and final.live.network_calls == 4
    assert [r.network_calls for r in final.ladder] == [1, 1, 2, 4]  # half a call per code, at least one
    assert len(updates) == 1 + len(actions.LADDER)  # one update per finished budget


@pytest.mark.parametrize("settings, expected", [
    (GenerateSettings(prior="ardm", steps=4, schedule="dp"), "train the prior first"),  # random init: no DP tracker
    (GenerateSettings(prior="ardm", deadline="50ms"), "a deadline needs the transformer prior"),
    (GenerateSettings(deadline="soon"), "not a budget"),
    (GenerateSettings(budget=99), "code budget must lie in 1..8"),
    (GenerateSettings(label="tone9"), "unknown label"),
])
def test_bad_generate_settings_give_a_message(audio_session, settings, expected):
    updates = list(actions.generate(audio_session, settings))
    assert len(updates) == 1 and updates[0].error and expected in updates[0].status


def test_a_deadline_is_held_by_the_sampler(audio_session):
    final = list(actions.generate(audio_session, GenerateSettings(deadline="5s", seed=1)))[-1]
    assert not final.error and final.live.title == "Deadline 5s" and final.live.codes_used == 8


# --------------------------------------------------------------- reconstruct
def test_reconstruct_a_test_clip_beside_original_and_ceiling(audio_session):
    items = audio_session.test_items()
    assert items[0] == "0: tone0"
    view = actions.reconstruct_item(audio_session, items[2], 2)
    assert not view.error and "2 of 8 codes" in view.at_k.caption and "8 bits = 1 bytes" in view.at_k.caption
    assert "bytes as a codec file (transformer prior)" in view.at_k.caption
    x, _ = audio_session.test_item(items[2])
    codes = audio_session.exp.autoencoder.encode(audio_session.exp.autoencoder.prepare(x[None]))[0]
    assert actions.compressed_size(audio_session, codes, 2) < actions.compressed_size(audio_session, codes, 8)
    for shown in (view.original, view.at_k, view.ceiling):
        assert shown.audio[1].shape == (CLIP,)


# -------------------------------------------------------------------- images
def test_image_experiments_show_grids(tmp_path):
    session = open_session(make_experiment(tmp_path, "image", priors=("transformer",)))
    final = list(actions.generate(session, GenerateSettings(budget=4)))[-1]
    assert final.live.audio is None and len(final.ladder) == 4
    assert all(r.picture.shape[2] == 3 and r.picture.shape[0] > 64 for r in final.ladder)  # a 4x4 grid
    view = actions.reconstruct_item(session, session.test_items()[0], 4)
    assert not view.error and view.ladder.picture.shape[1] > 4 * view.ladder.picture.shape[0]
    assert actions.reconstruct(session, "x.wav", 4).error


# ------------------------------------------------------------------- results
def test_results_show_the_curve_and_key_figures(tmp_path, audio_exp):
    exp = tmp_path / "evaluated"
    shutil.copytree(audio_exp, exp)
    session = open_session(exp)
    assert "run `anytime-audio evaluate" in actions.results_view(session)[1]
    metrics = {"reconstruction": {"ordered": {"0.25": {"mel_distance": 1.5, "mse": 2.0}, "1.0": {"mel_distance": 0.5}}},
               "generation": {"transformer": {"1.0": {"accuracy": 0.9}}},
               "cost": {"transformer": {"1.0": {"seconds_per_sample": 0.012, "network_calls": 8}}},
               "bits_per_code": {"transformer": 3.25}}
    (exp / "metrics.json").write_text(json.dumps(metrics))
    from PIL import Image

    Image.new("RGB", (40, 30), "white").save(exp / "budget_curve.png")
    picture, text = actions.results_view(session)
    assert picture.shape == (30, 40, 3)
    assert "| budget (fraction of L) | 0.25 | 1.0 |" in text
    assert "| mel_distance (ordered, reconstruction) | 1.5 | 0.5 |" in text
    assert "| mse (ordered, reconstruction) | 2 | n/a |" in text
    assert "| time per sample (transformer, cost) | n/a | 12.0 ms |" in text
    assert "transformer prior: 3.25 bits per code" in text
