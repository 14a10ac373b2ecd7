"""tools/bench_presets.py: each preset is built as train-ae builds it, its capacity and step
cost are measured, and the table lands in its own section of the markdown file."""

from __future__ import annotations

import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import bench_presets  # noqa: E402


def test_presets_differ_in_capacity_and_cost():
    fast = bench_presets.measure(bench_presets.preset_config("fast", "mel", "tts_digits"), steps=1, profile=False)
    large = bench_presets.measure(bench_presets.preset_config("large", "mel", "tts_digits"), steps=1, profile=False)
    # fast: L = 64 codes of K = 256 in 1 s clips -> 512 bits/s; large has more codes and a bigger codebook
    assert fast["bits_per_second"] == 64 * 8
    assert large["bits_per_second"] > fast["bits_per_second"]
    assert large["params"] > 2 * fast["params"]
    assert fast["step_s"] > 0 and large["steps"] > fast["steps"]


def test_report_is_written_to_its_own_section(tmp_path, monkeypatch):
    def measure(cfg, steps, profile):
        return {"params": 1000, "bits_per_second": 512.0, "L": 64, "K": 256, "hidden": 8, "depth": 1,
                "batch": 2, "steps": int(cfg.train.steps), "step_s": 0.06, "profile": None}

    monkeypatch.setattr(bench_presets, "measure", measure)
    out = tmp_path / "BENCH.md"
    out.write_text("# kept\n")
    bench_presets.main(["--presets", "fast", "default", "--steps", "1", "--write", str(out)])
    text = out.read_text()
    assert text.startswith("# kept\n")
    section = text.split("<!-- bench_presets:begin -->")[1].split("<!-- bench_presets:end -->")[0]
    # 60 ms x 4,000 steps = 4 min; x 30,000 steps = 30 min
    assert "| `fast` |" in section and "4 min" in section and "30 min" in section
