"""The experiment layer: saved configuration, render keys, baseline and classifier contracts."""

from __future__ import annotations

import logging

from omegaconf import OmegaConf

from anytime_audio.experiment import with_saved


def _exp_with_saved_config(tmp_path):
    OmegaConf.save(OmegaConf.create({"model": {"hidden": 8, "griffin_lim_iters": 32},
                                     "data": {"name": "saved_set"}}), tmp_path / "config.yaml")
    return OmegaConf.create({"exp_dir": str(tmp_path), "model": {"hidden": 16, "griffin_lim_iters": 4},
                             "data": {"name": "asked_set"}})


def test_saved_model_wins_unless_a_render_key_is_given(tmp_path, caplog):
    cfg = _exp_with_saved_config(tmp_path)
    plain = with_saved(cfg, set())
    assert plain.model.hidden == 8 and plain.model.griffin_lim_iters == 32
    assert plain.data.name == "saved_set"

    with caplog.at_level(logging.WARNING):
        asked = with_saved(cfg, {"model.griffin_lim_iters", "model.hidden", "data.name"})
    assert asked.model.griffin_lim_iters == 4        # rendering may change after training
    assert asked.model.hidden == 8                   # the trained network may not
    assert "model.hidden=16 ignored" in caplog.text
    assert asked.data.name == "asked_set"


def _audio_cfg(n_fft=512, family="mel"):
    return OmegaConf.create({
        "data": {"modality": "audio", "sample_rate": 8000, "name": "toy", "num_classes": 2},
        "model": {"family": family, "n_fft": n_fft, "hop_length": 128, "n_mels": 20},
        "eval": {"classifier": {"log_mel": {"n_fft": 256, "hop_length": 64, "n_mels": 16}}},
    })


def test_classifier_features_come_from_the_model_front_end():
    from anytime_audio.feature_space import feature_config

    mel = feature_config(_audio_cfg(n_fft=512))
    assert mel == {"kind": "log_mel", "sample_rate": 8000, "n_fft": 512, "hop_length": 128, "n_mels": 20}
    wave = feature_config(_audio_cfg(family="wave"))
    assert (wave["n_fft"], wave["hop_length"], wave["n_mels"]) == (256, 64, 16)


def test_a_classifier_from_another_front_end_is_refused(tmp_path):
    import pytest

    from anytime_audio.core.checkpoint import save_checkpoint
    from anytime_audio.feature_space import build_classifier, feature_config, load_classifier

    trained_on = feature_config(_audio_cfg(n_fft=512))
    model = build_classifier(trained_on, 2)
    save_checkpoint(tmp_path / "checkpoint.pt", {"model": model.state_dict(), "num_classes": 2, "features": trained_on})
    loaded, _ = load_classifier(_audio_cfg(n_fft=512), tmp_path, "cpu")
    assert loaded.n_mels == 20
    with pytest.raises(ValueError, match="front-end"):
        load_classifier(_audio_cfg(n_fft=1024), tmp_path, "cpu")


def test_the_baseline_is_only_what_eval_baseline_dir_names(tmp_path):
    from anytime_audio.experiment import Experiment

    def make(folder, baseline):
        folder.mkdir()
        saved = {"model": {"family": "mel", "griffin_lim_iters": 8}, "data": {"name": "toy", "modality": "audio"}}
        OmegaConf.save(OmegaConf.create(saved), folder / "config.yaml")
        (folder / "checkpoint.pt").write_bytes(b"")
        return OmegaConf.create({"exp_dir": str(folder), "device": "cpu", "model": {}, "data": {},
                                 "eval": {"baseline_dir": baseline}})

    ordered, sibling = tmp_path / "ordered", tmp_path / "unordered"
    make(sibling, None)
    assert Experiment(make(ordered, None)).baseline() is None  # a sibling folder is not guessed
    named = Experiment(OmegaConf.merge(OmegaConf.load(ordered / "config.yaml"),
                                       {"exp_dir": str(ordered), "device": "cpu",
                                        "eval": {"baseline_dir": str(sibling)}}))
    assert named.baseline().dir == sibling


def test_a_data_key_override_keeps_the_rest_of_the_saved_data_section(tmp_path):
    OmegaConf.save(OmegaConf.create({"model": {"hidden": 8},
                                     "data": {"name": "saved_set", "manifest_dir": "saved/dir"}}),
                   tmp_path / "config.yaml")
    cfg = OmegaConf.create({"exp_dir": str(tmp_path), "model": {"hidden": 8},
                            "data": {"name": "default_set", "manifest_dir": "default/dir", "max_items": 3}})
    merged = with_saved(cfg, {"data.max_items"})
    assert merged.data.manifest_dir == "saved/dir" and merged.data.max_items == 3
    assert with_saved(cfg, {"data"}).data.name == "default_set"  # data=<group>: another data set
