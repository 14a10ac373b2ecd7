"""What the buttons do, as plain functions: the page calls them, tests and the benchmark too.

* :func:`generate` yields :class:`GenerateUpdate` s. With the causal
  (transformer) prior it first streams the sample as codes arrive (about
  :data:`STREAM_UPDATES` decodes up to the chosen budget ``k``, or until the
  deadline), then draws once more with the same seed through
  :meth:`~anytime_audio.core.anytime.AnytimeSampler.sample` at the chosen
  budget plus the ladder 1/8, 1/4, 1/2, 1: the same codes (same seed), now with
  the sampler's honest per-budget cost (codes used, network calls,
  milliseconds; a deadline is held by the sampler, not by the stream). With the
  ARDM there is no prefix before the last network call, so the update comes per
  finished budget: the chosen one first, then each rung, every rung spending
  the chosen calls per code (``steps / k``).
* :func:`reconstruct` / :func:`reconstruct_item` encode a clip (an upload or
  a test item), decode it at ``k`` codes, give its size (raw codes, and the
  :mod:`anytime_audio.codec` file cut to ``k`` codes), and show it next to the original and
  the vocoder ceiling (the experiment's vocoder on the original's log-mel:
  what the codes can at best sound like). Bad uploads come back as a message, never raise.
* :func:`results_view`: ``budget_curve.png`` and key figures of ``metrics.json``.

Audio experiments show one clip (player + log-mel picture) per result; image
experiments a grid of :data:`IMAGE_SAMPLES` images.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from anytime_audio.app.media import UploadError, audio_value, grid, load_upload, spectrogram
from anytime_audio.app.session import UNCONDITIONAL, ExplorerSession
from anytime_audio.core.anytime import SCHEDULES
from anytime_audio.core.budget import parse_budget

LADDER = ((0.125, "1/8"), (0.25, "1/4"), (0.5, "1/2"), (1.0, "1"))
STREAM_UPDATES = 8
IMAGE_SAMPLES = 16


@dataclass
class Shown:
    """One result as the page shows it: a player and a log-mel picture, or an image grid."""

    title: str
    caption: str
    audio: tuple[int, np.ndarray] | None = None
    picture: np.ndarray | None = None
    codes_used: int = 0
    network_calls: int = 0
    milliseconds: float = 0.0


@dataclass
class GenerateSettings:
    """The Generate controls. ``budget``: k codes (None: all L); ``steps``: ARDM calls for k
    (None: one per code); ``deadline``: ``"150ms"``/``"0.2s"`` or empty (causal prior only)."""

    prior: str = "transformer"
    label: str = UNCONDITIONAL
    seed: int = 0
    temperature: float = 1.0
    top_k: int = 0
    budget: int | None = None
    steps: int | None = None
    schedule: str = "dp"
    deadline: str = ""


@dataclass
class GenerateUpdate:
    """What the page shows at one moment of a Generate press."""

    status: str
    live: Shown | None = None
    ladder: list[Shown | None] = field(default_factory=list)  # one entry per rung once known
    error: bool = False
    seconds: float = 0.0  # since the press


@dataclass
class ReconstructView:
    """A clip at k codes beside its original and the vocoder ceiling."""

    message: str
    original: Shown | None = None
    at_k: Shown | None = None
    ceiling: Shown | None = None
    ladder: Shown | None = None  # images: the clip at 1/8..1 in one grid
    error: bool = False


# ------------------------------------------------------------------ helpers
def fraction_text(k: int, length: int) -> str:
    """``16 of 64 codes (0.25 of L)``."""
    return f"{k} of {length} codes ({k / length:.3g} of L)"


def show(session: ExplorerSession, output: torch.Tensor, title: str, caption: str, **cost) -> Shown:
    """The page's view of a decoded batch (audio: its first clip; images: a grid)."""
    if session.is_audio:
        wave = output[0].detach().float().cpu()
        return Shown(title, caption, audio_value(wave, session.sample_rate),
                     spectrogram(wave, session.logmel), **cost)
    return Shown(title, caption, picture=grid(output), **cost)


def _check(session: ExplorerSession, s: GenerateSettings):
    """Normalised ``(k, steps, deadline budget, labels tensor or None, n)``; ValueError in one line."""
    if not session.priors:
        raise ValueError(f"no trained prior in {session.exp.dir}: run `anytime-audio dump-codes` and "
                         "`anytime-audio train-prior` first (Reconstruct works without one)")
    if s.prior not in session.priors:
        raise ValueError(f"prior {s.prior!r} is not trained here; choose {' or '.join(session.priors)}")
    length = session.length
    k = length if s.budget in (None, "") else int(s.budget)
    if not 1 <= k <= length:
        raise ValueError(f"code budget must lie in 1..{length}, got {k}")
    if not (isinstance(s.temperature, (int, float)) and s.temperature > 0 and math.isfinite(s.temperature)):
        raise ValueError(f"temperature must be a number > 0, got {s.temperature!r}")
    if int(s.top_k) < 0:
        raise ValueError(f"top-k must be 0 (off) or more, got {s.top_k}")
    if s.schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {s.schedule!r}")
    steps = k if s.steps in (None, "", 0) else int(s.steps)
    if s.prior == "ardm" and not 1 <= steps <= k:
        raise ValueError(f"network calls must lie in 1..{k} for a budget of {k} codes, got {steps}")
    deadline = None
    if str(s.deadline or "").strip():
        text = str(s.deadline).strip()
        deadline = parse_budget(text if text[-1].isalpha() else f"{text}ms")  # a bare number means ms
        if not deadline.is_deadline:
            raise ValueError(f"deadline must look like 150ms or 0.2s, got {text!r}")
        if s.prior == "ardm":
            raise ValueError("a deadline needs the transformer prior: the ARDM fills k codes in a fixed number "
                             "of network calls (clear the deadline box or pick the transformer)")
    n = 1 if session.is_audio else IMAGE_SAMPLES
    index = session.label_index(s.label)
    labels = None if index is None else torch.full((n,), index, dtype=torch.long, device=session.device)
    return k, steps, deadline, labels, n


def calls_text(n: int) -> str:
    return f"{n} network call" + ("" if n == 1 else "s")


def _cost_caption(r, length: int, fraction: bool = True) -> str:
    codes = fraction_text(r.codes_used, length) if fraction else f"{r.codes_used} of {length} codes"
    text = f"{codes} · {calls_text(r.network_calls)} · {1000 * r.seconds:.0f} ms"
    if r.steps is not None:
        text += f" ({r.schedule} schedule)"
    return text


# ----------------------------------------------------------------- generate
def generate(session: ExplorerSession, settings: GenerateSettings) -> Iterator[GenerateUpdate]:
    """Updates for one Generate press; a bad setting gives one update with ``error`` set."""
    start = time.perf_counter()
    try:
        k, steps, deadline, labels, n = _check(session, settings)
    except ValueError as e:
        yield GenerateUpdate(str(e), error=True)
        return
    seed = int(settings.seed)
    try:
        if settings.prior == "ardm":
            yield from _generate_ardm(session, settings, k, steps, labels, n, seed, start)
        else:
            yield from _generate_causal(session, settings, k, deadline, labels, n, seed, start)
    except (ValueError, RuntimeError) as e:
        yield GenerateUpdate(" ".join(str(e).split()), error=True, seconds=time.perf_counter() - start)


def _generator(session: ExplorerSession, seed: int) -> torch.Generator:
    return torch.Generator(device=session.device).manual_seed(seed)


def _generate_causal(session, s, k, deadline, labels, n, seed, start) -> Iterator[GenerateUpdate]:
    sampler, length = session.sampler(s.prior), session.length
    sampling = {"temperature": float(s.temperature), "top_k": int(s.top_k)}
    limit = length if deadline is not None else k  # under a deadline, stream until time runs out
    every = max(1, limit // STREAM_UPDATES)  # the stream may stop short of k; the result below is exactly k
    stream = sampler.progressive(n, labels, every, generator=_generator(session, seed), **sampling)
    try:
        for got, output in stream:
            elapsed = time.perf_counter() - start
            live = show(session, output, f"{got} codes so far", f"{fraction_text(got, length)} · "
                        f"{calls_text(got)} · {1000 * elapsed:.0f} ms since the press")
            yield GenerateUpdate(f"Streaming: {fraction_text(got, length)}", live, seconds=elapsed)
            if got + every > limit or (deadline is not None and elapsed >= deadline.seconds):
                break
    finally:
        stream.close()
    main = deadline if deadline is not None else parse_budget(k)
    results = sampler.sample(n, [main, *(f for f, _ in LADDER)], labels,
                             generator=_generator(session, seed), **sampling)
    first, rungs = results[0], results[1:]
    if deadline is not None:
        title = f"Deadline {deadline.text}"
        caption = _cost_caption(first, length) + f" · ready after {1000 * first.elapsed_seconds:.0f} ms"
        if first.infeasible:
            caption += " · INFEASIBLE: below the minimum cost, one code returned"
        elif first.late:
            caption += " · LATE"
    else:
        title, caption = f"Budget k = {k}", _cost_caption(first, length)
    live = show(session, first.output, title, caption, codes_used=first.codes_used,
                network_calls=first.network_calls, milliseconds=1000 * first.seconds)
    ladder = [show(session, r.output, f"{name} of the codes", _cost_caption(r, length, False), codes_used=r.codes_used,
                   network_calls=r.network_calls, milliseconds=1000 * r.seconds) for r, (_, name) in zip(rungs, LADDER)]
    elapsed = time.perf_counter() - start
    yield GenerateUpdate(f"Done in {1000 * elapsed:.0f} ms: {caption}. The ladder below is the same sample "
                         "(same seed) cut at 1/8, 1/4, 1/2 and all of the codes.", live, ladder, seconds=elapsed)


def _generate_ardm(session, s, k, steps, labels, n, seed, start) -> Iterator[GenerateUpdate]:
    sampler, length = session.sampler("ardm"), session.length
    options = {"schedule": s.schedule, "temperature": float(s.temperature)}

    def draw(budget_k: int, calls: int):
        return sampler.sample(n, [budget_k], labels, steps=calls, generator=_generator(session, seed), **options)[0]

    first = draw(k, steps)
    live = show(session, first.output, f"Budget k = {k}", _cost_caption(first, length), codes_used=first.codes_used,
                network_calls=first.network_calls, milliseconds=1000 * first.seconds)
    ladder: list[Shown | None] = [None] * len(LADDER)
    per_code = steps / k
    yield GenerateUpdate(f"ARDM: {_cost_caption(first, length)}; the ladder follows, each rung at "
                         f"{per_code:.3g} network calls per code", live, list(ladder),
                         seconds=time.perf_counter() - start)
    for i, (fraction, name) in enumerate(LADDER):
        rung_k = parse_budget(fraction).num_codes(length)
        r = draw(rung_k, max(1, min(rung_k, round(per_code * rung_k))))
        ladder[i] = show(session, r.output, f"{name} of the codes", _cost_caption(r, length, False),
                         codes_used=r.codes_used, network_calls=r.network_calls, milliseconds=1000 * r.seconds)
        done = i == len(LADDER) - 1
        elapsed = time.perf_counter() - start
        yield GenerateUpdate(f"Done in {1000 * elapsed:.0f} ms" if done else f"Ladder: {name} done",
                             live, list(ladder), seconds=elapsed)


# --------------------------------------------------------------- reconstruct
@torch.no_grad()
def _reconstruct(session: ExplorerSession, x: torch.Tensor, k: int, notes: list[str], name: str) -> ReconstructView:
    ae, length = session.exp.autoencoder, session.length
    k = int(k)
    if not 1 <= k <= length:
        return ReconstructView(f"k must lie in 1..{length}, got {k}", error=True)
    x = x.to(session.device)
    start = time.perf_counter()
    codes = ae.encode(ae.prepare(x))
    encode_ms = 1000 * (time.perf_counter() - start)
    start = time.perf_counter()
    out = session.exp.renderer(codes, k)
    decode_ms = 1000 * (time.perf_counter() - start)
    bits = k * math.log2(session.num_codes)
    size = f"{bits:.0f} bits = {math.ceil(bits / 8)} bytes of raw codes"
    compressed = compressed_size(session, codes[0], k)
    if compressed is not None:
        size += f"; {compressed} bytes as a codec file ({session.codec.prior_name} prior)"
    caption = f"{fraction_text(k, length)} · {size} · encode {encode_ms:.0f} ms, decode {decode_ms:.0f} ms"
    original = show(session, x, f"Original: {name}", "what the model hears" if session.is_audio else "the input")
    at_k = show(session, out, f"At k = {k}", caption, codes_used=k, network_calls=0, milliseconds=decode_ms)
    ceiling, ladder = None, None
    vocoder = getattr(session.exp.renderer, "vocoder", None)
    if session.is_audio and vocoder is not None:
        name_of = str(session.exp.cfg.model.get("vocoder", "griffin_lim"))
        ceiling = show(session, vocoder(ae.prepare(x)), "Vocoder ceiling",
                       f"the vocoder ({name_of}) on the original's log-mel: the best the codes can sound")
    elif session.is_audio:
        notes = [*notes, "the waveform model has no vocoder: its ceiling is the original"]
    else:
        rows = [session.exp.renderer(codes, parse_budget(f).num_codes(length)) for f, _ in LADDER]
        ladder = Shown("At 1/8, 1/4, 1/2, 1", "left to right", picture=grid(torch.cat([x, *rows]), len(LADDER) + 1))
    message = f"Reconstructed {name!r} at {fraction_text(k, length)}."
    if notes:
        message += " Input: " + "; ".join(notes) + "."
    return ReconstructView(message, original, at_k, ceiling, ladder)


def compressed_size(session: ExplorerSession, codes: torch.Tensor, k: int) -> int | None:
    """Bytes of the codec's file for one clip's codes ``[L]`` cut to ``k`` codes (header included); None
    where there is no codec (images, no trained prior)."""
    if session.codec is None:
        return None
    from anytime_audio.codec_format import cut

    data, _ = session.codec.encode_codes(codes.detach().cpu().numpy())
    return len(cut(data, int(k), warn=False))


def reconstruct(session: ExplorerSession, path, k: int, name: str | None = None) -> ReconstructView:
    """An uploaded or recorded audio file at ``k`` codes; a bad file gives a view with ``error`` set."""
    if not session.is_audio:
        return ReconstructView("this is an image experiment: pick a test image instead", error=True)
    try:
        upload = load_upload(path, session.sample_rate, session.clip_samples, name)
    except UploadError as e:
        return ReconstructView(str(e), error=True)
    return _reconstruct(session, torch.from_numpy(upload.wave)[None], k, upload.notes, upload.name)


def reconstruct_item(session: ExplorerSession, choice: str, k: int) -> ReconstructView:
    """Test item ``choice`` (``"3: seven"``) at ``k`` codes."""
    try:
        x, _ = session.test_item(choice)
    except ValueError as e:
        return ReconstructView(str(e), error=True)
    return _reconstruct(session, x[None], k, [], f"test item {choice}")


def test_clip_audio(session: ExplorerSession, choice: str) -> tuple[int, np.ndarray] | None:
    """A test clip as a player value (to load it into the Reconstruct input)."""
    if not choice:
        return None
    x, _ = session.test_item(choice)
    return audio_value(x, session.sample_rate)


# ------------------------------------------------------------------ results
_KEY_METRICS = {"reconstruction": ("mel_distance", "si_sdr", "mse"), "generation": ("accuracy", "frechet_distance"),
                "cost": ("seconds_per_sample", "network_calls")}


def _number(v, metric: str) -> str:
    if v is None:
        return "n/a"
    if metric == "seconds_per_sample":
        return f"{1000 * v:.1f} ms"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def results_view(session: ExplorerSession) -> tuple[np.ndarray | None, str]:
    """``(budget_curve.png as RGB, markdown of key figures)``; says what to run when missing."""
    from anytime_audio.scoring.report import load_metrics

    picture = None
    if session.budget_curve.is_file():
        from PIL import Image

        with Image.open(session.budget_curve) as img:
            picture = np.asarray(img.convert("RGB"))
    if not session.metrics_path.is_file():
        return picture, (f"No results yet: run `anytime-audio evaluate exp_dir={session.exp.dir}` to write "
                         "metrics.json and budget_curve.png.")
    try:
        metrics = load_metrics(session.metrics_path)
    except (OSError, ValueError) as e:
        return picture, f"metrics.json cannot be read: {' '.join(str(e).split())}"
    columns, fractions = [], set()  # (section, model, metric) shown, budgets seen
    for section, preferred in _KEY_METRICS.items():
        for model, by_fraction in (metrics.get(section) or {}).items():
            names = {m for values in by_fraction.values() for m in values}
            chosen = [m for m in preferred if m in names][:2]
            columns += [(section, model, m) for m in chosen]
            fractions |= set(by_fraction)
    lines = []
    if columns:  # one row per figure, one column per budget: narrow enough for the page
        ordered = sorted(fractions, key=float)
        lines += ["| budget (fraction of L) | " + " | ".join(ordered) + " |", "|---|" + "---:|" * len(ordered)]
        for section, model, m in columns:
            by_fraction = metrics[section].get(model) or {}
            cells = [_number((by_fraction.get(f) or {}).get(m), m) for f in ordered]
            name = m.replace("seconds_per_sample", "time per sample")
            lines.append(f"| {name} ({model}, {section}) | " + " | ".join(cells) + " |")
    extras = []
    for name, bits in (metrics.get("bits_per_code") or {}).items():
        if isinstance(bits, (int, float)):
            extras.append(f"{name} prior: {bits:.3g} bits per code")
    if isinstance(metrics.get("classifier_valid_accuracy"), (int, float)):
        extras.append(f"judging classifier: {metrics['classifier_valid_accuracy']:.3g} validation accuracy")
    if extras:
        lines += ["", " · ".join(extras)]
    return picture, "\n".join(lines) or "metrics.json holds no results yet."
