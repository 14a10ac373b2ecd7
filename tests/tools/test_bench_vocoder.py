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


def test_bench_vocoder_ceiling_and_cost_parts(tmp_path):
    """The ceiling section scores every vocoder against the recording; the cost section has every RTF."""
    from anytime_audio.audio.features import LogMel
    from anytime_audio.audio.vocoders import frontend_spec
    from anytime_audio.audio.vocoders.fast import FastVocoder, FastVocoderConfig, save_fast_vocoder

    sr = 16000
    t = np.arange(sr) / sr
    lines = []
    for i in range(2):
        wave = 0.3 * np.sin(2 * math.pi * (200 + 100 * i) * t) * np.hanning(sr) + 0.01 * np.random.default_rng(i).standard_normal(sr)
        sf.write(tmp_path / f"c{i}.wav", wave.astype(np.float32), sr, subtype="PCM_16")
        lines.append(json.dumps({"id": f"c{i}", "path": f"c{i}.wav", "duration": 1.0, "sample_rate": sr, "label": i}))
    (tmp_path / "test.jsonl").write_text("\n".join(lines) + "\n")
    spec = frontend_spec(LogMel(sr, 512, 128, 40))
    save_fast_vocoder(FastVocoder(FastVocoderConfig(dim=8, intermediate=16, layers=1, n_fft=512, frontend=spec)),
                      tmp_path / "voc")
    common = ["--manifest", str(tmp_path / "test.jsonl"), "--num", "2", "--sample-rate", str(sr), "--n-fft", "512",
              "--hop-length", "128", "--n-mels", "40", "--vocoders", "griffin_lim:2", str(tmp_path / "voc")]
    out = tmp_path / "OUT.md"
    bench_vocoder.main(["--part", "ceiling", "--no-judge", "--write", str(out), *common])
    rows = {line.split("|")[1].strip(): line.split("|") for line in out.read_text().splitlines() if line.startswith("| ")}
    assert float(rows["the recording itself"][2]) > 4.0          # PESQ of a clip against itself
    assert float(rows["Griffin-Lim, 2 iterations"][4]) > 0.0      # log-mel L1 after re-analysis
    assert any(name.startswith("fast vocoder `") for name in rows)
    bench_vocoder.main(["--part", "cost", "--repeats", "1", "--batches", "1", "2", "--thread-counts", "1",
                        "--write", str(out), *common])
    text = out.read_text()
    assert "<!-- vocoder_ceiling:begin -->" in text and "<!-- bench_vocoder_cost:begin -->" in text
    cost = [line.split("|")[2:4] for line in text.split("bench_vocoder_cost:begin")[1].splitlines()
            if line.startswith("| Griffin") or line.startswith("| fast")]
    assert len(cost) == 2 and all(float(v) > 0 for row in cost for v in row)
