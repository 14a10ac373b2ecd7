"""The embedded audio codec: a clip's ordered codes entropy-coded by a prior, cut at any layer.

``compress`` turns WAVs into ``.ata`` files (the autoencoder's codes, coded
layer by layer under a trained prior by :mod:`anytime_audio.core.coding`),
``decompress`` turns them back into WAVs through the experiment's renderer
(decoder + vocoder), and ``truncate`` keeps a prefix of whole layers without
the model and without re-encoding. Lossless over codes:
``decompress(compress(c)) == c``; a file cut after layer ``j`` decodes to
exactly the codes of layers ``1..j``.

The file format is documented in :mod:`anytime_audio.codec_format`.

Python API (mirrors the CLI)::

    from anytime_audio import codec
    codec.compress("exp/ordered", "clip.wav", prior="ardm", steps=16)       # -> clip.ata
    codec.truncate("clip.ata", budget="25%")                                # -> clip_0.25.ata
    codec.decompress("exp/ordered", "clip_0.25.ata")                        # -> clip_0.25_decoded.wav
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from anytime_audio.codec_format import (  # noqa: F401 - pack, parse, cut, CodecError, Header: the API's too
    PRIORS, SUFFIX, CodecError, Header, code_check, cut, one_budget, pack, parse, payload_intact)
from anytime_audio.core.ardm_schedule import even_schedule
from anytime_audio.core.atomic import atomic_write_bytes
from anytime_audio.core.coding import StreamError, decode_clip, encode_clip, layer_sizes

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ the codec
@dataclass
class Decoded:
    """One decoded file: the first ``k`` codes (``codes [L]``, zero after ``k``) and its header."""

    codes: np.ndarray
    k: int
    header: Header
    network_calls: int


class Codec:
    """Compress and decompress clips with one trained experiment.

    A file decodes where the prior computes the encoder's probabilities bit for
    bit: the same kind of device and torch build (the CLI runs the codec on the
    CPU unless ``device=`` is given); elsewhere the layer checks report it.

    Args:
        exp: an :class:`~anytime_audio.experiment.Experiment` (or its folder).
        prior: ``"transformer"`` (causal) or ``"ardm"``, for compressing;
            decompressing uses the prior each file names.
        steps: ARDM network calls (= layers): an int, ``"auto"`` or None (one per code).
        schedule: ARDM step schedule, ``"dp"`` or ``"even"``.
        layers: causal prior: even groups of codes per layer (None: one code per layer).
    """

    def __init__(self, exp, prior: str = "transformer", steps=None, schedule: str = "dp",
                 layers: int | None = None) -> None:
        from anytime_audio.experiment import Experiment

        self.exp = exp if isinstance(exp, Experiment) else Experiment.open(exp, device="cpu")
        if self.exp.modality != "audio":
            raise ValueError(f"{self.exp.dir}: the codec handles audio experiments, this one is {self.exp.modality}")
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        self.prior_name, self.steps, self.schedule, self.layers = prior, steps, schedule, layers
        self._fingerprints: dict[str, bytes] = {}

    def prior(self, name: str):
        if not self.exp.has_prior(name):
            raise FileNotFoundError(f"{self.exp.prior_dir(name) / 'checkpoint.pt'} not found: run `anytime-audio "
                                    f"train-prior exp_dir={self.exp.dir} prior={name}` first")
        return self.exp.prior(name)

    def fingerprint(self, name: str) -> bytes:
        """First 8 bytes of SHA-256 over the SHA-256 of the autoencoder's and the prior's checkpoint bytes."""
        if name not in self._fingerprints:
            outer = hashlib.sha256()
            for path in (self.exp.dir / "checkpoint.pt", self.exp.prior_dir(name) / "checkpoint.pt"):
                outer.update(hashlib.sha256(path.read_bytes()).digest())
            self._fingerprints[name] = outer.digest()[:8]
        return self._fingerprints[name]

    @cached_property
    def sizes(self) -> list[int]:
        """Codes per layer for compressing (from the prior's schedule or the even groups)."""
        return layer_sizes(self.prior(self.prior_name), self.steps, self.schedule, self.layers)

    @property
    def clip_samples(self) -> int:
        from anytime_audio.builders import num_samples

        return num_samples(self.exp.cfg.data)

    # ------------------------------------------------------------ codes <-> bytes
    def encode_codes(self, codes, label: int | None = None, num_samples: int | None = None):
        """``(file bytes, CodedClip)`` for one clip's codes ``[L]``."""
        prior = self.prior(self.prior_name)
        label = -1 if label is None else int(label)
        coded = encode_clip(prior, codes, self.sizes, label)
        sizes = tuple(coded.sizes)
        listed = list(sizes) != even_schedule(prior.length, len(sizes))
        ends = np.cumsum([0, *sizes])
        header = Header(self.fingerprint(self.prior_name), self.prior_name, self.exp.sample_rate,
                        int(num_samples or self.clip_samples), int(prior.length), int(prior.num_codes), label,
                        len(sizes), sizes, tuple(int(n) for n in coded.layer_bytes),
                        tuple(code_check(coded.codes[a:b]) for a, b in zip(ends[:-1], ends[1:])), listed)
        return pack(header, coded.payload), coded

    def decode(self, data: bytes, name: str = "<bytes>") -> Decoded:
        """Check and decode one file's bytes to its codes (no rendering)."""
        header, payload = parse(data, name, verify_payload=False)
        mine = self.fingerprint(header.prior) if self.exp.has_prior(header.prior) else None
        if header.fingerprint != mine:
            raise CodecError(f"{name}: compressed with another model (fingerprint {header.fingerprint.hex()}; "
                             f"{self.exp.dir} with its {header.prior} prior has "
                             f"{mine.hex() if mine else 'none'}): decompress it with the experiment that made it")
        intact = payload_intact(data, payload)
        where = f"of {len(header.sizes)}"
        diverged = (f"although the file is intact: this machine computes the {header.prior} prior's "
                    f"probabilities differently from the one that compressed it")

        def check(j: int, codes: np.ndarray) -> None:
            if code_check(codes) != header.code_checks[j]:
                if not intact:
                    raise CodecError(f"{name}: layer {j + 1} {where} is damaged (payload CRC-16 mismatch; "
                                     f"the layer decodes to codes that fail its check)")
                raise CodecError(f"{name}: layer {j + 1} {where} decodes to codes that fail its check {diverged}")

        try:
            codes, calls = decode_clip(self.prior(header.prior), payload, header.sizes, header.label, check)
        except StreamError as e:
            if not intact:
                raise CodecError(f"{name}: payload damaged (CRC-16 mismatch): {e}") from None
            raise CodecError(f"{name}: {e} {diverged}") from None
        if not intact:  # every layer decoded to its own codes: the damage is where no code depends on it
            raise CodecError(f"{name}: payload damaged (CRC-16 mismatch)")
        full = np.zeros(header.length, dtype=np.int64)
        full[:len(codes)] = codes
        return Decoded(full, int(len(codes)), header, calls)

    # ------------------------------------------------------------ audio
    @torch.no_grad()
    def encode_waves(self, waves: list[np.ndarray]) -> np.ndarray:
        """Codes ``[n, L]`` of waveforms of at most one clip each (zero-padded), in one batch."""
        from anytime_audio.audio.datasets import fit_length

        x = torch.from_numpy(np.stack([fit_length(w, self.clip_samples) for w in waves]).astype(np.float32))
        model = self.exp.autoencoder
        return model.encode(model.prepare(x.to(self.exp.device))).cpu().numpy()

    @torch.no_grad()
    def render(self, decoded: list[Decoded]) -> list[np.ndarray]:
        """Waveforms of decoded files, trimmed to their clip lengths (one renderer batch per ``k``)."""
        out: list[np.ndarray | None] = [None] * len(decoded)
        for k in sorted({d.k for d in decoded}):
            index = [i for i, d in enumerate(decoded) if d.k == k]
            codes = torch.from_numpy(np.stack([decoded[i].codes for i in index])).to(self.exp.device)
            waves = self.exp.renderer(codes, k).cpu().numpy()
            for i, wave in zip(index, waves):
                out[i] = wave[:decoded[i].header.num_samples]
        return out


# ------------------------------------------------------------------ files
def _files(inputs, suffix: str, output, new_suffix: str, file_tag: str, folder_tag: str) -> list[tuple[Path, Path]]:
    """``(input, output)`` pairs for one file or a folder (searched recursively for ``suffix``).

    Default outputs: ``<stem>[_<file_tag>]<new_suffix>`` beside a file, ``<folder>_<folder_tag>/`` for a folder.
    """
    source = Path(inputs)
    if source.is_dir():
        found = sorted(p for p in source.rglob(f"*{suffix}") if p.is_file())
        if not found:
            raise FileNotFoundError(f"input={source}: no {suffix} files in this folder")
        target = Path(output) if output else source.with_name(f"{source.name}_{folder_tag}")
        return [(p, (target / p.relative_to(source)).with_suffix(new_suffix)) for p in found]
    if not source.is_file():
        raise FileNotFoundError(f"input={source}: no such file or folder")
    default = source.with_name(f"{source.stem}{'_' + file_tag if file_tag else ''}{new_suffix}")
    return [(source, Path(output) if output else default)]


def compress(exp, inputs, output=None, prior: str = "transformer", steps=None, schedule: str = "dp",
             layers: int | None = None, label: int | None = None, batch_size: int = 16,
             progress: bool = True) -> list[Path]:
    """Compress a WAV (or a folder of them) to ``.ata`` files; returns the written paths.

    Default output: ``clip.wav`` -> ``clip.ata`` beside it; a folder -> ``<folder>_ata/``.
    """
    from anytime_audio.audio.io import load_audio

    codec = exp if isinstance(exp, Codec) else Codec(exp, prior, steps, schedule, layers)
    pairs = _files(inputs, ".wav", output, SUFFIX, "", "ata")
    with tqdm(total=len(pairs), desc="compress", unit="clip", disable=not progress) as bar:
        for lo in range(0, len(pairs), batch_size):
            batch = pairs[lo:lo + batch_size]
            waves = [load_audio(src, codec.exp.sample_rate, silence_threshold=None)[0] for src, _ in batch]
            for (src, _), wave in zip(batch, waves):
                if len(wave) > codec.clip_samples:
                    raise ValueError(f"{src}: lasts {len(wave) / codec.exp.sample_rate:.2f} s; this model codes "
                                     f"clips of at most {codec.clip_samples / codec.exp.sample_rate:g} s "
                                     f"(data.clip_seconds)")
            for (_, dst), wave, codes in zip(batch, waves, codec.encode_waves(waves)):
                atomic_write_bytes(dst, codec.encode_codes(codes, label, len(wave))[0])
                bar.update(1)
    return [dst for _, dst in pairs]


def decompress(exp, inputs, output=None, batch_size: int = 16, progress: bool = True) -> list[Path]:
    """Decompress an ``.ata`` file (or a folder of them) to WAVs through the experiment's renderer.

    Default output: ``clip.ata`` -> ``clip_decoded.wav``; a folder -> ``<folder>_wav/``.
    """
    from anytime_audio.audio.io import write_wav

    codec = exp if isinstance(exp, Codec) else Codec(exp)
    pairs = _files(inputs, SUFFIX, output, ".wav", "decoded", "wav")
    with tqdm(total=len(pairs), desc="decompress", unit="clip", disable=not progress) as bar:
        for lo in range(0, len(pairs), batch_size):
            batch = pairs[lo:lo + batch_size]
            decoded = [codec.decode(src.read_bytes(), str(src)) for src, _ in batch]
            for (_, dst), wave, d in zip(batch, codec.render(decoded), decoded):
                write_wav(dst, wave, d.header.sample_rate)
                bar.update(1)
    return [dst for _, dst in pairs]


def truncate(inputs, output=None, budget="25%", progress: bool = True) -> list[Path]:
    """Cut an ``.ata`` file (or a folder of them) to ``budget`` codes at a layer boundary, without the model.

    Default output: ``clip.ata`` -> ``clip_<budget>.ata``; a folder -> ``<folder>_<budget>/``.
    """
    tag = one_budget(budget).folder_name
    pairs = _files(inputs, SUFFIX, output, SUFFIX, tag, tag)
    for src, dst in tqdm(pairs, desc="truncate", unit="clip", disable=not progress):
        atomic_write_bytes(dst, cut(src.read_bytes(), budget, str(src)))
    return [dst for _, dst in pairs]
