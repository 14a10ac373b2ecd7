"""AnytimeSampler: one prior pass, a complete result at every budget.

A causal prior generates codes one by one. Because the autoencoder's codes are
ordered, any prefix is a usable description of a clip, so the sampler can

* serve several budgets from one pass (decode each prefix as it is reached);
* stop at a wall-clock deadline and decode what it has (always >= 1 code);
* yield ``(k, output)`` progressively as codes arrive.

The sampler is modality-agnostic: ``decode(codes [n, L], k) -> tensor`` is
handed in (the autoencoder's decoder, followed by a vocoder for mel models).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch

from anytime_audio.core.budget import Budget, parse_budget


def _synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so wall-clock timings include it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class AnytimeResult:
    """Samples at one budget."""

    budget: Budget
    codes_used: int
    codes: torch.Tensor  # [n, L], positions >= codes_used are zero and unused
    output: torch.Tensor  # decoded samples
    generate_seconds: float  # prior time to reach this prefix (shared pass)
    decode_seconds: float
    network_calls: int
    extra: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.generate_seconds + self.decode_seconds


class AnytimeSampler:
    """Sample from ``prior`` and decode prefixes with ``decode``.

    Args:
        prior: a causal prior with ``generate(n, max_codes, labels, **kw)`` yielding
            one ``[n]`` tensor per position (:class:`CodePrior`).
        decode: ``(codes [n, L], k) -> output``; must not read codes at positions >= k.
        length: ``L``.
    """

    def __init__(self, prior, decode: Callable[[torch.Tensor, int], torch.Tensor], length: int) -> None:
        self.prior = prior
        self.decode = decode
        self.length = length
        self._decode_estimate: dict[int, float] = {}

    def _timed_decode(self, codes: torch.Tensor, k: int):
        _synchronize(codes.device)
        start = time.perf_counter()
        out = self.decode(codes, k)
        _synchronize(codes.device)
        seconds = time.perf_counter() - start
        self._decode_estimate[codes.shape[0]] = seconds
        return out, seconds

    def estimate_decode_seconds(self, n: int, device) -> float:
        """Time one decode of ``n`` examples (cached), to reserve it under a deadline.

        The first call of a decoder can be far slower than later ones (lazy
        initialisation, allocator warm-up), so the estimate is a second call's time.
        """
        if n not in self._decode_estimate:
            dummy = torch.zeros(n, self.length, dtype=torch.long, device=device)
            self._timed_decode(dummy, 1)
            self._timed_decode(dummy, 1)
        return self._decode_estimate[n]

    @torch.no_grad()
    def sample(self, n: int, budgets, labels: torch.Tensor | None = None, **sampling) -> list[AnytimeResult]:
        """Serve every budget in ``budgets`` from a single prior pass.

        Count and fraction budgets are decoded when their prefix is reached.
        Deadline budgets stop generating when the elapsed time plus the expected
        decode time reaches the deadline (and after at least one code).
        """
        parsed = [b if isinstance(b, Budget) else parse_budget(b) for b in budgets]
        targets = {i: b.num_codes(self.length) for i, b in enumerate(parsed) if not b.is_deadline}
        deadlines = {i: b for i, b in enumerate(parsed) if b.is_deadline}
        device = next(self.prior.parameters()).device
        reserve = self.estimate_decode_seconds(n, device) if deadlines else 0.0
        max_k = max(targets.values(), default=0)
        if deadlines:
            max_k = self.length
        results: dict[int, AnytimeResult] = {}
        codes = torch.zeros(n, self.length, dtype=torch.long, device=device)
        start = time.perf_counter()
        k = 0
        open_deadlines = dict(deadlines)
        decoding = 0.0  # time spent decoding earlier budgets, not charged to later ones
        for token in self.prior.generate(n, max_k, labels, **sampling):
            codes[:, k] = token
            k += 1
            _synchronize(device)
            wall = time.perf_counter() - start
            for i, target in targets.items():
                if target == k:
                    results[i] = self._result(parsed[i], codes, k, wall - decoding)
                    decoding += results[i].decode_seconds
            for i, budget in list(open_deadlines.items()):
                if k == self.length or wall - decoding + reserve >= budget.seconds:
                    results[i] = self._result(budget, codes, k, wall - decoding)
                    decoding += results[i].decode_seconds
                    del open_deadlines[i]
            if len(results) == len(parsed):
                break
        return [results[i] for i in range(len(parsed))]

    def _result(self, budget: Budget, codes: torch.Tensor, k: int, elapsed: float) -> AnytimeResult:
        prefix = codes.clone()
        prefix[:, k:] = 0
        output, decode_seconds = self._timed_decode(prefix, k)
        return AnytimeResult(budget, k, prefix, output, elapsed, decode_seconds, network_calls=k)

    @torch.no_grad()
    def progressive(self, n: int, labels: torch.Tensor | None = None, every: int = 1, **sampling) -> Iterator[tuple[int, torch.Tensor]]:
        """Yield ``(k, decoded sample)`` every ``every`` codes until the sequence is full."""
        device = next(self.prior.parameters()).device
        codes = torch.zeros(n, self.length, dtype=torch.long, device=device)
        for k, token in enumerate(self.prior.generate(n, self.length, labels, **sampling), start=1):
            codes[:, k - 1] = token
            if k % every == 0 or k == self.length:
                yield k, self.decode(codes, k)
