import time

import torch

from anytime_audio.core.anytime import AnytimeSampler
from anytime_audio.core.prior import CodePrior


def make_sampler(decode_delay=0.0):
    torch.manual_seed(0)
    prior = CodePrior(num_codes=8, length=16, d_model=32, n_layers=1, n_heads=2, dropout=0.0).eval()
    seen = []

    def decode(codes, k):
        seen.append((codes.clone(), k))
        if decode_delay:
            time.sleep(decode_delay)
        return codes[:, :k].float().sum(1, keepdim=True)

    return AnytimeSampler(prior, decode, 16), seen


def test_all_budgets_from_one_pass_with_shared_prefixes():
    sampler, seen = make_sampler()
    results = sampler.sample(3, [0.25, "50%", 16, 2])
    assert [r.codes_used for r in results] == [4, 8, 16, 2]
    full = results[2].codes
    for r in results:
        assert torch.equal(r.codes[:, : r.codes_used], full[:, : r.codes_used])
        assert (r.codes[:, r.codes_used :] == 0).all()  # the decoder never sees later codes
    assert all(int(c[:, k:].abs().sum()) == 0 for c, k in seen)


def test_deadline_returns_a_valid_sample_even_when_tiny():
    sampler, _ = make_sampler()
    (r,) = sampler.sample(2, ["1ms"])
    assert 1 <= r.codes_used <= 16
    assert r.output.shape == (2, 1)
    (long,) = sampler.sample(2, ["10s"])
    assert long.codes_used == 16


def test_deadline_stops_early_when_generation_is_slow():
    sampler, _ = make_sampler()
    original = sampler.prior.generate

    def slow(*args, **kwargs):
        for token in original(*args, **kwargs):
            time.sleep(0.01)
            yield token

    sampler.prior.generate = slow
    (r,) = sampler.sample(1, ["60ms"])
    assert 1 <= r.codes_used < 16


def test_progressive_yields_growing_prefixes():
    sampler, _ = make_sampler()
    ks = [k for k, _ in sampler.progressive(2, every=4)]
    assert ks == [4, 8, 12, 16]
