"""AnytimeSampler: one contract for both priors, budgets from one pass, deadlines that hold.

Deadline accounting is tested on a fake clock (the module's ``time`` is
replaced): each code and each decode advance it by a known amount, so the
expected stopping point is exact and no test depends on the machine's speed.
"""

from __future__ import annotations

import time

import pytest
import torch

from anytime_audio.core import anytime
from anytime_audio.core.anytime import AnytimeResult, AnytimeSampler, resolve_steps
from anytime_audio.core.ardm import ARDMPrior
from anytime_audio.core.prior import CodePrior

L = 16


def make_sampler(decode_delay=0.0, **kwargs):
    torch.manual_seed(0)
    prior = CodePrior(num_codes=8, length=L, d_model=32, n_layers=1, n_heads=2, dropout=0.0).eval()
    seen = []

    def decode(codes, k):
        seen.append((codes.clone(), k))
        if decode_delay:
            time.sleep(decode_delay)
        return codes[:, :k].float().sum(1, keepdim=True)

    return AnytimeSampler(prior, decode, L, **kwargs), seen


class FakeClock:
    """Stands in for the ``time`` module inside ``anytime``: only moves when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(anytime, "time", fake)
    return fake


def timed_sampler(clock, step, decode_seconds, prime=True):
    """A causal sampler whose every code costs ``step`` and every decode ``decode_seconds``.

    ``ready`` maps id(output) to the clock when that output was decoded. ``prime``
    runs one call with a long deadline first, so the time estimates are warm.
    """
    torch.manual_seed(0)
    prior = CodePrior(num_codes=8, length=L, d_model=32, n_layers=1, n_heads=2, dropout=0.0).eval()
    ready = {}
    original = prior.generate

    def slow(*args, **kwargs):
        for token in original(*args, **kwargs):
            clock.now += step
            yield token

    def decode(codes, k):
        clock.now += decode_seconds
        out = codes[:, :k].float().sum(1, keepdim=True)
        ready[id(out)] = clock.now
        return out

    prior.generate = slow
    sampler = AnytimeSampler(prior, decode, L)
    if prime:
        sampler.sample(1, ["10s"])
    return sampler, ready


# ------------------------------------------------------------ causal prior
def test_all_budgets_from_one_pass_with_shared_prefixes():
    sampler, seen = make_sampler()
    results = sampler.sample(3, [0.25, "50%", 16, 2])
    assert all(isinstance(r, AnytimeResult) for r in results)
    assert [r.codes_used for r in results] == [4, 8, 16, 2]
    assert [r.network_calls for r in results] == [4, 8, 16, 2]
    assert all(r.steps is None and r.schedule is None and not r.infeasible for r in results)
    full = results[2].codes
    for r in results:
        assert torch.equal(r.codes[:, : r.codes_used], full[:, : r.codes_used])
        assert (r.codes[:, r.codes_used :] == 0).all()  # the decoder never sees later codes
    assert all(int(c[:, k:].abs().sum()) == 0 for c, k in seen)
    assert len(seen) == 4  # one pass: one decode per budget, no re-generation


def test_result_is_typed_without_a_free_form_dict():
    fields = AnytimeResult.__dataclass_fields__
    assert "extra" not in fields
    assert {"steps", "schedule", "infeasible", "elapsed_seconds", "network_calls"} <= set(fields)


def test_single_budget_and_bad_arguments():
    sampler, _ = make_sampler()
    (r,) = sampler.sample(1, "25%")
    assert r.codes_used == 4
    with pytest.raises(ValueError, match="ARDM prior only"):
        sampler.sample(1, [0.5], steps=4)
    with pytest.raises(ValueError, match="n must be an integer"):
        sampler.sample(1.5, [0.5])
    with pytest.raises(ValueError, match="no budgets"):
        sampler.sample(1, [])


def test_deadline_returns_a_valid_sample_even_when_tiny():
    sampler, _ = make_sampler()
    (r,) = sampler.sample(2, ["1ms"])
    assert 1 <= r.codes_used <= L
    assert r.output.shape == (2, 1)
    (long,) = sampler.sample(2, ["10s"])
    assert long.codes_used == L and not long.infeasible


def test_deadline_stops_early_when_generation_is_slow():
    sampler, _ = make_sampler()
    original = sampler.prior.generate

    def slow(*args, **kwargs):
        for token in original(*args, **kwargs):
            time.sleep(0.01)
            yield token

    sampler.prior.generate = slow
    (r,) = sampler.sample(1, ["60ms"])
    assert 1 <= r.codes_used < L


def test_deadline_reserves_the_next_code_not_only_the_decode(clock):
    # codes cost 10 ms, a decode 1 ms: after 3 codes (30 ms) a 4th would end at 41 ms
    sampler, ready = timed_sampler(clock, step=0.010, decode_seconds=0.001)
    start = clock.now
    (r,) = sampler.sample(1, ["35ms"])
    assert r.codes_used == 3
    assert clock.now - start == pytest.approx(0.031)
    assert r.elapsed_seconds == pytest.approx(0.031) and not r.late and not r.infeasible


def test_deadline_counts_the_decodes_of_other_budgets(clock):
    sampler, ready = timed_sampler(clock, step=0.001, decode_seconds=0.005)
    start = clock.now
    deadline, quarter, half = sampler.sample(1, ["20ms", 0.25, 0.5])
    assert ready[id(deadline.output)] - start <= 0.020
    assert deadline.codes_used >= 10  # not needlessly cautious: 14 codes + a decode fit
    assert (quarter.codes_used, half.codes_used) == (4, 8)
    assert torch.equal(quarter.codes[:, :4], deadline.codes[:, :4])
    assert quarter.generate_seconds == pytest.approx(0.004)  # prior time only


def test_several_deadlines_in_one_pass_each_hold(clock):
    sampler, ready = timed_sampler(clock, step=0.001, decode_seconds=0.002)
    start = clock.now
    late, early = sampler.sample(1, ["20ms", "10ms"])
    assert ready[id(early.output)] - start <= 0.010
    assert ready[id(late.output)] - start <= 0.020
    assert early.codes_used < late.codes_used
    assert torch.equal(early.codes[:, : early.codes_used], late.codes[:, : early.codes_used])


def test_infeasible_deadline_gives_the_flagged_minimum_result(clock):
    sampler, _ = timed_sampler(clock, step=0.001, decode_seconds=0.005)
    assert sampler.minimum_seconds(1) == pytest.approx(0.006)
    (r,) = sampler.sample(1, ["3ms"])
    assert r.infeasible and r.codes_used == 1
    assert r.output.shape == (1, 1) and (r.codes[:, 1:] == 0).all()
    (ok,) = sampler.sample(1, ["12ms"])  # twice the minimum cost
    assert not ok.infeasible and not ok.late and ok.codes_used >= 2


def test_cold_call_counts_its_warm_up_against_the_deadline(clock):
    sampler, ready = timed_sampler(clock, step=0.002, decode_seconds=0.002, prime=False)
    (r,) = sampler.sample(1, ["30ms"])
    assert clock.now <= 0.030  # warm-up, codes and decode all inside the deadline
    assert r.elapsed_seconds == pytest.approx(ready[id(r.output)])
    assert r.elapsed_seconds > 0.02  # the warm-up is in it


def test_warm_up_at_construction_and_rng_untouched():
    cold, _ = make_sampler()
    torch.manual_seed(1)
    (plain,) = cold.sample(2, [L])
    sampler, seen = make_sampler(warm_up=[2])
    assert len(seen) == 3 and sampler.decode_estimate(2) > 0 and sampler.code_estimate(2, first=True) > 0
    torch.manual_seed(1)
    (warmed,) = sampler.sample(2, [L])
    assert torch.equal(plain.codes, warmed.codes)


def test_progressive_yields_growing_prefixes():
    sampler, _ = make_sampler()
    ks = [k for k, _ in sampler.progressive(2, every=4)]
    assert ks == [4, 8, 12, 16]


# -------------------------------------------------------------------- ARDM
def ardm_sampler():
    torch.manual_seed(0)
    prior = ARDMPrior(num_codes=5, length=8, d_model=16, n_layers=1, n_heads=2)
    with torch.no_grad():  # feed the loss trackers, so "auto" steps and the DP schedule have costs
        prior.loss(torch.randint(0, 5, (256, 8)))
    prior.eval()
    seen = []

    def decode(codes, k):
        seen.append(k)
        return codes[:, :k].float().sum(1, keepdim=True)

    return AnytimeSampler(prior, decode, 8), seen


def test_ardm_budgets_times_steps_grid():
    sampler, seen = ardm_sampler()
    results = sampler.sample(2, [0.5, 1.0], steps=[1, 2, None], schedule="even")
    assert all(isinstance(r, AnytimeResult) for r in results)
    assert [(r.codes_used, r.steps) for r in results] == [(4, 1), (4, 2), (4, 4), (8, 1), (8, 2), (8, 8)]
    assert [r.network_calls for r in results] == [r.steps for r in results]
    assert all(r.schedule == "even" and not r.infeasible for r in results)
    for r in results:
        assert r.codes.shape == (2, 8) and (r.codes[:, r.codes_used:] == 0).all()
        assert r.output.shape == (2, 1) and r.elapsed_seconds >= r.seconds > 0
    assert seen == [4, 4, 4, 8, 8, 8]


def test_ardm_single_and_auto_steps():
    sampler, _ = ardm_sampler()
    (r,) = sampler.sample(1, [6], steps=3, schedule="even", temperature=0.0, top_k=0, top_p=1.0)
    assert (r.codes_used, r.steps, r.network_calls) == (6, 3, 3)
    (auto,) = sampler.sample(1, [1.0], steps="auto", schedule="even")
    assert auto.steps == sampler.prior.auto_steps(8, schedule="even") == auto.network_calls
    (dp,) = sampler.sample(1, [1.0], steps=2)  # schedule="dp" by default
    assert (dp.schedule, dp.network_calls) == ("dp", 2)


def test_ardm_refuses_what_it_cannot_do():
    sampler, _ = ardm_sampler()
    with pytest.raises(ValueError, match="causal prior"):
        sampler.sample(1, ["150ms"])
    with pytest.raises(ValueError, match="1..4"):
        sampler.sample(1, [0.5], steps=5, schedule="even")
    with pytest.raises(ValueError, match="top_k applies"):
        sampler.sample(1, [0.5], top_k=3, schedule="even")
    with pytest.raises(ValueError, match="schedule must be"):
        sampler.sample(1, [0.5], schedule="fast")
    with pytest.raises(ValueError, match="causal prior"):
        next(sampler.progressive(1))
    with pytest.raises(ValueError, match="causal prior"):
        sampler.minimum_seconds(1)


def test_resolve_steps_is_strict():
    sampler, _ = ardm_sampler()
    prior = sampler.prior
    assert resolve_steps(prior, None, 5) == 5 and resolve_steps(prior, "null", 5) == 5
    assert resolve_steps(prior, 3, 5) == 3 and resolve_steps(prior, "3", 5) == 3
    assert resolve_steps(prior, "auto", 8, "even") == prior.auto_steps(8, schedule="even")
    for bad in (True, 1.5, "abc", 0, 6):
        with pytest.raises(ValueError, match="steps must"):
            resolve_steps(prior, bad, 5)


def test_unknown_prior_is_refused():
    with pytest.raises(TypeError, match="CodePrior or an ARDMPrior"):
        AnytimeSampler(torch.nn.Linear(2, 2), lambda c, k: c, 4)
