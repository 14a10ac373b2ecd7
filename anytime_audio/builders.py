"""Builders: turn configuration dictionaries into models and datasets.

Every command goes through these functions, so a model rebuilt from the
``config.yaml`` saved in an experiment folder is the model that was trained.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from anytime_audio.core.ordered import OrderedAutoencoder
from anytime_audio.core.quantizer import VectorQuantizer

AUDIO_FAMILIES = ("mel", "wave")


def num_samples(data_cfg) -> int:
    return int(round(float(data_cfg["clip_seconds"]) * int(data_cfg["sample_rate"])))


def check_compatible(model_cfg, data_cfg) -> None:
    family, modality = model_cfg["family"], data_cfg["modality"]
    if (modality == "audio") != (family in AUDIO_FAMILIES):
        raise ValueError(
            f"model family {family!r} does not fit {modality} data {data_cfg['name']!r}: "
            f"use model=mel or model=wave for audio, model=image for images"
        )
    rate = model_cfg.get("sample_rate")
    if rate is not None and modality == "audio" and int(rate) != int(data_cfg["sample_rate"]):
        raise ValueError(f"model.sample_rate={rate} but data.sample_rate={data_cfg['sample_rate']}: this model's "
                         f"front-end needs {rate} Hz clips; add data.sample_rate={rate} (clips are resampled on load)")


def build_frontend(model_cfg, data_cfg):
    """The mel model's :class:`~anytime_audio.audio.features.LogMel` (also what its vocoders read)."""
    from anytime_audio.audio.features import LogMel

    check_compatible(model_cfg, data_cfg)
    f_max = model_cfg.get("f_max")
    return LogMel(int(data_cfg["sample_rate"]), int(model_cfg["n_fft"]), int(model_cfg["hop_length"]),
                  int(model_cfg["n_mels"]), f_min=float(model_cfg.get("f_min", 0.0) or 0.0),
                  f_max=None if f_max is None else float(f_max), style=str(model_cfg.get("mel_frontend", "torchaudio")))


def build_autoencoder(model_cfg, data_cfg) -> OrderedAutoencoder:
    """The ordered autoencoder described by ``model_cfg`` for ``data_cfg``."""
    from anytime_audio.audio import nets  # noqa: local import keeps image-only use light
    from anytime_audio.image import nets as image_nets

    check_compatible(model_cfg, data_cfg)
    family = model_cfg["family"]
    L = int(model_cfg["code_channels"])
    frontend = augment = None
    if family == "mel":
        from anytime_audio.audio.augment import MelFrequencyWarp

        frontend = build_frontend(model_cfg, data_cfg)
        frames = frontend.num_frames(num_samples(data_cfg))
        input_shape = (int(model_cfg["n_mels"]), frames)
        encoder = nets.MelEncoder(int(model_cfg["n_mels"]), int(model_cfg["hidden"]), L, int(model_cfg["depth"]))
        decoder = nets.MelDecoder(int(model_cfg["n_mels"]), int(model_cfg["hidden"]), L, int(model_cfg["depth"]))
        loss = nets.MelReconstructionLoss(model_cfg.get("loss", "l1"))
        warp = float(model_cfg.get("freq_warp", 0.0) or 0.0)
        augment = MelFrequencyWarp(warp) if warp > 0 else None
    elif family == "wave":
        strides = tuple(int(s) for s in model_cfg["strides"])
        kw = dict(hidden=int(model_cfg["hidden"]), code_channels=L, strides=strides,
                  max_channels=int(model_cfg["max_channels"]), input_scale=float(model_cfg["input_scale"]))
        input_shape = (num_samples(data_cfg),)
        encoder = nets.WaveEncoder(**kw)
        decoder = nets.WaveDecoder(num_samples(data_cfg), **kw)
        loss = nets.WaveReconstructionLoss(float(model_cfg["l1_weight"]), float(model_cfg["stft_weight"]), int(data_cfg["sample_rate"]))
    elif family == "image":
        size, channels = int(data_cfg["image_size"]), int(data_cfg["channels"])
        input_shape = (channels, size, size)
        encoder = image_nets.ImageEncoder(channels, int(model_cfg["hidden"]), L, int(model_cfg["downsample"]), int(model_cfg["depth"]))
        decoder = image_nets.ImageDecoder(channels, int(model_cfg["hidden"]), L, int(model_cfg["downsample"]), int(model_cfg["depth"]))
        loss = image_nets.ImageReconstructionLoss()
    else:
        raise ValueError(f"unknown model family {family!r}; choose mel, wave or image")
    with torch.no_grad():
        latent = encoder(torch.zeros(1, *input_shape))
    mode = model_cfg.get("quantizer_mode", "channel")
    code_dim = int(latent[0, 0].numel()) if mode == "channel" else int(latent.shape[1])
    quantizer = VectorQuantizer(
        int(model_cfg["num_codes"]), code_dim, mode, float(model_cfg["ema_decay"]),
        float(model_cfg["commitment"]), float(model_cfg["revive_threshold"]),
    )
    return OrderedAutoencoder(
        encoder, quantizer, decoder, loss, input_shape, frontend=frontend,
        truncation=model_cfg["truncation"], geometric_p=float(model_cfg.get("geometric_p", 0.05)),
        pretrain_steps=int(model_cfg.get("pretrain_steps", 0)), commitment=float(model_cfg["commitment"]),
        full_code_prob=float(model_cfg.get("full_code_prob", 0.0)), augment=augment,
    )


def build_dataset(data_cfg, split: str, train: bool = False, progress: bool = True):
    """The dataset of one manifest split (``train``/``valid``/``test``)."""
    manifest = Path(data_cfg["manifest_dir"]) / f"{split}.jsonl"
    max_items = data_cfg.get("max_items")
    if data_cfg["modality"] == "audio":
        from anytime_audio.audio.datasets import ClipDataset

        return ClipDataset(manifest, int(data_cfg["sample_rate"]), float(data_cfg["clip_seconds"]),
                           random_crop=train, max_items=max_items, progress=progress,
                           min_clip_seconds=data_cfg.get("min_clip_seconds"))
    if data_cfg["modality"] == "image":
        from anytime_audio.image.datasets import ImageDataset

        return ImageDataset(manifest, int(data_cfg["channels"]), int(data_cfg["image_size"]), max_items=max_items)
    raise ValueError(f"unknown modality {data_cfg['modality']!r}")


class Renderer(nn.Module):
    """Codes -> what a person sees or hears: waveforms ``[n, T]`` or images ``[n, C, H, W]``.

    For the mel family the decoder's log-mel goes through the vocoder that
    ``model.vocoder`` names (``griffin_lim``, ``hifigan``, ``hifigan_lj`` or a
    trained vocoder's folder; :func:`anytime_audio.audio.vocoders.build_vocoder`).
    It is a rendering key: it may change after training. The vocoder is part
    of every decode, so the deadline sampler's decode times include it.
    """

    def __init__(self, autoencoder: OrderedAutoencoder, model_cfg, data_cfg) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        self.family = model_cfg["family"]
        self.vocoder = None
        if self.family == "mel":
            from anytime_audio.audio.vocoders import build_vocoder

            self.vocoder = build_vocoder(model_cfg.get("vocoder", "griffin_lim"), autoencoder.frontend,
                                         num_samples(data_cfg), int(model_cfg.get("griffin_lim_iters", 8)))

    @torch.no_grad()
    def forward(self, codes: torch.Tensor, k) -> torch.Tensor:
        out = self.autoencoder.decode(codes, k)
        if self.vocoder is not None:
            out = self.vocoder(out)
        return out


def build_prior(prior_cfg, num_codes: int, length: int, num_classes: int):
    """A prior (``transformer`` or ``ardm``) sized for the autoencoder's codes."""
    classes = num_classes if prior_cfg.get("conditional", True) else 0
    common = dict(num_codes=num_codes, length=length, num_classes=classes, d_model=int(prior_cfg["d_model"]),
                  n_layers=int(prior_cfg["n_layers"]), n_heads=int(prior_cfg["n_heads"]), dropout=float(prior_cfg["dropout"]))
    name = prior_cfg["name"]
    if name == "transformer":
        from anytime_audio.core.prior import CodePrior

        return CodePrior(**common)
    if name == "ardm":
        from anytime_audio.core.ardm import ARDMPrior

        return ARDMPrior(**common, truncation=prior_cfg.get("truncation", "uniform"),
                         full_code_prob=float(prior_cfg.get("full_code_prob", 0.0)))
    raise ValueError(f"unknown prior {name!r}; choose transformer or ardm")
