"""A small, resumable training loop shared by autoencoders and priors.

The trainer knows nothing of audio or images: it asks the model for
``model.training_loss(batch, step=step) -> (loss, stats)`` and, for validation,
``valid_fn(model, batch) -> {name: float}``. What it adds:

* AdamW with gradient clipping, mixed precision where the device has it;
* an exactly resumable data order (the batch at step ``s`` is a function of
  the seed and ``s``, not of how many times the run was restarted), and
  reproducible random draws inside the dataset: a dataset with a
  ``reseed(seed)`` method (random crops, augmentation) is reseeded before each
  step's batch with ``draw_seed(seed, step, rank)`` (:mod:`anytime_audio.core.batches`);
* atomic checkpoints holding model, optimizer, scaler and RNG state, loaded
  with ``weights_only=True``; ``resume=True`` continues at the exact step;
* CSV logs (and TensorBoard when installed and asked for) and a tqdm bar; a
  resumed run first drops the rows logged after its checkpoint, so no
  ``(step, split, name)`` row appears twice;
* clean-up at start: temporary files that killed writes left in ``out_dir``
  are removed;
* distributed data parallel when launched by ``torchrun`` (nccl on CUDA,
  gloo on CPU); only rank 0 writes files.
"""

from __future__ import annotations

import atexit
import csv
import io
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from anytime_audio.core.atomic import atomic_write_text, remove_stale_temporaries
from anytime_audio.core.batches import (
    StepBatches,
    collate,
    draw_seed,
    iterate_batches,
    reseed_dataset,
    to_device,
)
from anytime_audio.core.checkpoint import (
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from anytime_audio.core.device import autocast_dtype, pick_device

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class TrainConfig:
    """Options of one training run (mirrors ``configs/train/*.yaml``)."""

    steps: int = 1000
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0
    warmup_steps: int = 0
    lr_schedule: str = "constant"
    min_lr_ratio: float = 0.1
    valid_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 50
    valid_batches: int = 8
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    log_backend: str = "csv"
    resume: bool = True
    progress: bool = True

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build from a config section; an unknown key is an error (a typo would be silently ignored)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        kwargs = dict(d)
        if "betas" in kwargs:
            kwargs["betas"] = tuple(kwargs["betas"])
        return cls(**kwargs)


# ---------------------------------------------------------------- distributed
def init_distributed(device_name: str = "auto") -> tuple[int, int, torch.device]:
    """Initialise the process group when launched by torchrun; return (rank, world, device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        device = pick_device(device_name)
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
            dist.init_process_group("nccl")
        else:
            dist.init_process_group("gloo")
        atexit.register(_destroy_process_group)
        return dist.get_rank(), world, device
    if dist.is_initialized():
        device = pick_device(device_name)
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return dist.get_rank(), dist.get_world_size(), device
    return 0, 1, pick_device(device_name)


def _destroy_process_group() -> None:
    """Tear down the process group at exit, while the interpreter is still whole.

    A process that exits with the group alive may abort in the backend's C++
    threads ("terminate called without an active exception") after its work
    is done; the CLI never tears the group down itself.
    """
    if dist.is_initialized():
        dist.destroy_process_group()


def is_main_process() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


class _LossModule(nn.Module):
    """Routes ``forward`` to ``model.training_loss`` so DDP sees a forward call."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch, step: int):
        return self.model.training_loss(batch, step=step)


# -------------------------------------------------------------------- logging
class MetricLogger:
    """Appends scalars to ``<dir>/metrics.csv`` (and TensorBoard if asked)."""

    HEADER = ["step", "split", "name", "value"]

    def __init__(self, out_dir: Path, backend: str = "csv"):
        self.path = out_dir / "metrics.csv"
        self.tensorboard_dir = out_dir / "tensorboard" if backend == "tensorboard" else None
        self.writer = None
        self._purge_step: int | None = None

    def drop_after(self, step: int) -> int:
        """Delete the rows logged after ``step`` (a resumed run logs them again); return how many.

        Rows a kill cut short are dropped too. The file is rewritten atomically;
        TensorBoard drops its own events after ``step`` when it next opens.
        """
        self._purge_step = step + 1
        if not self.path.is_file():
            return 0
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f)) or [self.HEADER]
        kept = [r for r in rows[1:] if len(r) == len(self.HEADER) and r[0].isdigit() and int(r[0]) <= step]
        dropped = len(rows) - 1 - len(kept)
        if dropped:
            text = io.StringIO()
            csv.writer(text).writerows([self.HEADER, *kept])
            atomic_write_text(self.path, text.getvalue())
            log.info("dropped %d rows of %s logged after step %d", dropped, self.path, step)
        return dropped

    def _tensorboard(self):
        if self.writer is None and self.tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(self.tensorboard_dir), purge_step=self._purge_step)
            except ImportError:  # pragma: no cover - tensorboard is a dependency
                log.warning("tensorboard is not installed; logging to CSV only")
                self.tensorboard_dir = None
        return self.writer

    def log(self, step: int, split: str, values: dict[str, float]) -> None:
        new = not self.path.exists()
        with open(self.path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(self.HEADER)
            for name, value in values.items():
                w.writerow([step, split, name, f"{value:.6g}"])
        writer = self._tensorboard()
        if writer is not None:
            for name, value in values.items():
                writer.add_scalar(f"{split}/{name}", value, step)


# -------------------------------------------------------------------- trainer
class Trainer:
    """Train ``model`` on ``train_set`` for ``config.steps`` optimizer steps.

    Args:
        model: has ``training_loss(batch, step=...) -> (loss, stats)``.
        train_set / valid_set: map-style datasets whose items :func:`collate` stacks.
        out_dir: where ``checkpoint.pt`` and ``metrics.csv`` go.
        config: :class:`TrainConfig`.
        valid_fn: ``(model, batch) -> {name: float}``, averaged over batches.
        extra_state: JSON-like values stored in the checkpoint (e.g. model config).
    """

    def __init__(
        self,
        model: nn.Module,
        train_set: Dataset,
        out_dir: str | os.PathLike,
        config: TrainConfig,
        valid_set: Dataset | None = None,
        valid_fn: Callable[[nn.Module, object], dict] | None = None,
        extra_state: dict | None = None,
    ) -> None:
        self.config = config
        self.out_dir = Path(out_dir)
        self.rank, self.world, self.device = init_distributed(config.device)
        torch.manual_seed(config.seed + self.rank)
        self.model = model.to(self.device)
        self.train_set = train_set
        self.valid_set = valid_set
        self.valid_fn = valid_fn
        self.extra_state = extra_state or {}
        self.amp_dtype = autocast_dtype(self.device, config.amp)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
        )
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=self.amp_dtype == torch.float16
        )
        self.batches = StepBatches(len(train_set), config.batch_size, config.seed, self.rank, self.world)
        self.step = 0
        self.loss_module: nn.Module = _LossModule(self.model)
        if self.world > 1:
            ddp_kwargs = {"broadcast_buffers": False}
            if self.device.type == "cuda":
                ddp_kwargs["device_ids"] = [self.device.index]
            self.loss_module = nn.parallel.DistributedDataParallel(self.loss_module, **ddp_kwargs)
        self.logger = MetricLogger(self.out_dir, config.log_backend) if is_main_process() else None
        if is_main_process():
            self.out_dir.mkdir(parents=True, exist_ok=True)
            for tmp in remove_stale_temporaries(self.out_dir):
                log.info("removed %s, left by a write that was killed", tmp)

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / CHECKPOINT_NAME

    # --------------------------------------------------------------- state
    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "rng": capture_rng_state(),
            "world_size": self.world,
            **self.extra_state,
        }

    def save(self) -> None:
        if is_main_process():
            save_checkpoint(self.checkpoint_path, self.state_dict())
        if dist.is_initialized():
            dist.barrier()

    def load(self, path: Path) -> None:
        state = load_checkpoint(path, map_location=self.device)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        if state.get("world_size", 1) == self.world and self.rank == 0:
            restore_rng_state(state["rng"])
        elif "rng" in state:
            torch.manual_seed(self.config.seed + self.rank + self.step)
        log.info("resumed from %s at step %d", path, self.step)

    # ---------------------------------------------------------------- loop
    def _lr_at(self, step: int) -> float:
        """Linear warm-up, then constant or cosine decay to ``min_lr_ratio * lr``."""
        cfg = self.config
        if cfg.warmup_steps and step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        if cfg.lr_schedule == "cosine":
            span = max(1, cfg.steps - cfg.warmup_steps)
            progress = min(1.0, (step - cfg.warmup_steps) / span)
            return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
        if cfg.lr_schedule != "constant":
            raise ValueError(f"lr_schedule must be constant or cosine, got {cfg.lr_schedule!r}")
        return cfg.lr

    def _train_batch(self, step: int):
        """The batch of ``step``: which items from :class:`StepBatches`, their random draws from :func:`draw_seed`."""
        indices = self.batches.indices(step)
        reseed_dataset(self.train_set, draw_seed(self.config.seed, step, self.rank))
        return to_device(collate([self.train_set[i] for i in indices]), self.device)

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        if self.valid_set is None or self.valid_fn is None or len(self.valid_set) == 0:
            return {}
        self.model.eval()
        reseed_dataset(self.valid_set, draw_seed(self.config.seed, 0, self.rank, stream=1))  # same draws every time
        totals: dict[str, float] = {}
        count = 0
        for batch in iterate_batches(self.valid_set, self.config.batch_size, self.config.valid_batches):
            with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
                values = self.valid_fn(self.model, to_device(batch, self.device))
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + float(v)
            count += 1
        self.model.train()
        return {k: v / count for k, v in totals.items()}

    def fit(self) -> dict[str, float]:
        """Run until ``config.steps``; return the last validation values."""
        cfg = self.config
        if cfg.resume and self.checkpoint_path.is_file():
            self.load(self.checkpoint_path)
        if self.logger:
            self.logger.drop_after(self.step)  # rows after the checkpoint are logged again
        if self.step >= cfg.steps:
            log.info("already trained for %d steps; nothing to do", self.step)
            return self.validate()
        self.model.train()
        bar = tqdm(
            total=cfg.steps, initial=self.step, disable=not (cfg.progress and is_main_process()),
            desc=f"train {self.out_dir.name}", dynamic_ncols=True,
        )
        running: dict[str, float] = {}
        last_valid: dict[str, float] = {}
        started, start_step = time.time(), self.step
        while self.step < cfg.steps:
            for group in self.optimizer.param_groups:
                group["lr"] = self._lr_at(self.step)
            batch = self._train_batch(self.step)
            with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
                loss, stats = self.loss_module(batch, self.step)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite loss at step {self.step}: {stats}")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip or float("inf"))
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.step += 1
            stats["grad_norm"] = float(grad_norm)
            for k, v in stats.items():
                running[k] = running.get(k, 0.0) + float(v)
            bar.update(1)
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                n = cfg.log_every if self.step % cfg.log_every == 0 else (self.step % cfg.log_every)
                means = {k: v / n for k, v in running.items()}
                means["steps_per_s"] = (self.step - start_step) / max(1e-9, time.time() - started)
                running = {}
                bar.set_postfix({k: f"{means[k]:.3g}" for k in list(means)[:4]})
                if self.logger:
                    self.logger.log(self.step, "train", means)
                self._warn_collapse(means)
            if self.step % cfg.valid_every == 0 or self.step == cfg.steps:
                last_valid = self.validate()
                if self.logger and last_valid:
                    self.logger.log(self.step, "valid", last_valid)
                    log.info("step %d valid %s", self.step, _fmt(last_valid))
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                self.save()
        bar.close()
        return last_valid

    def _warn_collapse(self, means: dict[str, float]) -> None:
        if "usage" in means and means["usage"] < 0.02 and self.step > 200:
            log.warning(
                "codebook use is %.1f%% of entries at step %d (z_std=%.3g): the codebook may be "
                "collapsing; consider a lower commitment weight or input scaling",
                100 * means["usage"], self.step, means.get("z_std", float("nan")),
            )


def _fmt(values: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in values.items())
