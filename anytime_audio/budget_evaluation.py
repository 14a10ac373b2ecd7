"""``evaluate``: what each budget buys, written to ``metrics.json`` / ``report.md`` / ``budget_curve.png``.

Three views of one :class:`~anytime_audio.experiment.Experiment` (the shape of
``metrics.json`` is documented in :mod:`anytime_audio.scoring.report`):

* **reconstruction** on the test split at code fractions: the ordering
  property, for the ordered model and, when ``eval.baseline_dir`` names one,
  the unordered baseline evaluated the same way. ``mse`` is measured in the
  model's own space (log-mel for the mel family, samples for the waveform
  family, pixels for images); ``mel_distance`` is the mean L1 between log-mels;
  waveform metrics (``stft_distance``, ``si_sdr``, ``pesq``, ``stoi``) compare the
  vocoded reconstruction with the original clip. Griffin-Lim does not keep the
  phase, so SI-SDR of mel models is low at every budget; PESQ and STOI are the
  more telling waveform metrics there. For mel models the row
  ``vocoder_on_input`` scores the vocoder applied to the *true* log-mel: the
  ceiling of the waveform metrics that no budget can exceed. PESQ and STOI
  cannot score every clip (STOI needs about 0.4 s of speech, PESQ refuses
  silence): their means are over the clips they scored, counted beside them in
  ``pesq_clips`` / ``stoi_clips`` out of ``clips`` (STOI's subset depends on
  the reference only, so it is the same for every budget and model).
* **generation**: Fréchet distance, accuracy against the requested class and
  Inception score in the feature space of the evaluation classifier
  (:mod:`anytime_audio.feature_space`). Mel models are scored on the decoder's
  log-mel, so that vocoder artefacts do not blur the budget comparison.
* **cost**: prior + decoder seconds per sample and network calls per batch.
* **intelligibility** (digit corpora): ``judge_accuracy``, the fraction of
  clips an offline recogniser (:mod:`anytime_audio.audio.judge`) hears as
  their label, on reconstructions and generated samples at every budget, on
  the vocoder ceiling and on the real test clips (row ``test_clips``).
  ``eval.judge``: ``auto`` (when every label is a digit word), ``true``
  (any label words the recogniser knows) or ``false``.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import torch

from anytime_audio.core.trainer import iterate_batches
from anytime_audio.experiment import PRIORS, Experiment
from anytime_audio.generation import generate, sampling_options
from anytime_audio.scoring.report import fraction_key, write_report

log = logging.getLogger(__name__)


# ------------------------------------------------------------ intelligibility
def select_judge(label_names: list[str], setting="auto"):
    """The intelligibility judge for these labels, or None (with the reason logged)."""
    from anytime_audio.audio.judge import DIGIT_WORDS, DigitJudge, is_available

    setting = str(setting).lower()
    if setting in ("false", "off", "none"):
        return None
    if setting == "auto" and not (label_names and set(label_names) <= set(DIGIT_WORDS)):
        log.info("no intelligibility judge: the labels are not digit words (set eval.judge=true to try)")
        return None
    if not is_available():
        log.warning("no intelligibility judge: pocketsphinx is not installed")
        return None
    try:
        return DigitJudge(label_names)
    except ValueError as e:
        log.warning("no intelligibility judge: %s", e)
        return None


def _judge_accuracy(judge, waves: torch.Tensor, labels: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Per-clip 1/0: heard as its label (clips without a label are NaN)."""
    heard = judge.recognise_batch(waves.detach().cpu().float().numpy(), sample_rate)
    right = [float("nan") if int(y) < 0 else float(h == int(y)) for h, y in zip(heard, labels)]
    return torch.tensor(right, dtype=torch.float64)


# -------------------------------------------------------------- reconstruction
@torch.no_grad()
def reconstruction_curve(exp: Experiment, fractions, num_test: int, pesq_stoi: bool, judge=None,
                         split: str = "test") -> dict:
    """Metrics at each code fraction for the autoencoder of ``exp`` on ``split``.

    Also ``"vocoder"`` (mel models: the vocoder on the true log-mel) and, with a
    judge, ``"test_clips"`` (the judge on the real clips).
    """
    from anytime_audio.audio import metrics as am

    model, renderer, device = exp.autoencoder, exp.renderer, exp.device
    dataset = exp.dataset(split, progress=False)
    limit = min(len(dataset), num_test)
    audio = exp.modality == "audio"
    sr = exp.sample_rate if audio else 0
    is_mel = audio and exp.cfg.model.family == "mel"
    waveform_metrics = ("stft_distance", "si_sdr") + (("pesq", "stoi") if pesq_stoi else ())
    sums: dict[str, dict[str, list]] = {fraction_key(f): {} for f in fractions}
    if is_mel:
        sums["vocoder"] = {}
    if judge is not None:
        sums["test_clips"] = {}

    def add(bucket: dict, values: dict) -> None:
        for name, v in values.items():
            bucket.setdefault(name, []).append(torch.as_tensor(v, dtype=torch.float64).reshape(-1).cpu())

    for x, y in iterate_batches(torch.utils.data.Subset(dataset, range(limit)), 25):
        x = x.to(device)
        inputs = model.prepare(x)
        codes = model.encode(inputs)
        if judge is not None:
            add(sums["test_clips"], {"judge_accuracy": _judge_accuracy(judge, x, y, sr)})
        if is_mel:  # the vocoder on the true log-mel: the best any mel model can sound
            ceiling = renderer.vocoder(inputs)
            add(sums["vocoder"], am.compute_metrics(x.cpu(), ceiling.cpu(), sr, metrics=waveform_metrics))
            if judge is not None:
                add(sums["vocoder"], {"judge_accuracy": _judge_accuracy(judge, ceiling, y, sr)})
        for f in fractions:
            k = max(1, round(f * model.code_length))
            out = model.decode(codes, k)
            values = {"mse": (out - inputs).pow(2).flatten(1).mean(1)}
            if audio:
                if is_mel:
                    values["mel_distance"] = am.log_mel_distance(inputs, out)
                    wave = renderer.vocoder(out)
                else:
                    wave = out
                    values["mel_distance"] = am.mel_distance(x, wave, sr)
                values.update(am.compute_metrics(x.cpu(), wave.cpu(), sr, metrics=waveform_metrics))
                if judge is not None:
                    values["judge_accuracy"] = _judge_accuracy(judge, wave, y, sr)
            add(sums[fraction_key(f)], values)
    return {key: _summary(bucket) for key, bucket in sums.items()}


def _summary(bucket: dict[str, list]) -> dict:
    """NaN-skipping means; for PESQ / STOI also how many clips were scored, of how many."""
    out: dict = {name: _nanmean(torch.cat(vs)) for name, vs in bucket.items()}
    counted = {name: torch.cat(bucket[name]) for name in ("pesq", "stoi") if name in bucket}
    if counted:
        from anytime_audio.audio.metrics import scored_counts

        out["clips"] = int(next(iter(counted.values())).numel())
        out.update({f"{name}_clips": n for name, n in scored_counts(counted).items()})
    return out


def _nanmean(v: torch.Tensor) -> float | None:
    v = v[torch.isfinite(v)]
    return float(v.mean()) if v.numel() else None


# ------------------------------------------------------------------ generation
@torch.no_grad()
def reference_features(exp: Experiment, classifier) -> torch.Tensor:
    """Classifier features of the whole test split: the Fréchet reference."""
    dataset = exp.dataset("test", progress=False)
    return torch.cat([classifier.embed(x.to(exp.device)).cpu() for x, _ in iterate_batches(dataset, 64)])


@torch.no_grad()
def generation_curve(exp: Experiment, prior_name: str, classifier, reference, budgets, steps=None,
                     schedule: str = "dp", judge=None) -> tuple[dict, dict]:
    """Generation and cost metrics at each budget for one prior (one step budget for the ARDM)."""
    from anytime_audio.scoring.classifier import classifier_scores
    from anytime_audio.scoring.frechet import frechet_distance

    cfg = exp.cfg
    n = int(cfg.eval.num_generated)
    labels = torch.arange(n) % exp.num_classes if exp.num_classes > 0 else None
    # mel models are scored on the decoder's log-mel; others on what a person gets
    sampler = exp.sampler(prior_name, render=cfg.model.family != "mel")
    if labels is not None and getattr(sampler.prior, "num_classes", 0) <= 0:
        labels = None
    options = sampling_options(cfg.sample, prior_name)
    sets = generate(sampler, n, budgets, labels, batch_size=int(cfg.sample.batch_size), steps=steps,
                    schedule=schedule, progress=False, **options)
    generation, cost = {}, {}
    for budget, sample_set in zip(budgets, sets):
        key = fraction_key(budget)
        cost[key] = {"seconds_per_sample": sample_set.seconds_per_sample,
                     "network_calls": float(sample_set.network_calls_per_batch),
                     "codes": float(sample_set.result.codes_used)}
        row = {}
        output = sample_set.result.output
        if classifier is not None:
            scores = classifier_scores(classifier, output.to(exp.device), labels=labels)
            row.update(frechet_distance=frechet_distance(scores["features"], reference),
                       accuracy=scores["accuracy"] if labels is not None else None,
                       inception_score=scores["inception_score"])
        if judge is not None and labels is not None:
            waves = exp.renderer.vocoder(output.to(exp.device)) if cfg.model.family == "mel" else output
            row["judge_accuracy"] = _nanmean(_judge_accuracy(judge, waves, labels, exp.sample_rate))
        if row:
            generation[key] = row
    return generation, cost


# ------------------------------------------------------------------ ARDM steps
def ardm_step_metrics(exp: Experiment, classifier, reference, bits: dict) -> dict:
    """ARDM at full codes with fewer network calls, one row per measured (schedule, fraction) pair.

    The rows are the ones ``train-prior`` measured (``bits.json``'s ``bits_vs_steps``),
    so the report shows exactly the step counts whose bits were computed.
    """
    prior = exp.prior("ardm")
    length = exp.autoencoder.code_length
    out: dict = {"schedules": {}}
    for row in bits.get("bits_vs_steps", []):
        schedule, steps = row["schedule"], int(row["steps"])
        entry = {"steps": steps, "bits_per_code": row["bits_per_code"],
                 "predicted_bits_per_code": prior.predicted_cost(length, steps, schedule) / length}
        if classifier is not None:
            gen, cost = generation_curve(exp, "ardm", classifier, reference, [1.0], steps=steps, schedule=schedule)
            entry.update(gen.get("1.0", {}))
            entry["seconds_per_sample"] = cost["1.0"]["seconds_per_sample"]
        out["schedules"].setdefault(schedule, {})[fraction_key(row["fraction"])] = entry
    return {"ardm_steps": out}


# ------------------------------------------------------------------ the command
def run_evaluation(exp: Experiment) -> dict:
    """Write metrics.json, report.md and budget_curve.png into the experiment folder."""
    cfg = exp.cfg
    torch.manual_seed(int(cfg.seed))
    fractions = [float(f) for f in cfg.eval.fractions]
    num_test, pesq_stoi = int(cfg.eval.num_test), bool(cfg.eval.pesq_stoi)
    metrics: dict = {"reconstruction": {}, "generation": {}, "cost": {}}
    judge = select_judge(exp.label_names, cfg.eval.get("judge", "auto")) if exp.modality == "audio" else None
    baseline = exp.baseline()
    manifest_dir = Path(str(cfg.data.manifest_dir))
    extra = [s for s in cfg.data.get("extra_test_splits") or [] if (manifest_dir / f"{s}.jsonl").is_file()]
    for split in ["test", *extra]:
        suffix = "" if split == "test" else f" ({split})"  # held-out sets beside test: their own series
        log.info("reconstruction on up to %d %s clips", num_test, split)
        ordered = reconstruction_curve(exp, fractions, num_test, pesq_stoi, judge, split)
        ceiling, real = ordered.pop("vocoder", None), ordered.pop("test_clips", None)
        recon = metrics["reconstruction"]
        recon["ordered" + suffix] = ordered
        if ceiling:
            recon["vocoder_on_input" + suffix] = {fraction_key(1.0): ceiling}
        if real:
            recon["test_clips" + suffix] = {fraction_key(1.0): real}
        if baseline is not None:
            curve = reconstruction_curve(baseline, fractions, num_test, pesq_stoi, judge, split)
            curve.pop("vocoder", None)
            curve.pop("test_clips", None)
            recon["unordered" + suffix] = curve
    loaded = exp.classifier()
    classifier, reference, extra_sections = None, None, {}
    if loaded is not None:
        classifier, metrics["classifier_valid_accuracy"] = loaded
        reference = reference_features(exp, classifier)
    bits = {}
    for name in PRIORS:
        if not exp.has_prior(name):
            continue
        log.info("generation with the %s prior", name)
        metrics["generation"][name], metrics["cost"][name] = generation_curve(exp, name, classifier, reference,
                                                                              fractions, judge=judge)
        bits_path = exp.prior_dir(name) / "bits.json"
        if bits_path.is_file():
            bits[name] = json.loads(bits_path.read_text())
        if name == "ardm":
            metrics.update(ardm_step_metrics(exp, classifier, reference, bits.get("ardm", {})))
    if bits:
        metrics["bits_per_code"] = {name: b.get("test_bits_per_code", b.get("valid_bits_per_code"))
                                    for name, b in bits.items()}
        extra_sections["Held-out bits per code"] = _bits_table(bits)
    if metrics.get("ardm_steps", {}).get("schedules"):
        extra_sections["ARDM: bits per code against network calls"] = _ardm_table(metrics["ardm_steps"], bits)
    paths = write_report(exp.dir, metrics, extra_sections, title=f"anytime_audio report: {cfg.data.name} ({exp.dir})")
    log.info("report: %s", paths["report"])
    return metrics


def _bits_table(bits: dict) -> str:
    lines = ["| prior | valid bits/code | test bits/code |", "|---|---|---|"]
    for name, b in bits.items():
        lines.append(f"| {name} | {_f(b.get('valid_bits_per_code'))} | {_f(b.get('test_bits_per_code'))} |")
    return "\n".join(lines)


def _ardm_table(ardm: dict, bits: dict) -> str:
    lines = ["| schedule | fraction of calls | calls | bits/code (measured) | bits/code (predicted) | frechet | accuracy |",
             "|---|---|---|---|---|---|---|"]
    for schedule, rows in ardm["schedules"].items():
        for key, row in rows.items():
            lines.append(f"| {schedule} | {key} | {row['steps']} | {_f(row.get('bits_per_code'))} | "
                         f"{_f(row.get('predicted_bits_per_code'))} | {_f(row.get('frechet_distance'))} | "
                         f"{_f(row.get('accuracy'))} |")
    if "transformer" in bits:
        lines.append(f"\nCausal transformer prior: {_f(bits['transformer'].get('valid_bits_per_code'))} bits/code (valid).")
    return "\n".join(lines)


def _f(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.4g}"
