"""The experiment layer: one object that owns an experiment folder.

Everything that acts on a trained experiment (sampling, evaluation, and later
the codec and the web page) goes through :class:`Experiment`: it reads the
configuration that ``train-ae`` saved, rebuilds and loads the autoencoder, the
priors, the renderer (decoder + vocoder) and the evaluation classifier, each
once, on one device. Its users never read checkpoint files or guess folder
names themselves.

Experiment folder layout (``exp_dir``)::

    config.yaml            resolved configuration of the autoencoder run
    checkpoint.pt          autoencoder (model, optimizer, RNG; weights_only-safe)
    metrics.csv            training and validation curves
    codes/<split>.npy      [N, L] int16 codes; <split>_labels.npy [N] int64
    prior_<name>/          checkpoint.pt, config.yaml, metrics.csv, bits.json
    samples/<budget>/      WAVs <index>[_<label>].wav (transformer prior)
    samples_<name>[_steps<S>]/<budget>/   other priors / step budgets
    classifier/            the evaluation classifier (checkpoint.pt, accuracy.json)
    metrics.json, report.md, budget_curve.png   (evaluate)

The unordered baseline is another experiment folder, named explicitly by
``eval.baseline_dir`` (the recipes set it); nothing is found by guessing.

Python API::

    exp = Experiment.open("recipes/tts_digits/exp/mel_fast/ordered", device="cpu")
    sampler = exp.sampler("transformer")
    results = sampler.sample(4, ["25%", 1.0])
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from anytime_audio.builders import Renderer, build_autoencoder, build_dataset, build_prior
from anytime_audio.core.checkpoint import load_checkpoint
from anytime_audio.core.device import pick_device
from anytime_audio.core.trainer import TrainConfig
from anytime_audio.feature_space import load_classifier

log = logging.getLogger(__name__)

PRIORS = ("transformer", "ardm")

# Model keys that only change how codes are rendered, not the trained network:
# they may be overridden after training (e.g. ``model.griffin_lim_iters=32``,
# ``model.vocoder=hifigan`` or ``model.vocoder=<folder of train-vocoder>``).
RENDER_KEYS = ("griffin_lim_iters", "vocoder")

# Run-wide training keys that a section without them takes from ``cfg.train``.
SHARED_TRAIN_KEYS = ("amp", "log_backend", "resume", "progress")


def train_config(section, cfg: DictConfig) -> TrainConfig:
    """TrainConfig from a config section; run-wide keys default to ``cfg.train``'s."""
    d = OmegaConf.to_container(section, resolve=True) if isinstance(section, DictConfig) else dict(section)
    for key in SHARED_TRAIN_KEYS:
        if key not in d and key in cfg.train:
            d[key] = cfg.train[key]
    d.setdefault("seed", int(cfg.seed))
    d.setdefault("device", str(cfg.device))
    return TrainConfig.from_dict(d)


def saved_config(exp_dir: Path) -> DictConfig:
    """The configuration ``train-ae`` saved in ``exp_dir``."""
    path = Path(exp_dir) / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `anytime-audio train-ae exp_dir={exp_dir}` first")
    return OmegaConf.load(path)


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
    The saved data section is kept with any ``data.<key>`` override applied on
    top; ``data=<name>`` replaces it with another data set.
    """
    exp_dir = Path(str(cfg.exp_dir))
    saved = saved_config(exp_dir)
    asked = cfg.model
    cfg = cfg.copy()
    OmegaConf.set_struct(cfg, False)
    cfg.model = saved.model
    asked_names = sorted(k.split(".", 1)[1] for k in explicit if k.startswith("model."))
    copy_render_keys(cfg.model, asked, [n for n in asked_names if n in RENDER_KEYS])
    for name in asked_names:
        value = OmegaConf.select(asked, name)
        if name not in RENDER_KEYS and value != OmegaConf.select(saved.model, name):
            log.warning("model.%s=%s ignored: the trained model in %s fixes it (only %s can change after training)",
                        name, value, exp_dir, ", ".join(f"model.{k}" for k in RENDER_KEYS))
    if "data" not in explicit:  # data=<group> picks another data set; data.<key>=... adjusts the saved one
        asked_data = cfg.data
        cfg.data = saved.data
        for key in sorted(k for k in explicit if k.startswith("data.")):
            OmegaConf.update(cfg, key, OmegaConf.select(asked_data, key.split(".", 1)[1]), force_add=True)
    return cfg


class Experiment:
    """A trained (or training) experiment folder and the models in it.

    Args:
        cfg: the composed configuration (``exp_dir`` names the folder); data and
            model sections come from the folder's saved ``config.yaml``.
        explicit: dotted keys the user gave, so that their data overrides win.
    """

    def __init__(self, cfg: DictConfig, explicit: set[str] = frozenset()) -> None:
        self.dir = Path(str(cfg.exp_dir))
        self.cfg = with_saved(cfg, set(explicit))
        self.device = pick_device(str(self.cfg.device))
        self._priors: dict[str, torch.nn.Module] = {}

    @classmethod
    def open(cls, exp_dir: str | Path, device: str = "auto", overrides: list[str] | None = None) -> "Experiment":
        """Open ``exp_dir`` from Python (composes the packaged configs with ``overrides``)."""
        from anytime_audio.options import compose

        overrides = list(overrides or [])
        cfg = compose([f"exp_dir={exp_dir}", f"device={device}", *overrides])
        return cls(cfg, {o.split("=", 1)[0].lstrip("+~") for o in overrides})

    # ------------------------------------------------------------- facts
    @property
    def modality(self) -> str:
        return str(self.cfg.data.modality)

    @property
    def sample_rate(self) -> int:
        return int(self.cfg.data.sample_rate)

    @cached_property
    def label_names(self) -> list[str]:
        from anytime_audio.manifest import read_labels

        return read_labels(self.cfg.data.manifest_dir)

    @property
    def num_classes(self) -> int:
        return int(self.cfg.data.get("num_classes", 0) or 0)

    # ------------------------------------------------------------ models
    @cached_property
    def autoencoder(self):
        """The trained autoencoder, in eval mode on :attr:`device`."""
        model = build_autoencoder(self.cfg.model, self.cfg.data)
        state = load_checkpoint(self.dir / "checkpoint.pt", map_location="cpu")
        model.load_state_dict(state["model"])
        return model.to(self.device).eval()

    @cached_property
    def renderer(self) -> Renderer:
        """Codes -> waveforms (decoder, then the vocoder for mel models) or images."""
        return Renderer(self.autoencoder, self.cfg.model, self.cfg.data).to(self.device)

    def prior_dir(self, name: str) -> Path:
        return self.dir / f"prior_{name}"

    def has_prior(self, name: str) -> bool:
        return (self.prior_dir(name) / "checkpoint.pt").is_file()

    def prior(self, name: str | None = None):
        """The trained prior ``name`` (default: ``cfg.prior.name``), loaded once."""
        name = name or str(self.cfg.prior.name)
        if name not in self._priors:
            state = load_checkpoint(self.prior_dir(name) / "checkpoint.pt", map_location="cpu")
            prior = build_prior(OmegaConf.create(state["prior_config"]), int(state["num_codes"]),
                                int(state["length"]), int(state["num_classes"]))
            prior.load_state_dict(state["model"])
            self._priors[name] = prior.to(self.device).eval()
        return self._priors[name]

    def sampler(self, name: str | None = None, render: bool = True, warm_up=()):
        """An :class:`~anytime_audio.core.anytime.AnytimeSampler` over prior ``name``.

        ``render=False`` decodes to the model's own space (log-mel for mel
        models) instead of waveforms, as the evaluation's feature space needs.
        ``warm_up``: batch sizes whose prior and decode times are measured now,
        so that no deadline pays for a cold start.
        """
        from anytime_audio.core.anytime import AnytimeSampler

        decode = self.renderer if render else self.autoencoder.decode
        return AnytimeSampler(self.prior(name), decode, self.autoencoder.code_length, warm_up=warm_up)

    # -------------------------------------------------------------- data
    def dataset(self, split: str, train: bool = False, progress: bool = True):
        return build_dataset(self.cfg.data, split, train=train, progress=progress)

    @property
    def code_dir(self) -> Path:
        return self.dir / "codes"

    def codes(self, split: str):
        """The dumped codes of ``split`` as a :class:`~anytime_audio.likelihood.CodeDataset`."""
        from anytime_audio.likelihood import CodeDataset

        return CodeDataset(self.code_dir, split)

    # ------------------------------------------------- related experiments
    def baseline(self) -> "Experiment | None":
        """The unordered baseline named by ``eval.baseline_dir``, if it is trained."""
        folder = self.cfg.eval.get("baseline_dir")
        if not folder:
            return None
        folder = Path(str(folder))
        if not (folder / "checkpoint.pt").is_file():
            log.warning("eval.baseline_dir=%s holds no trained autoencoder; no baseline in the report", folder)
            return None
        cfg = self.cfg.copy()
        OmegaConf.set_struct(cfg, False)
        cfg.exp_dir = str(folder)
        cfg.eval.baseline_dir = None
        other = Experiment(cfg, {"data"})
        copy_render_keys(other.cfg.model, self.cfg.model)  # one vocoder setting for every model compared
        return other

    # -------------------------------------------------------- classifier
    @property
    def classifier_dir(self) -> Path:
        return self.dir / "classifier"

    def classifier(self):
        """The evaluation classifier, or None when it has not been trained.

        Raises when it was trained on a feature space other than this model's.
        """
        return load_classifier(self.cfg, self.classifier_dir, self.device)
