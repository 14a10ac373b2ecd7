#!/usr/bin/env python
"""Cost and quality of the mel vocoder (Griffin-Lim) against its iteration count.

Usage:
    python tools/bench_vocoder.py [--manifest recipes/tts_digits/data/tts_digits/test.jsonl]
        [--num 32] [--iters 0 2 4 8 16 32] [--threads 1] [--write BENCHMARKS.md]

The vocoder renders a whole clip whatever the code budget, so its time is the
fixed intercept of anytime sampling (see ``tools/bench_sampling.py``).  For
real clips of a prepared corpus this tool takes the true log-mel (the
autoencoder's target), renders it with ``MelToWave`` at each iteration count,
and reports, side by side with torchaudio's ``GriffinLim`` as the reference
implementation:

* seconds per batch of ``--num`` clips (best of ``--repeats``);
* log-mel L1 after re-analysis: how far the rendered audio's log-mel is from
  the one asked for (the vocoder's own error; the autoencoder's is added on
  top when rendering decoded codes);
* STOI against the original recording (intelligibility of the rendering).

``--write FILE`` replaces the ``bench_vocoder`` section of FILE.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch
import torchaudio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (  # noqa: E402
    command_line, load_average, machine_info, markdown_table, update_markdown_section)

from anytime_audio.audio.datasets import ClipDataset  # noqa: E402
from anytime_audio.audio.features import LogMel, MelToWave  # noqa: E402
from anytime_audio.audio.metrics import stoi  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = REPO / "recipes/tts_digits/data/tts_digits/test.jsonl"


def best_time(fn, repeats: int) -> tuple[float, torch.Tensor]:
    out = fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def evaluate(render, target: torch.Tensor, wave: torch.Tensor, logmel: LogMel, sample_rate: int,
             repeats: int) -> dict:
    seconds, rendered = best_time(lambda: render(target), repeats)
    rendered = rendered[..., : wave.shape[-1]]
    if rendered.shape[-1] < wave.shape[-1]:
        rendered = torch.nn.functional.pad(rendered, (0, wave.shape[-1] - rendered.shape[-1]))
    with warnings.catch_warnings():  # pystoi warns on clips with little speech
        warnings.simplefilter("ignore")
        intelligibility = stoi(wave, rendered, sample_rate).mean().item()
    return {"seconds": seconds, "logmel_l1": (logmel(rendered) - target).abs().mean().item(),
            "stoi": intelligibility}


def torchaudio_reference(logmel: LogMel, vocoder: MelToWave, n_iter: int):
    """Same pseudo-inverse, torchaudio's GriffinLim (momentum 0.99, zero initial phase)."""
    griffin_lim = torchaudio.transforms.GriffinLim(n_fft=logmel.n_fft, hop_length=logmel.hop_length,
                                                   power=1.0, n_iter=n_iter, rand_init=False)

    return lambda log_mel: griffin_lim(vocoder.linear_magnitude(log_mel))


def run(args) -> str:
    torch.set_num_threads(args.threads)
    load_at_start = load_average()
    data = ClipDataset(args.manifest, sample_rate=args.sample_rate, clip_seconds=args.clip_seconds,
                       max_items=args.num, progress=False)
    wave = torch.stack([torch.as_tensor(data[i][0]) for i in range(len(data))])
    logmel = LogMel(sample_rate=args.sample_rate, n_fft=args.n_fft, hop_length=args.hop_length, n_mels=args.n_mels)
    target = logmel(wave)
    rows = []
    for n_iter in args.iters:
        vocoder = MelToWave(logmel, n_iter=n_iter, num_samples=wave.shape[-1])
        ours = evaluate(vocoder, target, wave, logmel, args.sample_rate, args.repeats)
        zero = MelToWave(logmel, n_iter=n_iter, num_samples=wave.shape[-1])
        zero.griffin_lim.init = "zero"
        ours_zero = evaluate(zero, target, wave, logmel, args.sample_rate, args.repeats)
        ref = evaluate(torchaudio_reference(logmel, vocoder, n_iter), target, wave, logmel,
                       args.sample_rate, args.repeats) if n_iter > 0 else None
        rows.append((n_iter, ours, ours_zero, ref))
        msg = f"n_iter {n_iter:3d}: fast {ours['seconds'] * 1e3:7.1f} ms L1 {ours['logmel_l1']:.3f} STOI {ours['stoi']:.3f}"
        if ref:
            msg += f" | torchaudio {ref['seconds'] * 1e3:7.1f} ms L1 {ref['logmel_l1']:.3f} STOI {ref['stoi']:.3f}"
        print(msg, flush=True)
    return report(args, rows, len(data), load_at_start)


def report(args, rows, num_clips: int, load_at_start: str) -> str:
    info = machine_info("cpu")
    info["threads"] = f"{args.threads} intra-op"
    info["load average (1, 5, 15 min) at start"] = load_at_start
    info["load average (1, 5, 15 min) at end"] = load_average()
    table = markdown_table(["", ""], list(info.items()))

    def fmt(r, key, scale=1.0, digits=3):
        return "-" if r is None else f"{r[key] * scale:.{digits}f}"
    body = markdown_table(
        ["iterations", "fast ms", "fast log-mel L1", "fast STOI", "zero-phase start L1",
         "torchaudio ms", "torchaudio log-mel L1", "torchaudio STOI"],
        [(n, fmt(o, "seconds", 1e3, 0), fmt(o, "logmel_l1"), fmt(o, "stoi"), fmt(z, "logmel_l1"),
          fmt(r, "seconds", 1e3, 0), fmt(r, "logmel_l1"), fmt(r, "stoi")) for n, o, z, r in rows])
    return "\n".join([
        "## Mel vocoder: Griffin-Lim iterations, cost and quality (`tools/bench_vocoder.py`)",
        "",
        f"Command: `{command_line(__file__, args.argv)}`",
        "",
        table,
        "",
        f"{num_clips} clips of `{Path(args.manifest).relative_to(REPO) if Path(args.manifest).is_relative_to(REPO) else args.manifest}`, "
        f"rendered from their true log-mel (n_fft {args.n_fft}, hop {args.hop_length}, {args.n_mels} mels). "
        "ms: best of the repeats for the whole batch. Log-mel L1: mean |log-mel(rendered) - log-mel asked for| "
        "(natural log). STOI: against the original recording. 'fast' is `MelToWave` "
        "(`anytime_audio/audio/griffin_lim.py`, linear-phase start); 'zero-phase start' is the same code "
        "started from zero phase as torchaudio is.",
        "",
        body,
    ])


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", default=str(DEFAULT_MANIFEST), help="JSONL manifest of real clips")
    ap.add_argument("--num", type=int, default=32, help="clips rendered as one batch")
    ap.add_argument("--iters", type=int, nargs="+", default=[0, 2, 4, 8, 16, 32])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sample-rate", type=int, default=16000)
    ap.add_argument("--clip-seconds", type=float, default=1.0)
    ap.add_argument("--n-fft", type=int, default=1024)
    ap.add_argument("--hop-length", type=int, default=256)
    ap.add_argument("--n-mels", type=int, default=80)
    ap.add_argument("--write", default=None, help="markdown file whose bench_vocoder section is replaced")
    args = ap.parse_args(argv)
    args.argv = argv
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if not Path(args.manifest).is_file():
        raise SystemExit(f"manifest not found: {args.manifest} (prepare a corpus first, e.g. recipes/tts_digits/run.sh --stop-stage 1)")
    text = run(args)
    print()
    print(text)
    if args.write:
        update_markdown_section(args.write, "bench_vocoder", text)


if __name__ == "__main__":
    main()
