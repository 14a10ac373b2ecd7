"""The page served on localhost and driven through gradio_client, as another program would use it."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

gradio_client = pytest.importorskip("gradio_client")

SR, CLIP = 16000, 16000
GENERATE = dict(prior_name="transformer", label_choice="tone2", seed_value=7, temp=1.0, topk=0, k=4, calls=4,
                sched="dp", deadline_text="", api_name="/generate")


@pytest.fixture(scope="module")
def client(served, tmp_path_factory):
    return gradio_client.Client(served, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def _audio(path):
    audio, sr = sf.read(path)
    return audio, sr


def test_generate_returns_a_clip_of_the_model_length_at_every_rung(client):
    out = client.predict(**GENERATE)
    status, live_audio, live_picture, live_caption, *rungs = out
    assert status.startswith("Done in") and "4 of 8 codes" in live_caption
    assert len(rungs) == 3 * 4
    for i, codes in enumerate((1, 2, 4, 8)):
        audio_path, picture_path, caption = rungs[3 * i: 3 * i + 3]
        audio, sr = _audio(audio_path)
        assert sr == SR and audio.shape == (CLIP,) and np.abs(audio).max() > 0
        assert picture_path.endswith(".png") and f"{codes} of 8 codes" in caption and "network call" in caption


def test_concurrent_presses_are_queued_and_all_answered(client):
    jobs = [client.submit(**{**GENERATE, "seed_value": seed}) for seed in (1, 2, 3)]
    results = [job.result(timeout=120) for job in jobs]
    assert all(r[0].startswith("Done in") for r in results)
    assert all(_audio(r[-3])[0].shape == (CLIP,) for r in results)


def test_reconstruct_returns_audio_for_a_wav_upload(client, tmp_path):
    path = tmp_path / "my clip.wav"
    t = np.arange(int(0.8 * 44100)) / 44100
    sf.write(path, np.stack([np.sin(2 * np.pi * 330 * t)] * 2, 1) * 0.3, 44100)  # stereo 44.1 kHz
    message, *views = client.predict(gradio_client.handle_file(str(path)), None, 2, api_name="/reconstruct")
    assert "Reconstructed 'my clip.wav' at 2 of 8 codes" in message
    assert "mixed down to mono" in message and "resampled 44.1 kHz to 16 kHz" in message
    for audio_path in (views[0], views[3], views[6]):  # original, at k, vocoder ceiling
        audio, sr = _audio(audio_path)
        assert sr == SR and audio.shape == (CLIP,)


def test_a_bad_upload_returns_the_clear_message_and_the_page_stays_usable(client, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not audio at all")
    message, *views = client.predict(gradio_client.handle_file(str(path)), None, 2, api_name="/reconstruct")
    assert message == ("**Error:** 'notes.txt' is not an audio file this page can read: upload a WAV, FLAC or "
                       "OGG clip")
    assert views[3] is None
    assert client.predict(**GENERATE)[0].startswith("Done in")  # still serving


def test_test_clip_and_results_endpoints(client):
    sr_path = client.predict("1: tone1", api_name="/test_clip")
    audio, sr = _audio(sr_path)
    assert sr == SR and audio.shape == (CLIP,)
    message, *views = client.predict(None, "1: tone1", 8, api_name="/reconstruct")
    assert message == "Reconstructed 'test item 1: tone1' at 8 of 8 codes (1 of L)." and views[3] is not None
    picture, text = client.predict(api_name="/results")
    assert picture is None and "anytime-audio evaluate" in text


def test_the_command_line_refuses_a_missing_experiment_in_one_line(tmp_path, capsys):
    from anytime_audio.cli import main

    assert main(["explore", f"exp_dir={tmp_path / 'missing'}", "port=7999"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("anytime-audio: error: experiment folder") and "\n" not in err
    assert main(["explore", f"exp_dir={tmp_path}", "port=abc"]) == 2


def test_the_command_line_says_how_to_install_gradio(tmp_path, capsys, monkeypatch):
    import importlib.util

    from anytime_audio.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gradio" else real(name, *a))
    assert main(["explore", f"exp_dir={tmp_path}"]) == 1
    assert "pip install -e '.[demo]'" in capsys.readouterr().err
