"""Draw many samples in batches and keep them as one typed result per budget.

:class:`~anytime_audio.core.anytime.AnytimeSampler` serves one batch; the
``sample`` command and the evaluation draw ``n`` examples in batches of
``sample.batch_size``. :func:`generate` runs the batches and concatenates
each budget's :class:`~anytime_audio.core.anytime.AnytimeResult` across
them: outputs and codes are stacked, seconds and network calls are summed
(divide by ``n`` or by :attr:`SampleSet.batches` for per-sample or per-batch
costs), a budget is infeasible when any batch was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from anytime_audio.core.anytime import AnytimeResult


@dataclass
class SampleSet:
    """``n`` samples at one budget (and, for the ARDM, one step budget)."""

    result: AnytimeResult  # summed over batches; output/codes hold all n samples
    labels: torch.Tensor | None  # the requested classes, [n]
    batches: int

    @property
    def n(self) -> int:
        return int(self.result.output.shape[0])

    @property
    def seconds_per_sample(self) -> float:
        return self.result.seconds / self.n

    @property
    def generate_seconds_per_sample(self) -> float:
        return self.result.generate_seconds / self.n

    @property
    def network_calls_per_batch(self) -> float:
        return self.result.network_calls / self.batches


def requested_labels(label, n: int, num_classes: int) -> torch.Tensor | None:
    """Classes to condition ``n`` samples on: ``label`` for all, or cycling through all classes.

    None for an unconditional prior (``num_classes`` 0).
    """
    if num_classes <= 0:
        return None
    if label is not None:
        label = int(label)
        if not 0 <= label < num_classes:
            raise ValueError(f"label must lie in 0..{num_classes - 1}, got {label}")
        return torch.full((n,), label, dtype=torch.long)
    return torch.arange(n) % num_classes


def sampling_options(sample_cfg, prior_name: str) -> dict:
    """The prior's sampling keywords from the ``sample`` config section, for the ``sample`` command
    and the evaluation alike: the causal prior takes top-k / top-p, the ARDM only temperature."""
    options = {"temperature": float(sample_cfg.temperature)}
    if prior_name != "ardm":
        options.update(top_k=int(sample_cfg.top_k), top_p=float(sample_cfg.top_p))
    return options


def _merge(parts: list[AnytimeResult]) -> AnytimeResult:
    first = parts[0]
    return AnytimeResult(
        budget=first.budget,
        codes_used=min(p.codes_used for p in parts),
        codes=torch.cat([p.codes.cpu() for p in parts]),
        output=torch.cat([p.output.cpu() for p in parts]),
        generate_seconds=sum(p.generate_seconds for p in parts),
        decode_seconds=sum(p.decode_seconds for p in parts),
        elapsed_seconds=sum(p.elapsed_seconds for p in parts),
        network_calls=sum(p.network_calls for p in parts),
        steps=first.steps,
        schedule=first.schedule,
        infeasible=any(p.infeasible for p in parts),
    )


def generate(sampler, n: int, budgets, labels: torch.Tensor | None = None, batch_size: int = 16,
             steps=None, schedule: str = "dp", progress: bool = True, **sampling) -> list[SampleSet]:
    """``n`` samples at every budget, drawn ``batch_size`` at a time; one :class:`SampleSet` each.

    The order is the sampler's: one per budget for the causal prior, one per
    (budget, steps) pair, budget-major, for the ARDM.
    """
    per_result: list[list[AnytimeResult]] = []
    device = sampler.device
    for start in tqdm(range(0, n, batch_size), desc="sample", disable=not progress):
        m = min(batch_size, n - start)
        batch_labels = None if labels is None else labels[start : start + m].to(device)
        results = sampler.sample(m, budgets, batch_labels, steps=steps, schedule=schedule, **sampling)
        if not per_result:
            per_result = [[] for _ in results]
        for bucket, result in zip(per_result, results):
            bucket.append(result)
    batches = math.ceil(n / batch_size)
    return [SampleSet(_merge(parts), labels, batches) for parts in per_result]
