#!/usr/bin/env python
"""Training-step time idle and beside one busy process: old thread defaults against new.

Usage:
    python tools/bench_threads.py [--steps 20] [--warmup 3] [--batch 16] [--write BENCHMARKS.md]

On a shared machine the default ``num_threads: 0`` used to mean torch's own
thread count with OpenMP's default (spinning) wait policy, and a training step
collapsed as soon as one other CPU-bound process ran (issue 9: 20x slower on 2
cores). This tool measures one training step of the default mel autoencoder
(``configs/model/mel.yaml`` on ``configs/data/tts_digits.yaml``: random audio,
AdamW, batch ``--batch``), for each thread configuration below, once on the
machine as it is ("idle") and once while ONE extra Python process spins on a
core ("busy"). Each configuration runs in a fresh subprocess, because OpenMP
reads ``OMP_WAIT_POLICY`` only when torch loads it; the inherited
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OMP_WAIT_POLICY`` and
``GOMP_SPINCOUNT`` are removed first so every configuration starts from
torch's defaults.

Configurations:

* **old default**: torch's default thread count, OpenMP's default wait policy
  (what ``num_threads: 0`` did before);
* **new default**: ``anytime_audio.core.device.configure_threads(0)`` called
  before torch is imported, exactly as ``anytime-audio`` does;
* **torch threads, passive wait**: torch's thread count with
  ``OMP_WAIT_POLICY=PASSIVE`` (separates the two halves of the new default);
* **1 thread, default wait**: ``torch.set_num_threads(1)`` only.

Reported per configuration: the median seconds per step (idle, busy), busy/idle,
CPU seconds the process used per step (threads spinning while they wait show
up here), and the spin count GNU OpenMP adopted (``OMP_DISPLAY_ENV=VERBOSE``:
0 proves the passive policy reached OpenMP before torch loaded it). ``--write FILE``
replaces the ``bench_threads`` section of FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[1]

#: name -> (environment additions, how threads are set: "torch", "configure", or a count)
CONFIGS: dict[str, tuple[dict[str, str], str | int]] = {
    "old default": ({}, "torch"),
    "new default": ({}, "configure"),
    "torch threads, passive wait": ({"OMP_WAIT_POLICY": "PASSIVE"}, "torch"),
    "1 thread, default wait": ({}, 1),
}
CLEARED_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
SPINNER = "while True:\n    pass\n"


# ---------------------------------------------------------------------- worker
def worker(threads: str, steps: int, warmup: int, batch: int, tiny: bool) -> dict:
    """Time ``steps`` training steps in this (fresh) process; torch is imported here, after the policy is set."""
    if threads == "configure":
        from anytime_audio.core.device import configure_threads

        configure_threads(0)
    import torch
    from omegaconf import OmegaConf

    from anytime_audio.builders import build_autoencoder

    if threads not in ("configure", "torch"):
        torch.set_num_threads(int(threads))
    model_cfg = OmegaConf.load(REPO / "configs/model/mel.yaml")
    data_cfg = OmegaConf.load(REPO / "configs/data/tts_digits.yaml")
    if tiny:  # for the tests: a model that steps in milliseconds
        model_cfg.update(hidden=8, depth=1, n_mels=16, n_fft=128, hop_length=64, code_channels=4, num_codes=8)
        data_cfg.clip_seconds = 0.1
    torch.manual_seed(0)
    model = build_autoencoder(model_cfg, data_cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    samples = int(round(float(data_cfg.clip_seconds) * int(data_cfg.sample_rate)))
    wave = 0.1 * torch.randn(batch, samples)
    labels = torch.zeros(batch, dtype=torch.long)

    def step(i: int) -> None:
        loss, _ = model.training_loss((wave, labels), step=i)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for i in range(warmup):
        step(i)
    wall, cpu = [], []
    for i in range(steps):
        w0, c0 = time.perf_counter(), time.process_time()
        step(warmup + i)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {"threads": torch.get_num_threads(), "wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
            "step_s": wall, "cpu_s": cpu}


def run_config(name: str, args, busy: bool) -> dict:
    """One configuration in a fresh subprocess, with or without one spinning competitor."""
    extra_env, threads = CONFIGS[name]
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env.update(extra_env)
    env["OMP_DISPLAY_ENV"] = "VERBOSE"  # libgomp prints the spin count it adopted: proof the policy took effect
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    cmd = [sys.executable, __file__, "--worker", str(threads), "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--batch", str(args.batch)] + (["--tiny"] if args.tiny else [])
    spinner = subprocess.Popen([sys.executable, "-c", SPINNER]) if busy else None
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    if out.returncode != 0:
        raise RuntimeError(f"worker for {name!r} failed: {out.stderr.strip().splitlines()[-1:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    spin = re.search(r"GOMP_SPINCOUNT = '(\d+)'", out.stderr)
    result["spincount"] = spin.group(1) if spin else "n/a"  # n/a: not GNU OpenMP
    return result


# ---------------------------------------------------------------------- driver
def run(args) -> tuple[str, dict]:
    from bench_common import load_average

    load_at_start = load_average()
    results: dict[str, dict[str, dict]] = {}
    for name in args.configs:
        results[name] = {}
        for busy in (False, True):
            r = run_config(name, args, busy)
            results[name]["busy" if busy else "idle"] = r
            print(f"{name:<28} {'busy' if busy else 'idle'}: {r['threads']} threads, wait {r['wait_policy']}, "
                  f"spin {r['spincount']}, "
                  f"median {statistics.median(r['step_s']) * 1e3:8.1f} ms/step, "
                  f"CPU {statistics.median(r['cpu_s']) * 1e3:8.1f} ms/step", flush=True)
    return report(args, results, load_at_start), results


def report(args, results: dict, load_at_start: str) -> str:
    from bench_common import command_line, load_average, machine_info, markdown_table

    info = machine_info("cpu")
    info["threads"] = "per configuration, see the table"
    info["load average (1, 5, 15 min) at start"] = load_at_start
    info["load average (1, 5, 15 min) at end"] = load_average()
    med = lambda xs: statistics.median(xs)  # noqa: E731
    rows = []
    old = results.get("old default")
    for name, r in results.items():
        idle, busy = med(r["idle"]["step_s"]), med(r["busy"]["step_s"])
        vs_old = "-" if old is None or name == "old default" else f"{med(old['busy']['step_s']) / busy:.1f}x"
        rows.append((name, r["idle"]["threads"], r["idle"]["wait_policy"], r["idle"]["spincount"],
                     f"{idle * 1e3:.0f}", f"{busy * 1e3:.0f}",
                     f"{busy / idle:.1f}x", f"{med(r['idle']['cpu_s']) * 1e3:.0f}",
                     f"{med(r['busy']['cpu_s']) * 1e3:.0f}", vs_old))
    body = markdown_table(
        ["configuration", "threads", "OMP_WAIT_POLICY", "OpenMP spin count", "idle ms/step", "busy ms/step", "busy / idle",
         "idle CPU ms/step", "busy CPU ms/step", "busy speed-up over old default"], rows)
    size = "tiny test model" if args.tiny else "default mel autoencoder (configs/model/mel.yaml, 1 s clips)"
    return "\n".join([
        "## CPU threads on a shared machine (`tools/bench_threads.py`)",
        "",
        f"Command: `{command_line(__file__, args.argv)}`",
        "",
        markdown_table(["", ""], list(info.items())),
        "",
        f"One training step (forward, backward, AdamW) of the {size}, batch {args.batch}, random audio; "
        f"median of {args.steps} steps after {args.warmup} warm-up steps, each configuration in a fresh process. "
        "'busy': while one extra Python process spins on a core. CPU ms: process CPU time per step (threads "
        "that spin while waiting raise it above the wall time). OpenMP spin count: `GOMP_SPINCOUNT` as "
        "libgomp reports it (`OMP_DISPLAY_ENV=VERBOSE`): 0 means waiting threads sleep, so the wait policy "
        "took effect. 'new default' is `num_threads: 0` now: "
        "`configure_threads(0)` in `anytime_audio/core/device.py` (OMP_WAIT_POLICY=PASSIVE, one core left free).",
        "",
        body,
    ])


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20, help="timed steps per run")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS), metavar="NAME",
                    help=f"subset of {list(CONFIGS)}")
    ap.add_argument("--tiny", action="store_true", help="a tiny model (for tests)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per worker process")
    ap.add_argument("--write", default=None, help="markdown file whose bench_threads section is replaced")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.argv = argv
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.steps, args.warmup, args.batch, args.tiny)))
        return
    text, _ = run(args)
    print()
    print(text)
    if args.write:
        from bench_common import update_markdown_section

        update_markdown_section(args.write, "bench_threads", text)


if __name__ == "__main__":
    main()
