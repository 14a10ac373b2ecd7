"""The ``anytime-audio`` commands: thin handlers over the experiment layer.

Each handler takes the composed configuration and the set of dotted keys the
user gave, and delegates: training to :class:`~anytime_audio.core.trainer.Trainer`,
everything on a trained experiment to :class:`~anytime_audio.experiment.Experiment`.
The experiment folder's layout is documented in :mod:`anytime_audio.experiment`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from anytime_audio.budget_evaluation import run_evaluation
from anytime_audio.builders import build_autoencoder, build_dataset, build_prior
from anytime_audio.core.atomic import (
    atomic_save_numpy,
    atomic_write_json,
    atomic_write_text,
    remove_stale_temporaries,
)
from anytime_audio.core.budget import parse_budgets
from anytime_audio.core.trainer import Trainer, iterate_batches
from anytime_audio.experiment import Experiment, train_config
from anytime_audio.feature_space import fit_classifier
from anytime_audio.generation import generate, requested_labels, sampling_options
from anytime_audio.likelihood import ardm_bits_vs_steps, prior_bits, prior_valid_bits
from anytime_audio.manifest import SPLITS
from anytime_audio.sample_writer import samples_folder, write_samples

log = logging.getLogger(__name__)


def train_ae(cfg: DictConfig, explicit: set[str]) -> None:
    """Train the ordered autoencoder (or, with ``model.truncation=none``, its unordered twin)."""
    exp = Path(str(cfg.exp_dir))
    OmegaConf.set_struct(cfg, False)
    cfg.data.manifest_dir = str(Path(str(cfg.data.manifest_dir)).resolve())
    existing = exp / "config.yaml"
    if existing.is_file() and (exp / "checkpoint.pt").is_file():
        old = OmegaConf.load(existing)
        if OmegaConf.to_container(old.model) != OmegaConf.to_container(cfg.model):
            raise ValueError(f"{exp} holds a model with a different configuration; use a new exp_dir")
    settings = train_config(cfg.train, cfg)
    torch.manual_seed(settings.seed)
    model = build_autoencoder(cfg.model, cfg.data)
    train_set = build_dataset(cfg.data, "train", train=True)
    valid_set = build_dataset(cfg.data, "valid")
    log.info("autoencoder: %s family, L=%d codes of size %d, K=%d, %.2fM parameters, %d train clips",
             cfg.model.family, model.code_length, model.quantizer.code_dim, model.num_codes,
             sum(p.numel() for p in model.parameters()) / 1e6, len(train_set))
    exp.mkdir(parents=True, exist_ok=True)
    atomic_write_text(exp / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    trainer = Trainer(model, train_set, exp, settings, valid_set, lambda m, batch: m.validation_errors(batch))
    result = trainer.fit()
    log.info("done: %s", " ".join(f"{k}={v:.4g}" for k, v in result.items()))


@torch.no_grad()
def dump_codes(cfg: DictConfig, explicit: set[str]) -> None:
    """Encode every manifest split to ``codes/<split>.npy`` ``[N, L]``."""
    exp = Experiment(cfg, explicit)
    model = exp.autoencoder
    manifest_dir = Path(str(exp.cfg.data.manifest_dir))
    if not (manifest_dir / "train.jsonl").is_file():
        raise FileNotFoundError(f"no train manifest in {manifest_dir}; set data.manifest_dir")
    remove_stale_temporaries(exp.code_dir)
    for split in SPLITS:
        if not (manifest_dir / f"{split}.jsonl").is_file():
            log.warning("no %s manifest in %s; skipping that split", split, manifest_dir)
            continue
        dataset = exp.dataset(split)
        codes, labels = [], []
        for x, y in tqdm(iterate_batches(dataset, 64), total=math.ceil(len(dataset) / 64), desc=f"encode {split}"):
            codes.append(model.encode(model.prepare(x.to(exp.device))).cpu())
            labels.append(y)
        all_codes = torch.cat(codes).numpy()
        dtype = np.int16 if model.num_codes <= 32767 else np.int32
        atomic_save_numpy(exp.code_dir / f"{split}.npy", all_codes.astype(dtype))
        atomic_save_numpy(exp.code_dir / f"{split}_labels.npy", torch.cat(labels).numpy().astype(np.int64))
        log.info("%s: %d clips -> %s codes; %d of %d codebook entries used",
                 split, len(all_codes), tuple(all_codes.shape), len(np.unique(all_codes)), model.num_codes)


def train_prior(cfg: DictConfig, explicit: set[str]) -> None:
    """Fit a prior to the dumped codes; write held-out bits per code to ``prior_<name>/bits.json``."""
    exp = Experiment(cfg, explicit)
    cfg = exp.cfg
    train_set, valid_set = exp.codes("train"), exp.codes("valid")
    num_codes, length, num_classes = int(cfg.model.num_codes), int(train_set.codes.shape[1]), exp.num_classes
    prior_cfg = OmegaConf.to_container(cfg.prior, resolve=True)
    settings = train_config(OmegaConf.create(prior_cfg.pop("train")), cfg)
    torch.manual_seed(settings.seed)
    prior = build_prior(cfg.prior, num_codes, length, num_classes)
    out = exp.prior_dir(str(cfg.prior.name))
    log.info("%s prior: L=%d K=%d classes=%d, %.2fM parameters, %d train sequences", cfg.prior.name, length,
             num_codes, num_classes, sum(p.numel() for p in prior.parameters()) / 1e6, len(train_set))
    extra = {"prior_config": prior_cfg, "num_codes": num_codes, "length": length, "num_classes": num_classes}
    trainer = Trainer(prior, train_set, out, settings, valid_set, prior_valid_bits, extra_state=extra)
    trainer.fit()
    results = {"prior": str(cfg.prior.name), "steps": trainer.step}
    for split in ("valid", "test"):
        if (exp.code_dir / f"{split}.npy").is_file():
            results[f"{split}_bits_per_code"] = prior_bits(prior, exp.codes(split), trainer.device)
    if cfg.prior.name == "ardm":
        results["bits_vs_steps"] = ardm_bits_vs_steps(prior, valid_set, trainer.device)
    atomic_write_json(out / "bits.json", results)
    atomic_write_text(out / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(prior_cfg)))
    log.info("held-out bits per code: %s",
             {k: round(v, 4) for k, v in results.items() if k.endswith("bits_per_code")})


def sample(cfg: DictConfig, explicit: set[str]) -> None:
    """Sample ``n`` examples at every budget from one prior pass; write WAVs or PNGs and a manifest."""
    exp = Experiment(cfg, explicit)
    cfg = exp.cfg
    s = cfg.sample
    n = int(s.n)
    prior_name = str(cfg.prior.name)
    budgets = parse_budgets(s.budgets)
    batch_size = int(s.batch_size)
    # deadlines: measure the prior and decoder for every batch size now, not inside a timed call
    warm = {min(batch_size, n), n % batch_size or batch_size} if any(b.is_deadline for b in budgets) else ()
    sampler = exp.sampler(prior_name, warm_up=sorted(warm))
    labels = requested_labels(s.label, n, getattr(sampler.prior, "num_classes", 0))
    sets = generate(sampler, n, budgets, labels,
                    batch_size=batch_size, steps=s.steps, schedule=str(s.schedule),
                    **sampling_options(s, prior_name))
    out_root = Path(str(s.out_dir)) if s.out_dir else exp.dir / samples_folder(prior_name, s.steps)
    for folder in [out_root, *(p for p in out_root.glob("*") if p.is_dir())]:
        remove_stale_temporaries(folder)  # left by a killed earlier run
    write_samples(sets, out_root, exp.modality, exp.sample_rate if exp.modality == "audio" else 0,
                  exp.label_names)
    for sample_set in sets:
        r = sample_set.result
        log.info("budget %-8s %3d codes  %.1f ms/sample (+%.1f ms decode)%s", r.budget.text, r.codes_used,
                 1000 * r.generate_seconds / n, 1000 * r.decode_seconds / n,
                 "  INFEASIBLE: below the minimum cost, one code returned" if r.infeasible else "")
    log.info("wrote %d samples at %d budgets under %s", n, len(sets), out_root)


def train_classifier(cfg: DictConfig, explicit: set[str]) -> None:
    """Train the evaluation classifier (its feature space is the model's front-end)."""
    exp = Experiment(cfg, explicit)
    section = {k: v for k, v in OmegaConf.to_container(exp.cfg.eval.classifier, resolve=True).items()
               if k != "log_mel"}
    fit_classifier(exp.cfg, exp.classifier_dir, train_config(section, exp.cfg))


def evaluate(cfg: DictConfig, explicit: set[str]) -> None:
    """Quality and cost against budget: ``metrics.json``, ``report.md``, ``budget_curve.png``."""
    run_evaluation(Experiment(cfg, explicit))


def train_vocoder(cfg: DictConfig, explicit: set[str]) -> None:
    """Train our fast vocoder on the corpus; ``model.vocoder=<its folder>`` renders with it."""
    from anytime_audio.audio.vocoders.training import train_vocoder as run

    run(cfg, explicit)


def explore(cfg: DictConfig, explicit: set[str]) -> None:
    """Serve the budget explorer, a local Gradio page, on a trained experiment (``port=``, ``share=``)."""
    import importlib.util

    if importlib.util.find_spec("gradio") is None:
        raise OSError("the budget explorer needs gradio, an optional extra: pip install -e '.[demo]'")
    port = int(cfg.explore.port)
    if not 0 < port < 65536:
        raise ValueError(f"port must lie in 1..65535, got {port}")
    from anytime_audio.app.explorer import serve

    serve(str(cfg.exp_dir), port=port, share=bool(cfg.explore.share), device=str(cfg.device),
          host=str(cfg.explore.host))


def compress(cfg: DictConfig, explicit: set[str]) -> None:
    """Compress WAVs to ``.ata`` files under ``prior=`` (``steps=``, ``schedule=``, ``layers=``, ``label=``)."""
    from anytime_audio import codec

    exp = Experiment(_codec_device(cfg, explicit), explicit)
    c, s = exp.cfg.codec, exp.cfg.sample
    written = codec.compress(exp, _codec_input(c), c.output, prior=str(exp.cfg.prior.name), steps=s.steps,
                             schedule=str(s.schedule), layers=c.layers, label=s.label, batch_size=int(c.batch_size))
    log.info("wrote %d .ata file(s), %d bytes in all", len(written), sum(p.stat().st_size for p in written))


def decompress(cfg: DictConfig, explicit: set[str]) -> None:
    """Decompress ``.ata`` files to WAVs through the experiment's renderer."""
    from anytime_audio import codec

    exp = Experiment(_codec_device(cfg, explicit), explicit)
    written = codec.decompress(exp, _codec_input(exp.cfg.codec), exp.cfg.codec.output,
                               batch_size=int(exp.cfg.codec.batch_size))
    log.info("wrote %d WAV file(s), e.g. %s", len(written), written[0])


def truncate(cfg: DictConfig, explicit: set[str]) -> None:
    """Cut ``.ata`` files to ``budget=`` codes at a layer boundary (no model, no re-encoding)."""
    from anytime_audio import codec

    written = codec.truncate(_codec_input(cfg.codec), cfg.codec.output, budget=cfg.codec.budget)
    log.info("wrote %d cut .ata file(s), e.g. %s", len(written), written[0])


def _codec_input(section: DictConfig) -> str:
    if not section.input:
        raise ValueError("input= is missing: name a file or a folder (e.g. input=clip.wav)")
    return str(section.input)


def _codec_device(cfg: DictConfig, explicit: set[str]) -> DictConfig:
    """The codec runs on the CPU unless ``device=`` is given: a file decodes only where the
    prior's float results match the encoder's, and CPU files travel best."""
    if "device" not in explicit:
        OmegaConf.update(cfg, "device", "cpu")
    return cfg
