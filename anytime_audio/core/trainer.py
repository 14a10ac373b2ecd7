"""A small, resumable training loop shared by autoencoders and priors.

The trainer knows nothing of audio or images: it asks the model for
``model.training_loss(batch, step=step) -> (loss, stats)`` and, for validation,
``valid_fn(model, batch) -> {name: float}``. What it adds:

* AdamW with gradient clipping, mixed precision where the device has it;
* an exactly resumable data order (the batch at step ``s`` is a function of
  the seed and ``s``, not of how many times the run was restarted);
* atomic checkpoints holding model, optimizer, scaler and RNG state, loaded
  with ``weights_only=True``; ``resume=True`` continues at the exact step;
* CSV logs (and TensorBoard when installed and asked for) and a tqdm bar;
* distributed data parallel when launched by ``torchrun`` (nccl on CUDA,
  gloo on CPU); only rank 0 writes files.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

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
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in d.items() if k in known}
        if "betas" in kwargs:
            kwargs["betas"] = tuple(kwargs["betas"])
        kwargs["extra"] = {k: v for k, v in d.items() if k not in known}
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
        return dist.get_rank(), world, device
    if dist.is_initialized():
        device = pick_device(device_name)
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return dist.get_rank(), dist.get_world_size(), device
    return 0, 1, pick_device(device_name)


def is_main_process() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


# ----------------------------------------------------------------- data order
class StepBatches:
    """Deterministic batches: the batch at ``step`` depends only on (seed, step).

    Each epoch is a fresh permutation seeded by ``seed + epoch``; under DDP each
    rank takes an interleaved share of the global batch, so ``world`` processes
    see the same data as one process with ``world`` times the batch.
    """

    def __init__(self, dataset_size: int, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        if dataset_size < 1:
            raise ValueError("cannot train on an empty dataset")
        self.n = dataset_size
        self.global_batch = batch_size * world
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world = world
        self.per_epoch = max(1, self.n // self.global_batch)
        self._epoch = -1
        self._perm: torch.Tensor | None = None

    def indices(self, step: int) -> list[int]:
        epoch, within = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            perm = torch.randperm(self.n, generator=g)
            reps = math.ceil(self.global_batch / self.n)
            self._perm = perm.repeat(reps) if reps > 1 else perm
            self._epoch = epoch
        start = (within * self.global_batch) % len(self._perm)
        chunk = self._perm[start : start + self.global_batch]
        return chunk[self.rank :: self.world].tolist()


def collate(items: Sequence):
    """Stack tensors, or tuples of tensors / None, into a batch."""
    first = items[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(list(items))
    if isinstance(first, (tuple, list)):
        return tuple(
            None if first[i] is None else torch.stack([torch.as_tensor(it[i]) for it in items])
            for i in range(len(first))
        )
    raise TypeError(f"cannot collate items of type {type(first).__name__}")


def to_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    return batch


def iterate_batches(dataset: Dataset, batch_size: int, limit: int | None = None) -> Iterator:
    """Sequential, unshuffled batches (validation and code dumping)."""
    n = len(dataset)
    count = 0
    for start in range(0, n, batch_size):
        if limit is not None and count >= limit:
            return
        yield collate([dataset[i] for i in range(start, min(n, start + batch_size))])
        count += 1


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

    def __init__(self, out_dir: Path, backend: str = "csv"):
        self.path = out_dir / "metrics.csv"
        self.writer = None
        if backend == "tensorboard":
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(out_dir / "tensorboard"))
            except ImportError:  # pragma: no cover - tensorboard is a dependency
                log.warning("tensorboard is not installed; logging to CSV only")

    def log(self, step: int, split: str, values: dict[str, float]) -> None:
        new = not self.path.exists()
        with open(self.path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["step", "split", "name", "value"])
            for name, value in values.items():
                w.writerow([step, split, name, f"{value:.6g}"])
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(f"{split}/{name}", value, step)


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
        indices = self.batches.indices(step)
        return to_device(collate([self.train_set[i] for i in indices]), self.device)

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        if self.valid_set is None or self.valid_fn is None or len(self.valid_set) == 0:
            return {}
        self.model.eval()
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
        started = time.time()
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
                means["steps_per_s"] = self.step / max(1e-9, time.time() - started)
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
