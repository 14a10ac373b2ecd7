"""``train-classifier`` and ``evaluate``: what each budget buys.

Three views of one experiment, written to ``metrics.json`` / ``report.md`` /
``budget_curve.png`` (shape documented in :mod:`anytime_audio.eval.report`):

* **reconstruction** on the test split at code fractions: the ordering
  property, for the ordered model and, when ``<exp_dir>/../unordered`` exists,
  the unordered baseline evaluated the same way. ``mse`` is measured in the
  model's own space (log-mel for the mel family, samples for the waveform
  family, pixels for images); ``mel_distance`` is the mean L1 between log-mels;
  waveform metrics (``stft_distance``, ``si_sdr``, ``pesq``, ``stoi``) compare the
  vocoded reconstruction with the original clip. Griffin-Lim does not keep the
  phase, so SI-SDR of mel models is low at every budget; PESQ and STOI are the
  more telling waveform metrics there. For mel models the row
  ``vocoder_on_input`` scores Griffin-Lim applied to the *true* log-mel: the
  ceiling of the waveform metrics that no budget can exceed.
* **generation**: Fréchet distance, accuracy against the requested class and
  Inception score in the feature space of a small classifier trained on the
  corpus labels (no pretrained embedder can be downloaded). Audio samples are
  scored on log-mels: the decoder's output for mel models, so that vocoder
  artefacts do not blur the budget comparison.
* **cost**: prior + decoder seconds per sample and network calls per batch.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from anytime_audio.builders import Renderer, build_dataset
from anytime_audio.commands import copy_render_keys, generate, load_autoencoder, load_prior, saved_config
from anytime_audio.core.checkpoint import load_checkpoint, save_checkpoint
from anytime_audio.core.device import pick_device
from anytime_audio.core.trainer import iterate_batches
from anytime_audio.eval.report import fraction_key, write_report

log = logging.getLogger(__name__)

PRIORS = ("transformer", "ardm")


# ------------------------------------------------------------------ classifier
def _classifier_space(cfg):
    """Function mapping dataset inputs to what the classifier reads (log-mel or pixels)."""
    if cfg.data.modality == "image":
        return lambda x: x
    from anytime_audio.audio.features import LogMel

    logmel = LogMel(int(cfg.data.sample_rate))
    return lambda x: logmel.to(x.device)(x)


def build_classifier(cfg, num_classes: int):
    from anytime_audio.eval.classifier import AudioClassifier, ImageClassifier

    if cfg.data.modality == "image":
        return ImageClassifier(num_classes, in_channels=int(cfg.data.channels))
    return AudioClassifier(num_classes, n_mels=80)


def classifier_path(cfg) -> Path:
    return Path(str(cfg.exp_dir)) / "classifier" / "checkpoint.pt"


def train_eval_classifier(cfg: DictConfig) -> None:
    """Train (once) the classifier whose features the generation metrics use."""
    from anytime_audio.eval.classifier import train_classifier

    path = classifier_path(cfg)
    if path.is_file():
        log.info("classifier exists at %s; skipping", path)
        return
    num_classes = int(cfg.data.get("num_classes", 0) or 0)
    if num_classes < 2:
        log.warning("data set %s has no class labels; generation metrics will be skipped", cfg.data.name)
        return
    device = pick_device(str(cfg.device))
    torch.manual_seed(int(cfg.seed))
    train_set = build_dataset(cfg.data, "train", train=True)
    valid_set = build_dataset(cfg.data, "valid")
    to_space = _classifier_space(cfg)
    ccfg = cfg.eval.classifier
    bs = int(ccfg.batch_size)
    loader = torch.utils.data.DataLoader(train_set, batch_size=bs, shuffle=True, drop_last=True)
    valid_loader = list(iterate_batches(valid_set, bs))
    model = build_classifier(cfg, num_classes)
    history = train_classifier(model, loader, valid_loader, steps=int(ccfg.steps), lr=float(ccfg.lr),
                               device=device, transform=to_space)
    save_checkpoint(path, {"model": model.cpu().state_dict(), "num_classes": num_classes,
                           "valid_accuracy": float(history["best_valid_accuracy"])})
    log.info("classifier valid accuracy %.3f -> %s", history["best_valid_accuracy"], path)


def load_classifier(cfg, device):
    path = classifier_path(cfg)
    if not path.is_file():
        return None, None
    state = load_checkpoint(path)
    model = build_classifier(cfg, int(state["num_classes"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval(), float(state["valid_accuracy"])


# -------------------------------------------------------------- reconstruction
@torch.no_grad()
def reconstruction_curve(cfg, exp_dir: Path, fractions, device) -> dict:
    """Metrics at each code fraction for the autoencoder in ``exp_dir``."""
    from anytime_audio.audio import metrics as am

    sub = cfg.copy()
    OmegaConf.set_struct(sub, False)
    saved = saved_config(exp_dir)
    sub.exp_dir, sub.model = str(exp_dir), saved.model
    copy_render_keys(sub.model, cfg.model)  # one vocoder setting for every model compared
    model = load_autoencoder(sub, device)
    renderer = Renderer(model, sub.model, sub.data).to(device)
    dataset = build_dataset(sub.data, "test", progress=False)
    limit = min(len(dataset), int(cfg.eval.num_test))
    audio = cfg.data.modality == "audio"
    sr = int(cfg.data.sample_rate) if audio else 0
    waveform_metrics = ("stft_distance", "si_sdr") + (("pesq", "stoi") if cfg.eval.pesq_stoi else ())
    sums: dict[str, dict[str, list]] = {fraction_key(f): {} for f in fractions}
    vocoder_ceiling = audio and sub.model.family == "mel"
    if vocoder_ceiling:
        sums["vocoder"] = {}
    for x, _ in iterate_batches(torch.utils.data.Subset(dataset, range(limit)), 25):
        x = x.to(device)
        inputs = model.prepare(x)
        codes = model.encode(inputs)
        if vocoder_ceiling:  # Griffin-Lim on the true log-mel: the best any mel model can sound
            values = am.compute_metrics(x.cpu(), renderer.vocoder(inputs).cpu(), sr, metrics=waveform_metrics)
            for name, v in values.items():
                sums["vocoder"].setdefault(name, []).append(v.double().reshape(-1))
        for f in fractions:
            k = max(1, round(f * model.code_length))
            out = model.decode(codes, k)
            values = {"mse": (out - inputs).pow(2).flatten(1).mean(1)}
            if audio:
                if sub.model.family == "mel":
                    values["mel_distance"] = am.log_mel_distance(inputs, out)
                    wave = renderer.vocoder(out)
                else:
                    wave = out
                    values["mel_distance"] = am.mel_distance(x, wave, sr)
                values.update(am.compute_metrics(x.cpu(), wave.cpu(), sr, metrics=waveform_metrics))
            bucket = sums[fraction_key(f)]
            for name, v in values.items():
                bucket.setdefault(name, []).append(torch.as_tensor(v, dtype=torch.float64).reshape(-1).cpu())
    return {fk: {name: _nanmean(torch.cat(vs)) for name, vs in bucket.items()} for fk, bucket in sums.items()}


def _nanmean(v: torch.Tensor) -> float | None:
    v = v[torch.isfinite(v)]
    return float(v.mean()) if v.numel() else None


# ------------------------------------------------------------------ generation
@torch.no_grad()
def reference_features(cfg, classifier, device, limit: int) -> torch.Tensor:
    dataset = build_dataset(cfg.data, "test", progress=False)
    to_space = _classifier_space(cfg)
    feats = []
    for x, _ in iterate_batches(torch.utils.data.Subset(dataset, range(min(limit, len(dataset)))), 64):
        feats.append(classifier.embed(to_space(x.to(device))).cpu())
    return torch.cat(feats)


@torch.no_grad()
def generation_curve(cfg, prior_name: str, model, classifier, ref_feats, fractions, device, steps=None,
                     prior=None) -> tuple[dict, dict]:
    """Generation and cost metrics at each fraction for one prior."""
    from anytime_audio.eval.classifier import classifier_scores
    from anytime_audio.eval.frechet import frechet_distance

    sub = cfg.copy()
    OmegaConf.set_struct(sub, False)
    sub.prior = OmegaConf.create({"name": prior_name})
    sub.sample.budgets = [float(f) for f in fractions]
    sub.sample.label = None
    sub.sample.steps = steps
    prior = prior if prior is not None else load_prior(sub, device, prior_name)
    n = int(cfg.eval.num_generated)
    to_space = _classifier_space(cfg) if sub.model.family != "mel" else (lambda x: x)
    results = generate(sub, prior, model.decode, model.code_length, n, device, progress=False)
    generation, cost = {}, {}
    for f, entry in zip(fractions, results):
        fk = fraction_key(f)
        cost[fk] = {"seconds_per_sample": (entry["seconds"] + entry["decode_seconds"]) / n,
                    "network_calls": float(entry["network_calls"]), "codes": float(entry["k"])}
        if classifier is None:
            continue
        scores = classifier_scores(classifier, to_space(entry["outputs"].to(device)),
                                   labels=entry["labels"])
        generation[fk] = {
            "frechet_distance": frechet_distance(scores["features"], ref_feats),
            "accuracy": scores["accuracy"] if entry["labels"] is not None else None,
            "inception_score": scores["inception_score"],
        }
    return generation, cost


def _prior_exists(exp: Path, name: str) -> bool:
    return (exp / f"prior_{name}" / "checkpoint.pt").is_file()


def run_evaluation(cfg: DictConfig) -> dict:
    """Write metrics.json, report.md and budget_curve.png into ``exp_dir``."""
    exp = Path(str(cfg.exp_dir))
    device = pick_device(str(cfg.device))
    torch.manual_seed(int(cfg.seed))
    fractions = [float(f) for f in cfg.eval.fractions]
    metrics: dict = {"reconstruction": {}, "generation": {}, "cost": {}}
    log.info("reconstruction on %d test clips", int(cfg.eval.num_test))
    ordered = reconstruction_curve(cfg, exp, fractions, device)
    ceiling = ordered.pop("vocoder", None)
    metrics["reconstruction"]["ordered"] = ordered
    if ceiling:
        metrics["reconstruction"]["vocoder_on_input"] = {fraction_key(1.0): ceiling}
    baseline = exp.parent / "unordered"
    if (baseline / "checkpoint.pt").is_file():
        baseline_curve = reconstruction_curve(cfg, baseline, fractions, device)
        baseline_curve.pop("vocoder", None)
        metrics["reconstruction"]["unordered"] = baseline_curve
    model = load_autoencoder(cfg, device)
    classifier, classifier_acc = load_classifier(cfg, device)
    # Fréchet statistics of the whole test split: the reference should not shrink with num_test
    ref = reference_features(cfg, classifier, device, 10**9) if classifier is not None else None
    extra_sections = {}
    if classifier is not None:
        metrics["classifier_valid_accuracy"] = classifier_acc
    bits = {}
    for name in PRIORS:
        if not _prior_exists(exp, name):
            continue
        log.info("generation with the %s prior", name)
        gen, cost = generation_curve(cfg, name, model, classifier, ref, fractions, device)
        metrics["generation"][name], metrics["cost"][name] = gen, cost
        bits_path = exp / f"prior_{name}" / "bits.json"
        if bits_path.is_file():
            bits[name] = json.loads(bits_path.read_text())
        if name == "ardm":
            metrics.update(ardm_step_metrics(cfg, model, classifier, ref, device, bits.get("ardm", {})))
    if bits:
        metrics["bits_per_code"] = {name: b.get("test_bits_per_code", b.get("valid_bits_per_code")) for name, b in bits.items()}
        extra_sections["Held-out bits per code"] = _bits_table(bits)
    if "ardm_steps" in metrics:
        extra_sections["ARDM: bits per code against network calls"] = _ardm_table(metrics["ardm_steps"], bits)
    paths = write_report(exp, metrics, extra_sections, title=f"anytime_audio report: {cfg.data.name} ({exp})")
    log.info("report: %s", paths["report"])
    return metrics


# ------------------------------------------------------------------ ARDM steps
def ardm_step_metrics(cfg, model, classifier, ref, device, bits: dict) -> dict:
    """ARDM at full codes with fewer network calls: DP schedule vs even split."""
    sub = cfg.copy()
    OmegaConf.set_struct(sub, False)
    prior = load_prior(sub, device, "ardm")
    length = model.code_length
    out: dict = {"schedules": {}}
    for schedule in ("dp", "even"):
        rows = {}
        for f in (1.0, 0.5, 0.25, 0.125):
            steps = max(1, round(f * length))
            row = {"steps": steps, "predicted_bits_per_code": prior.predicted_cost(length, steps, schedule) / length}
            measured = bits.get("bits_vs_steps", {}).get(schedule, {}).get(str(steps))
            row["bits_per_code"] = measured
            if classifier is not None:
                sub.sample.schedule = schedule
                gen, cost = generation_curve(sub, "ardm", model, classifier, ref, [1.0], device, steps=steps, prior=prior)
                row.update(gen.get("1.0", {}))
                row["seconds_per_sample"] = cost["1.0"]["seconds_per_sample"]
            rows[fraction_key(f)] = row
        out["schedules"][schedule] = rows
    return {"ardm_steps": out}


def _bits_table(bits: dict) -> str:
    lines = ["| prior | valid bits/code | test bits/code |", "|---|---|---|"]
    for name, b in bits.items():
        lines.append(f"| {name} | {_f(b.get('valid_bits_per_code'))} | {_f(b.get('test_bits_per_code'))} |")
    return "\n".join(lines)


def _ardm_table(ardm: dict, bits: dict) -> str:
    lines = ["| schedule | fraction of calls | calls | bits/code (measured) | bits/code (predicted) | frechet | accuracy |",
             "|---|---|---|---|---|---|---|"]
    for schedule, rows in ardm["schedules"].items():
        for fk, row in rows.items():
            lines.append(f"| {schedule} | {fk} | {row['steps']} | {_f(row.get('bits_per_code'))} | "
                         f"{_f(row.get('predicted_bits_per_code'))} | {_f(row.get('frechet_distance'))} | {_f(row.get('accuracy'))} |")
    if "transformer" in bits:
        lines.append(f"\nCausal transformer prior: {_f(bits['transformer'].get('valid_bits_per_code'))} bits/code (valid).")
    return "\n".join(lines)


def _f(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.4g}"
