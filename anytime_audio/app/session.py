"""The explorer's hold on one experiment: models loaded once, checked at start-up.

:func:`open_session` opens ``exp_dir`` through :class:`~anytime_audio.experiment.Experiment`
and decides, before the page is built, what the page can offer:

* no folder, no ``config.yaml`` or no autoencoder ``checkpoint.pt``, or a
  checkpoint that does not load: :class:`ExplorerError` with one line that says
  which command to run (the page does not start: it would have nothing to show);
* a half-trained experiment (the autoencoder stopped before ``train.steps``, a
  prior with a checkpoint but no ``bits.json``, i.e. its training has not
  finished): the page starts and :attr:`ExplorerSession.notes` carries one line
  per problem, logged at start-up and shown as a banner;
* no trained prior: Reconstruct and Results work, Generate says what to run.

Everything here is plain Python and torch (no gradio), so tests and the
benchmark use it directly.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

import torch

from anytime_audio.core.anytime import AnytimeSampler
from anytime_audio.core.checkpoint import load_checkpoint
from anytime_audio.experiment import PRIORS, Experiment, saved_config

log = logging.getLogger(__name__)

UNCONDITIONAL = "unconditional"
TEST_CLIPS = 24  # test items offered in the "pick a test clip" list


class ExplorerError(ValueError):
    """The experiment cannot be explored; the message is one line saying what to run."""


class ExplorerSession:
    """One opened experiment and what the page needs from it.

    Args:
        exp: the opened experiment (models load on first use, then stay).
        notes: start-up warnings (half-trained parts), one line each.
    """

    def __init__(self, exp: Experiment, notes: list[str] | None = None) -> None:
        self.exp = exp
        self.notes = list(notes or [])
        self.priors = [name for name in PRIORS if exp.has_prior(name) and _finished_prior(exp, name)]
        self._samplers: dict[str, AnytimeSampler] = {}

    # ------------------------------------------------------------- facts
    @property
    def name(self) -> str:
        return self.exp.dir.name

    @property
    def modality(self) -> str:
        return self.exp.modality

    @property
    def is_audio(self) -> bool:
        return self.modality == "audio"

    @property
    def length(self) -> int:
        """L, the number of codes."""
        return int(self.exp.autoencoder.code_length)

    @property
    def num_codes(self) -> int:
        """K, the codebook size."""
        return int(self.exp.autoencoder.num_codes)

    @property
    def sample_rate(self) -> int:
        return self.exp.sample_rate if self.is_audio else 0

    @property
    def clip_seconds(self) -> float:
        return float(self.exp.cfg.data.clip_seconds) if self.is_audio else 0.0

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_seconds * self.sample_rate))

    @property
    def family(self) -> str:
        return str(self.exp.cfg.model.family)

    @property
    def device(self) -> torch.device:
        return self.exp.device

    def label_choices(self, prior: str | None = None) -> list[str]:
        """``unconditional`` followed by the class names a conditional prior accepts."""
        names = self.exp.label_names or [str(i) for i in range(self.exp.num_classes)]
        priors = [prior] if prior else self.priors
        conditional = any(getattr(self.exp.prior(p), "num_classes", 0) for p in priors)
        return [UNCONDITIONAL, *names] if conditional else [UNCONDITIONAL]

    def label_index(self, choice: str | None) -> int | None:
        """The class index of a label choice (None: unconditional); ValueError for an unknown name."""
        if choice in (None, "", UNCONDITIONAL):
            return None
        choices = self.label_choices()[1:]
        if choice not in choices:
            raise ValueError(f"unknown label {choice!r}; choose one of {', '.join([UNCONDITIONAL, *choices])}")
        return choices.index(choice)

    # ------------------------------------------------------------ models
    def sampler(self, name: str) -> AnytimeSampler:
        """The anytime sampler over prior ``name`` (built once; its time estimates persist)."""
        if name not in self.priors:
            raise ValueError(f"no trained {name} prior in {self.exp.dir}: run "
                             f"`anytime-audio train-prior exp_dir={self.exp.dir} prior={name}`")
        if name not in self._samplers:
            self._samplers[name] = self.exp.sampler(name)
        return self._samplers[name]

    @cached_property
    def logmel(self):
        """The log-mel front end for spectrogram pictures: the model's own, or a default one."""
        from anytime_audio.audio.features import LogMel

        frontend = getattr(self.exp.autoencoder, "frontend", None)
        return frontend if isinstance(frontend, LogMel) else LogMel(self.sample_rate).to(self.device)

    @cached_property
    def codec(self):
        """The experiment's codec (:mod:`anytime_audio.codec`) under its first prior; None for images or no prior."""
        if not self.is_audio or not self.priors:
            return None
        from anytime_audio.codec import Codec

        return Codec(self.exp, prior=self.priors[0])

    # -------------------------------------------------------------- data
    @cached_property
    def test_set(self):
        """The test split, or None when its manifest is not on this machine."""
        try:
            return self.exp.dataset("test", progress=False)
        except (OSError, ValueError) as e:
            log.warning("no test clips to pick from: %s", " ".join(str(e).split()))
            return None

    def test_items(self) -> list[str]:
        """Names of the first test items, ``"3: seven"``, for the picker."""
        data = self.test_set
        if data is None:
            return []
        names = self.exp.label_names
        out = []
        for i in range(min(TEST_CLIPS, len(data))):
            label = int(data[i][1])
            out.append(f"{i}: {names[label]}" if 0 <= label < len(names) else str(i))
        return out

    def test_item(self, choice: str):
        """``(input tensor, label)`` of a picker entry ``"3: seven"``."""
        data = self.test_set
        if data is None:
            raise ValueError("this experiment's test manifest is not available on this machine")
        try:
            index = int(str(choice).split(":", 1)[0])
        except ValueError:
            raise ValueError(f"unknown test item {choice!r}") from None
        if not 0 <= index < len(data):
            raise ValueError(f"test item {index} out of range (0..{len(data) - 1})")
        return data[index]

    # ----------------------------------------------------------- results
    @property
    def budget_curve(self) -> Path:
        return self.exp.dir / "budget_curve.png"

    @property
    def metrics_path(self) -> Path:
        return self.exp.dir / "metrics.json"


def _finished_prior(exp: Experiment, name: str) -> bool:
    """A prior counts as trained once ``train-prior`` wrote its ``bits.json`` (after the last step)."""
    return (exp.prior_dir(name) / "bits.json").is_file()


def _check_folder(exp_dir: Path) -> None:
    if not exp_dir.is_dir():
        raise ExplorerError(f"experiment folder {exp_dir} does not exist: train one with "
                            f"`anytime-audio train-ae exp_dir={exp_dir}` (or fix exp_dir=)")
    if not (exp_dir / "config.yaml").is_file():
        raise ExplorerError(f"{exp_dir} holds no config.yaml, so it is not an experiment: run "
                            f"`anytime-audio train-ae exp_dir={exp_dir}` first")
    if not (exp_dir / "checkpoint.pt").is_file():
        raise ExplorerError(f"{exp_dir} holds no trained autoencoder (checkpoint.pt missing): "
                            f"run `anytime-audio train-ae exp_dir={exp_dir}` first")


def startup_notes(exp: Experiment, ae_step: int | None, planned: int | None) -> list[str]:
    """One line per half-trained part of ``exp`` (empty when everything is finished).

    ``ae_step``: the autoencoder checkpoint's step; ``planned``: ``train.steps`` of the
    configuration ``train-ae`` saved (the composed one holds today's defaults).
    """
    notes = []
    if ae_step is not None and planned is not None and ae_step < int(planned):
        notes.append(f"half-trained: the autoencoder stopped at step {ae_step} of {int(planned)} "
                     "(training stopped early or is still running); reconstructions will sound poor")
    for name in PRIORS:
        if exp.has_prior(name) and not _finished_prior(exp, name):
            notes.append(f"half-trained: prior_{name} has a checkpoint but no bits.json (its training has not "
                         f"finished); Generate leaves it out until `anytime-audio train-prior prior={name}` ends")
    if not any(exp.has_prior(name) and _finished_prior(exp, name) for name in PRIORS):
        notes.append(f"no trained prior: Generate needs `anytime-audio dump-codes exp_dir={exp.dir}` then "
                     f"`anytime-audio train-prior exp_dir={exp.dir}`; Reconstruct works")
    return notes


def open_session(exp_dir: str | Path, device: str = "cpu", overrides: list[str] | None = None) -> ExplorerSession:
    """Open ``exp_dir`` for the explorer, load its models once, and check what is trained.

    Raises :class:`ExplorerError` (one line) when there is nothing to explore.
    """
    exp_dir = Path(exp_dir)
    _check_folder(exp_dir)
    try:
        state = load_checkpoint(exp_dir / "checkpoint.pt")
        exp = Experiment.open(exp_dir, device=device, overrides=overrides)
        exp.autoencoder  # noqa: B018 - load now, so a broken checkpoint fails at start-up
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        detail = " ".join(str(e).split())
        raise ExplorerError(f"cannot load the experiment in {exp_dir}: {detail}") from None
    step, planned = state.get("step"), saved_config(exp_dir).get("train", {}).get("steps")
    notes = startup_notes(exp, None if step is None else int(step), None if planned is None else int(planned))
    session = ExplorerSession(exp, notes)
    for name in session.priors:
        try:
            session.sampler(name)
        except (OSError, ValueError, RuntimeError, KeyError) as e:
            raise ExplorerError(f"cannot load prior_{name} in {exp_dir}: {' '.join(str(e).split())}") from None
    for note in session.notes:
        log.warning("%s: %s", exp_dir, note)
    return session
