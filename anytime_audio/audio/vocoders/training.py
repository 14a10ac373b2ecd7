"""Training our fast vocoder on a corpus: ``anytime-audio train-vocoder``.

The vocoder learns log-mel -> waveform on the model's own front-end
(``model=mel_hifigan`` for the HiFi-GAN one), from one of two targets
(``vocoder.target``):

* ``recording``: the corpus' clips themselves (Vocos' route, without its
  discriminators);
* ``hifigan``: distillation, the pretrained HiFi-GAN's rendering of each
  clip's true log-mel (computed once, stored in ``out_dir/targets_<split>.npy``).
  The teacher's waveform is a deterministic function of the mel, so besides
  the magnitude losses a complex-STFT term (``complex_weight``) can ask the
  student to copy its phase, which a recording's phase does not allow.

Losses (on random ``segment_frames`` crops): multi-resolution STFT (spectral
convergence + log-magnitude L1 at four resolutions, Yamamoto et al. 2020),
log-mel L1 on the front-end itself, and optionally the complex-STFT L1.
Training runs in the project's one loop, :class:`~anytime_audio.core.trainer.Trainer`;
the result is a folder with ``vocoder.safetensors`` + ``vocoder.json`` that
``model.vocoder=<folder>`` renders with.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from anytime_audio.audio.vocoders.fast import FastVocoder, FastVocoderConfig, save_fast_vocoder
from anytime_audio.audio.vocoders.registry import frontend_spec
from anytime_audio.core.atomic import atomic_save_numpy

log = logging.getLogger(__name__)

TARGETS = ("recording", "hifigan")
STFT_RESOLUTIONS = ((2048, 512), (1024, 256), (512, 128), (256, 64))  # (n_fft, hop), Hann window of n_fft


def _stft(wave: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
    return torch.stft(wave, n_fft, hop, window=window, return_complex=True)


def multi_resolution_stft_loss(pred: torch.Tensor, target: torch.Tensor, resolutions=STFT_RESOLUTIONS,
                               complex_weight: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(spectral convergence + log-magnitude L1, complex-STFT L1)``, each averaged over resolutions."""
    magnitude_loss = pred.new_zeros(())
    complex_loss = pred.new_zeros(())
    for n_fft, hop in resolutions:
        window = torch.hann_window(n_fft, device=pred.device)
        p = _stft(pred, n_fft, hop, window)
        t = _stft(target, n_fft, hop, window)
        pm = torch.sqrt(p.real.square() + p.imag.square() + 1e-7)
        tm = torch.sqrt(t.real.square() + t.imag.square() + 1e-7)
        convergence = torch.linalg.norm(tm - pm) / torch.linalg.norm(tm).clamp_min(1e-7)
        magnitude_loss = magnitude_loss + convergence + (pm.log() - tm.log()).abs().mean()
        if complex_weight:
            complex_loss = complex_loss + (torch.view_as_real(p) - torch.view_as_real(t)).abs().mean()
    return magnitude_loss / len(resolutions), complex_loss / len(resolutions)


class VocoderPairs(Dataset):
    """``(log-mel crop [n_mels, segment_frames], target crop [segment_frames * hop])`` of whole clips.

    Log-mels are computed once on the whole clip, so a crop sees the same
    frames the renderer will; crops start at a random frame (reseeded by the
    trainer), or at frame 0 when ``random_crop`` is off.
    """

    def __init__(self, mels: torch.Tensor, targets: torch.Tensor, hop: int, segment_frames: int,
                 random_crop: bool = True, seed: int = 0) -> None:
        if targets.shape[-1] < mels.shape[-1] * hop:
            raise ValueError(f"targets hold {targets.shape[-1]} samples for {mels.shape[-1]} frames of hop {hop}")
        self.mels, self.targets, self.hop = mels, targets, hop
        self.segment = min(int(segment_frames), mels.shape[-1])
        self.random_crop = random_crop
        self.rng = np.random.default_rng(seed)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.mels.shape[0]

    def __getitem__(self, i: int):
        start = int(self.rng.integers(0, self.mels.shape[-1] - self.segment + 1)) if self.random_crop else 0
        mel = self.mels[i, :, start:start + self.segment]
        wave = self.targets[i, start * self.hop:(start + self.segment) * self.hop].float()
        return mel, wave


class VocoderTraining(nn.Module):
    """The student and its losses, in the shape :class:`~anytime_audio.core.trainer.Trainer` wants."""

    def __init__(self, vocoder: FastVocoder, logmel: nn.Module, mel_weight: float = 1.0, stft_weight: float = 1.0,
                 complex_weight: float = 0.0) -> None:
        super().__init__()
        self.vocoder = vocoder
        self.logmel = logmel.requires_grad_(False)
        self.mel_weight, self.stft_weight, self.complex_weight = float(mel_weight), float(stft_weight), float(complex_weight)

    def losses(self, batch) -> dict[str, torch.Tensor]:
        mel, target = batch
        pred = self.vocoder(mel)
        stft, complex_l1 = multi_resolution_stft_loss(pred, target, complex_weight=self.complex_weight)
        mel_l1 = (self.logmel(pred) - self.logmel(target)).abs().mean()
        loss = self.mel_weight * mel_l1 + self.stft_weight * stft + self.complex_weight * complex_l1
        return {"loss": loss, "mel_l1": mel_l1, "stft": stft, "complex_l1": complex_l1}

    def training_loss(self, batch, step: int = 0):
        values = self.losses(batch)
        return values["loss"], {k: float(v.detach()) for k, v in values.items()}


@torch.no_grad()
def validation_losses(model: VocoderTraining, batch) -> dict[str, float]:
    return {k: float(v) for k, v in model.losses(batch).items()}


@torch.no_grad()
def clip_pairs(dataset, logmel: nn.Module, target: str, teacher=None, cache: Path | None = None,
               batch_size: int = 8, device: torch.device | str = "cpu",
               limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log-mels [N, n_mels, F], targets [N, F * hop])`` of the first ``limit`` clips of ``dataset``.

    ``target="hifigan"`` renders each log-mel with ``teacher`` once and keeps
    the result in ``cache`` (a ``.npy`` file; reused when its shape fits).
    """
    count = len(dataset) if limit is None else min(len(dataset), int(limit))
    waves = torch.stack([torch.as_tensor(dataset[i][0]) for i in range(count)])
    mels = torch.cat([logmel(part.to(device)).cpu() for part in waves.split(64)])
    hop = int(logmel.hop_length)
    length = mels.shape[-1] * hop
    if target == "recording":
        targets = waves[:, :length]
        if targets.shape[-1] < length:
            targets = nn.functional.pad(targets, (0, length - targets.shape[-1]))
        return mels, targets
    if cache is not None and cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        if stored.shape == (mels.shape[0], length):
            log.info("teacher targets from %s", cache)
            return mels, torch.from_numpy(stored.astype(np.float32))
    outs = []
    for part in tqdm(mels.split(batch_size), desc="teacher", leave=False):
        outs.append(teacher(part.to(device)).cpu()[:, :length])
    targets = torch.cat(outs)
    if cache is not None:
        atomic_save_numpy(cache, targets.numpy().astype(np.float16))
        targets = torch.from_numpy(targets.numpy().astype(np.float16).astype(np.float32))  # as stored
    return mels, targets


def build_student(section, logmel) -> FastVocoder:
    """The fast vocoder described by the ``vocoder`` config section, for front-end ``logmel``."""
    config = FastVocoderConfig(dim=int(section.dim), intermediate=int(section.intermediate),
                               layers=int(section.layers), kernel_size=int(section.kernel_size),
                               n_fft=int(logmel.n_fft), frontend=frontend_spec(logmel))
    return FastVocoder(config)


def train_vocoder(cfg, explicit=frozenset()) -> Path:
    """Train the fast vocoder that ``cfg.vocoder`` describes; returns its folder.

    The front-end and data come from ``exp_dir``'s saved configuration when an
    autoencoder was trained there, else from ``cfg`` (``model=mel_hifigan
    data=...``). The folder is ``vocoder.out_dir`` (default ``<exp_dir>/vocoder``).
    """
    from omegaconf import OmegaConf

    from anytime_audio.builders import build_dataset, build_frontend
    from anytime_audio.audio.vocoders.registry import build_vocoder
    from anytime_audio.core.device import pick_device
    from anytime_audio.core.trainer import Trainer
    from anytime_audio.experiment import train_config, with_saved

    exp = Path(str(cfg.exp_dir))
    if (exp / "config.yaml").is_file():
        cfg = with_saved(cfg, set(explicit))
    section = cfg.vocoder
    if cfg.model.family != "mel":
        raise ValueError(f"train-vocoder needs a mel model (model=mel_hifigan or model=mel), got model.family={cfg.model.family}")
    target = str(section.target)
    if target not in TARGETS:
        raise ValueError(f"vocoder.target must be one of {', '.join(TARGETS)}, got {target!r}")
    out = Path(str(section.out_dir)) if section.get("out_dir") else exp / "vocoder"
    settings = train_config(section.train, cfg)
    torch.manual_seed(settings.seed)
    device = pick_device(settings.device)
    logmel = build_frontend(cfg.model, cfg.data).to(device)
    teacher = build_vocoder(str(section.teacher), logmel).to(device) if target == "hifigan" else None
    pairs = {}
    for split in ("train", "valid"):  # validation reads at most valid_batches batches: no more teacher work
        limit = None if split == "train" else settings.valid_batches * settings.batch_size
        pairs[split] = clip_pairs(build_dataset(cfg.data, split), logmel, target, teacher,
                                  out / f"targets_{split}.npy", device=device, limit=limit)
    del teacher
    hop, segment = int(logmel.hop_length), int(section.segment_frames)
    train_set = VocoderPairs(*pairs["train"], hop, segment, random_crop=True, seed=settings.seed)
    valid_set = VocoderPairs(*pairs["valid"], hop, segment, random_crop=False)
    model = VocoderTraining(build_student(section, logmel.cpu()), logmel, float(section.mel_weight),
                            float(section.stft_weight), float(section.complex_weight))
    log.info("fast vocoder: %.2fM parameters, target %s, %d train / %d valid clips, crops of %d frames -> %s",
             sum(p.numel() for p in model.vocoder.parameters()) / 1e6, target, len(train_set), len(valid_set),
             train_set.segment, out)
    section_dict = OmegaConf.to_container(section, resolve=True)
    trainer = Trainer(model, train_set, out, settings, valid_set, validation_losses,
                      extra_state={"vocoder_config": section_dict})
    result = trainer.fit()
    save_fast_vocoder(model.vocoder, out, extra={"target": target, "steps": trainer.step,
                                                 "valid": {k: float(v) for k, v in result.items()},
                                                 "data": str(cfg.data.name)})
    log.info("vocoder written to %s (render with model.vocoder=%s)", out, out)
    return out
