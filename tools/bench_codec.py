#!/usr/bin/env python
"""Benchmark the codec: bits written vs the prior's NLL, a bitrate ladder beside Opus, round trips, speed.

Usage:
    .venv/bin/python tools/bench_codec.py --exp-dir recipes/tts_digits/exp/mel_fast/ordered
        [--max-clips N] [--opus 6,8,12] [--no-pesq-stoi] [--threads N]
        [--write-results RESULTS.md] [--write-benchmarks BENCHMARKS.md]

On the test split's dumped codes (``codes/test.npy`` and its labels: each clip
is coded conditioned on its class, as the priors' held-out NLL is measured):

1. **Bits per code** for the causal prior (one code per layer, and in 1/8 as
   many layers) and the ARDM at full steps, 1/4 and 1/8 of the calls (DP
   schedule and even split), each clip coded as one ``.ata`` file
   (:class:`anytime_audio.codec.Codec`). Beside it: the prior's held-out NLL
   (``likelihood.prior_bits``: random orders for the ARDM), the NLL of the
   probabilities actually used (coding order and grouping), the per-file
   overhead in bits (termination, layer table, header), the amortised
   overhead of one stream of all clips (no headers), a separate stream per
   layer (the alternative the coder avoids), log2 K, and xz / zstd on the same
   code arrays (the whole split at once).
2. **Bitrate ladder** at 1/8, 1/4, 1/2 and 1 of the codes: bits per second of
   audio of the cut files (per-code layers, so every budget is a layer
   boundary), with mel distance, PESQ, STOI and the intelligibility judge of
   the rendered clips, beside Opus (opusenc, else ffmpeg's libopus) at its
   lowest bitrates on the same clips.
3. **Round trip**: every clip x 4 budgets x every setting: cut with
   :func:`codec.cut`, decode, compare with the first ``k`` codes.
4. **Speed** (BENCHMARKS.md): clips per second for compress (codes -> file)
   and decompress (file -> codes), with network calls per clip, and end to end
   with the autoencoder and the renderer.
"""

from __future__ import annotations

import argparse
import logging
import lzma
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_common, also when imported by tests

from bench_common import command_line, load_average, machine_info, markdown_table, update_markdown_section  # noqa: E402

from anytime_audio import codec  # noqa: E402
from anytime_audio.codec_format import FIXED_BYTES  # noqa: E402
from anytime_audio.core.coding import range_encode  # noqa: E402

log = logging.getLogger("bench_codec")
SECTION = "bench_codec"
FRACTIONS = (0.125, 0.25, 0.5, 1.0)
RESULTS_HEADER = "# Results\n"


@dataclass
class Setting:
    name: str
    prior: str
    steps: int | None = None
    schedule: str = "dp"
    layers: int | None = None


def settings(length: int) -> list[Setting]:
    q, e = max(1, length // 4), max(1, length // 8)
    return [Setting("causal, 1 code/layer", "transformer"), Setting(f"causal, {e} layers", "transformer", layers=e),
            Setting("ARDM, full steps", "ardm"),
            Setting(f"ARDM, 1/4 calls ({q}), DP", "ardm", q, "dp"), Setting(f"ARDM, 1/4 calls ({q}), even", "ardm", q, "even"),
            Setting(f"ARDM, 1/8 calls ({e}), DP", "ardm", e, "dp"), Setting(f"ARDM, 1/8 calls ({e}), even", "ardm", e, "even")]


@dataclass
class Coded:
    """One setting applied to every clip: the files and the sums behind the bits table."""

    setting: Setting
    files: list[bytes] = field(default_factory=list)
    layers: int = 0
    calls: int = 0
    encode_seconds: float = 0.0
    reference_bits: float = float("nan")  # prior's held-out NLL, bits per code
    model_bits: float = 0.0
    ideal_bits: float = 0.0
    payload_bits: float = 0.0
    file_bits: float = 0.0
    table_bits: float = 0.0
    stream_bits: float = 0.0
    flush_bits: float = 0.0


# ------------------------------------------------------------------ part 1: bits
def code_all(c: codec.Codec, setting: Setting, codes: np.ndarray, labels: np.ndarray) -> Coded:
    out = Coded(setting)
    symbols, weights = [], []
    for row, label in zip(codes, labels):
        start = time.perf_counter()
        data, clip = c.encode_codes(row, int(label))
        out.encode_seconds += time.perf_counter() - start
        out.files.append(data)
        out.layers, out.calls = len(clip.sizes), clip.network_calls
        out.model_bits += clip.model_bits
        out.ideal_bits += clip.ideal_bits
        out.payload_bits += 8 * len(clip.payload)
        out.file_bits += 8 * len(data)
        out.table_bits += 8 * (len(data) - len(clip.payload) - FIXED_BYTES)
        ends = np.cumsum([0, *clip.sizes])
        out.flush_bits += sum(8 * len(range_encode(clip.codes[a:b], clip.weights[a:b])) for a, b in zip(ends, ends[1:]))
        symbols.append(clip.codes)
        weights.append(clip.weights)
    out.stream_bits = 8 * len(range_encode(np.concatenate(symbols), np.concatenate(weights)))
    return out


def reference_nll(exp, setting: Setting, codes: np.ndarray, labels: np.ndarray) -> float:
    """The prior's held-out bits per code on these clips (ARDM: random orders, this schedule)."""
    from anytime_audio.likelihood import labels_or_none

    prior = exp.prior(setting.prior)
    torch.manual_seed(0)  # the ARDM's random orders: the same figure on every run
    x, y = torch.from_numpy(codes.astype(np.int64)), torch.from_numpy(labels.astype(np.int64))
    kwargs = {}
    if setting.prior == "ardm":
        kwargs = {"steps": setting.steps, "schedule": setting.schedule}
    total = 0.0
    for lo in range(0, len(x), 64):
        total += float(prior.bits_per_code(x[lo:lo + 64].to(exp.device), labels_or_none(y[lo:lo + 64].to(exp.device), prior),
                                           **kwargs).sum())
    return total / len(x)


def generic_bits(codes: np.ndarray, num_codes: int) -> dict[str, float]:
    """Bits per code of xz and zstd on the whole code array (bytes: uint8 when K <= 256, else uint16)."""
    raw = codes.astype(np.uint8 if num_codes <= 256 else "<u2").tobytes()
    out = {"xz": 8 * len(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME)) / codes.size}
    try:
        import zstandard

        out["zstd"] = 8 * len(zstandard.ZstdCompressor(level=19).compress(raw)) / codes.size
    except ImportError:
        if shutil.which("zstd"):
            done = subprocess.run(["zstd", "-19", "-c", "-q"], input=raw, capture_output=True, check=True)
            out["zstd"] = 8 * len(done.stdout) / codes.size
    return out


# ------------------------------------------------------------------ part 2: ladder
def ks(length: int) -> list[int]:
    return [max(1, round(f * length)) for f in FRACTIONS]


def quality(exp, waves: torch.Tensor, outputs: torch.Tensor, labels: np.ndarray, pesq: bool, judge) -> dict:
    from anytime_audio.audio import metrics as am

    names = ("mel_distance",) + (("pesq", "stoi") if pesq else ())
    per_clip = am.compute_metrics(waves.cpu(), outputs.cpu(), exp.sample_rate, metrics=names)
    values = am.summarize(per_clip)  # PESQ / STOI: over the clips they can score, counted here
    values.update({f"{k}_clips": v for k, v in am.scored_counts(per_clip).items() if k in ("pesq", "stoi")})
    if judge is not None:
        values["judge"] = float(np.mean([h == int(y) for h, y in
                                         zip(judge.recognise_batch(outputs.cpu().numpy(), exp.sample_rate), labels)]))
    return values


@torch.no_grad()
def ladder_quality(exp, waves: torch.Tensor, codes: np.ndarray, labels, pesq: bool, judge) -> dict[int, dict]:
    """Quality of the rendered first-k-codes reconstructions at each ladder budget."""
    out = {}
    for k in ks(exp.autoencoder.code_length):
        rendered = torch.cat([exp.renderer(torch.from_numpy(codes[lo:lo + 25]).long().to(exp.device), k).cpu()
                              for lo in range(0, len(codes), 25)])
        out[k] = quality(exp, waves, rendered, labels, pesq, judge)
    return out


def ogg_audio_bytes(data: bytes) -> int:
    """Bytes of the audio pages of an Ogg Opus file (pages with a granule position; the two
    header pages, OpusHead and OpusTags, have granule position 0), without page headers."""
    total, pos = 0, 0
    while pos + 27 <= len(data) and data[pos:pos + 4] == b"OggS":
        granule = int.from_bytes(data[pos + 6:pos + 14], "little")
        segments = data[pos + 26]
        body = sum(data[pos + 27:pos + 27 + segments])
        total += body if granule else 0
        pos += 27 + segments + body
    return total


def opus_rows(exp, waves: torch.Tensor, labels, bitrates, pesq: bool, judge) -> tuple[list[dict], str]:
    """Opus at each bitrate (kbit/s) on the same clips: actual file bits/s and quality."""
    from anytime_audio.audio.io import load_audio, write_wav

    tool = "opusenc" if shutil.which("opusenc") and shutil.which("opusdec") else "ffmpeg" if shutil.which("ffmpeg") else None
    if not bitrates:
        return [], "Opus not measured (--opus '')"
    if tool is None:
        return [], "Opus not measured: neither opus-tools (opusenc/opusdec) nor ffmpeg is installed"
    rows, sr = [], exp.sample_rate
    with tempfile.TemporaryDirectory() as tmp:
        for kbps in bitrates:
            sizes, decoded = [], []
            for i, wave in enumerate(waves.numpy()):
                src, enc, dec = (Path(tmp) / f"{i}.{ext}" for ext in ("wav", "opus", "out.wav"))
                write_wav(src, wave, sr, normalize=False)
                if tool == "opusenc":
                    subprocess.run(["opusenc", "--quiet", "--bitrate", str(kbps), str(src), str(enc)], check=True)
                    subprocess.run(["opusdec", "--quiet", "--rate", str(sr), str(enc), str(dec)], check=True)
                else:
                    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-c:a", "libopus",
                                    "-b:a", f"{kbps}k", str(enc)], check=True)
                    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(enc), "-ar", str(sr), str(dec)],
                                   check=True)
                sizes.append((ogg_audio_bytes(enc.read_bytes()), enc.stat().st_size))
                out = load_audio(dec, sr, silence_threshold=None)[0][: waves.shape[1]]
                decoded.append(np.pad(out, (0, waves.shape[1] - len(out))))
            seconds = waves.shape[1] / sr
            payload, file = np.mean(sizes, axis=0)
            rows.append({"kbps": kbps, "bits_per_second": 8 * file / seconds, "payload_bits_per_second": 8 * payload / seconds,
                         **quality(exp, waves, torch.from_numpy(np.stack(decoded)), labels, pesq, judge)})
    return rows, (f"Opus: {tool} (libopus), default VBR; payload = its audio pages' packets, file = the whole "
                  f"Ogg Opus file")


# ------------------------------------------------------------------ part 3: round trip and decode speed
def round_trip(c: codec.Codec, coded: Coded, codes: np.ndarray) -> dict:
    """Cut every file at each ladder fraction, decode, compare; decode seconds and calls per fraction."""
    out = {"trials": 0, "failures": 0, "seconds": dict.fromkeys(FRACTIONS, 0.0), "calls": dict.fromkeys(FRACTIONS, 0)}
    for data, row in zip(coded.files, codes):
        for fraction in FRACTIONS:
            small = codec.cut(data, fraction, warn=False)
            start = time.perf_counter()
            try:
                decoded = c.decode(small)
                ok = np.array_equal(decoded.codes[:decoded.k], row[:decoded.k]) and not decoded.codes[decoded.k:].any()
                out["calls"][fraction] += decoded.network_calls
            except ValueError as e:
                log.error("round trip failed: %s", e)
                ok = False
            out["seconds"][fraction] += time.perf_counter() - start
            out["trials"] += 1
            out["failures"] += not ok
    return out


@torch.no_grad()
def end_to_end(c: codec.Codec, waves: torch.Tensor, labels) -> dict:
    """Seconds per clip: autoencoder, entropy coding, decoding and rendering, for these clips."""
    t0 = time.perf_counter()
    codes = c.encode_waves(list(waves.numpy()))
    t1 = time.perf_counter()
    files = [c.encode_codes(row, int(y))[0] for row, y in zip(codes, labels)]
    t2 = time.perf_counter()
    decoded = [c.decode(f) for f in files]
    t3 = time.perf_counter()
    c.render(decoded)
    t4 = time.perf_counter()
    n = len(waves)
    return {"autoencoder": (t1 - t0) / n, "encode": (t2 - t1) / n, "decode": (t3 - t2) / n, "render": (t4 - t3) / n}


# ------------------------------------------------------------------ report
def _f(v, digits=3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def bits_table(rows: list[Coded], n: int, length: int, num_codes: int, generic: dict) -> str:
    per = n * length
    full = next((r.payload_bits for r in rows if r.setting.prior == "ardm" and r.setting.steps is None), None)
    header = ["setting", "layers", "calls/clip", "prior NLL", "NLL as coded", "payload", "file",
              "file overhead, bits/clip (termination + table + header)", f"stream of {n} clips",
              "amortised overhead", "a stream per layer", "payload vs ARDM full steps"]
    table = []
    for r in rows:
        over = (r.file_bits - r.model_bits) / n
        term = (r.payload_bits - r.model_bits) / n
        vs = "-" if full is None or r.setting.prior != "ardm" else f"{100 * (r.payload_bits / full - 1):+.1f}%"
        table.append([r.setting.name, r.layers, r.calls, _f(r.reference_bits), _f(r.model_bits / per),
                      f"**{r.payload_bits / per:.3f}**", _f(r.file_bits / per),
                      f"{over:.0f} ({term:+.1f} + {r.table_bits / n:.0f} + {8 * (FIXED_BYTES)})",
                      _f(r.stream_bits / per), f"{100 * (r.stream_bits / r.model_bits - 1):+.2f}%",
                      _f(r.flush_bits / per), vs])
    others = {f"fixed-length code (log2 K = log2 {num_codes})": math.log2(num_codes),
              **{f"{name} on the whole split's code array": bits for name, bits in generic.items()}}
    for name, bits in others.items():  # in the payload column
        table.append([name, *(["-"] * 4), f"{bits:.3f}", *(["-"] * (len(header) - 6))])
    return markdown_table(header, table)


def scored_note(ladder: dict, n: int) -> str:
    """How many clips the PESQ / STOI means are over (STOI needs ~0.4 s of speech; the same clips at every budget)."""
    full = ladder[max(ladder)]
    if "stoi_clips" not in full:
        return ""
    return (f"; PESQ over the {full['pesq_clips']} of {n} clips it can score (at full codes), STOI over the "
            f"{full['stoi_clips']} with enough speech for it (>= ~0.4 s after its silence removal)")


def ladder_table(rows: list[Coded], ladder: dict, opus: list[dict], length: int, clip_seconds: float) -> str:
    per_code = [r for r in rows if r.layers == length]
    header = ["", "codes", *[f"{r.setting.name}: bits/s payload (file)" for r in per_code],
              "mel distance", "PESQ", "STOI", "judge"]
    table = []
    for fraction, k in zip(FRACTIONS, ladder):
        cells = []
        for r in per_code:
            cut = [codec.cut(f, fraction, warn=False) for f in r.files]
            payload = np.mean([sum(codec.parse(f)[0].layer_bytes) for f in cut])
            file = np.mean([len(f) for f in cut])
            cells.append(f"{8 * payload / clip_seconds:.0f} ({8 * file / clip_seconds:.0f})")
        q = ladder[k]
        table.append([f"ours, {fraction:g} of the codes", k, *cells, _f(q["mel_distance"]), _f(q.get("pesq"), 2),
                      _f(q.get("stoi"), 2), _f(q.get("judge"), 2)])
    for o in opus:
        cell = f"{o['payload_bits_per_second']:.0f} ({o['bits_per_second']:.0f})"
        table.append([f"Opus {o['kbps']} kbit/s", "-", *[cell] * len(per_code),
                      _f(o["mel_distance"]), _f(o.get("pesq"), 2), _f(o.get("stoi"), 2), _f(o.get("judge"), 2)])
    return markdown_table(header, table)


def speed_table(rows: list[Coded], trips: dict, n: int) -> str:
    header = ["setting", "compress: calls/clip", "compress clips/s (codes -> file)", "decompress: calls/clip",
              "decompress clips/s (file -> codes)", "decompress at 1/4 of the codes: calls/clip, clips/s"]
    table = []
    for r in rows:
        t = trips[r.setting.name]
        table.append([r.setting.name, r.calls, f"{n / r.encode_seconds:.1f}", t["calls"][1.0] // n,
                      f"{n / t['seconds'][1.0]:.1f}", f"{t['calls'][0.25] / n:.1f}, {n / t['seconds'][0.25]:.1f}"])
    return markdown_table(header, table)


# ------------------------------------------------------------------ main
def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exp-dir", required=True, help="a trained experiment with codes/test.npy and both priors")
    ap.add_argument("--max-clips", type=int, default=None, help="first N test clips (default: all)")
    ap.add_argument("--speed-clips", type=int, default=32, help="clips for the end-to-end timing")
    ap.add_argument("--opus", default="6,8,12", help="Opus bitrates in kbit/s ('' to skip)")
    ap.add_argument("--no-pesq-stoi", action="store_true", help="skip PESQ and STOI (slow)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: the package's policy)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--write-results", default=None, metavar="RESULTS.md")
    ap.add_argument("--write-benchmarks", default=None, metavar="BENCHMARKS.md")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    from anytime_audio.budget_evaluation import select_judge
    from anytime_audio.core.device import configure_threads
    from anytime_audio.experiment import Experiment

    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        configure_threads(0)
    started = time.perf_counter()
    exp = Experiment.open(args.exp_dir, device=args.device)
    info = machine_info(exp.device)
    codes = np.load(exp.code_dir / "test.npy")[: args.max_clips].astype(np.int64)
    labels = np.load(exp.code_dir / "test_labels.npy")[: args.max_clips]
    n, length = codes.shape
    num_codes = exp.autoencoder.num_codes
    rows, trips, skipped = [], {}, []
    for setting in settings(length):
        if not exp.has_prior(setting.prior):
            skipped.append(setting.name)
            continue
        c = codec.Codec(exp, setting.prior, setting.steps, setting.schedule, setting.layers)
        coded = code_all(c, setting, codes, labels)
        coded.reference_bits = reference_nll(exp, setting, codes, labels)
        trips[setting.name] = round_trip(c, coded, codes)
        rows.append(coded)
        print(f"{setting.name:<28} payload {coded.payload_bits / codes.size:.3f} bits/code, NLL as coded "
              f"{coded.model_bits / codes.size:.3f}, prior NLL {coded.reference_bits:.3f}; round trip failures "
              f"{trips[setting.name]['failures']}/{trips[setting.name]['trials']}", flush=True)
    if not rows:
        raise SystemExit(f"{args.exp_dir}: no trained prior (prior_transformer/ or prior_ardm/)")
    dataset = exp.dataset("test", progress=False)
    items = [dataset[i] for i in range(n)]
    waves = torch.stack([x for x, _ in items])
    fresh = codec.Codec(exp, rows[0].setting.prior).encode_waves(list(waves.numpy()))
    if not np.array_equal(fresh, codes):
        log.warning("%d of %d test clips encode to other codes than codes/test.npy (re-run dump-codes?)",
                    int((fresh != codes).any(1).sum()), n)
    judge = select_judge(exp.label_names, exp.cfg.eval.get("judge", "auto"))
    ladder = ladder_quality(exp, waves, codes, labels, not args.no_pesq_stoi, judge)
    bitrates = [float(b) if "." in b else int(b) for b in args.opus.split(",") if b.strip()]
    opus, opus_note = opus_rows(exp, waves, labels, bitrates, not args.no_pesq_stoi, judge)
    speed = {}
    for r in rows:
        if r.setting.name in ("causal, 1 code/layer", f"ARDM, 1/4 calls ({max(1, length // 4)}), DP"):
            c = codec.Codec(exp, r.setting.prior, r.setting.steps, r.setting.schedule, r.setting.layers)
            speed[r.setting.name] = end_to_end(c, waves[: args.speed_clips], labels[: args.speed_clips])
    clip_seconds = waves.shape[1] / exp.sample_rate
    command = command_line(__file__, argv)
    failures = sum(t["failures"] for t in trips.values())
    results = "\n".join([
        "## The codec: bits written, bitrate ladder, round trip (`tools/bench_codec.py`)", "",
        f"Command: `{command}`", "",
        f"Experiment `{args.exp_dir}`: L = {length} codes, K = {num_codes}, {n} test clips of {clip_seconds:g} s, "
        f"each coded as one `.ata` file conditioned on its label; {info['date']}, {info['cpu']}.", "",
        "Bits per code unless stated. *Prior NLL*: the prior's held-out NLL on these clips (ARDM: random orders, "
        "the row's schedule). *NLL as coded*: of the float probabilities the coder used (codes in order, the row's "
        "layers). *Payload*: the range-coded bytes (one stream per clip, verified cut points, no flush per layer). "
        "*File*: the whole `.ata` file. *Stream*: all clips in one stream, no headers or cuts. "
        "*A stream per layer*: the alternative of flushing after every layer.", "",
        bits_table(rows, n, length, num_codes, generic_bits(codes, num_codes)), "",
        "### Bitrate ladder (cut files; bits per second of audio)", "",
        f"Quality of the rendered clips ({exp.cfg.model.get('vocoder', 'griffin_lim')}) against the originals; "
        f"mel distance on waveforms{scored_note(ladder, n)}. {opus_note}.", "",
        ladder_table(rows, ladder, opus, length, clip_seconds), "",
        f"### Round trip: **{failures} failures** in {sum(t['trials'] for t in trips.values())} decodes "
        f"({n} clips x {len(FRACTIONS)} budgets x {len(rows)} settings)"
        + (f"; not measured (prior not trained): {', '.join(skipped)}" if skipped else ""), ""])
    e2e = [[name, *(f"{1000 * v:.1f}" for v in s.values())] for name, s in speed.items()]
    benchmarks = "\n".join([
        "## Codec speed (`tools/bench_codec.py`)", "", f"Command: `{command}`", "",
        markdown_table(["", ""], [*info.items(), ("load average at end", load_average()),
                                  ("runtime", f"{time.perf_counter() - started:.0f} s")]), "",
        f"Entropy coding only, one clip at a time (batch size 1 by design), {n} test clips:", "",
        speed_table(rows, trips, n), "",
        f"End to end, ms per clip ({min(n, args.speed_clips)} clips; autoencoder and renderer batched):", "",
        markdown_table(["setting", "autoencoder", "entropy encode", "entropy decode", "render (decoder + vocoder)"], e2e),
        ""])
    print(results + "\n" + benchmarks)
    if args.write_results:
        update_markdown_section(args.write_results, SECTION, results, header=RESULTS_HEADER)
    if args.write_benchmarks:
        update_markdown_section(args.write_benchmarks, SECTION, benchmarks)
    return {"rows": rows, "trips": trips, "ladder": ladder, "opus": opus, "speed": speed, "failures": failures,
            "results": results, "benchmarks": benchmarks}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    main()
