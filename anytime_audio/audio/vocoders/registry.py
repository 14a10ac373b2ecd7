"""Choose a mel vocoder by name or path: ``model.vocoder=griffin_lim|hifigan|hifigan_lj|<folder>``.

Every vocoder is wrapped in :class:`Vocoder`, which gives them one contract:
log-mel ``[B, n_mels, F]`` in, waveform ``[B, num_samples]`` out, on the
device the module lives on (the renderer moves it with the decoder; CUDA when
the experiment runs there), in batch chunks on a CPU (a chunk's activations
stay in cache; HiFi-GAN's sample-rate activations would not), with frames
aligned to the samples they describe.

The neural vocoders only understand the mel front-end they were trained on:
asking for one on a model with another front-end fails in one line that says
which preset to use (``model=mel_hifigan`` for HiFi-GAN).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["VOCODER_NAMES", "Vocoder", "build_vocoder", "frontend_spec"]

VOCODER_NAMES = ("griffin_lim", "hifigan", "hifigan_lj")
_HIFIGAN = {"hifigan": "universal", "hifigan_universal": "universal", "hifigan_lj": "lj"}
_SPEC_KEYS = ("sample_rate", "n_fft", "hop_length", "n_mels", "f_min", "f_max", "style")


def frontend_spec(logmel) -> dict:
    """What a vocoder must agree on with the model's :class:`~anytime_audio.audio.features.LogMel`."""
    return {"sample_rate": int(logmel.sample_rate), "n_fft": int(logmel.n_fft), "hop_length": int(logmel.hop_length),
            "n_mels": int(logmel.n_mels), "f_min": float(getattr(logmel, "f_min", 0.0)),
            "f_max": None if getattr(logmel, "f_max", None) is None else float(logmel.f_max),
            "style": str(getattr(logmel, "style", "torchaudio"))}


def _check_frontend(name: str, logmel, expected: dict, hint: str) -> None:
    have = frontend_spec(logmel)
    want = {k: expected.get(k) for k in _SPEC_KEYS}
    for k in ("f_min", "f_max"):
        want[k] = None if want[k] is None else float(want[k])
    diff = [f"{k} {have[k]} (needs {want[k]})" for k in _SPEC_KEYS if have[k] != want[k]]
    if diff:
        raise ValueError(f"model.vocoder={name} reads another mel front-end than this model's: "
                         f"{', '.join(diff)}; {hint}")


class Vocoder(nn.Module):
    """Log-mel ``[B, n_mels, F]`` -> waveform ``[B, num_samples]`` through ``network``.

    Args:
        network: log-mel -> waveform ``[B, T']`` whose sample 0 is frame 0's start
            (or, with ``frame_offset``, ``frame_offset`` samples before it).
        name: what ``model.vocoder`` said (reports and errors).
        num_samples: crop or zero-pad the output to this length (None: as produced).
        frame_offset: zeros put in front of the network's output.
        cpu_chunk: clips per call on a CPU (None: the whole batch).
        cpu_only: run on the CPU when the input is on an ``mps`` device (Griffin-Lim's FFTs).
    """

    def __init__(self, network: nn.Module, name: str, num_samples: int | None = None, frame_offset: int = 0,
                 cpu_chunk: int | None = None, cpu_only: bool = False) -> None:
        super().__init__()
        self.network = network
        self.name = name
        self.num_samples = num_samples
        self.frame_offset = int(frame_offset)
        self.cpu_chunk = cpu_chunk
        self.cpu_only = cpu_only

    @torch.no_grad()
    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        if log_mel.dim() != 3:
            raise ValueError(f"a vocoder takes log-mels [batch, n_mels, frames], got shape {tuple(log_mel.shape)}")
        if self.cpu_only and log_mel.device.type == "mps":
            self.network.cpu()
            log_mel = log_mel.cpu()
        chunk = log_mel.shape[0]
        if log_mel.device.type == "cpu" and self.cpu_chunk:
            chunk = max(1, int(self.cpu_chunk))
        waves = [self.network(part) for part in log_mel.float().split(chunk)]
        wave = torch.cat(waves) if len(waves) > 1 else waves[0]
        if self.frame_offset:
            wave = F.pad(wave, (self.frame_offset, 0))
        if self.num_samples is not None:
            wave = wave[..., : self.num_samples]
            if wave.shape[-1] < self.num_samples:
                wave = F.pad(wave, (0, self.num_samples - wave.shape[-1]))
        return wave


def build_vocoder(name_or_path, logmel, num_samples: int | None = None, griffin_lim_iters: int = 8) -> Vocoder:
    """The vocoder ``model.vocoder`` names, for a model whose front-end is ``logmel``.

    ``griffin_lim`` (``griffin_lim_iters`` iterations of fast Griffin-Lim),
    ``hifigan`` (pretrained V1 "universal"; ``hifigan_lj``: the LJSpeech one),
    or the folder of a vocoder trained by ``anytime-audio train-vocoder``
    (followed by ``griffin_lim_iters`` projections, :meth:`FastVocoder.project`).
    """
    name = "griffin_lim" if name_or_path is None else str(name_or_path).strip()
    if name in ("griffin_lim", "griffin-lim", ""):
        from anytime_audio.audio.features import MelToWave

        network = MelToWave(logmel, int(griffin_lim_iters), None)
        return Vocoder(network, "griffin_lim", num_samples, frame_offset=getattr(logmel, "frame_offset", 0),
                       cpu_only=True)
    if name in _HIFIGAN:
        from anytime_audio.audio.vocoders.hifigan import HIFIGAN_FRONTEND, load_hifigan

        _check_frontend(name, logmel, HIFIGAN_FRONTEND,
                        "train the model with model=mel_hifigan (22.05 kHz, the HiFi-GAN front-end)")
        return Vocoder(load_hifigan(_HIFIGAN[name]), name, num_samples, cpu_chunk=4)
    path = Path(name).expanduser()
    if not path.exists():
        raise ValueError(f"model.vocoder must be one of {', '.join(VOCODER_NAMES)} or the folder of a vocoder "
                         f"trained by `anytime-audio train-vocoder`; {name!r} is neither")
    from anytime_audio.audio.vocoders.fast import load_fast_vocoder

    network = load_fast_vocoder(path)
    _check_frontend(name, logmel, network.config.frontend,
                    "use a vocoder trained on this model's front-end (train-vocoder with the same model preset)")
    network.projections = int(griffin_lim_iters)
    return Vocoder(network, name, num_samples, cpu_chunk=16)
