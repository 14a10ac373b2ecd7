"""The central claim on tiny data: training with random truncation orders the codes.

A tiny mel model learns chirps whose pitch, level and slope vary. With
truncated training the reconstruction error falls as more codes are kept,
and with few codes it is far below that of the same model trained on all
codes every step (the unordered twin), whose early codes carry no priority.
"""

import math

import pytest
import torch

from tests.core.test_ordered import tiny


def _clips(n: int, seed: int, sample_rate: int = 16000, seconds: float = 0.25) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(sample_rate * seconds)) / sample_rate
    f0 = 200 + 1800 * torch.rand(n, 1, generator=g)
    slope = (torch.rand(n, 1, generator=g) - 0.5) * 2000
    level = 0.1 + 0.8 * torch.rand(n, 1, generator=g)
    return level * torch.sin(2 * math.pi * (f0 * t + 0.5 * slope * t * t))


def _train(truncation: str, clips: torch.Tensor, steps: int = 300, **overrides):
    torch.manual_seed(0)
    model, _, _ = tiny("mel", truncation=truncation, **overrides)
    opt = torch.optim.Adam(model.parameters(), 2e-3)
    g = torch.Generator().manual_seed(1)
    for step in range(steps):
        batch = clips[torch.randint(0, len(clips), (16,), generator=g)]
        loss, _ = model.training_loss(batch, step=step)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model.eval()


@torch.no_grad()
def _errors(model, clips) -> list[float]:
    x = model.prepare(clips)
    codes = model.encode(x)
    return [float((model.decode(codes, k) - x).abs().mean()) for k in range(1, model.code_length + 1)]


# the paper's plain uniform draw, and the mel defaults as shipped (configs/model/mel.yaml:
# a point mass at full codes and the training-time mel warp)
@pytest.mark.parametrize("overrides", [{"full_code_prob": 0.0, "freq_warp": 0.0}, {}], ids=["paper", "defaults"])
def test_truncated_training_orders_the_codes(overrides):
    torch.set_num_threads(1)
    train, held_out = _clips(256, 0), _clips(64, 1)
    ordered = _errors(_train("uniform", train, **overrides), held_out)
    unordered = _errors(_train("none", train, **overrides), held_out)
    # error falls with k (allowing tiny wiggles between neighbours) and overall by a clear margin
    assert all(b <= a * 1.02 for a, b in zip(ordered, ordered[1:])), ordered
    assert ordered[-1] < 0.85 * ordered[0]
    # with a quarter of the codes the ordered model is much better than the unordered one
    quarter = len(ordered) // 4 - 1
    assert ordered[quarter] < 0.85 * unordered[quarter], (ordered[quarter], unordered[quarter])
