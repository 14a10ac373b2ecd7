"""The evaluation samples with the same settings as the ``sample`` command: one mapping from
``sample.*`` to the prior's keyword arguments (top-k / top-p reach the causal prior only)."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from omegaconf import OmegaConf

from anytime_audio import budget_evaluation
from anytime_audio.core.anytime import AnytimeResult
from anytime_audio.generation import SampleSet, sampling_options


def _sample_cfg():
    return OmegaConf.create({"temperature": 0.9, "top_k": 5, "top_p": 0.8})


def test_causal_prior_gets_top_k_and_top_p_ardm_only_temperature():
    assert sampling_options(_sample_cfg(), "transformer") == {"temperature": 0.9, "top_k": 5, "top_p": 0.8}
    assert sampling_options(_sample_cfg(), "ardm") == {"temperature": 0.9}


def test_generation_curve_samples_with_the_configured_top_p(monkeypatch):
    seen = {}

    def fake_generate(sampler, n, budgets, labels, **kwargs):
        seen.update(kwargs)
        result = AnytimeResult(output=torch.zeros(n, 2), codes=torch.zeros(n, 4, dtype=torch.long),
                               budget=budgets[0], codes_used=4, generate_seconds=0.0,
                               decode_seconds=0.0, elapsed_seconds=0.0, network_calls=4)
        return [SampleSet(result=result, labels=labels, batches=1)]

    monkeypatch.setattr(budget_evaluation, "generate", fake_generate)
    cfg = OmegaConf.create({"eval": {"num_generated": 4}, "model": {"family": "image"},
                            "sample": {"temperature": 1.0, "top_k": 0, "top_p": 0.8, "batch_size": 4}})
    sampler = SimpleNamespace(prior=SimpleNamespace(num_classes=2))
    exp = SimpleNamespace(cfg=cfg, num_classes=2, sampler=lambda name, render: sampler)
    budget_evaluation.generation_curve(exp, "transformer", None, None, [1.0])
    assert seen["top_p"] == 0.8 and seen["temperature"] == 1.0
