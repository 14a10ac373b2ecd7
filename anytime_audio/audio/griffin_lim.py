"""Fast Griffin-Lim phase reconstruction for the mel vocoder.

The vocoder renders a whole clip whatever the code budget, so its cost is the
fixed intercept of every anytime sample: with torchaudio's ``GriffinLim`` (32
iterations) it took more time than the full prior pass on a CPU, and the 1/4
budget cost 0.6 of the full one end to end.  This module computes the same
algorithm (fast Griffin-Lim, Perraudin et al. 2013: projections onto
consistent spectrograms with momentum) with less work per iteration:

* the signal stays in the framed (uncentred) domain between iterations, so an
  iteration is one ``irfft`` + overlap-add and one framing + ``rfft``; the
  inverse window envelope is computed once, not on every ``istft`` call;
* on a CPU, clips are processed a few at a time so that one chunk's frames
  (about 1 MiB) stay in the core's cache: with 16 one-second clips at once
  the iterations are memory-bound and run ~1.7x slower;
* the phase update multiplies by a real factor ``|S| / |C|`` computed from
  squared real and imaginary parts (complex ``abs`` and division cost more
  than the FFTs themselves);

and by default it starts from the phase a linear-phase (delayed) frame would
have, ``-2 pi f (n_fft / 2) / n_fft`` per bin, i.e. each frame's energy
centred in its window; zero phase puts every frame's energy at the window
edges, which the first iterations spend undoing.  On mel-inverted magnitudes
(the vocoder's input) this start is worth one to two iterations of log-mel
error at small counts; on exact magnitudes of real recordings the zero-phase
start converges slightly faster after ~4 iterations, so ``init="zero"``
stays available.

``tests/audio/test_griffin_lim.py`` checks it against torchaudio's
implementation on spectral convergence; ``tools/bench_vocoder.py`` measures
its cost and quality against the iteration count, ``tools/bench_sampling.py``
its cost next to the prior's.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FastGriffinLim", "spectral_convergence"]


class FastGriffinLim(nn.Module):
    """Linear magnitude ``[..., n_fft // 2 + 1, frames]`` -> waveform ``[..., T]``.

    The output has ``(frames - 1) * hop_length`` samples, like
    ``torch.istft(center=True)`` (the frame centres are the sample times).

    Args:
        n_fft: FFT size (the Hann window has this length).
        hop_length: frame step in samples.
        n_iter: projection iterations (0 = one inverse STFT of the initial phase).
        momentum: fast Griffin-Lim momentum ``alpha`` (0 = classic Griffin-Lim;
            torchaudio's default 0.99).
        init: initial phase, ``"centred"`` (linear phase, see the module
            docstring) or ``"zero"`` (torchaudio's ``rand_init=False``).
        cpu_chunk_floats: on a CPU, clips are rendered in chunks of at most
            this many frame samples (at least one clip per chunk); on other
            devices the whole batch goes at once.
    """

    def __init__(self, n_fft: int = 1024, hop_length: int = 256, n_iter: int = 8,
                 momentum: float = 0.99, init: str = "centred", cpu_chunk_floats: int = 2 ** 18) -> None:
        super().__init__()
        if n_fft < 2 or not 0 < hop_length <= n_fft:
            raise ValueError(f"need n_fft >= 2 and 0 < hop_length <= n_fft, got {n_fft}, {hop_length}")
        if n_iter < 0:
            raise ValueError(f"n_iter must be >= 0, got {n_iter}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if init not in ("centred", "zero"):
            raise ValueError(f"init must be 'centred' or 'zero', got {init!r}")
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.n_iter = int(n_iter)
        self.momentum = float(momentum)
        self.init = init
        self.cpu_chunk_floats = int(cpu_chunk_floats)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    # ----------------------------------------------------------- transforms
    # Spectra are kept as [N, frames, bins] so that every FFT runs over the
    # contiguous last axis (an FFT over a strided axis costs several times more).
    def _overlap_add(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames ``[N, F, n_fft]`` -> their overlap-added sum ``[N, P]``."""
        n, n_frames, _ = frames.shape
        hop = self.hop_length
        length = (n_frames - 1) * hop + self.n_fft
        if self.n_fft % hop:
            summed = F.fold(frames.transpose(1, 2), (1, length), (1, self.n_fft), stride=(1, hop))
            return summed.view(n, length)
        ratio = self.n_fft // hop
        out = frames.new_zeros(n, n_frames + ratio - 1, hop)
        chunks = frames.view(n, n_frames, ratio, hop)
        for j in range(ratio):  # chunk j of frame f lands on block f + j
            out[:, j:j + n_frames] += chunks[:, :, j]
        return out.view(n, length)

    def _frames_to_signal(self, frames: torch.Tensor, inv_envelope: torch.Tensor) -> torch.Tensor:
        """Unwindowed frames ``[N, F, n_fft]`` -> least-squares signal ``[N, P]``."""
        return self._overlap_add(frames * self.window) * inv_envelope

    def _signal_to_spectrum(self, signal: torch.Tensor) -> torch.Tensor:
        """Signal ``[N, P]`` -> complex spectrum ``[N, F, n_fft // 2 + 1]``."""
        return torch.fft.rfft(signal.unfold(-1, self.n_fft, self.hop_length) * self.window, dim=-1)

    def _inverse_envelope(self, n_frames: int, device, dtype) -> torch.Tensor:
        squares = (self.window.to(device, dtype) ** 2).expand(1, n_frames, self.n_fft)
        env = self._overlap_add(squares.contiguous())[0]
        return torch.where(env > 1e-11, 1.0 / env.clamp_min(1e-11), torch.zeros_like(env))

    def _initial_phase(self, magnitude: torch.Tensor) -> torch.Tensor:
        if self.init == "zero":
            return torch.complex(magnitude, torch.zeros_like(magnitude))
        bins = torch.arange(magnitude.shape[-1], device=magnitude.device, dtype=magnitude.dtype)
        angle = -math.pi * bins  # -2 pi f (n_fft/2) / n_fft
        return torch.polar(magnitude, angle.expand_as(magnitude))

    # --------------------------------------------------------------- forward
    @torch.no_grad()
    def forward(self, magnitude: torch.Tensor, initial: torch.Tensor | None = None, start: int | None = None,
                length: int | None = None) -> torch.Tensor:
        """``initial``: a complex spectrum shaped like ``magnitude`` whose phase starts the iterations
        (instead of ``init``'s). The output is ``length`` samples (default ``(frames - 1) * hop``) from
        sample ``start`` (default ``n_fft // 2``, the first frame's centre) of the frames' overlap-add,
        whose sample 0 is the first frame's first sample."""
        freq_bins = self.n_fft // 2 + 1
        if magnitude.dim() < 2 or magnitude.shape[-2] != freq_bins:
            raise ValueError(f"magnitude must be [..., {freq_bins}, frames], got {tuple(magnitude.shape)}")
        if initial is not None and initial.shape != magnitude.shape:
            raise ValueError(f"initial must be shaped like magnitude {tuple(magnitude.shape)}, got {tuple(initial.shape)}")
        lead, n_frames = magnitude.shape[:-2], magnitude.shape[-1]
        start = self.n_fft // 2 if start is None else int(start)
        length = (n_frames - 1) * self.hop_length if length is None else int(length)
        if start < 0 or start + length > (n_frames - 1) * self.hop_length + self.n_fft:
            raise ValueError(f"samples {start}..{start + length} lie outside the {n_frames} frames' overlap-add")
        mag = magnitude.float().reshape(-1, freq_bins, n_frames).transpose(1, 2).contiguous()
        phase = None if initial is None else initial.reshape(-1, freq_bins, n_frames).transpose(1, 2)
        inv_env = self._inverse_envelope(n_frames, mag.device, mag.dtype)
        chunk = mag.shape[0]
        if mag.device.type == "cpu":
            chunk = max(1, self.cpu_chunk_floats // (n_frames * self.n_fft))
        parts = mag.split(chunk)
        phases = [None] * len(parts) if phase is None else phase.split(chunk)
        waves = [self._reconstruct(part, inv_env, first, start, length) for part, first in zip(parts, phases)]
        wave = torch.cat(waves) if len(waves) > 1 else waves[0]
        return wave.reshape(*lead, wave.shape[-1])

    def _reconstruct(self, mag: torch.Tensor, inv_env: torch.Tensor, initial: torch.Tensor | None,
                     start: int, length: int) -> torch.Tensor:
        """Magnitudes ``[N, F, bins]`` (and a complex start like them, or None) -> waveforms ``[N, length]``."""
        spec = self._initial_phase(mag) if initial is None else _with_magnitude(initial.to(torch.complex64), mag)
        previous = None
        for _ in range(self.n_iter):
            rebuilt = self._signal_to_spectrum(
                self._frames_to_signal(torch.fft.irfft(spec, n=self.n_fft), inv_env))
            target = rebuilt
            if previous is not None and self.momentum > 0:
                target = torch.add(rebuilt, previous, alpha=-self.momentum / (1.0 + self.momentum))
            previous = rebuilt
            spec = _with_magnitude(target, mag)
        signal = self._frames_to_signal(torch.fft.irfft(spec, n=self.n_fft), inv_env)
        return signal[:, start: start + length]


def _with_magnitude(spec: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
    """``spec``'s phase with ``magnitude``: a real factor ``|S| / |spec|`` from squared real and
    imaginary parts (complex ``abs`` and division cost more than the FFTs themselves)."""
    squares = torch.view_as_real(spec).square()
    return spec * (squares[..., 0] + squares[..., 1]).add_(1e-16).rsqrt_().mul_(magnitude)


def spectral_convergence(magnitude: torch.Tensor, wave: torch.Tensor, n_fft: int, hop_length: int) -> torch.Tensor:
    """``|| |STFT(wave)| - magnitude ||_F / || magnitude ||_F`` per example (lower is
    more consistent; 0 means the magnitude is exactly that of ``wave``)."""
    window = torch.hann_window(n_fft, device=wave.device, dtype=wave.dtype)
    rebuilt = torch.stft(wave.reshape(-1, wave.shape[-1]), n_fft, hop_length, window=window,
                         return_complex=True).abs()
    mag = magnitude.reshape(-1, *magnitude.shape[-2:])
    frames = min(rebuilt.shape[-1], mag.shape[-1])
    diff = rebuilt[..., :frames] - mag[..., :frames]
    return diff.flatten(1).norm(dim=1) / mag[..., :frames].flatten(1).norm(dim=1).clamp_min(1e-12)
