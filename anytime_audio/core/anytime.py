"""AnytimeSampler: one sampler contract for both priors, a typed result per budget.

The autoencoder's codes are ordered, so any prefix of ``k`` codes is a usable
description of a clip. The sampler turns a prior and a decoder into results
at several budgets:

* **causal prior** (:class:`~anytime_audio.core.prior.CodePrior`): codes come
  one by one, so one pass serves every code budget (each prefix is decoded
  when reached) and wall-clock deadlines (stop and decode what there is);
  :meth:`AnytimeSampler.progressive` yields ``(k, output)`` as codes arrive;
* **ARDM** (:class:`~anytime_audio.core.ardm.ARDMPrior`): every code budget
  ``k`` is its own exact sample of the ``k``-prefix marginal, made in a chosen
  number of network calls (``steps``), so budgets x steps form a grid. A
  deadline has no meaning for a fixed number of calls and is refused.

Both return :class:`AnytimeResult`. The sampler is modality-agnostic:
``decode(codes [n, L], k) -> tensor`` is handed in (the autoencoder's decoder,
followed by a vocoder for mel models).

Deadlines
---------
A deadline counts from the moment :meth:`AnytimeSampler.sample` is entered,
and everything spent inside the call counts against it: a warm-up of a batch
size not seen before, the prior, and every decode. Generation stops before
the next code when the time left could not pay for that code plus the decodes
still owed (this deadline's and those of earlier deadlines), plus the prior's
clean-up before the call returns, plus a margin.
Code budgets reached while a deadline is open are decoded after the last
deadline's result, so they never delay it. The per-code and decode times are
the largest of the most recent observations for that batch size (a cautious
estimate that forgets old spikes), first measured by :meth:`warm_up`. A
deadline below the minimum cost (first code + one decode) still returns the
one-code result, flagged ``infeasible``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import torch

from anytime_audio.core.ardm import ARDMPrior
from anytime_audio.core.budget import Budget, parse_budgets
from anytime_audio.core.device import synchronize as _synchronize

__all__ = ["AnytimeResult", "AnytimeSampler", "SCHEDULES", "resolve_steps"]

SCHEDULES = ("dp", "even")
_CAUSAL, _ARDM = "causal", "ardm"
# sampling options the ARDM does not have, with the value that means "off"
_CAUSAL_ONLY = {"top_k": 0, "top_p": 1.0, "use_cache": True}


@dataclass
class AnytimeResult:
    """Samples at one budget (and, for the ARDM, one network-call budget).

    Times are wall-clock seconds. ``generate_seconds`` is the prior's time to
    reach this prefix (for the causal prior: the shared pass up to ``k``
    without the decodes of other budgets); ``elapsed_seconds`` is everything
    from entering :meth:`AnytimeSampler.sample` until this output was ready
    (warm-up and other decodes included), the number a deadline is held to.
    """

    budget: Budget
    codes_used: int  # k
    codes: torch.Tensor  # [n, L] long; positions >= codes_used are zero and never read
    output: torch.Tensor  # decode(codes, k)
    generate_seconds: float
    decode_seconds: float
    elapsed_seconds: float
    network_calls: int  # prior forward passes spent on this result (causal: k)
    steps: int | None = None  # ARDM: the network-call budget used; causal: None (one call per code)
    schedule: str | None = None  # ARDM: "dp" or "even"; causal: None
    infeasible: bool = False  # deadline below the minimum cost: this is the one-code result

    @property
    def seconds(self) -> float:
        """Cost of this result alone: prior plus its decode."""
        return self.generate_seconds + self.decode_seconds

    @property
    def late(self) -> bool:
        """A deadline result that was ready after its deadline (never true for other budgets)."""
        return self.budget.is_deadline and self.elapsed_seconds > self.budget.seconds


def resolve_steps(prior: ARDMPrior, value, k: int, schedule: str = "dp") -> int:
    """Network calls for an ARDM sample of ``k`` codes.

    ``value``: ``None`` (or ``"null"``/``"none"``): one call per code (``k``);
    ``"auto"``: the fewest calls whose predicted cost is within 2% of ``k``
    calls (:meth:`ARDMPrior.auto_steps`); an integer in ``1..k``.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("null", "none")):
        return k
    if isinstance(value, str) and value.strip().lower() == "auto":
        return prior.auto_steps(k, schedule=schedule)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (
            isinstance(value, str) and not value.strip().isdigit()):
        raise ValueError(f"steps must be an integer, 'auto' or null, got {value!r}")
    steps = int(value)
    if not 1 <= steps <= k:
        raise ValueError(f"steps must lie in 1..{k} for a budget of {k} codes, got {steps}")
    return steps


class _Recent:
    """The largest of the last ``size`` observations: cautious, and forgets old spikes."""

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    def get(self) -> float:
        return max(self.values) if self.values else 0.0


def _as_list(value) -> list:
    if value is None or isinstance(value, (str, int, float, Budget)):
        return [value]
    return list(value)


class AnytimeSampler:
    """Sample from ``prior`` and decode prefixes with ``decode``.

    Args:
        prior: a :class:`~anytime_audio.core.prior.CodePrior` (anything with
            ``generate(n, max_codes, labels, **kw)`` yielding one ``[n]`` tensor
            per position) or an :class:`~anytime_audio.core.ardm.ARDMPrior`.
        decode: ``(codes [n, L], k) -> output``; must not read codes at positions >= k.
        length: ``L``.
        warm_up: batch sizes to warm up now (see :meth:`warm_up`), so that no
            deadline call pays for it. Other sizes are warmed on first use.
        margin_seconds: kept free under a deadline beyond the estimates.
        window: how many recent observations the time estimates keep; an estimate
            is their maximum, which a new observation exceeds with chance
            ``1 / (window + 1)`` when times do not drift.
    """

    def __init__(self, prior, decode: Callable[[torch.Tensor, int], torch.Tensor], length: int,
                 warm_up: Iterable[int] = (), margin_seconds: float = 0.0005, window: int = 128) -> None:
        if isinstance(prior, ARDMPrior):
            self.kind = _ARDM
        elif callable(getattr(prior, "generate", None)):
            self.kind = _CAUSAL
        else:
            raise TypeError(f"prior must be a CodePrior or an ARDMPrior, got {type(prior).__name__}")
        self.prior = prior
        self.decode = decode
        self.length = int(length)
        self.margin_seconds = float(margin_seconds)
        self._window = int(window)
        self._decode_times: dict[int, _Recent] = {}
        self._first_code_times: dict[int, _Recent] = {}
        self._code_times: dict[int, _Recent] = {}
        self._close_times: dict[int, _Recent] = {}  # last result to return (the prior's clean-up)
        self._warm: set[int] = set()
        for n in warm_up:
            self.warm_up(n)

    # ------------------------------------------------------------ estimates
    @property
    def device(self) -> torch.device:
        return next(self.prior.parameters()).device

    def _recent(self, table: dict[int, _Recent], n: int) -> _Recent:
        if n not in table:
            table[n] = _Recent(self._window)
        return table[n]

    def decode_estimate(self, n: int) -> float:
        """Expected seconds of one decode of ``n`` examples (0 before any was seen)."""
        return self._recent(self._decode_times, n).get()

    def code_estimate(self, n: int, first: bool = False) -> float:
        """Expected seconds of one more code (``first``: the first code, with the prior's set-up)."""
        return self._recent(self._first_code_times if first else self._code_times, n).get()

    def close_estimate(self, n: int) -> float:
        """Expected seconds from the last result to the return of :meth:`sample` (prior clean-up)."""
        return self._recent(self._close_times, n).get()

    def minimum_seconds(self, n: int) -> float:
        """Estimated cost of the smallest result (one code, its decode, the return), after a warm-up."""
        if self.kind == _ARDM:
            raise ValueError("minimum_seconds needs the causal prior: the ARDM takes no deadlines")
        if n not in self._warm:
            self.warm_up(n)
        return self.code_estimate(n, first=True) + self.decode_estimate(n) + self.close_estimate(n)

    @torch.no_grad()
    def warm_up(self, n: int) -> None:
        """Run the prior and the decoder for batch size ``n`` a few times and time them.

        First calls are slow (lazy initialisation, allocators), so a cold round
        is run and discarded, then two rounds are timed. Runs under a forked RNG
        with its own generator: the caller's random state is left as it was.
        """
        device = self.device
        dummy = torch.zeros(n, self.length, dtype=torch.long, device=device)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            for timed in (False, True, True):
                if self.kind == _CAUSAL:
                    gen = torch.Generator(device=device).manual_seed(0)
                    _synchronize(device)
                    last = time.perf_counter()
                    for k, _ in enumerate(self.prior.generate(n, min(3, self.length), None, generator=gen), 1):
                        _synchronize(device)
                        now = time.perf_counter()
                        if timed:
                            self._recent(self._first_code_times if k == 1 else self._code_times, n).add(now - last)
                        last = now
                    if timed:  # after the last code the generator cleans up, as at the end of sample()
                        self._recent(self._close_times, n).add(time.perf_counter() - last)
                self._timed_decode(dummy, 1, record=timed)
        self._warm.add(n)

    def _timed_decode(self, codes: torch.Tensor, k: int, record: bool = True):
        _synchronize(codes.device)
        start = time.perf_counter()
        out = self.decode(codes, k)
        _synchronize(codes.device)
        seconds = time.perf_counter() - start
        if record:
            self._recent(self._decode_times, codes.shape[0]).add(seconds)
        return out, seconds

    # ------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(self, n: int, budgets, labels: torch.Tensor | None = None, steps=None,
               schedule: str = "dp", **sampling) -> list[AnytimeResult]:
        """Results for ``n`` examples at every budget.

        Args:
            budgets: one budget or a list (fractions, percentages, code counts,
                deadlines; see :mod:`anytime_audio.core.budget`).
            labels: ``[n]`` class labels, or None.
            steps: ARDM only: network calls per sample, an int, ``"auto"`` or
                None (one per code), or a list of these for a budgets x steps grid.
            schedule: ARDM only: ``"dp"`` (needs a trained loss tracker) or ``"even"``.
            sampling: passed to the prior (causal: ``temperature``, ``top_k``,
                ``top_p``, ``use_cache``, ``generator``; ARDM: ``temperature``,
                ``generator``).

        Returns:
            Causal prior: one result per budget, in order, all from one pass.
            ARDM: one result per (budget, steps) pair, budget-major.
        """
        call_start = time.perf_counter()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        parsed = parse_budgets(budgets)
        if not parsed:
            raise ValueError("no budgets given")
        if self.kind == _ARDM:
            return self._sample_ardm(n, parsed, labels, _as_list(steps), schedule, sampling, call_start)
        if any(s is not None and not (isinstance(s, str) and s.strip().lower() in ("null", "none"))
               for s in _as_list(steps)):
            raise ValueError("steps (a network-call budget) applies to the ARDM prior only; "
                             "the causal prior makes one network call per code")
        return self._sample_causal(n, parsed, labels, sampling, call_start)

    def _sample_ardm(self, n, parsed, labels, steps_list, schedule, sampling, call_start) -> list[AnytimeResult]:
        deadline = next((b for b in parsed if b.is_deadline), None)
        if deadline is not None:
            raise ValueError(f"deadline budget {deadline.text!r} needs the causal prior: the ARDM samples "
                             "k codes in a fixed number of network calls; give code budgets and steps")
        for key, off in _CAUSAL_ONLY.items():
            if key in sampling:
                if sampling.pop(key) != off:
                    raise ValueError(f"{key} applies to the causal prior only; the ARDM samples with temperature")
        device = self.device
        results = []
        for budget in parsed:
            k = budget.num_codes(self.length)
            for value in steps_list:
                calls = resolve_steps(self.prior, value, k, schedule)
                before = self.prior.network_calls
                _synchronize(device)
                start = time.perf_counter()
                codes = self.prior.sample(n, k, calls, labels=labels, schedule=schedule, **sampling)
                _synchronize(device)
                generate_seconds = time.perf_counter() - start
                output, decode_seconds = self._timed_decode(codes, k)
                results.append(AnytimeResult(
                    budget, k, codes, output, generate_seconds, decode_seconds,
                    elapsed_seconds=time.perf_counter() - call_start,
                    network_calls=self.prior.network_calls - before, steps=calls, schedule=schedule))
        return results

    def _sample_causal(self, n, parsed, labels, sampling, call_start) -> list[AnytimeResult]:
        device = self.device
        deadlines = sorted((i for i, b in enumerate(parsed) if b.is_deadline), key=lambda i: parsed[i].seconds)
        if deadlines and n not in self._warm:
            self.warm_up(n)  # inside the call: it counts against the deadline
        targets = {i: b.num_codes(self.length) for i, b in enumerate(parsed) if not b.is_deadline}
        max_k = self.length if deadlines else max(targets.values())
        code_times = self._recent(self._code_times, n)
        first_times = self._recent(self._first_code_times, n)
        margin = self.margin_seconds + self.close_estimate(n)

        results: dict[int, AnytimeResult] = {}
        deferred: list[tuple[int, int, torch.Tensor, float]] = []  # (index, k, prefix, generate seconds)
        open_deadlines = list(deadlines)  # ascending by deadline
        _synchronize(device)
        pass_start = time.perf_counter()
        # Up front: can the minimum result (one code + the decodes owed) meet each deadline?
        infeasible = set()
        for rank, i in enumerate(open_deadlines):
            left = parsed[i].seconds - (pass_start - call_start)
            if left < first_times.get() + (rank + 1) * self.decode_estimate(n) + self.close_estimate(n):
                infeasible.add(i)

        codes = torch.zeros(n, self.length, dtype=torch.long, device=device)
        decoding = 0.0  # decodes done during the pass: not prior time
        last_finish = pass_start
        k = 0
        last = pass_start

        def finish(i: int, prefix: torch.Tensor, kk: int, generate_seconds: float) -> None:
            nonlocal decoding, last_finish
            output, decode_seconds = self._timed_decode(prefix, kk)
            decoding += decode_seconds
            last_finish = time.perf_counter()
            results[i] = AnytimeResult(
                parsed[i], kk, prefix, output, generate_seconds, decode_seconds,
                elapsed_seconds=last_finish - call_start, network_calls=kk,
                infeasible=i in infeasible)

        generator = self.prior.generate(n, max_k, labels, **sampling)
        try:
            for token in generator:
                codes[:, k] = token
                k += 1
                _synchronize(device)
                now = time.perf_counter()
                (first_times if k == 1 else code_times).add(now - last)
                generate_seconds = now - pass_start - decoding
                for i, target in targets.items():
                    if target == k:
                        deferred.append((i, k, self._prefix(codes, k), generate_seconds))
                if open_deadlines:
                    # Continue only if one more code and every decode still owed fit in the time left.
                    elapsed = now - call_start
                    step, dec = code_times.get(), self.decode_estimate(n)
                    stopping = []
                    for rank, i in enumerate(open_deadlines):
                        left = parsed[i].seconds - elapsed
                        if k == max_k or left < step + (rank + 1) * dec + margin:
                            stopping.append(i)
                            if k == 1 and left < (rank + 1) * dec:
                                infeasible.add(i)  # even stopping at one code is expected late
                    if stopping:
                        prefix = self._prefix(codes, k)
                        for i in stopping:
                            finish(i, prefix, k, generate_seconds)
                            open_deadlines.remove(i)
                if not open_deadlines:
                    for i, kk, prefix, gen_seconds in deferred:
                        finish(i, prefix, kk, gen_seconds)
                    deferred.clear()
                if len(results) == len(parsed):
                    break
                last = time.perf_counter()
        finally:
            generator.close()
        ordered = [results[i] for i in range(len(parsed))]
        self._recent(self._close_times, n).add(time.perf_counter() - last_finish)
        return ordered

    @staticmethod
    def _prefix(codes: torch.Tensor, k: int) -> torch.Tensor:
        prefix = codes.clone()
        prefix[:, k:] = 0
        return prefix

    @torch.no_grad()
    def progressive(self, n: int, labels: torch.Tensor | None = None, every: int = 1,
                    **sampling) -> Iterator[tuple[int, torch.Tensor]]:
        """Yield ``(k, decoded sample)`` every ``every`` codes until the sequence is full.

        Causal prior only: the ARDM fills positions in a random order, so no
        prefix is complete before its last network call.
        """
        if self.kind == _ARDM:
            raise ValueError("progressive needs the causal prior: the ARDM completes no prefix before its last call")
        codes = torch.zeros(n, self.length, dtype=torch.long, device=self.device)
        for k, token in enumerate(self.prior.generate(n, self.length, labels, **sampling), start=1):
            codes[:, k - 1] = token
            if k % every == 0 or k == self.length:
                yield k, self.decode(self._prefix(codes, k), k)
