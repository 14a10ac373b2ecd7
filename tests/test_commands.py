"""Command helpers that do not need a trained model."""

from __future__ import annotations

import logging

from omegaconf import OmegaConf

from anytime_audio.commands import with_saved


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
