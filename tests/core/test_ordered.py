import pytest
import torch
from omegaconf import OmegaConf

from anytime_audio.builders import build_autoencoder
from anytime_audio.core.ordered import prefix_mask, sample_truncation

CONFIGS = __import__("pathlib").Path(__file__).resolve().parents[2] / "configs"


def tiny(family: str, **model_overrides):
    data = {"mel": "tts_digits", "wave": "tts_digits", "image": "sklearn_digits"}[family]
    m = OmegaConf.load(CONFIGS / "model" / f"{family}.yaml")
    d = OmegaConf.load(CONFIGS / "data" / f"{data}.yaml")
    m.code_channels, m.num_codes = 8, 16
    if family == "mel":
        m.hidden, m.depth, m.n_mels = 32, 1, 40
        d.clip_seconds = 0.25
    elif family == "wave":
        m.hidden, m.max_channels, m.strides = 8, 32, [4, 4]
        d.clip_seconds = 0.05
    else:
        m.hidden, m.depth = 16, 1
    for k, v in model_overrides.items():
        m[k] = v
    return build_autoencoder(m, d), m, d


@pytest.mark.parametrize("family", ["mel", "wave", "image"])
def test_shapes_of_every_family(family):
    ae, m, d = tiny(family)
    x = torch.randn(3, *ae.input_shape) if family != "mel" else torch.randn(3, 4000) * 0.1
    x_in = ae.prepare(x)
    assert tuple(x_in.shape[1:]) == ae.input_shape
    codes = ae.encode(x_in)
    assert codes.shape == (3, 8) and codes.dtype == torch.long
    assert ae.decode(codes, 3).shape == x_in.shape
    loss, stats = ae.training_loss(x)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert 0 < stats["usage"] <= 1


@pytest.mark.parametrize("family", ["mel", "image"])
def test_decode_ignores_codes_after_k(family):
    ae, _, _ = tiny(family)
    ae.eval()
    codes = torch.randint(0, 16, (2, 8))
    other = codes.clone()
    other[:, 3:] = torch.randint(0, 16, (2, 5))
    assert torch.equal(ae.decode(codes, 3), ae.decode(other, 3))
    assert not torch.equal(ae.decode(codes, 8), ae.decode(other, 8))


def test_truncation_distributions():
    g = torch.Generator().manual_seed(0)
    k = sample_truncation(5000, 10, "uniform", generator=g)
    assert k.min() == 1 and k.max() == 10
    counts = torch.bincount(k, minlength=11)[1:].float()
    assert counts.std() / counts.mean() < 0.15
    kg = sample_truncation(5000, 10, "geometric", geometric_p=0.3, generator=g)
    assert kg.float().mean() < k.float().mean()
    assert (sample_truncation(7, 10, "none") == 10).all()
    assert prefix_mask(torch.tensor([2]), 4).tolist() == [[True, True, False, False]]
    with pytest.raises(ValueError):
        sample_truncation(2, 10, "bogus")


def test_k_out_of_range_is_rejected():
    ae, _, _ = tiny("image")
    with pytest.raises(ValueError, match="1..8"):
        ae.decode(torch.zeros(1, 8, dtype=torch.long), 9)


def test_few_training_steps_lower_the_loss():
    torch.manual_seed(0)
    ae, _, _ = tiny("image")
    x = torch.rand(16, 1, 8, 8) * 2 - 1
    opt = torch.optim.Adam(ae.parameters(), 3e-3)
    first = None
    for step in range(60):
        loss, _ = ae.training_loss(x, step=step)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = float(loss.detach()) if first is None else first
    with torch.no_grad():
        final = float(ae.training_loss(x, step=100)[0])
    assert final < 0.7 * first


def test_wave_family_trains_without_collapse():
    torch.manual_seed(0)
    ae, _, _ = tiny("wave")
    t = torch.arange(800) / 16000
    x = torch.stack([0.3 * torch.sin(2 * torch.pi * f * t) for f in (200, 400, 800, 1600)] * 2)
    opt = torch.optim.Adam(ae.parameters(), 2e-3)
    losses, usage = [], []
    for step in range(40):
        loss, stats = ae.training_loss(x, step=step)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        usage.append(stats["usage"])
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert usage[-1] > 1 / 16  # more than one code in use: no collapse


def test_pretrain_steps_use_full_codes():
    ae, _, _ = tiny("image", pretrain_steps=10)
    seen = []
    original = ae.forward

    def spy(x, k=None):
        seen.append(k.clone())
        return original(x, k)

    ae.forward = spy
    x = torch.rand(4, 1, 8, 8)
    ae.training_loss(x, step=0)
    ae.training_loss(x, step=50)
    assert (seen[0] == 8).all()
    torch.manual_seed(1)
    ks = [ae.training_loss(torch.rand(32, 1, 8, 8), step=50) and seen[-1] for _ in range(3)]
    assert any((k < 8).any() for k in ks)
