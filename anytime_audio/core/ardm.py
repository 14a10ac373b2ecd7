"""Order-agnostic autoregressive diffusion prior (ARDM) over ordered code prefixes.

Reference: Hoogeboom et al., "Autoregressive Diffusion Models", ICLR 2022.  A
non-causal Transformer sees a code sequence in which some positions are known,
some are in the absorbing (mask) state, and predicts every masked position at
once.  Generation fills the positions in a random order; with a budget of
fewer network calls than positions, each call fills a group of positions
(sampled independently given the known ones), and :func:`dp_schedule` chooses
the group sizes.

Prefix generation (anytime truncation)
--------------------------------------
The autoencoder's codes are ordered, so an anytime sample of budget ``k`` is
the first ``k`` codes only.  The prior must give exact samples of the marginal
``p(x_0..x_{k-1})``.  Each input position is in one of three states: a known
code (``0..K-1``), *masked* (index ``K`` in the embedding table: to be
generated) or *absent* (a separate learned vector: position ``>= k``, never
generated nor predicted).  Conditionals of the prefix marginal are conditionals
of the full joint with the suffix unobserved, so one network serves every
``k``; the absent state tells the network which positions it will never see,
and training over many ``k`` makes it see the observed-subset patterns that
prefix generation produces (a plain full-length ARDM almost never observes a
context confined to a short prefix).

Training (per example): draw ``k`` from the truncation distribution
(``uniform`` over ``1..L`` like the autoencoder, ``none`` = always ``L``, or
``geometric``, each optionally mixed with a point mass ``full_code_prob`` at
``k = L``), draw ``t`` uniformly in ``0..k-1`` (0-based: ``t`` positions
already known), a random order of the first ``k`` positions, keep the first
``t`` of that order, mask the other ``k - t``.  The ELBO term is
``k / (k - t) * sum_{masked} -log p``; this is the paper's ``D / (D - t + 1)``
with its 1-based ``t`` rewritten for a 0-based one (``k - t`` positions are
masked, never zero).  Its expectation over ``t`` and the order is exactly the
negative ELBO of the ``k`` codes; divided by ``k`` it is the mean NLL over the
masked positions, so :meth:`ARDMPrior.loss` returns the batch mean of that
(nats per code; every example weighs the same per code).

Loss tracking for the schedule
------------------------------
The DP needs ``L_t`` for the prefix length being sampled.  Keeping one tracker
per ``k`` would need ``L(L+1)/2`` cells, each seen rarely.  Instead the prior
keeps two :class:`StepLossTracker` of length ``L``:

* ``step_tracker``: per-masked-code loss indexed by *relative progress*
  ``floor(t * L / k)`` (for ``k = L`` this is exactly the paper's per-step
  tracker);
* ``prefix_tracker``: the same per-code loss indexed by ``k - 1``, whose
  expectation over ``t`` is ``ELBO_k / k``.

:meth:`step_components` resamples the (sorted) relative shape to ``k`` steps
and rescales it to the mean of ``prefix_tracker`` at ``k``.  The shape is an
approximation shared across ``k``; the level is tracked per ``k``.  Trackers
are updated only in training mode, from the training loss.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .ardm_schedule import StepLossTracker, dp_schedule, even_schedule, schedule_cost

__all__ = ["ARDMPrior"]

log = logging.getLogger(__name__)

_LN2 = math.log(2.0)
_TRUNCATIONS = ("uniform", "none", "geometric")
_SCHEDULES = ("dp", "even")


class ARDMPrior(nn.Module):
    """Order-agnostic ARDM prior over code sequences ``[B, L]`` with values in ``[0, K)``.

    Args:
        num_codes: codebook size ``K``.
        length: sequence length ``L``.
        num_classes: number of class labels (0: unconditional).  Labels ``< 0``
            mean "no label" for that example.
        d_model, n_layers, n_heads, dropout: pre-norm Transformer encoder size.
        truncation: training distribution of the prefix length ``k``:
            ``"uniform"`` over ``1..L``, ``"none"`` (always ``L``) or
            ``"geometric"`` (``P(k) ∝ (1-p)^(k-1)``, truncated at ``L``).
        geometric_p: ``p`` of the geometric truncation.
        full_code_prob: extra probability of training on the whole sequence
            (``k = L``).  Position ``i`` is only ever predicted when ``k > i``,
            so under pure uniform truncation the last codes are trained
            ``1/L`` as often as the first; the point mass evens that out
            (the autoencoder's ``full_code_prob`` plays the same role).
        tracker_decay: EMA decay of the per-step loss trackers.
    """

    def __init__(self, num_codes: int, length: int, num_classes: int = 0,
                 d_model: int = 256, n_layers: int = 4, n_heads: int = 4,
                 dropout: float = 0.0, truncation: str = "uniform",
                 geometric_p: float = 0.05, full_code_prob: float = 0.0,
                 tracker_decay: float = 0.99) -> None:
        super().__init__()
        if num_codes < 1 or length < 1:
            raise ValueError(f"num_codes and length must be >= 1, got {num_codes}, {length}")
        if truncation not in _TRUNCATIONS:
            raise ValueError(f"truncation must be one of {_TRUNCATIONS}, got {truncation!r}")
        if truncation == "geometric" and not 0.0 < geometric_p <= 1.0:
            raise ValueError(f"geometric_p must be in (0, 1], got {geometric_p}")
        if not 0.0 <= full_code_prob <= 1.0:
            raise ValueError(f"full_code_prob must be in [0, 1], got {full_code_prob}")
        self._config = dict(num_codes=int(num_codes), length=int(length),
                            num_classes=int(num_classes), d_model=int(d_model),
                            n_layers=int(n_layers), n_heads=int(n_heads),
                            dropout=float(dropout), truncation=str(truncation),
                            geometric_p=float(geometric_p),
                            full_code_prob=float(full_code_prob),
                            tracker_decay=float(tracker_decay))
        self.num_codes = int(num_codes)
        self.length = int(length)
        self.num_classes = int(num_classes)
        self.truncation = truncation
        self.mask_index = self.num_codes  # absorbing state in the embedding table

        self.tok_emb = nn.Embedding(self.num_codes + 1, d_model)
        self.absent_emb = nn.Parameter(torch.zeros(d_model))
        self.pos_emb = nn.Parameter(torch.zeros(self.length, d_model))
        self.class_emb = nn.Embedding(self.num_classes, d_model) if self.num_classes > 0 else None
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward=4 * d_model,
                                           dropout=dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, self.num_codes)
        nn.init.normal_(self.tok_emb.weight, std=0.02)
        nn.init.normal_(self.pos_emb, std=0.02)
        nn.init.normal_(self.absent_emb, std=0.02)
        if self.class_emb is not None:
            nn.init.normal_(self.class_emb.weight, std=0.02)

        ks = torch.arange(1, self.length + 1, dtype=torch.float64)
        if truncation == "uniform":
            probs = torch.ones_like(ks)
        elif truncation == "none":
            probs = (ks == self.length).double()
        else:
            probs = (1.0 - geometric_p) ** (ks - 1)
        probs = (1.0 - full_code_prob) * probs / probs.sum()
        probs[-1] += full_code_prob
        self.register_buffer("k_probs", probs.float(), persistent=False)

        self.step_tracker = StepLossTracker(self.length, tracker_decay)
        self.prefix_tracker = StepLossTracker(self.length, tracker_decay)
        self.network_calls = 0  # forward passes of the Transformer since construction

    # ------------------------------------------------------------------ basics
    def config(self) -> dict:
        """Constructor kwargs (plain ints/floats/strings) to rebuild this prior."""
        return dict(self._config)

    @property
    def device(self) -> torch.device:
        return self.pos_emb.device

    def forward(self, state: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """One network call.  ``state [B, L]``: codes ``0..K-1``, ``K`` = masked,
        ``K + 1`` = absent.  Returns logits ``[B, L, K]``."""
        if state.dim() != 2 or state.shape[1] != self.length:
            raise ValueError(f"state must be [B, {self.length}], got {tuple(state.shape)}")
        self.network_calls += 1
        absent = state > self.mask_index
        h = self.tok_emb(state.clamp(max=self.mask_index))
        h = torch.where(absent.unsqueeze(-1), self.absent_emb.to(h.dtype), h)
        h = h + self.pos_emb
        if labels is not None and self.class_emb is not None:
            labels = labels.to(state.device).long()
            has = labels >= 0
            c = self.class_emb(labels.clamp(min=0)) * has.unsqueeze(-1).to(h.dtype)
            h = h + c.unsqueeze(1)
        h = self.encoder(h)
        return self.head(self.norm(h))

    def _check_codes(self, codes: torch.Tensor) -> torch.Tensor:
        if codes.dim() != 2 or codes.shape[1] != self.length:
            raise ValueError(f"codes must be [B, {self.length}], got {tuple(codes.shape)}")
        codes = codes.to(self.device).long()
        return codes

    def _check_k(self, k: int | None) -> int:
        k = self.length if k is None else int(k)
        if not 1 <= k <= self.length:
            raise ValueError(f"k must be in [1, {self.length}], got {k}")
        return k

    def _rand(self, shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
        """Uniform noise drawn on the generator's device (a CPU generator works for
        a GPU model: reproducible across devices), moved to the model's device."""
        dev = generator.device if generator is not None else self.device
        return torch.rand(shape, device=dev, generator=generator).to(self.device)

    def _random_ranks(self, n: int, k: torch.Tensor, generator=None) -> torch.Tensor:
        """Rank of each position in a random generation order of the first ``k[b]``
        positions (``[n, L]`` long); positions ``>= k`` get ranks ``>= k``."""
        pos = torch.arange(self.length, device=self.device)
        scores = self._rand((n, self.length), generator)
        scores = torch.where(pos[None, :] < k[:, None], scores, 2.0 + pos[None, :].float())
        perm = scores.argsort(dim=1)
        return perm.argsort(dim=1)

    def _state(self, codes: torch.Tensor, ranks: torch.Tensor, known: torch.Tensor,
               k: torch.Tensor) -> torch.Tensor:
        """Network input: code where ``rank < known``, masked up to ``k``, absent after."""
        pos = torch.arange(self.length, device=codes.device)
        state = torch.where(ranks < known[:, None], codes, torch.full_like(codes, self.mask_index))
        return torch.where(pos[None, :] < k[:, None], state,
                           torch.full_like(codes, self.mask_index + 1))

    # ---------------------------------------------------------------- training
    def loss(self, codes: torch.Tensor, labels: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, dict]:
        """Unbiased ARDM training loss (nats per code) and logging stats.

        Per example: ``k`` from the truncation distribution, ``t ~ U{0..k-1}``,
        a random order of the first ``k`` positions; loss = mean NLL over the
        ``k - t`` masked positions (= ELBO term ``k/(k-t) * sum`` divided by ``k``).
        """
        codes = self._check_codes(codes)
        B = codes.shape[0]
        k = torch.multinomial(self.k_probs, B, replacement=True) + 1
        t = (torch.rand(B, device=self.device) * k).long().clamp(max=k - 1)
        ranks = self._random_ranks(B, k)
        logits = self(self._state(codes, ranks, t, k), labels)
        nll = F.cross_entropy(logits.float().reshape(-1, self.num_codes), codes.reshape(-1),
                              reduction="none").view(B, self.length)
        masked = (ranks >= t[:, None]) & (ranks < k[:, None])
        per_code = (nll * masked).sum(1) / (k - t).to(nll.dtype)
        loss = per_code.mean()
        if self.training:
            bits = per_code.detach() / _LN2
            self.step_tracker.update((t * self.length) // k, bits)
            self.prefix_tracker.update(k - 1, bits)
        stats = {"loss": float(loss.detach()), "bits_per_code": float(loss.detach()) / _LN2,
                 "mean_k": float(k.float().mean())}
        return loss, stats

    # ---------------------------------------------------------------- schedule
    def step_components(self, k: int | None = None) -> np.ndarray:
        """Estimated per-step loss ``L_t`` (bits, descending) for prefix length ``k``."""
        k = self._check_k(k)
        rel = self.step_tracker.components(sort=True)
        u = (np.arange(k) + 0.5) * self.length / k - 0.5
        comp = np.interp(u, np.arange(self.length), rel)
        level = self.prefix_tracker.components(sort=False)[k - 1]
        mean = comp.mean()
        if mean > 0:
            comp = comp * (level / mean)
        return comp

    def schedule(self, k: int | None, steps: int | None, schedule: str = "dp") -> list[int]:
        """Group sizes (generation order) for ``steps`` network calls over ``k`` codes."""
        k = self._check_k(k)
        steps = k if steps is None else int(steps)
        if not 1 <= steps <= k:
            raise ValueError(f"steps must be in [1, k={k}] network calls, got {steps}")
        if schedule not in _SCHEDULES:
            raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")
        if steps == k:
            return [1] * k
        if schedule == "even":
            return even_schedule(k, steps)
        return dp_schedule(self.step_components(k), steps)[0]

    def predicted_cost(self, k: int | None = None, steps: int | None = None,
                       schedule: str = "dp") -> float:
        """Bits (whole prefix of ``k`` codes) the tracker predicts for the schedule."""
        sizes = self.schedule(k, steps, schedule)
        return schedule_cost(self.step_components(k), sizes)

    # -------------------------------------------------------------- likelihood
    @torch.no_grad()
    def nll_bits(self, codes: torch.Tensor, labels: torch.Tensor | None = None,
                 k: int | None = None, steps: int | None = None, schedule: str = "dp",
                 num_samples: int = 1, generator: torch.Generator | None = None,
                 max_rows: int = 1024) -> torch.Tensor:
        """Held-out bits per code of the first ``k`` codes, ``[B]``.

        For a random order of the first ``k`` positions and the schedule's
        groups, sums ``-log2 p`` of each group's positions given all earlier
        groups (teacher forcing).  With ``steps = k`` (default) this is the
        order-sampled full chain, an unbiased estimate of the negative ELBO;
        with fewer steps it is the bound of the parallel schedule.  All groups
        are evaluated in one batched pass (``max_rows`` rows at a time), and
        the estimate is averaged over ``num_samples`` random orders.
        """
        codes = self._check_codes(codes)
        k = self._check_k(k)
        sizes = self.schedule(k, steps, schedule)
        B, G = codes.shape[0], len(sizes)
        if labels is not None:
            labels = labels.to(self.device).long()
        starts = torch.tensor([0] + list(np.cumsum(sizes)[:-1]), device=self.device)
        ends = starts + torch.tensor(sizes, device=self.device)
        kk = torch.full((B,), k, device=self.device, dtype=torch.long)
        was_training = self.training
        self.eval()
        total = torch.zeros(B, dtype=torch.float64, device=self.device)
        try:
            for _ in range(num_samples):
                ranks = self._random_ranks(B, kk, generator)
                # rows ordered (group, example)
                row_codes = codes.repeat(G, 1)
                row_ranks = ranks.repeat(G, 1)
                row_start = starts.repeat_interleave(B)
                row_end = ends.repeat_interleave(B)
                row_k = kk.repeat(G)
                row_labels = labels.repeat(G) if labels is not None else None
                row_bits = torch.empty(G * B, dtype=torch.float64, device=self.device)
                for lo in range(0, G * B, max_rows):
                    sl = slice(lo, min(lo + max_rows, G * B))
                    state = self._state(row_codes[sl], row_ranks[sl], row_start[sl], row_k[sl])
                    logits = self(state, row_labels[sl] if row_labels is not None else None)
                    logp = torch.log_softmax(logits.float(), dim=-1)
                    lp = logp.gather(-1, row_codes[sl].unsqueeze(-1)).squeeze(-1)
                    target = (row_ranks[sl] >= row_start[sl, None]) & (row_ranks[sl] < row_end[sl, None])
                    row_bits[sl] = -(lp * target).sum(1).double() / _LN2
                total += row_bits.view(G, B).sum(0)
        finally:
            self.train(was_training)
        return (total / (num_samples * k)).float()

    # ---------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(self, n: int, k: int | None = None, steps: int | None = None,
               labels: torch.Tensor | None = None, schedule: str = "dp",
               temperature: float = 1.0, generator: torch.Generator | None = None
               ) -> torch.Tensor:
        """Sample ``n`` prefixes of ``k`` codes in exactly ``steps`` network calls.

        Each call fills the next scheduled group of a random order, sampling
        the group's positions independently from the model's conditionals
        (``temperature <= 0``: argmax).  Returns ``[n, L]`` long with
        positions ``>= k`` set to 0.  ``schedule="dp"`` needs a trained
        tracker (raises otherwise); ``"even"`` does not.
        """
        k = self._check_k(k)
        sizes = self.schedule(k, steps, schedule)
        if labels is not None:
            labels = torch.as_tensor(labels, device=self.device).long().reshape(-1)
            if labels.numel() == 1 and n != 1:
                labels = labels.expand(n)
            if labels.numel() != n:
                raise ValueError(f"labels must have {n} entries, got {labels.numel()}")
        kk = torch.full((n,), k, device=self.device, dtype=torch.long)
        ranks = self._random_ranks(n, kk, generator)
        perm = ranks.argsort(dim=1)  # perm[:, r] = position generated r-th
        state = torch.full((n, self.length), self.mask_index, device=self.device, dtype=torch.long)
        state[:, k:] = self.mask_index + 1
        was_training = self.training
        self.eval()
        try:
            start = 0
            for size in sizes:
                logits = self(state, labels).float()
                pos = perm[:, start:start + size]  # [n, size]
                lg = logits.gather(1, pos.unsqueeze(-1).expand(-1, -1, self.num_codes))
                if temperature <= 0:
                    new = lg.argmax(-1)
                else:  # Gumbel-max: an exact categorical draw per position
                    u = self._rand(tuple(lg.shape), generator).clamp_(1e-20, 1.0 - 1e-7)
                    new = (lg / temperature - torch.log(-torch.log(u))).argmax(-1)
                state.scatter_(1, pos, new)
                start += size
        finally:
            self.train(was_training)
        state[:, k:] = 0
        return state

    # ------------------------------------------------- trainer / CLI adapters
    def training_loss(self, batch, step: int = 0) -> tuple[torch.Tensor, dict]:
        """Trainer entry point: ``batch = (codes, labels)``; labels dropped 10% of
        the time so one model also samples unconditionally."""
        from anytime_audio.core.prior import drop_labels

        codes, labels = batch
        return self.loss(codes, drop_labels(labels, self.class_emb is not None))

    @torch.no_grad()
    def bits_per_code(self, codes: torch.Tensor, labels: torch.Tensor | None = None,
                      steps: int | None = None, schedule: str = "dp") -> torch.Tensor:
        """Held-out bits per code ``[B]`` of full sequences (see :meth:`nll_bits`)."""
        if schedule == "dp" and not bool(self.step_tracker.seen().any()):
            schedule = "even"  # an untrained tracker has no DP costs yet
        return self.nll_bits(codes, labels, steps=steps, schedule=schedule)

    def auto_steps(self, k: int | None = None, schedule: str = "dp", tolerance: float = 0.02) -> int:
        """Fewest network calls whose predicted cost is within ``tolerance``
        (relative) of the one-code-per-call cost, found by bisection (the
        DP cost does not increase with more calls)."""
        k = self._check_k(k)
        full = self.predicted_cost(k, k, schedule)
        lo, hi = 1, k
        while lo < hi:
            mid = (lo + hi) // 2
            if self.predicted_cost(k, mid, schedule) <= full * (1 + tolerance):
                hi = mid
            else:
                lo = mid + 1
        return lo
