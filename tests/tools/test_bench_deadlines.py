"""tools/bench_deadlines.py on tiny settings: every case measured, stats sane, section-only writes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import bench_deadlines  # noqa: E402

TINY = [
    "prior.d_model=32", "prior.n_layers=1", "prior.n_heads=2", "prior.dropout=0.0",
    "model.num_codes=16", "model.n_mels=16", "model.n_fft=128", "model.hop_length=64",
    "model.hidden=8", "model.depth=1", "model.code_channels=16", "model.griffin_lim_iters=2",
    "data.clip_seconds=0.25", "data.sample_rate=8000",
]


def test_relative_deadlines_scale_the_minimum_cost():
    assert bench_deadlines.deadline_text("2x", 0.0035) == "7.0ms"
    assert bench_deadlines.deadline_text("2x", 0.01097) == "22.0ms"  # rounded up: never below 2x
    assert bench_deadlines.deadline_text("50ms", 0.0035) == "50ms"


def test_case_statistics():
    case = bench_deadlines.Case("", ["10ms"], 0.010, overshoot=[-0.001, 0.0005, 0.003, -0.002],
                                codes=[3, 4, 5, 4], infeasible=[False, False, True, False])
    assert case.share_over() == 0.5 and case.share_over(0.002) == 0.25
    assert case.share_infeasible == 0.25 and case.mean_codes == 4.0
    assert case.percentile(100) == pytest.approx(0.003)


def test_mixed_must_start_with_a_deadline():
    with pytest.raises(SystemExit):
        bench_deadlines.parse_args(["--mixed", "0.25,50ms"])


def test_main_tiny_end_to_end_writes_its_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n<!-- other_tool:begin -->\nother numbers\n<!-- other_tool:end -->\n")
    out = bench_deadlines.main(["--calls", "3", "--min-calls", "2", "--deadlines", "1ms,2x,50ms",
                                "--mixed", "50ms,0.25", "--override", *TINY, "--write", str(path)])
    cases = out["cases"]
    assert [c.budgets for c in cases][-2:] == [["50ms", "0.25"], ["1"]]
    assert cases[-1].control and cases[-1].deadline == pytest.approx(2 * out["minimum"])
    assert all(code == 1 for code in cases[-1].codes)
    assert all(len(c.overshoot) == len(c.codes) == 3 for c in cases)
    assert all(1 <= code <= 16 for c in cases for code in c.codes)
    assert all(code == 1 for c in cases for code, flag in zip(c.codes, c.infeasible) if flag)
    assert out["minimum"] > 0 and len(out["cold"].overshoot) == 1
    text = path.read_text()
    assert "other numbers" in text and text.count("<!-- bench_deadlines:begin -->") == 1
    assert "Command: `" in text and "load average" in text and "p99 ms" in text and "Target:" in text and "Floor" in text
