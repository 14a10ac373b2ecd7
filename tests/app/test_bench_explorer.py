"""tools/bench_explorer.py on the tiny experiment: it times both moments and writes its section."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))


def test_bench_explorer_times_first_audible_and_ladder(audio_exp, tmp_path):
    import bench_explorer

    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- other:begin -->\nkept\n<!-- other:end -->\n")
    r = bench_explorer.main(["--exp-dir", str(audio_exp), "--repeats", "1", "--write", str(out)])
    for first, last in [r["cold"], *r["served"], *r["direct"]]:
        assert 0 < first <= last
    text = out.read_text()
    assert "<!-- bench_explorer:begin -->" in text and "kept" in text
    assert "| first audible | full ladder |" in text and "budget k = 8" in text
