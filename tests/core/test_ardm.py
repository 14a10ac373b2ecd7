"""ARDM prior and its budget schedule: DP, trackers, unbiased loss, sampling, toy fit."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import torch

from anytime_audio.core.ardm import ARDMPrior
from anytime_audio.core.ardm_schedule import (StepLossTracker, dp_schedule, even_schedule,
                                              schedule_cost)


def tiny(**kw) -> ARDMPrior:
    args = dict(num_codes=5, length=8, d_model=16, n_layers=1, n_heads=2)
    args.update(kw)
    return ARDMPrior(**args)


# ----------------------------------------------------------------- schedule
def test_dp_paper_example():
    comps = [5, 4, 3, 2.85, 2.80]
    expected = [25, 19, 18, 17.7, 17.65]
    for budget, want in zip(range(1, 6), expected):
        steps, cost = dp_schedule(comps, budget)
        assert abs(cost - want) < 1e-6
        assert len(steps) == budget and sum(steps) == 5
        assert abs(schedule_cost(comps, steps) - cost) < 1e-9


def _brute(c, budget):
    D = len(c)
    best = math.inf
    for cuts in itertools.combinations(range(1, D), budget - 1):
        b = [0, *cuts, D]
        best = min(best, schedule_cost(c, [b[i + 1] - b[i] for i in range(budget)]))
    return best


def test_dp_matches_brute_force():
    rng = np.random.default_rng(0)
    for trial in range(12):
        D = int(rng.integers(1, 9))
        c = rng.random(D) * 4
        if trial % 2:
            c = np.sort(c)[::-1]
        for budget in range(1, D + 1):
            steps, cost = dp_schedule(torch.tensor(c.copy()), budget)
            assert sum(steps) == D and len(steps) == budget and min(steps) >= 1
            assert abs(cost - _brute(c, budget)) < 1e-9
            assert abs(schedule_cost(c, steps) - cost) < 1e-9


def test_dp_rejects_bad_budget():
    with pytest.raises(ValueError):
        dp_schedule([1.0, 0.5], 3)
    with pytest.raises(ValueError):
        dp_schedule([1.0, 0.5], 0)


def test_even_schedule():
    assert even_schedule(10, 3) == [3, 3, 4]
    assert even_schedule(8, 8) == [1] * 8
    assert even_schedule(7, 1) == [7]
    for D, b in [(64, 5), (1024, 100), (9, 4)]:
        s = even_schedule(D, b)
        assert sum(s) == D and len(s) == b and max(s) - min(s) <= 1


def test_dp_large_is_fast_and_beats_even():
    D = 1024
    c = np.sort(np.random.default_rng(1).gamma(1.0, size=D))[::-1]
    t0 = time.perf_counter()
    steps, cost = dp_schedule(c, 341)
    assert time.perf_counter() - t0 < 30
    assert sum(steps) == D and len(steps) == 341
    assert cost <= schedule_cost(c, even_schedule(D, 341)) + 1e-9
    assert abs(schedule_cost(c, steps) - cost) < 1e-6


# ------------------------------------------------------------------ tracker
def test_tracker_interpolates_sorts_and_round_trips():
    tr = StepLossTracker(6, decay=0.5)
    with pytest.raises(RuntimeError):
        tr.components()
    tr.update(torch.tensor([1, 1, 4]), torch.tensor([2.0, 4.0, 1.0]))
    raw = tr.components(sort=False)
    np.testing.assert_allclose(raw, [3.0, 3.0, 7 / 3, 5 / 3, 1.0, 1.0])
    # second sighting moves by 1 - decay**n towards the batch mean
    tr.update(torch.tensor([4]), torch.tensor([3.0]))
    assert abs(tr.components(sort=False)[4] - 2.0) < 1e-12
    comp = tr.components()
    assert np.all(np.diff(comp) <= 0)
    tr2 = StepLossTracker(6, decay=0.5)
    tr2.load_state_dict(tr.state_dict())
    assert all(isinstance(v, torch.Tensor) for v in tr.state_dict().values())
    np.testing.assert_allclose(tr2.components(), comp)


# --------------------------------------------------------------- model API
def test_config_rebuild_and_state_dict():
    m = tiny(num_classes=3, truncation="geometric", geometric_p=0.2)
    m.train()
    m.loss(torch.randint(0, 5, (16, 8)), torch.randint(0, 3, (16,)))
    cfg = m.config()
    assert all(isinstance(v, (int, float, str)) for v in cfg.values())
    m2 = ARDMPrior(**cfg)
    m2.load_state_dict(m.state_dict())
    np.testing.assert_allclose(m2.step_components(5), m.step_components(5))


def test_full_code_prob_adds_mass_at_full_length():
    plain, mixed = tiny(), tiny(full_code_prob=0.5)
    assert torch.allclose(plain.k_probs, torch.full((8,), 1 / 8))
    assert mixed.k_probs.sum().item() == pytest.approx(1.0)
    assert mixed.k_probs[-1].item() == pytest.approx(0.5 + 0.5 / 8)
    assert torch.allclose(mixed.k_probs[:-1], torch.full((7,), 0.5 / 8))
    torch.manual_seed(0)
    _, stats = mixed.loss(torch.randint(0, 5, (2000, 8)))
    assert stats["mean_k"] == pytest.approx(0.5 * 8 + 0.5 * 4.5, abs=0.15)
    with pytest.raises(ValueError, match="full_code_prob"):
        tiny(full_code_prob=1.5)


@pytest.mark.parametrize("k", [8, 5, 1])
def test_sample_makes_exactly_steps_calls(k):
    torch.manual_seed(0)
    m = tiny(num_classes=2)
    hooked = []
    m.encoder.register_forward_hook(lambda *a: hooked.append(1))
    for steps in sorted({1, 2, 3, k} & set(range(1, k + 1))):
        before, hooked[:] = m.network_calls, []
        x = m.sample(6, k=k, steps=steps, schedule="even", labels=torch.tensor([0, 1] * 3))
        assert m.network_calls - before == steps and len(hooked) == steps
        assert x.shape == (6, 8) and x.dtype == torch.long
        assert ((x[:, :k] >= 0) & (x[:, :k] < 5)).all() and (x[:, k:] == 0).all()
    with pytest.raises(ValueError):
        m.sample(2, k=k, steps=k + 1, schedule="even")


def test_sample_dp_needs_tracker_and_is_reproducible():
    m = tiny()
    with pytest.raises(RuntimeError):
        m.sample(2, k=8, steps=3, schedule="dp")
    m.train()
    for _ in range(3):
        m.loss(torch.randint(0, 5, (32, 8)))
    sizes = m.schedule(8, 3, "dp")
    assert sum(sizes) == 8 and len(sizes) == 3
    before = m.network_calls
    a = m.sample(4, k=6, steps=3, generator=torch.Generator().manual_seed(3))
    b = m.sample(4, k=6, steps=3, generator=torch.Generator().manual_seed(3))
    assert m.network_calls - before == 6 and torch.equal(a, b)
    assert m.predicted_cost(6, 6) <= m.predicted_cost(6, 3) + 1e-9


# ------------------------------------------------------- unbiased weighting
def test_uniform_model_elbo_is_exactly_log_k():
    m = tiny(truncation="uniform")
    torch.nn.init.zeros_(m.head.weight)
    torch.nn.init.zeros_(m.head.bias)
    codes = torch.randint(0, 5, (64, 8))
    loss, stats = m.loss(codes)
    assert abs(loss.item() - math.log(5)) < 1e-5
    for k, steps in [(8, None), (8, 3), (3, 1)]:
        bits = m.nll_bits(codes, k=k, steps=steps, schedule="even")
        torch.testing.assert_close(bits, torch.full_like(bits, math.log2(5)))


class CountingStub(ARDMPrior):
    """Conditionals that depend only on how many codes are known: p(0) grows with it."""

    def forward(self, state, labels=None):
        self.network_calls += 1
        n_obs = (state < self.mask_index).sum(1).float()
        logits = torch.zeros(*state.shape, self.num_codes)
        logits[..., 0] = 0.8 * n_obs[:, None] - 1.0
        logits[..., 1] = -0.5 * n_obs[:, None]
        return logits


def test_loss_weighting_is_unbiased():
    """E[loss] over t and orders equals the exact negative ELBO / k, and so does
    the order-sampled chain of nll_bits (the 0-based k/(k-t) weighting)."""
    torch.manual_seed(0)
    K, L = 4, 6
    m = CountingStub(num_codes=K, length=L, d_model=8, n_layers=1, n_heads=1, truncation="none")
    x = torch.tensor([0, 1, 2, 0, 3, 1])
    # exact: sum_t mean_i nll(x_i | t known)
    exact = 0.0
    for t in range(L):
        lg = torch.zeros(K)
        lg[0], lg[1] = 0.8 * t - 1.0, -0.5 * t
        nll = -torch.log_softmax(lg, 0)[x]
        exact += nll.mean().item()
    exact_per_code = exact / L
    codes = x.repeat(20000, 1)
    m.eval()  # no tracker update needed
    loss, _ = m.loss(codes)
    assert abs(loss.item() - exact_per_code) < 0.02
    bits = m.nll_bits(codes[:4000], num_samples=2).mean().item()
    assert abs(bits - exact_per_code / math.log(2)) < 0.02
    # a biased weighting (e.g. 1-based k/(k-t+1)) would be off by far more
    assert abs(exact_per_code - loss.item()) < 0.2 * abs(exact_per_code - math.log(K))


# ----------------------------------------------------------------- toy fit
SEQS = torch.tensor([[0, 1, 2, 0], [0, 1, 0, 2], [2, 0, 1, 1], [0, 2, 2, 1], [1, 0, 0, 0]])
PROBS = torch.tensor([0.4, 0.25, 0.15, 0.1, 0.1])


def _entropy(prefix: int) -> float:
    marg: dict = {}
    for s, p in zip(SEQS.tolist(), PROBS.tolist()):
        marg[tuple(s[:prefix])] = marg.get(tuple(s[:prefix]), 0.0) + p
    return -sum(p * math.log2(p) for p in marg.values())


def _expected_bits(m: ARDMPrior, k: int, steps: int | None = None, orders: int = 64) -> float:
    """E_{x ~ p}[bits of the first k codes]: exact over the 5 sequences, Monte Carlo over orders."""
    bits = m.nll_bits(SEQS.repeat(orders, 1), k=k, steps=steps, schedule="even")
    return (bits.view(orders, len(SEQS)).mean(0) * PROBS).sum().item() * k


@pytest.fixture(scope="module")
def toy():
    torch.manual_seed(0)
    m = ARDMPrior(num_codes=3, length=4, d_model=32, n_layers=2, n_heads=2, truncation="uniform")
    before = {k: _expected_bits(m, k) for k in (2, 4)}
    n_steps = 1000
    opt = torch.optim.Adam(m.parameters(), 2e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / n_steps)
    m.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: threading only adds contention on a shared CPU
    try:
        for _ in range(n_steps):
            loss, _ = m.loss(SEQS[torch.multinomial(PROBS, 128, replacement=True)])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    finally:
        torch.set_num_threads(threads)
    return m, before


def test_toy_likelihood_approaches_entropy(toy):
    m, before = toy
    for k in (4, 2):
        H = _entropy(k)
        est = _expected_bits(m, k)
        assert est > H * 0.98  # a bound on the cross-entropy >= H, up to order noise
        assert est < H * 1.10, (k, est, H)
        assert before[k] > 1.5 * H
        # the tracker's prediction for the full chain is of the same size
        assert abs(m.predicted_cost(k, k) - est) < 0.25 * H
    # fewer calls than codes: a looser bound (independent sampling within a group)
    assert _expected_bits(m, 4, steps=1) > _expected_bits(m, 4, steps=4) + 1.0


def test_toy_samples_match_distribution(toy):
    m = toy[0]
    gen = torch.Generator().manual_seed(0)
    x = m.sample(2000, k=4, steps=4, generator=gen)
    emp = torch.stack([(x == s).all(1).float().mean() for s in SEQS])
    assert 0.5 * (emp - PROBS).abs().sum() + 0.5 * (1 - emp.sum()) < 0.15
    x2 = m.sample(2000, k=2, steps=2, generator=gen)
    assert (x2[:, 2:] == 0).all()
    emp2 = (x2[:, 0] == 0).float().mean().item()  # P(x0 = 0) = 0.75
    assert abs(emp2 - 0.75) < 0.08
