"""tools/bench_vocoder.py on a tiny manifest made here: the section is written, the
rendering from a zero phase improves with iterations, and ours tracks torchaudio's."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import bench_vocoder  # noqa: E402


def _tiny_manifest(folder: Path, sample_rate: int = 8000, n: int = 3) -> Path:
    t = np.arange(int(0.25 * sample_rate)) / sample_rate
    lines = []
    for i in range(n):
        f0 = 150.0 + 50.0 * i
        wave = sum(np.sin(2 * math.pi * h * f0 * t) / h for h in range(1, 6)) * np.hanning(len(t)) / 3
        path = folder / f"clip{i}.wav"
        sf.write(path, wave.astype(np.float32), sample_rate, subtype="PCM_16")
        lines.append(json.dumps({"id": f"clip{i}", "path": path.name, "duration": 0.25,
                                 "sample_rate": sample_rate, "label": i}))
    manifest = folder / "test.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_bench_vocoder_writes_its_section_and_iterations_help(tmp_path, capsys):
    manifest = _tiny_manifest(tmp_path)
    out = tmp_path / "BENCH.md"
    out.write_text("# kept\n")
    bench_vocoder.main(["--manifest", str(manifest), "--num", "3", "--iters", "0", "8", "--repeats", "1",
                        "--sample-rate", "8000", "--clip-seconds", "0.25", "--n-fft", "256",
                        "--hop-length", "64", "--n-mels", "32", "--write", str(out)])
    text = out.read_text()
    assert text.startswith("# kept")
    assert "<!-- bench_vocoder:begin -->" in text and "<!-- bench_vocoder:end -->" in text
    rows = [line.split("|") for line in text.splitlines() if line.startswith("| 0 |") or line.startswith("| 8 |")]
    assert len(rows) == 2
    zero_start = {int(r[1]): float(r[5]) for r in rows}
    assert zero_start[8] < 0.8 * zero_start[0]
    ours, reference = float(rows[1][5]), float(rows[1][7])
    assert abs(ours - reference) < 0.2 * reference
