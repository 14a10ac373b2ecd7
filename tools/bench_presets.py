#!/usr/bin/env python
"""What each experiment preset costs before you train it: parameters, bits per
second of audio, milliseconds per training step, and the training time that follows.

Usage:
    python tools/bench_presets.py [--presets fast default large] [--model mel] [--data tts_digits]
        [--threads 1] [--steps 20] [--profile] [--write BENCHMARKS.md]

For each preset (``configs/experiment/<name>.yaml``) the autoencoder is built
exactly as ``train-ae`` builds it, fed random clips of the data config's
length at the preset's batch size, and timed over ``--steps`` full training
steps (truncated forward, loss, backward, Adam update) after two warm-up
steps; the median step is reported with the preset's step count, so the last
column is the autoencoder's training time on this machine (the unordered
twin costs the same again). Bits per second are the code budget at full
codes, ``L * log2(K) / clip seconds``: the most information the decoder can
receive. ``--profile`` prints ``torch.profiler``'s top operators for one step
of each preset (where the time goes, for choosing layer types and widths).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import command_line, machine_info, markdown_table, median, update_markdown_section  # noqa: E402

from anytime_audio.builders import build_autoencoder, num_samples  # noqa: E402
from anytime_audio.options import compose  # noqa: E402


def preset_config(preset: str, model: str, data: str):
    return compose([f"model={model}", f"data={data}", f"+experiment={preset}"])


def measure(cfg, steps: int, profile: bool) -> dict:
    """Parameters, bits/s and the median seconds of one training step for ``cfg``."""
    torch.manual_seed(0)
    ae = build_autoencoder(cfg.model, cfg.data)
    params = sum(p.numel() for p in ae.parameters())
    batch = int(cfg.train.batch_size)
    raw = 0.1 * torch.randn(batch, num_samples(cfg.data))
    opt = torch.optim.Adam(ae.parameters(), lr=float(cfg.train.lr))
    generator = torch.Generator().manual_seed(0)

    def step(i: int) -> None:
        loss, _ = ae.training_loss(raw, step=i, generator=generator)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(2):
        step(i)
    times = []
    for i in range(steps):
        start = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - start)
    table = None
    if profile:
        from torch.profiler import ProfilerActivity, profile as torch_profile
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            step(0)
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8)
    seconds = float(cfg.data.clip_seconds)
    return {
        "params": params,
        "bits_per_second": ae.code_length * math.log2(ae.num_codes) / seconds,
        "L": ae.code_length, "K": ae.num_codes,
        "hidden": int(cfg.model.hidden), "depth": int(cfg.model.depth),
        "batch": batch, "steps": int(cfg.train.steps),
        "step_s": median(times), "profile": table,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["fast", "default", "large"])
    parser.add_argument("--model", default="mel")
    parser.add_argument("--data", default="tts_digits")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per preset")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's top operators")
    parser.add_argument("--write", help="markdown file whose bench_presets section is rewritten")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    rows = []
    for preset in args.presets:
        r = measure(preset_config(preset, args.model, args.data), args.steps, args.profile)
        hours = r["step_s"] * r["steps"] / 3600
        rows.append([f"`{preset}`", r["L"], r["K"], r["hidden"], r["depth"], f"{r['params'] / 1e6:.2f}M",
                     f"{r['bits_per_second']:,.0f}", r["batch"], f"{r['step_s'] * 1e3:.0f}",
                     f"{r['steps']:,}", f"{hours * 60:.0f} min"])
        print(f"{preset}: {rows[-1]}", flush=True)
        if r["profile"]:
            print(r["profile"], flush=True)
    headers = ["preset", "L", "K", "width", "depth", "parameters", "bits/s at most", "batch",
               "ms / step", "steps", "autoencoder training"]
    info = machine_info("cpu")
    body = "\n".join([
        f"## Presets: what a model costs before it is trained ({args.model}, {args.data})", "",
        "```bash", command_line(__file__, sys.argv[1:] if argv is None else argv), "```", "",
        markdown_table(headers, rows), "",
        f"Median of {args.steps} training steps on random clips after two warm-up steps, "
        f"{args.threads} torch thread(s); training time = ms/step x the preset's steps (each of the "
        "ordered model and its unordered twin).", "",
        *[f"- {k}: {v}" for k, v in info.items()],
    ])
    print(body)
    if args.write:
        update_markdown_section(args.write, "bench_presets", body)


if __name__ == "__main__":
    main()
