import os
import subprocess
import sys
from pathlib import Path

import torch

from anytime_audio.core.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from anytime_audio.core.ordered import OrderedAutoencoder
from anytime_audio.core.quantizer import VectorQuantizer
from anytime_audio.core.trainer import StepBatches, Trainer, TrainConfig
from anytime_audio.image.nets import ImageDecoder, ImageEncoder, ImageReconstructionLoss

REPO = Path(__file__).resolve().parents[2]


def tiny_ae():
    torch.manual_seed(0)
    return OrderedAutoencoder(ImageEncoder(1, 16, 8, 1, 1), VectorQuantizer(16, 16), ImageDecoder(1, 16, 8, 1, 1),
                              ImageReconstructionLoss(), (1, 8, 8))


def tiny_data():
    g = torch.Generator().manual_seed(3)
    return torch.utils.data.TensorDataset(torch.rand(40, 1, 8, 8, generator=g) * 2 - 1, torch.zeros(40, dtype=torch.long))


def config(steps, **kw):
    return TrainConfig(steps=steps, batch_size=8, lr=2e-3, log_every=5, valid_every=1000, checkpoint_every=5,
                       progress=False, device="cpu", **kw)


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_checkpoint_round_trip_is_safe_and_exact(tmp_path):
    model = tiny_ae()
    save_checkpoint(tmp_path / "c.pt", {"model": model.state_dict(), "step": 3, "rng": capture_rng_state()})
    state = load_checkpoint(tmp_path / "c.pt")  # weights_only=True inside
    other = tiny_ae()
    for p in other.parameters():
        p.data.add_(1.0)
    other.load_state_dict(state["model"])
    for k, v in model.state_dict().items():
        assert torch.equal(v, other.state_dict()[k])
    assert state["step"] == 3
    assert not list(tmp_path.glob(".*tmp*"))  # atomic write leaves no temporaries


def test_checkpoint_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    try:
        load_checkpoint(tmp_path / "evil.pt")
    except Exception as e:  # UnpicklingError from weights_only
        assert "weights_only" in str(e) or "Unsupported" in str(e) or "global" in str(e).lower()
    else:
        raise AssertionError("a checkpoint with pickled code must not load")


def test_rng_state_round_trip():
    import random

    import numpy as np

    state = capture_rng_state()
    a = (torch.rand(3), np.random.rand(), random.random())
    restore_rng_state(state)
    b = (torch.rand(3), np.random.rand(), random.random())
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2]


def test_training_lowers_loss_and_resume_is_exact(tmp_path):
    straight = tiny_ae()
    t1 = Trainer(straight, tiny_data(), tmp_path / "a", config(20))
    t1.fit()
    lines = (tmp_path / "a" / "metrics.csv").read_text().splitlines()
    losses = [float(l.split(",")[3]) for l in lines if ",train,loss," in l]
    assert losses[-1] < losses[0]

    first = tiny_ae()
    Trainer(first, tiny_data(), tmp_path / "b", config(10)).fit()
    resumed = tiny_ae()
    t2 = Trainer(resumed, tiny_data(), tmp_path / "b", config(20))
    t2.fit()
    assert t2.step == 20
    for k, v in straight.state_dict().items():
        assert torch.allclose(v, resumed.state_dict()[k], atol=1e-6), k


def test_finished_run_is_not_retrained(tmp_path):
    model = tiny_ae()
    Trainer(model, tiny_data(), tmp_path, config(5)).fit()
    before = weights(model)
    again = tiny_ae()
    t = Trainer(again, tiny_data(), tmp_path, config(5))
    t.fit()
    assert t.step == 5
    for k, v in before.items():
        assert torch.equal(v, again.state_dict()[k])


def test_step_batches_are_deterministic_and_shard_across_ranks():
    a = StepBatches(10, 3, seed=1)
    b = StepBatches(10, 3, seed=1)
    assert [a.indices(s) for s in range(7)] == [b.indices(s) for s in range(6, -1, -1)][::-1]
    r0, r1 = StepBatches(10, 2, 1, rank=0, world=2), StepBatches(10, 2, 1, rank=1, world=2)
    assert not set(r0.indices(0)) & set(r1.indices(0))


def test_two_process_torchrun_ends_with_identical_weights(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
           str(REPO / "tests" / "helpers" / "ddp_train.py"), str(tmp_path / "ddp")]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "WORLD=2 IDENTICAL=True STEP=6" in out.stdout, out.stdout + out.stderr[-2000:]
    assert (tmp_path / "ddp" / "checkpoint.pt").is_file()
