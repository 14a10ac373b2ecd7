"""tools/bench_sampling.py on tiny settings: same tokens both ways, sane fits, section-only writes."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import torch

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import bench_common  # noqa: E402
import bench_sampling  # noqa: E402

TINY = [
    "prior.d_model=32", "prior.n_layers=1", "prior.n_heads=2", "prior.dropout=0.0",
    "model.num_codes=16", "model.n_mels=16", "model.n_fft=128", "model.hop_length=64",
    "model.hidden=8", "model.depth=1", "model.code_channels=16", "model.griffin_lim_iters=2",
    "data.clip_seconds=0.25", "data.sample_rate=8000",
]


def tiny_prior(length: int = 16):
    prior_cfg, model_cfg, data_cfg = bench_sampling.load_configs(TINY)
    return bench_sampling.make_prior(prior_cfg, int(model_cfg.num_codes), length, int(data_cfg.num_classes), "cpu", seed=0)


def test_cached_and_full_paths_draw_the_same_tokens_and_logits():
    prior = tiny_prior(16)
    labels = bench_sampling.make_labels(prior, 3, "cpu")
    _, steps, cached = bench_sampling.timed_generate(prior, 3, labels, "cpu", seed=7, use_cache=True)
    _, _, full = bench_sampling.timed_generate(prior, 3, labels, "cpu", seed=7, use_cache=False)
    assert cached.shape == (3, 16) and len(steps) == 16
    assert torch.equal(cached, full)
    assert bench_sampling.max_logit_difference(prior, cached, labels) < 1e-4


def test_cache_vs_full_benchmark_runs_and_checks_tokens():
    prior = tiny_prior(16)
    r = bench_sampling.bench_cache_vs_full(prior, 2, repeats=1, num_positions=4, direct=True, device="cpu")
    assert r.tokens_match is True
    assert r.positions[0] == 0 and r.positions[-1] == 15
    assert r.cached_seconds > 0 and r.full_seconds > 0 and r.speedup > 0
    assert len(r.full_step_seconds) == len(r.positions) == len(r.cached_step_seconds)


def test_extrapolation_sums_every_position():
    # constant per-step cost c over L positions sums to L * c; a linear cost to its arithmetic series
    assert bench_sampling.extrapolate([0, 9], [0.5, 0.5], 10) == pytest.approx(5.0)
    assert bench_sampling.extrapolate([0, 4, 9], [0.0, 4.0, 9.0], 10) == pytest.approx(45.0)
    assert bench_sampling.sample_positions(512, 8)[0] == 0 and bench_sampling.sample_positions(512, 8)[-1] == 511


def test_linear_fit_r2_lies_in_unit_interval():
    slope, intercept, r2 = bench_common.linear_fit([1, 2, 3, 4], [3, 5, 7, 9])
    assert slope == pytest.approx(2.0) and intercept == pytest.approx(1.0) and r2 == pytest.approx(1.0)
    rng = random.Random(0)
    xs = list(range(20))
    for noise in (0.1, 10.0, 1000.0):
        _, _, r2 = bench_common.linear_fit(xs, [0.3 * x + rng.gauss(0, noise) for x in xs])
        assert 0.0 <= r2 <= 1.0
    assert bench_common.linear_fit([1, 2, 3], [2, 2, 2])[2] == 1.0
    with pytest.raises(ValueError):
        bench_common.linear_fit([1, 1], [1, 2])


def test_markdown_writer_replaces_only_its_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    bench_common.update_markdown_section(path, "bench_sampling", "first body")
    text = path.read_text()
    assert text.startswith("# Benchmarks") and "first body" in text
    other = "<!-- other_tool:begin -->\nkeep me\n<!-- other_tool:end -->\n"
    path.write_text(text + "\nhand-written notes\n\n" + other)
    bench_common.update_markdown_section(path, "bench_sampling", "second body")
    text = path.read_text()
    assert "second body" in text and "first body" not in text
    assert "keep me" in text and "hand-written notes" in text and text.count("<!-- bench_sampling:begin -->") == 1
    assert not list(tmp_path.glob("*.tmp-*"))


def test_main_quick_end_to_end_writes_its_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n<!-- other_tool:begin -->\nother numbers\n<!-- other_tool:end -->\n")
    out = bench_sampling.main(["--device", "cpu", "--quick", "--lengths", "16", "--batch", "2",
                               "--override", *TINY, "--write", str(path)])
    part2 = out["part2"]
    assert 0.0 <= part2.fit_total[2] <= 1.0 and 0.0 <= part2.fit_prior[2] <= 1.0
    assert part2.ks[0] == 1 and part2.ks[-1] == 16 and 4 in part2.ks
    assert [t.budget for t in out["part3"]] == list(bench_sampling.DECODE_BUDGETS)
    assert [t.k for t in out["part3"]] == [2, 4, 8, 16]
    assert out["part1"][0].tokens_match is True
    text = path.read_text()
    assert "other numbers" in text
    assert "<!-- bench_sampling:begin -->" in text and "<!-- bench_sampling:end -->" in text
    assert "Command: `" in text and "load average" in text and "speed-up" in text
