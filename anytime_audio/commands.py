"""The work behind each ``anytime-audio`` command.

Experiment folder layout (``exp_dir``)::

    config.yaml            resolved configuration of the autoencoder run
    checkpoint.pt          autoencoder (model, optimizer, RNG; weights_only-safe)
    metrics.csv            training and validation curves
    codes/<split>.npy      [N, L] int16 codes; <split>_labels.npy [N] int64
    prior_<name>/          checkpoint.pt, config.yaml, metrics.csv, bits.json
    samples/<budget>/      WAVs <index>[_<label>].wav (transformer prior)
    samples_<name>[_steps<S>]/<budget>/   other priors / step budgets
    classifier/            the evaluation classifier
    metrics.json, report.md, budget_curve.png   (evaluate)
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from anytime_audio.builders import Renderer, build_autoencoder, build_dataset, build_prior
from anytime_audio.core.checkpoint import (
    atomic_save_numpy,
    atomic_write_json,
    atomic_write_text,
    load_checkpoint,
)
from anytime_audio.core.device import pick_device
from anytime_audio.core.trainer import Trainer, TrainConfig, iterate_batches

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ helpers
def _exp(cfg) -> Path:
    return Path(str(cfg.exp_dir))


SHARED_TRAIN_KEYS = ("amp", "log_backend", "resume", "progress")


def _train_config(section, cfg) -> TrainConfig:
    """TrainConfig from a config section; run-wide keys default to ``cfg.train``'s."""
    d = OmegaConf.to_container(section, resolve=True)
    for key in SHARED_TRAIN_KEYS:
        if key not in d and key in cfg.train:
            d[key] = cfg.train[key]
    d.setdefault("seed", int(cfg.seed))
    d.setdefault("device", str(cfg.device))
    return TrainConfig.from_dict(d)


def saved_config(exp_dir: Path) -> DictConfig:
    path = exp_dir / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `anytime-audio train-ae exp_dir={exp_dir}` first")
    return OmegaConf.load(path)


# Model keys that only change how codes are rendered, not the trained network:
# they may be overridden after training (e.g. ``model.griffin_lim_iters=32``).
RENDER_KEYS = ("griffin_lim_iters",)


def copy_render_keys(target: DictConfig, source: DictConfig, names=RENDER_KEYS) -> None:
    """Set the rendering keys ``names`` of model section ``target`` from ``source``
    (keys ``source`` lacks are left alone)."""
    for name in names:
        value = OmegaConf.select(source, name)
        if value is not None:
            OmegaConf.update(target, name, value, force_add=True)


def with_saved(cfg: DictConfig, explicit: set[str]) -> DictConfig:
    """Take data/model sections from the experiment's saved config unless overridden.

    ``explicit`` holds the dotted keys given on the command line.  The trained
    autoencoder fixes the model section, except the rendering keys in
    :data:`RENDER_KEYS`; other ``model.*`` overrides are ignored with a warning.
    """
    saved = saved_config(_exp(cfg))
    asked = cfg.model
    cfg = cfg.copy()
    OmegaConf.set_struct(cfg, False)
    cfg.model = saved.model
    asked_names = sorted(k.split(".", 1)[1] for k in explicit if k.startswith("model."))
    copy_render_keys(cfg.model, asked, [n for n in asked_names if n in RENDER_KEYS])
    for name in asked_names:
        value = OmegaConf.select(asked, name)
        if name not in RENDER_KEYS and value != OmegaConf.select(saved.model, name):
            key = f"model.{name}"
            log.warning("%s=%s ignored: the trained model in %s fixes it (only %s can change after training)",
                        key, value, _exp(cfg), ", ".join(f"model.{k}" for k in RENDER_KEYS))
    if not any(k.split(".")[0] == "data" for k in explicit):
        cfg.data = saved.data
    return cfg


def load_autoencoder(cfg: DictConfig, device: torch.device):
    model = build_autoencoder(cfg.model, cfg.data)
    state = load_checkpoint(_exp(cfg) / "checkpoint.pt", map_location="cpu")
    model.load_state_dict(state["model"])
    return model.to(device).eval()


def load_prior(cfg: DictConfig, device: torch.device, name: str | None = None):
    name = name or str(cfg.prior.name)
    prior_dir = _exp(cfg) / f"prior_{name}"
    state = load_checkpoint(prior_dir / "checkpoint.pt", map_location="cpu")
    prior = build_prior(OmegaConf.create(state["prior_config"]), int(state["num_codes"]), int(state["length"]),
                        int(state["num_classes"]))
    prior.load_state_dict(state["model"])
    return prior.to(device).eval()


def label_names(cfg) -> list[str]:
    from anytime_audio.manifest import read_labels

    return read_labels(cfg.data.manifest_dir)


# ---------------------------------------------------------------- train-ae
def _ae_valid(model, batch):
    return model.validation_errors(batch)


def train_ae(cfg: DictConfig, explicit: set[str]) -> None:
    exp = _exp(cfg)
    data_cfg = cfg.data
    manifest_dir = Path(str(data_cfg.manifest_dir)).resolve()
    OmegaConf.set_struct(cfg, False)
    cfg.data.manifest_dir = str(manifest_dir)
    existing = exp / "config.yaml"
    if existing.is_file() and (exp / "checkpoint.pt").is_file():
        old = OmegaConf.load(existing)
        if OmegaConf.to_container(old.model) != OmegaConf.to_container(cfg.model):
            raise ValueError(f"{exp} holds a model with a different configuration; use a new exp_dir")
    train_cfg = _train_config(cfg.train, cfg)
    torch.manual_seed(train_cfg.seed)
    model = build_autoencoder(cfg.model, cfg.data)
    train_set = build_dataset(cfg.data, "train", train=True)
    valid_set = build_dataset(cfg.data, "valid")
    log.info("autoencoder: %s family, L=%d codes of size %d, K=%d, %.2fM parameters, %d train clips",
             cfg.model.family, model.code_length, model.quantizer.code_dim, model.num_codes,
             sum(p.numel() for p in model.parameters()) / 1e6, len(train_set))
    exp.mkdir(parents=True, exist_ok=True)
    atomic_write_text(exp / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    trainer = Trainer(model, train_set, exp, train_cfg, valid_set, _ae_valid)
    result = trainer.fit()
    log.info("done: %s", " ".join(f"{k}={v:.4g}" for k, v in result.items()))


# -------------------------------------------------------------- dump-codes
def dump_codes(cfg: DictConfig, explicit: set[str]) -> None:
    cfg = with_saved(cfg, explicit)
    device = pick_device(str(cfg.device))
    model = load_autoencoder(cfg, device)
    out_dir = _exp(cfg) / "codes"
    manifest_dir = Path(str(cfg.data.manifest_dir))
    if not (manifest_dir / "train.jsonl").is_file():
        raise FileNotFoundError(f"no train manifest in {manifest_dir}; set data.manifest_dir")
    for split in ("train", "valid", "test"):
        if not (manifest_dir / f"{split}.jsonl").is_file():
            log.warning("no %s manifest in %s; skipping that split", split, manifest_dir)
            continue
        dataset = build_dataset(cfg.data, split)
        codes, labels = [], []
        for x, y in tqdm(iterate_batches(dataset, 64), total=math.ceil(len(dataset) / 64), desc=f"encode {split}"):
            codes.append(model.encode(model.prepare(x.to(device))).cpu())
            labels.append(y)
        all_codes = torch.cat(codes).numpy()
        dtype = np.int16 if model.num_codes <= 32767 else np.int32
        atomic_save_numpy(out_dir / f"{split}.npy", all_codes.astype(dtype))
        atomic_save_numpy(out_dir / f"{split}_labels.npy", torch.cat(labels).numpy().astype(np.int64))
        used = len(np.unique(all_codes))
        log.info("%s: %d clips -> %s codes; %d of %d codebook entries used",
                 split, len(all_codes), tuple(all_codes.shape), used, model.num_codes)


# ------------------------------------------------------------- train-prior
class CodeDataset(torch.utils.data.Dataset):
    """Dumped codes and labels as ``(codes [L] long, label long)`` items."""

    def __init__(self, code_dir: Path, split: str) -> None:
        path = code_dir / f"{split}.npy"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: run `anytime-audio dump-codes` first")
        self.codes = torch.from_numpy(np.load(path, allow_pickle=False).astype(np.int64))
        self.labels = torch.from_numpy(np.load(code_dir / f"{split}_labels.npy", allow_pickle=False))

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i):
        return self.codes[i], self.labels[i]


def _labels_or_none(labels: torch.Tensor, prior) -> torch.Tensor | None:
    if getattr(prior, "num_classes", 0) <= 0 or labels is None or bool((labels < 0).all()):
        return None
    return labels


def prior_bits(prior, dataset: CodeDataset, device, batch_size: int = 128, **kwargs) -> float:
    """Mean held-out negative log2-likelihood per code."""
    prior.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for codes, labels in iterate_batches(dataset, batch_size):
            codes, labels = codes.to(device), labels.to(device)
            bits = prior.bits_per_code(codes, _labels_or_none(labels, prior), **kwargs)
            total += float(bits.sum())
            count += len(bits)
    return total / max(1, count)


def _prior_valid(model, batch):
    codes, labels = batch
    return {"bits_per_code": float(model.bits_per_code(codes, _labels_or_none(labels, model)).mean())}


def train_prior(cfg: DictConfig, explicit: set[str]) -> None:
    cfg = with_saved(cfg, explicit)
    exp = _exp(cfg)
    code_dir = exp / "codes"
    train_set = CodeDataset(code_dir, "train")
    valid_set = CodeDataset(code_dir, "valid")
    num_codes = int(cfg.model.num_codes)
    length = int(train_set.codes.shape[1])
    num_classes = int(cfg.data.get("num_classes", 0) or 0)
    prior_cfg = OmegaConf.to_container(cfg.prior, resolve=True)
    train_section = prior_cfg.pop("train")
    train_cfg = _train_config(OmegaConf.create(train_section), cfg)
    torch.manual_seed(train_cfg.seed)
    prior = build_prior(cfg.prior, num_codes, length, num_classes)
    out = exp / f"prior_{cfg.prior.name}"
    log.info("%s prior: L=%d K=%d classes=%d, %.2fM parameters, %d train sequences",
             cfg.prior.name, length, num_codes, num_classes, sum(p.numel() for p in prior.parameters()) / 1e6,
             len(train_set))
    extra = {"prior_config": prior_cfg, "num_codes": num_codes, "length": length, "num_classes": num_classes}
    trainer = Trainer(prior, train_set, out, train_cfg, valid_set, _prior_valid, extra_state=extra)
    trainer.fit()
    device = trainer.device
    results = {"prior": cfg.prior.name, "steps": trainer.step}
    for split in ("valid", "test"):
        try:
            data = CodeDataset(code_dir, split)
        except FileNotFoundError:
            continue
        results[f"{split}_bits_per_code"] = prior_bits(prior, data, device)
    if cfg.prior.name == "ardm":
        results.update(ardm_curve(prior, valid_set, device))
    atomic_write_json(out / "bits.json", results)
    atomic_write_text(out / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(prior_cfg)))
    log.info("held-out bits per code: %s", {k: round(v, 4) for k, v in results.items() if k.endswith("bits_per_code")})


def ardm_curve(prior, dataset: CodeDataset, device, fractions=(1.0, 0.5, 0.25, 0.125), batch_size: int = 128) -> dict:
    """ARDM bits per code against network calls, DP schedule vs even split."""
    curve: dict[str, dict] = {"dp": {}, "even": {}}
    length = prior.length
    for fraction in fractions:
        steps = max(1, round(fraction * length))
        for schedule in ("dp", "even"):
            if steps == length and schedule == "even":
                curve[schedule][str(steps)] = curve["dp"][str(steps)]
                continue
            curve[schedule][str(steps)] = prior_bits(prior, dataset, device, batch_size, steps=steps, schedule=schedule)
    return {"bits_vs_steps": curve}


# ------------------------------------------------------------------ sample
def sample_labels(cfg, n: int, prior) -> torch.Tensor | None:
    if getattr(prior, "num_classes", 0) <= 0:
        return None
    if cfg.sample.label is not None:
        label = int(cfg.sample.label)
        if not 0 <= label < prior.num_classes:
            raise ValueError(f"label must lie in 0..{prior.num_classes - 1}, got {label}")
        return torch.full((n,), label, dtype=torch.long)
    return torch.arange(n) % prior.num_classes


def resolve_steps(prior, value, k: int, schedule: str):
    """``steps`` for ARDM: None (one per code), an int, or ``auto``."""
    if value is None or str(value) == "null":
        return k
    if str(value) == "auto":
        return prior.auto_steps(k, schedule=schedule)
    steps = int(value)
    if not 1 <= steps <= k:
        raise ValueError(f"steps must lie in 1..{k} for a budget of {k} codes, got {steps}")
    return steps


def generate(cfg, prior, renderer, length: int, n: int, device, progress: bool = True) -> list[dict]:
    """Sample ``n`` examples at every budget; returns per-budget dicts with outputs and costs."""
    from anytime_audio.core.anytime import AnytimeSampler
    from anytime_audio.core.budget import parse_budgets

    budgets = parse_budgets(list(cfg.sample.budgets))
    labels_all = sample_labels(cfg, n, prior)
    batch_size = int(cfg.sample.batch_size)
    per_budget = [dict(budget=b, outputs=[], codes=[], seconds=0.0, decode_seconds=0.0, calls=0, k=None, steps=None)
                  for b in budgets]
    sampling = dict(temperature=float(cfg.sample.temperature), top_k=int(cfg.sample.top_k), top_p=float(cfg.sample.top_p))
    is_ardm = str(cfg.prior.name) == "ardm"
    sampler = None if is_ardm else AnytimeSampler(prior, renderer, length)
    for start in tqdm(range(0, n, batch_size), desc="sample", disable=not progress):
        m = min(batch_size, n - start)
        labels = None if labels_all is None else labels_all[start : start + m].to(device)
        if is_ardm:
            for entry in per_budget:
                b = entry["budget"]
                if b.is_deadline:
                    raise ValueError("deadline budgets need the causal transformer prior")
                k = b.num_codes(length)
                steps = resolve_steps(prior, cfg.sample.steps, k, str(cfg.sample.schedule))
                t0 = time.perf_counter()
                calls_before = prior.network_calls
                codes = prior.sample(m, k, steps, labels=labels, schedule=str(cfg.sample.schedule),
                                     temperature=sampling["temperature"])
                gen = time.perf_counter() - t0
                t1 = time.perf_counter()
                out = renderer(codes, k)
                entry["decode_seconds"] += time.perf_counter() - t1
                entry["seconds"] += gen
                entry["calls"] += prior.network_calls - calls_before
                entry.update(k=k, steps=steps)
                entry["outputs"].append(out.cpu())
                entry["codes"].append(codes.cpu())
        else:
            for entry, res in zip(per_budget, sampler.sample(m, budgets, labels, **sampling)):
                entry["seconds"] += res.generate_seconds
                entry["decode_seconds"] += res.decode_seconds
                entry["calls"] += res.network_calls
                entry["k"] = res.codes_used if entry["k"] is None else min(entry["k"], res.codes_used)
                entry["outputs"].append(res.output.cpu())
                entry["codes"].append(res.codes.cpu())
    for entry in per_budget:
        entry["outputs"] = torch.cat(entry["outputs"])
        entry["codes"] = torch.cat(entry["codes"])
        entry["labels"] = labels_all
        batches = math.ceil(n / batch_size)
        entry["network_calls"] = entry["calls"] / batches
    return per_budget


def sample(cfg: DictConfig, explicit: set[str]) -> None:
    from anytime_audio.audio.io import write_wav

    cfg = with_saved(cfg, explicit)
    device = pick_device(str(cfg.device))
    autoencoder = load_autoencoder(cfg, device)
    renderer = Renderer(autoencoder, cfg.model, cfg.data).to(device)
    prior = load_prior(cfg, device)
    n = int(cfg.sample.n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    names = label_names(cfg)
    out_root = Path(str(cfg.sample.out_dir)) if cfg.sample.out_dir else _exp(cfg) / samples_folder(cfg)
    results = generate(cfg, prior, renderer, autoencoder.code_length, n, device)
    manifest = []
    for entry in results:
        budget = entry["budget"]
        folder = out_root / budget.label
        labels = entry["labels"]
        if cfg.data.modality == "image":
            path = out_root / f"{budget.label}.png"
            save_image_grid(entry["outputs"], path)
            paths = [str(path)] * n
        else:
            paths = []
            for i, wave in enumerate(entry["outputs"]):
                suffix = ""
                if labels is not None:
                    lab = int(labels[i])
                    suffix = f"_{names[lab] if lab < len(names) else lab}"
                path = folder / f"{i:04d}{suffix}.wav"
                write_wav(path, wave, int(cfg.data.sample_rate))
                paths.append(str(path))
        for i, path in enumerate(paths):
            manifest.append({
                "budget": budget.text, "codes_used": int(entry["k"]), "path": path,
                "label": None if labels is None else int(labels[i]),
                "steps": entry["steps"],
                "seconds_per_sample": (entry["seconds"] + entry["decode_seconds"]) / n,
                "generate_seconds_per_sample": entry["seconds"] / n,
            })
        log.info("budget %-8s %3d codes  %.1f ms/sample (+%.1f ms decode) -> %s", budget.text, entry["k"],
                 1000 * entry["seconds"] / n, 1000 * entry["decode_seconds"] / n, folder if cfg.data.modality != "image" else path)
    from anytime_audio.manifest import write_manifest

    write_manifest(out_root / "manifest.jsonl", manifest)
    log.info("wrote %d samples at %d budgets under %s", n, len(results), out_root)


def samples_folder(cfg) -> str:
    name = str(cfg.prior.name)
    if name == "transformer":
        return "samples"
    steps = cfg.sample.steps
    return f"samples_{name}" + ("" if steps is None else f"_steps{steps}")


def save_image_grid(images: torch.Tensor, path: Path, columns: int | None = None) -> None:
    """Save ``[n, C, H, W]`` images in [-1, 1] as one PNG grid (atomic)."""
    import io

    from PIL import Image

    from anytime_audio.image.datasets import image_to_uint8

    n = images.shape[0]
    columns = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / columns))
    tiles = [image_to_uint8(img) for img in images]
    h, w = tiles[0].shape[:2]
    scale = max(1, 64 // max(h, w))
    mode = "L" if tiles[0].ndim == 2 else "RGB"
    grid = Image.new(mode, (columns * w * scale + (columns - 1), rows * h * scale + (rows - 1)), 255 if mode == "L" else (255, 255, 255))
    for i, tile in enumerate(tiles):
        img = Image.fromarray(tile, mode).resize((w * scale, h * scale), Image.NEAREST)
        grid.paste(img, ((i % columns) * (w * scale + 1), (i // columns) * (h * scale + 1)))
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG")
    from anytime_audio.core.checkpoint import atomic_write_bytes

    atomic_write_bytes(path, buffer.getvalue())


# ------------------------------------------------- classifier and evaluation
def train_classifier(cfg: DictConfig, explicit: set[str]) -> None:
    from anytime_audio.evaluation import train_eval_classifier

    train_eval_classifier(with_saved(cfg, explicit))


def evaluate(cfg: DictConfig, explicit: set[str]) -> None:
    from anytime_audio.evaluation import run_evaluation

    run_evaluation(with_saved(cfg, explicit))
