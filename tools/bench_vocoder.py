#!/usr/bin/env python
"""Cost and quality of the mel vocoders: Griffin-Lim iterations, HiFi-GAN, our fast vocoder.

Usage:
    python tools/bench_vocoder.py [--part iters] [--manifest recipes/tts_digits/data/tts_digits/test.jsonl]
        [--num 32] [--iters 0 2 4 8 16 32] [--threads 1] [--write BENCHMARKS.md]
    python tools/bench_vocoder.py --part ceiling --frontend hifigan --sample-rate 22050 \
        --vocoders griffin_lim:8 griffin_lim:32 hifigan exp/vocoder --num 100 --write RESULTS.md
    python tools/bench_vocoder.py --part cost --frontend hifigan --sample-rate 22050 \
        --vocoders griffin_lim:8 hifigan exp/vocoder --write BENCHMARKS.md
    python tools/bench_vocoder.py --part e2e --vocoders griffin_lim:8 hifigan exp/vocoder --threads 2 \
        --write BENCHMARKS.md

Parts (each writes its own marked section of ``--write``):

* ``iters`` (section ``bench_vocoder``): Griffin-Lim alone against its
  iteration count, next to torchaudio's ``GriffinLim``: seconds per batch,
  log-mel L1 after re-analysis, STOI.
* ``ceiling`` (``vocoder_ceiling``, meant for RESULTS.md): every vocoder on
  the *true* log-mel of real clips, the best any mel model can sound:
  wide-band PESQ (both signals resampled to 16 kHz, the only rate it is
  defined at), STOI, log-mel L1 after re-analysis, and the accuracy of the
  intelligibility judge (:mod:`anytime_audio.audio.judge`) when installed.
* ``budgets`` (``vocoder_budgets``, RESULTS.md): a trained mel experiment's
  reconstructions at code fractions (``--exp``, ``--fractions``), rendered by
  each vocoder, with the ceiling's metrics.
* ``cost`` (``bench_vocoder_cost``): real-time factor (compute seconds per
  second of audio) of each vocoder at batch 1 and 16 on 1 and 2 threads.
* ``e2e`` (``bench_vocoder_e2e``): the end-to-end cost of budget 1/4 against
  the full budget (prior + decoder + vocoder, ``tools/bench_sampling.py``'s
  ``bench_budget_scaling``, both measured side by side in one run) for each
  vocoder, on random-init models sized by ``configs/model/mel_hifigan.yaml``
  and ``configs/prior/transformer.yaml`` (timing does not depend on weights).

Vocoders are named as ``model.vocoder`` names them, with ``griffin_lim:N`` for
N iterations and ``<folder>:N`` for a trained fast vocoder followed by N
projections (default 8, as ``model.griffin_lim_iters``); ``hifigan`` needs ``pip install 'anytime_audio[hifigan]'``.
"""

from __future__ import annotations

import argparse
import glob
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
from anytime_audio.audio.metrics import pesq, stoi  # noqa: E402
from anytime_audio.audio.vocoders import build_vocoder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = REPO / "recipes/tts_digits/data/tts_digits/test.jsonl"
SPEECH_LOG_MEL = -7.0  # ceiling: frames whose true log-mel is above this count as speech


def best_time(fn, repeats: int, cap: float | None = None) -> tuple[float, torch.Tensor, int]:
    """Best of ``repeats`` timed calls after a warm-up (stopping after ``cap`` seconds of repeats)."""
    out = fn()  # warm-up
    times, started = [], time.perf_counter()
    while len(times) < repeats and (cap is None or not times or time.perf_counter() - started < cap):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out, len(times)


def evaluate(render, target: torch.Tensor, wave: torch.Tensor, logmel: LogMel, sample_rate: int,
             repeats: int) -> dict:
    seconds, rendered, _ = best_time(lambda: render(target), repeats)
    rendered = rendered[..., : wave.shape[-1]]
    if rendered.shape[-1] < wave.shape[-1]:
        rendered = torch.nn.functional.pad(rendered, (0, wave.shape[-1] - rendered.shape[-1]))
    with warnings.catch_warnings():  # pystoi warns on clips with little speech
        warnings.simplefilter("ignore")
        intelligibility = torch.nanmean(stoi(wave, rendered, sample_rate)).item()
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
    wave, _ = load_clips(args)
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
    return report(args, rows, len(wave), load_at_start)


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
        "## Mel vocoder: Griffin-Lim iterations, cost and quality (`tools/bench_vocoder.py`)", "",
        f"Command: `{command_line(__file__, args.argv)}`", "", table, "",
        f"{num_clips} clips of `{_shown(args.manifest)}`, "
        f"rendered from their true log-mel (n_fft {args.n_fft}, hop {args.hop_length}, {args.n_mels} mels). "
        "ms: best of the repeats for the whole batch. Log-mel L1: mean |log-mel(rendered) - log-mel asked for| "
        "(natural log). STOI: against the original recording. 'fast' is `MelToWave` "
        "(`anytime_audio/audio/griffin_lim.py`, linear-phase start); 'zero-phase start' is the same code "
        "started from zero phase as torchaudio is.", "", body])


# ----------------------------------------------------- ceiling, cost, e2e
def make_logmel(args) -> LogMel:
    return LogMel(sample_rate=args.sample_rate, n_fft=args.n_fft, hop_length=args.hop_length, n_mels=args.n_mels,
                  f_max=args.f_max, style=args.frontend)


def named_vocoder(spec: str, logmel: LogMel, num_samples: int | None, detail: bool = True):
    """``griffin_lim:N`` or any ``model.vocoder`` value -> (label, Vocoder); ``detail``: a trained
    vocoder's label says its targets and steps (quality tables; its cost does not depend on them)."""
    name, _, iters = spec.partition(":")
    if name == "griffin_lim":
        n_iter = int(iters or 8)
        return f"Griffin-Lim, {n_iter} iterations", build_vocoder(name, logmel, num_samples, n_iter).eval()
    label = {"hifigan": "HiFi-GAN V1 universal", "hifigan_lj": "HiFi-GAN V1 LJSpeech"}.get(name)
    if label is not None:
        return label, build_vocoder(spec, logmel, num_samples).eval()
    from anytime_audio.audio.vocoders.fast import read_fast_vocoder_config

    folder, meta = read_fast_vocoder_config(name)
    projections = int(iters or 8)  # path:N: N Griffin-Lim projections after the network (model.griffin_lim_iters)
    label = f"fast vocoder `{folder.parent.name}/{folder.name}` + {projections} projections"
    if detail:
        label += f" ({meta.get('target', '?')} targets, {meta.get('steps', '?')} steps)"
    return label, build_vocoder(name, logmel, num_samples, projections).eval()


def load_clips(args):
    """``(waves [N, T], labels [N])`` from a manifest, or unlabelled (-1) from every WAV of a folder
    or of a glob pattern (``'/usr/share/sounds/alsa/[FRS]*.wav'``)."""
    if Path(args.manifest).is_dir() or glob.has_magic(args.manifest):
        from anytime_audio.audio.datasets import fit_length
        from anytime_audio.audio.io import load_audio

        pattern = str(Path(args.manifest) / "*.wav") if Path(args.manifest).is_dir() else args.manifest
        files = sorted(glob.glob(pattern))[: args.num]
        length = int(round(args.clip_seconds * args.sample_rate))
        waves = [torch.as_tensor(fit_length(load_audio(f, sample_rate=args.sample_rate)[0], length)) for f in files]
        return torch.stack(waves), torch.full((len(waves),), -1)
    data = ClipDataset(args.manifest, sample_rate=args.sample_rate, clip_seconds=args.clip_seconds,
                       max_items=args.num, progress=False)
    return torch.stack([torch.as_tensor(data[i][0]) for i in range(len(data))]), data.labels


def stoi_scored(wave, sr) -> int:
    """How many clips STOI scores (``metrics.stoi`` gives NaN to a clip with under 384 ms of speech
    left after its silence removal; which clips depends on the recording only)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(torch.isfinite(stoi(wave, wave, sr)).sum())


def quality(wave, rendered, target, logmel, sr, labels, judge) -> dict:
    with warnings.catch_warnings():  # PESQ / pystoi warn on clips with little speech
        warnings.simplefilter("ignore")
        speech = target > SPEECH_LOG_MEL
        l1 = (logmel(rendered) - target).abs()
        row = {"pesq": float(torch.nanmean(pesq(wave, rendered, sr))),  # wide band, resampled to 16 kHz
               "stoi": torch.nanmean(stoi(wave, rendered, sr)).item(),
               "logmel_l1": l1.mean().item(), "speech_l1": l1[speech].mean().item()}
    if judge is not None and (labels >= 0).all():
        row["judge"] = judge.accuracy(rendered.numpy(), labels.tolist(), sr)
    return row


def run_ceiling(args) -> str:
    from anytime_audio.audio import judge as judge_module

    torch.set_num_threads(args.threads)
    wave, labels = load_clips(args)
    logmel = make_logmel(args)
    target = logmel(wave)
    judge = judge_module.DigitJudge() if judge_module.is_available() and not args.no_judge else None
    scored = stoi_scored(wave, args.sample_rate)
    rows = [("the recording itself", quality(wave, wave, target, logmel, args.sample_rate, labels, judge), None)]
    for spec in args.vocoders:
        label, vocoder = named_vocoder(spec, logmel, wave.shape[-1])
        start = time.perf_counter()
        rendered = torch.cat([vocoder(part) for part in target.split(16)])
        seconds = time.perf_counter() - start
        rows.append((label, quality(wave, rendered, target, logmel, args.sample_rate, labels, judge), seconds))
        print(label, {k: round(v, 4) for k, v in rows[-1][1].items()}, f"{seconds:.1f}s", flush=True)
    body = markdown_table(
        ["vocoder (true log-mel in)", "PESQ (wb, 16 kHz)", "STOI", "log-mel L1 after re-analysis",
         "log-mel L1, speech frames", "judge accuracy", "render s / clip"],
        [(label, f"{r['pesq']:.3f}", f"{r['stoi']:.3f}", f"{r['logmel_l1']:.3f}", f"{r['speech_l1']:.3f}",
          f"{r['judge']:.3f}" if "judge" in r else "-", "-" if sec is None else f"{sec / len(wave):.3f}")
         for label, r, sec in rows])
    return "\n".join([
        f"### Vocoder ceiling on `{_shown(args.manifest)}`: each vocoder on the true log-mel "
        "(`tools/bench_vocoder.py --part ceiling`)", "",
        f"Command: `{command_line(__file__, args.argv)}`", "",
        f"{len(wave)} clips of `{_shown(args.manifest)}`, loaded at {args.sample_rate} Hz (resampled on load), "
        f"front-end `{args.frontend}` (n_fft {args.n_fft}, hop {args.hop_length}, {args.n_mels} mels, "
        f"f_max {args.f_max}). PESQ: wide-band, both signals resampled to 16 kHz, mean over all clips; STOI at "
        f"{args.sample_rate} Hz over the {scored} clips with enough speech for STOI (>= 384 ms after its "
        "silence removal; the others are left out); both against the recording. "
        "Log-mel L1: mean |log-mel(rendered) - true log-mel| (natural log, same front-end), over all frames and "
        f"over speech frames (true log-mel > {SPEECH_LOG_MEL:g}: silence, at the 1e-5 floor, weighs heavily in the "
        "first)." + (" Judge: PocketSphinx digit accuracy (`anytime_audio/audio/judge.py`)." if judge else "") +
        " Render time: "
        f"{args.threads} thread(s), batches of 16, on a shared CPU (load {load_average()} at the end).", "",
        body])


@torch.no_grad()
def run_budgets(args) -> str:
    """Reconstructions of a trained mel experiment at code fractions, rendered by each vocoder."""
    from anytime_audio.audio import judge as judge_module
    from anytime_audio.experiment import Experiment

    torch.set_num_threads(args.threads)
    exp = Experiment.open(args.exp, device="cpu")
    args.sample_rate = exp.sample_rate
    wave, labels = load_clips(args)
    model, logmel = exp.autoencoder, exp.autoencoder.frontend
    target = logmel(wave)
    codes = model.encode(model.prepare(wave))
    judge = judge_module.DigitJudge() if judge_module.is_available() and not args.no_judge else None
    scored = stoi_scored(wave, args.sample_rate)
    rows = []
    for spec in args.vocoders:
        label, vocoder = named_vocoder(spec, logmel, wave.shape[-1])
        for fraction in args.fractions:
            k = max(1, round(fraction * model.code_length))
            rendered = torch.cat([vocoder(model.decode(part, k)) for part in codes.split(16)])
            r = quality(wave, rendered, target, logmel, args.sample_rate, labels, judge)
            rows.append((label, f"{fraction:g} ({k})", f"{r['pesq']:.3f}", f"{r['stoi']:.3f}", f"{r['logmel_l1']:.3f}",
                         f"{r['speech_l1']:.3f}", f"{r['judge']:.3f}" if "judge" in r else "-"))
            print(rows[-1], flush=True)
    return "\n".join([
        "### Reconstructions at code budgets, per vocoder (`tools/bench_vocoder.py --part budgets`)", "",
        f"Command: `{command_line(__file__, args.argv)}`", "",
        f"{len(wave)} clips of `{_shown(args.manifest)}` encoded by the experiment's autoencoder, decoded from "
        f"the first k of {model.code_length} codes and rendered by each vocoder; metrics against the recording as "
        f"in the ceiling table (STOI over the {scored} clips it can score).", "",
        markdown_table(["vocoder", "fraction (codes)", "PESQ (wb, 16 kHz)", "STOI", "log-mel L1", "log-mel L1, speech",
                        "judge accuracy"], rows)])


def run_cost(args) -> str:
    load_at_start = load_average()
    wave, _ = load_clips(args)
    logmel = make_logmel(args)
    target = logmel(wave)
    rows = []
    for spec in args.vocoders:
        label, vocoder = named_vocoder(spec, logmel, wave.shape[-1], detail=False)
        cells = [label]
        for threads in args.thread_counts:
            torch.set_num_threads(threads)
            for batch in args.batches:
                mels = target[:batch].repeat((batch + len(target) - 1) // len(target), 1, 1)[:batch]
                seconds, _, runs = best_time(lambda: vocoder(mels), args.repeats, args.cap_seconds)
                cells.append(f"{seconds / (batch * args.clip_seconds):.4f}")
                print(label, f"threads {threads} batch {batch}: {seconds:.3f}s ({runs} runs)", flush=True)
        rows.append(cells)
    info = machine_info("cpu")
    info.pop("threads", None)
    info["load average (1, 5, 15 min) at start"] = load_at_start
    info["load average (1, 5, 15 min) at end"] = load_average()
    return "\n".join([
        "## Mel vocoders: real-time factor (`tools/bench_vocoder.py --part cost`)", "",
        f"Command: `{command_line(__file__, args.argv)}`", "", markdown_table(["", ""], list(info.items())), "",
        f"RTF = compute seconds / seconds of audio, best of up to {args.repeats} runs (at most {args.cap_seconds:g} s "
        f"of repeats each) after a warm-up, on the true log-mels of {args.clip_seconds:g} s clips of "
        f"`{_shown(args.manifest)}` at {args.sample_rate} Hz (front-end `{args.frontend}`). "
        "Batch b = b clips in one call (chunked on the CPU as the renderer does).", "",
        markdown_table(["vocoder", *(f"{t} thread{'s' if t > 1 else ''}, batch {b}" for t in args.thread_counts
                                     for b in args.batches)], rows)])


def run_e2e(args) -> str:
    from omegaconf import OmegaConf

    from bench_sampling import bench_budget_scaling, load_configs, make_prior

    from anytime_audio.builders import Renderer, build_autoencoder

    torch.set_num_threads(args.threads)
    preset = OmegaConf.load(REPO / "configs/model/mel_hifigan.yaml")
    prior_cfg, _, data_cfg = load_configs()
    data_cfg = OmegaConf.merge(data_cfg, preset.data)
    torch.manual_seed(0)
    autoencoder = build_autoencoder(preset.model, data_cfg).eval()
    length = autoencoder.code_length
    prior = make_prior(prior_cfg, autoencoder.num_codes, length, int(data_cfg.num_classes or 0), torch.device("cpu"))
    quarter = max(1, round(length / 4))
    rows = []
    for spec in args.vocoders:
        name, _, iters = spec.partition(":")
        model_cfg = OmegaConf.merge(preset.model, {"vocoder": name, "griffin_lim_iters": int(iters or 8)})
        renderer = Renderer(autoencoder, model_cfg, data_cfg).eval()
        r = bench_budget_scaling(prior, renderer, args.batch, [quarter, length], args.repeats, torch.device("cpu"),
                                 max_seconds=args.cap_seconds)
        label = named_vocoder(spec, autoencoder.frontend, None, detail=False)[0]
        rows.append((label, f"{r.total_seconds[0]:.3f}", f"{r.total_seconds[1]:.3f}",
                     f"{r.render_seconds[1]:.3f}", f"{r.ratio(quarter):.3f}", r.runs))
        print(rows[-1], flush=True)
    return "\n".join([
        "## Mel vocoders: end-to-end cost of budget 1/4 against full (`tools/bench_vocoder.py --part e2e`)", "",
        f"Command: `{command_line(__file__, args.argv)}`", "",
        f"`AnytimeSampler.sample({args.batch}, [k])` wall time (prior + decoder + vocoder) for k = {quarter} (1/4) and "
        f"k = {length} (full), measured side by side in each repeat by `tools/bench_sampling.py`'s "
        f"`bench_budget_scaling` (best of the repeats), random-init models sized by `configs/model/mel_hifigan.yaml` "
        f"(22.05 kHz, 1 s clips) and `configs/prior/transformer.yaml`; {args.threads} thread(s); load "
        f"{load_average()} at the end. Target with our fast vocoder: ratio <= 0.35.", "",
        markdown_table(["vocoder", "1/4 budget s", "full budget s", "of which vocoder+decoder s", "1/4 vs full", "runs"],
                       rows)])


def _shown(path) -> str:
    if glob.has_magic(str(path)):
        return str(path)
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


PARTS = {"iters": (run, "bench_vocoder"), "ceiling": (run_ceiling, "vocoder_ceiling"),
         "budgets": (run_budgets, "vocoder_budgets"),
         "cost": (run_cost, "bench_vocoder_cost"), "e2e": (run_e2e, "bench_vocoder_e2e")}


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=list(PARTS), default="iters")
    ap.add_argument("--manifest", default=str(DEFAULT_MANIFEST),
                    help="JSONL manifest of real clips (ceiling, cost: or a folder or glob of WAVs)")
    ap.add_argument("--num", type=int, default=32, help="clips rendered")
    ap.add_argument("--iters", type=int, nargs="+", default=[0, 2, 4, 8, 16, 32])
    ap.add_argument("--vocoders", nargs="+", default=["griffin_lim:8", "griffin_lim:32", "hifigan"],
                    help="griffin_lim:N, hifigan, hifigan_lj or the folder of a trained vocoder (folder:N: N projections)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cap-seconds", type=float, default=60.0, help="stop repeating a timing after this long")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16, help="e2e: samples per call")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16], help="cost: clips per call")
    ap.add_argument("--thread-counts", type=int, nargs="+", default=[1, 2], help="cost: torch threads")
    ap.add_argument("--sample-rate", type=int, default=16000)
    ap.add_argument("--clip-seconds", type=float, default=1.0)
    ap.add_argument("--n-fft", type=int, default=1024)
    ap.add_argument("--hop-length", type=int, default=256)
    ap.add_argument("--n-mels", type=int, default=80)
    ap.add_argument("--f-max", type=float, default=None, help="default: 8000 with --frontend hifigan, else sr / 2")
    ap.add_argument("--frontend", choices=list(LogMel.STYLES), default="torchaudio")
    ap.add_argument("--no-judge", action="store_true", help="ceiling, budgets: skip the intelligibility judge")
    ap.add_argument("--exp", default=None, help="budgets: a trained mel experiment folder")
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.125, 0.25, 0.5, 1.0], help="budgets: code fractions")
    ap.add_argument("--write", default=None, help="markdown file whose section of this part is replaced")
    ap.add_argument("--section", default=None, help="name of that section (default: the part's)")
    args = ap.parse_args(argv)
    if args.f_max is None and args.frontend == "hifigan":
        args.f_max = 8000.0
    args.argv = argv
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.part != "e2e" and not (Path(args.manifest).exists() or glob.glob(args.manifest)):
        raise SystemExit(f"manifest not found: {args.manifest} (prepare a corpus first, e.g. recipes/tts_digits/run.sh --stop-stage 1)")
    if args.part == "budgets" and not args.exp:
        raise SystemExit("--part budgets needs --exp DIR (a trained mel experiment)")
    part, section = PARTS[args.part]
    text = part(args)
    print()
    print(text)
    if args.write:
        update_markdown_section(args.write, args.section or section, text)


if __name__ == "__main__":
    main()
