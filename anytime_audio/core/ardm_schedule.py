"""Budgeted generation schedules for order-agnostic autoregressive diffusion (ARDM).

An ARDM over ``D`` positions generates one position per step ``t = 0..D-1``
(``t`` = number of positions already generated).  Its per-step loss component
``L_t`` (bits) is the expected negative log-likelihood of one not-yet-generated
position given ``t`` random generated ones.  Filling ``j`` positions with a
single network call at step ``t`` (all of them conditioned only on the ``t``
known ones) costs ``j * L_t`` bits in the likelihood bound (Hoogeboom et al.,
"Autoregressive Diffusion Models", ICLR 2022, Sec. 4 / App. A).  Given a budget
of network calls, :func:`dp_schedule` finds the group sizes that minimise the
total bound with the paper's dynamic program; :class:`StepLossTracker` keeps the
running estimate of ``L_t`` that the program needs.

Conventions: steps are 0-based (``t`` known positions before the call); a
schedule is a list of group sizes in generation order that sums to ``D``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["StepLossTracker", "dp_schedule", "even_schedule", "schedule_cost"]


def _as_vector(components) -> np.ndarray:
    if isinstance(components, torch.Tensor):
        components = components.detach().cpu().double().numpy()
    c = np.asarray(components, dtype=np.float64).reshape(-1)
    if c.size == 0:
        raise ValueError("components must be non-empty")
    if not np.all(np.isfinite(c)):
        raise ValueError("components must be finite")
    return c


class StepLossTracker(nn.Module):
    """Exponential moving average of the loss (bits) at each step ``t = 0..D-1``.

    Kept as an ``nn.Module`` holding only tensor buffers, so it is saved in the
    owner's ``state_dict`` and follows ``.to(device)``.  Every sample counts as
    one EMA update: a batch that holds ``n`` samples of step ``t`` moves the
    estimate by ``1 - decay**n`` towards their mean.  The first batch that sees
    a step initialises it to that batch's mean (no bias towards zero).
    """

    def __init__(self, length: int, decay: float = 0.99) -> None:
        super().__init__()
        if length < 1:
            raise ValueError(f"length must be >= 1, got {length}")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        self.length = int(length)
        self.decay = float(decay)
        self.register_buffer("ema", torch.zeros(self.length, dtype=torch.float64))
        self.register_buffer("count", torch.zeros(self.length, dtype=torch.long))

    @torch.no_grad()
    def update(self, t: torch.Tensor, loss: torch.Tensor) -> None:
        """Fold a batch of ``(t, loss_bits)`` pairs (1-D tensors of equal size) in."""
        t = torch.as_tensor(t, device=self.ema.device).reshape(-1).long()
        loss = torch.as_tensor(loss, device=self.ema.device).reshape(-1).double()
        if t.numel() != loss.numel():
            raise ValueError("t and loss must have the same number of elements")
        if t.numel() == 0:
            return
        if int(t.min()) < 0 or int(t.max()) >= self.length:
            raise ValueError(f"steps must lie in [0, {self.length}), got {t.min()}..{t.max()}")
        finite = torch.isfinite(loss)
        t, loss = t[finite], loss[finite]
        n = torch.bincount(t, minlength=self.length)
        sums = torch.zeros_like(self.ema).index_add_(0, t, loss)
        hit = n > 0
        mean = sums[hit] / n[hit]
        w = torch.pow(torch.full_like(mean, self.decay), n[hit].double())
        w = torch.where(self.count[hit] > 0, w, torch.zeros_like(w))  # first sight: take the mean
        self.ema[hit] = w * self.ema[hit] + (1.0 - w) * mean
        self.count += n

    def seen(self) -> torch.Tensor:
        """Boolean mask of the steps that have received at least one sample."""
        return self.count > 0

    def components(self, sort: bool = True) -> np.ndarray:
        """Per-step loss vector (bits, float64 numpy, length ``D``) for the DP.

        Steps never seen are linearly interpolated from the seen neighbours (and
        take the nearest seen value beyond the first/last seen step); with no
        step seen at all this raises ``RuntimeError`` rather than invent values.
        With ``sort`` (the paper's trick) the vector is sorted descending, which
        gives the monotone estimate the DP assumes (more context, less loss).
        """
        seen = self.seen().cpu().numpy()
        if not seen.any():
            raise RuntimeError("StepLossTracker has seen no step yet: train the prior first "
                               "(or use an even schedule)")
        ema = self.ema.detach().cpu().numpy()
        steps = np.arange(self.length)
        values = np.interp(steps, steps[seen], ema[seen])
        if sort:
            values = np.sort(values)[::-1].copy()
        return values

    def extra_repr(self) -> str:
        return f"length={self.length}, decay={self.decay}"


def dp_schedule(components: Sequence[float] | np.ndarray | torch.Tensor,
                budget: int) -> tuple[list[int], float]:
    """Cheapest split of ``D = len(components)`` steps into ``budget`` network calls.

    ``C[n, s]`` = least cost of having generated ``s`` positions in ``n`` calls;
    ``C[n, t] = min_{s < t} C[n-1, s] + (t - s) * L_s``.  After ``n`` of
    ``budget`` calls only ``s in [n, D - budget + n]`` can lie on a complete
    path (every call fills at least one position), so each call is one
    vectorised ``W x W`` min over a window of width ``W = D - budget + 1``:
    ``O(budget * W^2)`` numpy arithmetic, no Python loop over positions.

    Returns ``(group sizes in generation order, total cost)``; the sizes sum to
    ``D`` and ``len(sizes) == budget``.
    """
    c = _as_vector(components)
    D = c.size
    budget = int(budget)
    if not 1 <= budget <= D:
        raise ValueError(f"budget must be in [1, {D}] network calls, got {budget}")
    W = D - budget + 1
    a = np.arange(W)
    # span[a, b]: positions filled when going from s = n-1+a to t = n+b (valid iff a <= b)
    span = (a[None, :] - a[:, None] + 1).astype(np.float64)
    invalid = np.where(span >= 1, 0.0, np.inf)
    span = np.maximum(span, 0.0)
    back = np.empty((budget, W), dtype=np.int32)
    prev = np.full(W, np.inf)
    prev[0] = 0.0  # n = 0 calls: only s = 0 reachable (window of n = 0 starts at s = 0)
    for n in range(1, budget + 1):
        cw = c[n - 1:n - 1 + W]  # L_s for s in the previous window
        total = prev[:, None] + span * cw[:, None] + invalid
        arg = np.argmin(total, axis=0)
        prev = total[arg, a]
        back[n - 1] = arg
    cost = float(prev[W - 1])  # n = budget, t = budget + (W - 1) = D
    # Walk back from (budget, D) to the group sizes.
    sizes = []
    b = W - 1
    for n in range(budget, 0, -1):
        a_prev = int(back[n - 1, b])
        sizes.append(b - a_prev + 1)
        b = a_prev
    sizes.reverse()
    return sizes, cost


def even_schedule(D: int, budget: int) -> list[int]:
    """Split ``D`` steps into ``budget`` groups whose sizes differ by at most one.

    The larger groups go last, where the per-step loss is usually smallest.
    """
    D, budget = int(D), int(budget)
    if not 1 <= budget <= D:
        raise ValueError(f"budget must be in [1, {D}] network calls, got {budget}")
    base, extra = divmod(D, budget)
    return [base] * (budget - extra) + [base + 1] * extra


def schedule_cost(components: Sequence[float] | np.ndarray | torch.Tensor,
                  steps: Sequence[int]) -> float:
    """Bits of the bound for a schedule: ``sum_g size_g * L_{start_g}``."""
    c = _as_vector(components)
    sizes = [int(s) for s in steps]
    if any(s < 1 for s in sizes) or sum(sizes) != c.size:
        raise ValueError(f"group sizes must be >= 1 and sum to {c.size}, got {sizes}")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return float(np.sum(np.asarray(sizes, dtype=np.float64) * c[starts]))
