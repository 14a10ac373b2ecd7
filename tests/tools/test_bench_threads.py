"""tools/bench_threads.py: a configuration runs real training steps in a fresh process with
its wait policy applied, and the report lands in its own section of the markdown file."""

from __future__ import annotations

import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import bench_threads  # noqa: E402


def test_new_default_runs_in_a_fresh_process_with_the_passive_policy():
    args = bench_threads.parse_args(["--tiny", "--steps", "1", "--warmup", "0", "--batch", "2"])
    r = bench_threads.run_config("new default", args, busy=False)
    assert r["wait_policy"] == "PASSIVE"  # set by configure_threads before torch loaded
    assert r["spincount"] in ("0", "n/a")  # GNU OpenMP took it: waiting threads sleep at once
    assert r["threads"] >= 1 and len(r["step_s"]) == len(r["cpu_s"]) == 1 and r["step_s"][0] > 0


def test_report_is_written_to_its_own_section(tmp_path, monkeypatch, capsys):
    fake = {  # old default collapses when busy, new default does not
        "old default": {"idle": 0.05, "busy": 1.0},
        "new default": {"idle": 0.06, "busy": 0.1},
    }

    def run_config(name, args, busy):
        t = fake[name]["busy" if busy else "idle"]
        return {"threads": 2 if name == "old default" else 1, "wait_policy": "default", "spincount": "0",
                "step_s": [t, t, t], "cpu_s": [t, t, t]}

    monkeypatch.setattr(bench_threads, "run_config", run_config)
    out = tmp_path / "BENCH.md"
    out.write_text("# kept\n")
    bench_threads.main(["--configs", "old default", "new default", "--steps", "3", "--write", str(out)])
    text = out.read_text()
    assert text.startswith("# kept\n")
    assert "<!-- bench_threads:begin -->" in text and "<!-- bench_threads:end -->" in text
    assert "| old default | 2 | default | 0 | 50 | 1000 | 20.0x |" in text
    assert "| new default | 1 | default | 0 | 60 | 100 | 1.7x | 60 | 100 | 10.0x |" in text
    assert "Command: `" in text and "load average" in text
