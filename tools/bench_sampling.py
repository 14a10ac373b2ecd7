#!/usr/bin/env python
"""Benchmark anytime sampling: KV cache vs full recompute, cost vs budget, decode RTF.

Usage:
    .venv/bin/python tools/bench_sampling.py [--device auto|cpu|cuda] [--lengths 64,128,256,512]
        [--batch 16] [--threads N] [--repeats R] [--positions P] [--direct-max 64]
        [--quick] [--write BENCHMARKS.md] [--override prior.d_model=32 ...]

All models are randomly initialised (timing does not depend on the weights) and
built from the configs the package uses: ``configs/prior/transformer.yaml`` for
the prior, ``configs/model/mel.yaml`` + ``configs/data/tts_digits.yaml`` for the
mel autoencoder and its Griffin-Lim renderer. No data is read.

What is measured
----------------
1. **KV cache vs full recompute** (``CodePrior.generate(use_cache=True/False)``),
   a prior with ``L`` positions, batch ``--batch``, class-conditional like the
   real model. *Cached*: the whole ``generate`` loop over all ``L`` positions,
   timed end to end (``--repeats`` passes with the same seed).
   *Full*: one step of the uncached branch of ``generate`` -- ``logits_full`` on
   the prefix, filtering, softmax, ``multinomial``, concatenation -- is timed at
   ``--positions`` prefix lengths spread evenly over ``0..L-1`` (once per repeat,
   prefixes taken from the cached pass). The full-generation time is the
   sum over all ``L`` positions of these per-step costs, linearly interpolated
   between the sampled positions (the cost of one full step grows smoothly with
   the prefix length). For ``L <= --direct-max`` the full path is also run end to
   end once, to check the extrapolation and that both paths draw the same tokens
   for the same seed. Cached and full measurements alternate within each repeat,
   so background load affects both alike and their ratio stays meaningful.
   Tokens per second count every code of the batch (``batch * L / seconds``).
2. **Cost vs budget** on the default mel model (``L`` = ``code_channels``):
   ``AnytimeSampler.sample(n, [k])`` with the prior above and ``Renderer``
   (decoder + Griffin-Lim) as its decode, for a grid of ``k``; wall time of the
   whole call, the prior's share and the render's share.
   A least-squares line of wall time against ``k`` (fitted to the per-``k``
   summaries) with its R^2, and the end-to-end cost of budget 1/4 relative to the
   full budget (target <= 0.35).
3. **Decode time and real-time factor** per budget (1/8, 1/4, 1/2, 1): the
   autoencoder's decoder alone and decoder + Griffin-Lim (``Renderer``), on a
   batch of random codes; RTF = seconds of compute / seconds of audio produced
   (``batch * clip_seconds``). The end-to-end RTF adds the prior time of part 2.

Everything runs after a warm-up (first calls of LAPACK, allocators, ...), which
is not timed. Each measurement (one L of part 1, part 2, part 3) stops repeating
once it has taken ``--part-seconds`` (at least one repeat), which bounds the
runtime on slow or busy machines; the tables say how many runs each number has.
Repeats are reduced with ``--stat``: ``min`` (default, best of N: other processes
only ever add time, so the minimum is the most reproducible estimate on a shared
machine) or ``median``; every column is reduced on its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_common, also when imported by tests

from bench_common import (  # noqa: E402
    command_line,
    contention_note,
    linear_fit,
    load_average,
    machine_info,
    markdown_table,
    summarize,
    STATS,
    time_call,
    update_markdown_section,
)

from anytime_audio.builders import Renderer, build_autoencoder, build_prior, num_samples  # noqa: E402
from anytime_audio.core.anytime import AnytimeSampler  # noqa: E402
from anytime_audio.core.budget import parse_budget  # noqa: E402
from anytime_audio.core.device import pick_device, synchronize  # noqa: E402
from anytime_audio.core.prior import filter_logits  # noqa: E402

log = logging.getLogger("bench_sampling")

REPO = Path(__file__).resolve().parents[1]
SECTION = "bench_sampling"
DECODE_BUDGETS = ("1/8", "1/4", "1/2", "1")
TARGET_QUARTER_RATIO = 0.35


# ----------------------------------------------------------------- set-up
def load_configs(overrides: list[str] | None = None):
    """``(prior_cfg, model_cfg, data_cfg)`` from the repo's YAMLs plus ``group.key=value`` overrides."""
    cfg = OmegaConf.create({
        "prior": OmegaConf.load(REPO / "configs/prior/transformer.yaml"),
        "model": OmegaConf.load(REPO / "configs/model/mel.yaml"),
        "data": OmegaConf.load(REPO / "configs/data/tts_digits.yaml"),
    })
    if overrides:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
    return cfg.prior, cfg.model, cfg.data


def make_prior(prior_cfg, num_codes: int, length: int, num_classes: int, device, seed: int = 0):
    """A random-init prior of the configured size, in eval mode on ``device``."""
    torch.manual_seed(seed)
    return build_prior(prior_cfg, num_codes, length, num_classes).to(device).eval()


def make_labels(prior, n: int, device) -> torch.Tensor | None:
    if not prior.num_classes:
        return None
    return torch.arange(n, device=device) % prior.num_classes


def _generator(device, seed: int) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def fraction_value(text: str) -> float:
    num, _, den = str(text).partition("/")
    return float(num) / float(den) if den else float(num)


# ------------------------------------------------ part 1: cache vs full
@dataclass
class CacheVsFull:
    """Cached vs full-recompute decoding at one sequence length."""

    length: int
    batch: int
    cached_seconds: float  # whole cached generate() over all L positions (best or median of the runs)
    cached_runs: list[float]
    positions: list[int]  # prefix lengths where the full step was timed
    full_step_seconds: list[float]  # full-step time at each sampled position
    cached_step_seconds: list[float]  # cached-step time at the same positions
    full_seconds: float  # extrapolated full generation (sum over all L positions)
    full_direct_seconds: float | None = None  # full generate() run end to end, when measured
    tokens_match: bool | None = None  # same seed, cached vs full generate()

    @property
    def speedup(self) -> float:
        return self.full_seconds / self.cached_seconds

    @property
    def cached_tokens_per_second(self) -> float:
        return self.batch * self.length / self.cached_seconds

    @property
    def full_tokens_per_second(self) -> float:
        return self.batch * self.length / self.full_seconds


def timed_generate(prior, n: int, labels, device, seed: int, use_cache: bool, max_codes: int | None = None):
    """Run ``prior.generate`` to the end; ``(total seconds, per-step seconds, codes [n, k])``."""
    gen = _generator(device, seed)
    steps, tokens = [], []
    synchronize(device)
    start = last = time.perf_counter()
    for token in prior.generate(n, max_codes, labels, use_cache=use_cache, generator=gen):
        synchronize(device)
        now = time.perf_counter()
        steps.append(now - last)
        last = now
        tokens.append(token)
    return last - start, steps, torch.stack(tokens, 1)


def full_step_seconds(prior, prefix: torch.Tensor, labels, device, generator: torch.Generator) -> float:
    """Seconds of one step of the uncached branch of ``CodePrior.generate`` after ``prefix``."""

    def step():
        logits = prior.logits_full(prefix, labels)
        probs = filter_logits(logits.float()).softmax(-1)
        token = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        return torch.cat([prefix, token[:, None]], 1)

    return time_call(step, device)


def sample_positions(length: int, count: int) -> list[int]:
    """``count`` prefix lengths spread evenly over ``0..length-1`` (both ends included)."""
    count = max(2, min(count, length))
    return sorted({int(p) for p in np.linspace(0, length - 1, count).round()})


def extrapolate(positions: list[int], seconds: list[float], length: int) -> float:
    """Sum over all ``length`` positions of the per-step cost, interpolated linearly."""
    return float(np.interp(np.arange(length), positions, seconds).sum())


@torch.no_grad()
def bench_cache_vs_full(prior, n: int, repeats: int, num_positions: int, direct: bool, device, seed: int = 0,
                        max_seconds: float | None = None, stat: str = "min") -> CacheVsFull:
    """Time cached and full-recompute decoding side by side (see the module docstring).

    Repeats stop early once ``max_seconds`` have been spent (at least one is done).
    """
    length = prior.length
    labels = make_labels(prior, n, device)
    positions = sample_positions(length, num_positions)
    gen = _generator(device, seed + 1)
    # warm-up (not timed)
    timed_generate(prior, n, labels, device, seed, True, max_codes=min(8, length))
    full_step_seconds(prior, torch.zeros(n, min(8, length - 1), dtype=torch.long, device=device), labels, device, gen)

    cached_runs: list[float] = []
    cached_at: dict[int, list[float]] = {p: [] for p in positions}
    full_at: dict[int, list[float]] = {p: [] for p in positions}
    codes = None
    started = time.perf_counter()
    for r in range(repeats):
        if r and max_seconds is not None and time.perf_counter() - started > max_seconds:
            log.info("L=%d: time cap of %.0fs reached after %d repeat(s)", length, max_seconds, r)
            break
        total, steps, codes = timed_generate(prior, n, labels, device, seed, True)
        cached_runs.append(total)
        for p in positions:
            cached_at[p].append(steps[p])
            full_at[p].append(full_step_seconds(prior, codes[:, :p], labels, device, gen))
        log.info("L=%d repeat %d/%d: cached %.2fs, full step at p=%d %.3fs",
                 length, r + 1, repeats, total, positions[-1], full_at[positions[-1]][-1])
    full_steps = [summarize(full_at[p], stat) for p in positions]
    result = CacheVsFull(
        length=length, batch=n, cached_seconds=summarize(cached_runs, stat), cached_runs=cached_runs,
        positions=positions, full_step_seconds=full_steps,
        cached_step_seconds=[summarize(cached_at[p], stat) for p in positions],
        full_seconds=extrapolate(positions, full_steps, length),
    )
    if direct:
        seconds, _, full_codes = timed_generate(prior, n, labels, device, seed, False)
        result.full_direct_seconds = seconds
        result.tokens_match = bool(torch.equal(full_codes, codes))
        log.info("L=%d full generate() end to end: %.2fs (extrapolated %.2fs), same tokens: %s",
                 length, seconds, result.full_seconds, result.tokens_match)
    return result


@torch.no_grad()
def max_logit_difference(prior, codes: torch.Tensor, labels=None) -> float:
    """Largest |cached step logits - ``logits_full``| along ``codes [n, k]`` (teacher forced).

    Uses the prior's own cache machinery (``setup_cache``/``_step_logits``), the
    same calls ``generate(use_cache=True)`` makes.
    """
    n, k = codes.shape
    device = codes.device
    prior.eval()
    class_vec = prior._class_vector(labels, n, device)
    prior.setup_cache(n, device, prior.token_emb.weight.dtype)
    worst = 0.0
    try:
        token = torch.full((n,), prior.num_codes, dtype=torch.long, device=device)
        for pos in range(k):
            cached = prior._step_logits(token, pos, class_vec)
            full = prior.logits_full(codes[:, :pos], labels)
            worst = max(worst, float((cached - full).abs().max()))
            token = codes[:, pos]
    finally:
        prior.clear_cache()
    return worst


# ------------------------------------------------ part 2: cost vs budget
@dataclass
class BudgetScaling:
    length: int
    batch: int
    ks: list[int]
    total_seconds: list[float]  # wall of AnytimeSampler.sample(n, [k]) per k
    prior_seconds: list[float]  # its generate_seconds per k
    render_seconds: list[float]  # its decode_seconds (Renderer) per k
    fit_total: tuple[float, float, float] = (0.0, 0.0, 0.0)  # slope, intercept, r2
    fit_prior: tuple[float, float, float] = (0.0, 0.0, 0.0)
    runs: int = 0  # repeats done

    def _at(self, values: list[float], k: int) -> float:
        return values[self.ks.index(k)]

    def ratio(self, k: int, which: str = "total") -> float:
        values = {"total": self.total_seconds, "prior": self.prior_seconds}[which]
        return self._at(values, k) / self._at(values, self.length)


def budget_grid(length: int, quick: bool) -> list[int]:
    """Code counts to time: 1, the eighths (or quarters when quick) of ``length``, always L/4 and L."""
    parts = 4 if quick else 8
    ks = {1, max(1, round(length / 4)), length}
    ks.update(max(1, round(length * i / parts)) for i in range(1, parts + 1))
    return sorted(ks)


@torch.no_grad()
def bench_budget_scaling(prior, renderer, n: int, ks: list[int], repeats: int, device, seed: int = 0,
                         max_seconds: float | None = None, stat: str = "min") -> BudgetScaling:
    """Wall time of ``AnytimeSampler.sample(n, [k])`` (prior + Renderer) for each ``k``."""
    length = prior.length
    labels = make_labels(prior, n, device)
    sampler = AnytimeSampler(prior, renderer, length)
    sampler.sample(n, [min(ks)], labels, generator=_generator(device, seed))  # warm-up
    total: dict[int, list[float]] = {k: [] for k in ks}
    prior_s: dict[int, list[float]] = {k: [] for k in ks}
    render_s: dict[int, list[float]] = {k: [] for k in ks}
    started = time.perf_counter()
    runs = 0
    for r in range(repeats):
        if r and max_seconds is not None and time.perf_counter() - started > max_seconds:
            log.info("budget scaling: time cap of %.0fs reached after %d repeat(s)", max_seconds, r)
            break
        runs += 1
        for k in ks:
            out = []
            wall = time_call(lambda: out.extend(sampler.sample(n, [k], labels, generator=_generator(device, seed))), device)
            total[k].append(wall)
            prior_s[k].append(out[0].generate_seconds)
            render_s[k].append(out[0].decode_seconds)
        log.info("budget scaling repeat %d/%d: k=%d %.2fs, k=%d %.2fs", r + 1, repeats,
                 ks[0], total[ks[0]][-1], ks[-1], total[ks[-1]][-1])
    result = BudgetScaling(
        length=length, batch=n, ks=list(ks),
        total_seconds=[summarize(total[k], stat) for k in ks],
        prior_seconds=[summarize(prior_s[k], stat) for k in ks],
        render_seconds=[summarize(render_s[k], stat) for k in ks], runs=runs,
    )
    result.fit_total = linear_fit(ks, result.total_seconds)
    result.fit_prior = linear_fit(ks, result.prior_seconds)
    return result


# ------------------------------------------------ part 3: decode RTF
@dataclass
class DecodeTiming:
    budget: str
    k: int
    decoder_seconds: float  # autoencoder.decode only (log-mel)
    render_seconds: float  # decoder + Griffin-Lim
    audio_seconds: float  # audio produced by the batch
    runs: int = 0  # repeats done

    @property
    def decoder_rtf(self) -> float:
        return self.decoder_seconds / self.audio_seconds

    @property
    def render_rtf(self) -> float:
        return self.render_seconds / self.audio_seconds


@torch.no_grad()
def bench_decode(autoencoder, renderer, n: int, clip_seconds: float, repeats: int, device, seed: int = 0,
                 budgets=DECODE_BUDGETS, max_seconds: float | None = None, stat: str = "min") -> list[DecodeTiming]:
    """Decoder-only and decoder + Griffin-Lim time per budget on random codes."""
    length = autoencoder.code_length
    gen = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, autoencoder.num_codes, (n, length), generator=gen).to(device)
    renderer(codes, length)  # warm-up
    autoencoder.decode(codes, length)
    ks = {b: parse_budget(fraction_value(b)).num_codes(length) for b in budgets}
    dec: dict[str, list[float]] = {b: [] for b in budgets}
    ren: dict[str, list[float]] = {b: [] for b in budgets}
    started = time.perf_counter()
    for r in range(repeats):
        if r and max_seconds is not None and time.perf_counter() - started > max_seconds:
            log.info("decode: time cap of %.0fs reached after %d repeat(s)", max_seconds, r)
            break
        for b in budgets:
            dec[b].append(time_call(lambda: autoencoder.decode(codes, ks[b]), device))
            ren[b].append(time_call(lambda: renderer(codes, ks[b]), device))
    return [DecodeTiming(b, ks[b], summarize(dec[b], stat), summarize(ren[b], stat), n * clip_seconds, len(dec[b])) for b in budgets]


# ------------------------------------------------ report
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _s(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def render_report(command: str, info: dict, settings: dict, part1: list[CacheVsFull], part2: BudgetScaling | None,
                  part3: list[DecodeTiming] | None, runtime: float, load_end: str, stat: str = "min") -> str:
    """The markdown section (without markers)."""
    stat_name = "minimum (best of N)" if stat == "min" else "median"
    lines = ["## Sampling speed (`tools/bench_sampling.py`)", "", f"Command: `{command}`", ""]
    machine = dict(info)
    machine["load average (1, 5, 15 min) at end"] = load_end
    machine["benchmark runtime"] = f"{runtime:.0f} s"
    machine.update(settings)
    lines += [markdown_table(["", ""], [(k, v) for k, v in machine.items()]), ""]
    lines += [
        "Random-init models sized by `configs/prior/transformer.yaml`, `configs/model/mel.yaml`, "
        f"`configs/data/tts_digits.yaml`. Times are the {stat_name} of the repeats after a warm-up. "
        "Other processes may share the machine (see the load average): absolute numbers are noisy, "
        "the ratios are measured side by side.",
        "",
    ]
    if part1:
        lines += [
            "### KV-cached vs full-recompute decoding (`CodePrior.generate(use_cache=...)`)",
            "",
            "Cached: whole `generate` loop over all L positions. Full: one uncached step "
            "(`logits_full` + filter + `multinomial`) timed at the listed prefix lengths, "
            "summed over all L positions by linear interpolation; "
            "'full, direct' is one end-to-end `generate(use_cache=False)` where run. "
            "Tokens/s count every code of the batch.",
            "",
        ]
        rows = []
        for r in part1:
            rows.append((
                r.length, r.batch, len(r.cached_runs), _s(r.cached_seconds), f"{r.cached_tokens_per_second:.0f}",
                _s(r.full_seconds), f"{r.full_tokens_per_second:.0f}",
                "-" if r.full_direct_seconds is None else _s(r.full_direct_seconds),
                f"**{r.speedup:.1f}x**",
                "-" if r.tokens_match is None else ("yes" if r.tokens_match else "NO"),
            ))
        lines += [markdown_table(
            ["L", "batch", "runs", "cached s", "cached tok/s", "full s (extrap.)", "full tok/s", "full s (direct)",
             "speed-up", "same tokens"], rows), ""]
        last = part1[-1]
        lines += [f"Per-step cost at the sampled prefix lengths, L={last.length} (ms):", ""]
        lines += [markdown_table(
            ["prefix"] + [str(p) for p in last.positions],
            [["cached"] + [_ms(s) for s in last.cached_step_seconds],
             ["full"] + [_ms(s) for s in last.full_step_seconds]]), ""]
    if part2 is not None:
        slope, intercept, r2 = part2.fit_total
        pslope, pintercept, pr2 = part2.fit_prior
        quarter = max(1, round(part2.length / 4))
        ratio = part2.ratio(quarter)
        lines += [
            f"### Wall time vs generated codes k (mel model, L={part2.length}, batch {part2.batch}, "
            f"{part2.runs} run(s) per k)",
            "",
            "`AnytimeSampler.sample(n, [k])` with `Renderer` (decoder + Griffin-Lim) as decode; "
            "prior = its `generate_seconds`, render = its `decode_seconds`, total = wall of the call.",
            "",
            markdown_table(["k", "total s", "prior s", "render s"],
                           [(k, _s(t), _s(p), _s(d)) for k, t, p, d in
                            zip(part2.ks, part2.total_seconds, part2.prior_seconds, part2.render_seconds)]),
            "",
            f"- Least squares, total: {slope * 1000:.1f} ms/code + {intercept:.3f} s, **R^2 = {r2:.4f}**",
            f"- Least squares, prior only: {pslope * 1000:.1f} ms/code + {pintercept:.3f} s, R^2 = {pr2:.4f}",
            f"- End-to-end cost of budget 1/4 (k={quarter}) vs full (k={part2.length}): **{ratio:.3f}** "
            f"(target <= {TARGET_QUARTER_RATIO}: {'met' if ratio <= TARGET_QUARTER_RATIO else 'NOT met'}); "
            f"prior only: {part2.ratio(quarter, 'prior'):.3f}",
        ]
        if part3:
            dec = {t.k: t.decoder_seconds for t in part3}
            if quarter in dec and part2.length in dec:
                num = part2._at(part2.prior_seconds, quarter) + dec[quarter]
                den = part2._at(part2.prior_seconds, part2.length) + dec[part2.length]
                lines.append(f"- Prior + decoder without Griffin-Lim, 1/4 vs full: {num / den:.3f}")
        lines.append("")
    if part3:
        prior_at = dict(zip(part2.ks, part2.prior_seconds)) if part2 is not None else {}
        rows = []
        for t in part3:
            e2e = "-" if t.k not in prior_at else f"{(prior_at[t.k] + t.render_seconds) / t.audio_seconds:.3f}"
            rows.append((t.budget, t.k, _s(t.decoder_seconds), f"{t.decoder_rtf:.4f}", _s(t.render_seconds),
                         f"{t.render_rtf:.3f}", e2e))
        audio = part3[0].audio_seconds
        lines += [
            f"### Decode time and real-time factor (mel; batch of {audio:g} s of audio, {part3[0].runs} run(s))",
            "",
            "RTF = seconds of compute / seconds of audio. End-to-end adds the prior time of the table above.",
            "",
            markdown_table(["budget", "k", "decoder s", "decoder RTF", "decoder+GL s", "decoder+GL RTF",
                            "end-to-end RTF"], rows),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------ command line
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda (auto: cuda when available)")
    ap.add_argument("--lengths", default="64,128,256,512", help="comma-separated L for part 1")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--repeats", type=int, default=None, help="timing repeats (default 3, --quick 1)")
    ap.add_argument("--positions", type=int, default=None,
                    help="prefix lengths at which the full step is timed (default 8, --quick 4)")
    ap.add_argument("--direct-max", type=int, default=64,
                    help="also run full generate() end to end for L <= this (0: never)")
    ap.add_argument("--part-seconds", type=float, default=45.0,
                    help="stop repeating a measurement (one L of part 1, part 2, part 3) after this long; "
                         "at least one repeat is always done")
    ap.add_argument("--stat", default="min", choices=STATS, help="reduce repeats: min (best of N) or median")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, positions and budgets")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: cache,budget,decode")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--override", nargs="*", default=[], metavar="GROUP.KEY=VALUE",
                    help="config overrides, e.g. prior.d_model=32 model.code_channels=16 data.clip_seconds=0.25")
    ap.add_argument("--write", default=None, metavar="BENCHMARKS.md", help="update this markdown file's section")
    args = ap.parse_args(argv)
    args.lengths = [int(x) for x in str(args.lengths).split(",") if x.strip()]
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.positions = args.positions or (4 if args.quick else 8)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = args.skip - {"cache", "budget", "decode"}
    if unknown:
        ap.error(f"unknown parts to skip: {sorted(unknown)}")
    return args


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    info = machine_info(device)
    warning = contention_note()
    if warning:
        log.warning(warning)
        info["warning"] = warning
    started = time.perf_counter()
    prior_cfg, model_cfg, data_cfg = load_configs(args.override)
    num_codes = int(model_cfg["num_codes"])
    num_classes = int(data_cfg.get("num_classes") or 0)
    print(f"bench_sampling on {info['device']} ({info['cpu']}), {info['threads']}, load {info['load average (1, 5, 15 min) at start']}",
          flush=True)

    part1: list[CacheVsFull] = []
    if "cache" not in args.skip:
        for length in args.lengths:
            prior = make_prior(prior_cfg, num_codes, length, num_classes, device, args.seed)
            r = bench_cache_vs_full(prior, args.batch, args.repeats, args.positions,
                                    direct=length <= args.direct_max, device=device, seed=args.seed,
                                    max_seconds=args.part_seconds, stat=args.stat)
            part1.append(r)
            print(f"L={length:4d}  cached {r.cached_seconds:8.3f}s ({r.cached_tokens_per_second:8.0f} tok/s)  "
                  f"full {r.full_seconds:8.3f}s ({r.full_tokens_per_second:7.0f} tok/s)  speed-up {r.speedup:6.1f}x"
                  + ("" if r.full_direct_seconds is None else
                     f"  [full direct {r.full_direct_seconds:.3f}s, same tokens: {r.tokens_match}]"), flush=True)

    part2 = part3 = None
    if not {"budget", "decode"} <= args.skip:
        autoencoder = build_autoencoder(model_cfg, data_cfg).to(device).eval()
        renderer = Renderer(autoencoder, model_cfg, data_cfg).to(device).eval()
        length = autoencoder.code_length
        if "budget" not in args.skip:
            prior = make_prior(prior_cfg, autoencoder.num_codes, length, num_classes, device, args.seed)
            part2 = bench_budget_scaling(prior, renderer, args.batch, budget_grid(length, args.quick),
                                         args.repeats, device, args.seed,
                                         max_seconds=args.part_seconds, stat=args.stat)
            slope, intercept, r2 = part2.fit_total
            quarter = max(1, round(length / 4))
            print(f"cost vs k (L={length}): {slope * 1000:.1f} ms/code + {intercept:.3f}s, R^2={r2:.4f}; "
                  f"1/4 vs full end-to-end {part2.ratio(quarter):.3f} (prior only {part2.ratio(quarter, 'prior'):.3f})",
                  flush=True)
        if "decode" not in args.skip:
            clip_seconds = num_samples(data_cfg) / int(data_cfg["sample_rate"])
            part3 = bench_decode(autoencoder, renderer, args.batch, clip_seconds, args.repeats, device, args.seed,
                                 max_seconds=args.part_seconds, stat=args.stat)
            for t in part3:
                print(f"budget {t.budget:>3} (k={t.k:3d}): decoder {t.decoder_seconds:.3f}s RTF {t.decoder_rtf:.4f}; "
                      f"decoder+GL {t.render_seconds:.3f}s RTF {t.render_rtf:.3f}", flush=True)

    runtime = time.perf_counter() - started
    settings = {
        "settings": f"batch {args.batch}, repeats {args.repeats} (capped at {args.part_seconds:g} s per measurement), "
                    f"full-step positions {args.positions}, "
                    f"direct full run for L <= {args.direct_max}, {args.stat} of repeats, seed {args.seed}"
                    + (", quick" if args.quick else "")
                    + (f", overrides {' '.join(args.override)}" if args.override else ""),
        "prior": f"d_model {prior_cfg['d_model']}, {prior_cfg['n_layers']} layers, {prior_cfg['n_heads']} heads, "
                 f"K={num_codes}, {num_classes} classes",
        "vocoder": f"fast Griffin-Lim, {int(model_cfg.get('griffin_lim_iters', 8))} iterations "
                   f"(n_fft {model_cfg['n_fft']}, hop {model_cfg['hop_length']})",
    }
    report = render_report(command_line(__file__, argv), info, settings, part1, part2, part3, runtime, load_average(), args.stat)
    print()
    print(report)
    if args.write:
        update_markdown_section(args.write, SECTION, report)
        print(f"updated the {SECTION} section of {args.write}")
    return {"part1": part1, "part2": part2, "part3": part3, "report": report, "runtime": runtime}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    main()
