import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from anytime_audio.core.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from anytime_audio.core.ordered import OrderedAutoencoder
from anytime_audio.core.quantizer import VectorQuantizer
from anytime_audio.core.batches import StepBatches, draw_seed
from anytime_audio.core.trainer import Trainer, TrainConfig
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
    marker = tmp_path / "payload-ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    try:
        load_checkpoint(tmp_path / "evil.pt")
    except Exception as e:  # weights_only=True refuses the pickled global
        message = str(e)
        assert "evil.pt" in message and "weights_only=False" not in message, message
    else:
        raise AssertionError("a checkpoint with pickled code must not load")
    assert not marker.exists()


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
    # --standalone: a free port of its own; a fixed one collided with other runs of this test (EADDRINUSE)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(REPO / "tests" / "helpers" / "ddp_train.py"), str(tmp_path / "ddp")]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "WORLD=2 IDENTICAL=True STEP=6" in out.stdout, out.stdout + out.stderr[-2000:]
    assert (tmp_path / "ddp" / "checkpoint.pt").is_file()


# ------------------------------------------------------------ clean-up on start
def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_trainer_start_removes_temporaries_of_killed_writes_only(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    dead = tmp_path / f".checkpoint.pt.tmp-{_dead_pid()}"
    live = tmp_path / f".checkpoint.pt.tmp-{os.getpid()}"
    dead.write_bytes(b"half a checkpoint")
    live.write_bytes(b"being written right now")
    Trainer(tiny_ae(), tiny_data(), tmp_path, config(1))
    assert not dead.exists()
    assert live.exists()


# ------------------------------------------------------------- metrics on resume
class _KilledAt(Trainer):
    """A trainer whose process 'dies' before fetching the batch of ``kill_step``."""

    kill_step = 7

    def _train_batch(self, step):
        if step == self.kill_step:
            raise KeyboardInterrupt("killed")
        return super()._train_batch(step)


def _metric_rows(path):
    import csv

    with open(path, newline="") as f:
        return [(int(r["step"]), r["split"], r["name"]) for r in csv.DictReader(f)]


def test_resumed_run_logs_each_step_split_name_once(tmp_path):
    cfg = dataclasses.replace(config(10), log_every=1, checkpoint_every=5)
    try:
        _KilledAt(tiny_ae(), tiny_data(), tmp_path, cfg).fit()
    except KeyboardInterrupt:
        pass
    rows = _metric_rows(tmp_path / "metrics.csv")
    assert max(step for step, _, _ in rows) == 7  # steps 6 and 7 were logged after the step-5 checkpoint
    Trainer(tiny_ae(), tiny_data(), tmp_path, cfg).fit()
    rows = _metric_rows(tmp_path / "metrics.csv")
    assert len(rows) == len(set(rows)), "a (step, split, name) row appears twice"
    assert sorted({step for step, split, name in rows if (split, name) == ("train", "loss")}) == list(range(1, 11))


# ------------------------------------------------------------ seeded random crops
class RandomCropImages(torch.utils.data.Dataset):
    """8x16 images from which each item is a random 8x8 crop, drawn from the dataset's own generator.

    Like the audio ClipDataset, its draws are reproducible only if the trainer
    reseeds it (``reseed``); unseeded it starts from fresh OS entropy.
    """

    def __init__(self):
        g = torch.Generator().manual_seed(3)
        self.images = torch.rand(40, 1, 8, 16, generator=g) * 2 - 1
        self.rng = np.random.default_rng()
        self.seeds = []

    def reseed(self, seed: int) -> None:
        self.seeds.append(seed)
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        offset = int(self.rng.integers(0, 9))
        return self.images[i, :, :, offset:offset + 8], torch.tensor(0)


def test_random_crops_are_seeded_and_resume_equals_an_uninterrupted_run(tmp_path):
    runs = {}
    for name in ("a", "b"):
        model = tiny_ae()
        Trainer(model, RandomCropImages(), tmp_path / name, config(20)).fit()
        runs[name] = weights(model)
    data = RandomCropImages()
    Trainer(tiny_ae(), data, tmp_path / "resumed", config(10)).fit()
    resumed = tiny_ae()
    Trainer(resumed, data, tmp_path / "resumed", config(20)).fit()
    assert len(set(data.seeds)) == 20  # one seed per step, a different one each step
    for k, v in runs["a"].items():
        assert torch.equal(v, runs["b"][k]), f"same-seed runs differ in {k}"
        assert torch.equal(v, resumed.state_dict()[k]), f"resumed run differs from the uninterrupted one in {k}"


def test_draw_seed_depends_on_seed_step_and_rank_only():
    seeds = {draw_seed(seed, step, rank) for seed in (0, 1) for step in range(50) for rank in (0, 1)}
    assert len(seeds) == 200
    assert draw_seed(3, 7, 1) == draw_seed(3, 7, 1)
    assert all(0 <= s < 2**63 for s in seeds)


def test_unknown_training_option_is_refused():
    import pytest

    with pytest.raises(ValueError, match="stpes"):
        TrainConfig.from_dict({"stpes": 10})
    assert TrainConfig.from_dict({"steps": 10, "betas": [0.8, 0.9]}).betas == (0.8, 0.9)
