"""Tiny random-init experiments for the explorer tests, written the way train-ae and train-prior write them.

Nothing is trained: the autoencoder and priors keep their initial weights
(the page's plumbing does not depend on them), so a whole experiment takes a
fraction of a second to make. Audio experiments use the tone corpus of
``tests/conftest.py``; image experiments a dozen 8x8 PNGs.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

pytest.importorskip("gradio", reason="the explorer needs the demo extra: pip install -e '.[demo]'")


def pytest_configure(config):
    # gradio 6.31's queue statistics use pandas options that pandas 3 deprecates: not ours to fix
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:gradio.queueing")

TINY_MEL = ["model.hidden=8", "model.depth=1", "model.code_channels=8", "model.num_codes=16",
            "model.griffin_lim_iters=2", "train.steps=50"]
TINY_IMAGE = ["data=sklearn_digits", "model=image", "model.hidden=8", "model.depth=1", "model.code_channels=8",
              "model.num_codes=16", "train.steps=50"]
TINY_PRIOR = ["prior.d_model=16", "prior.n_layers=1", "prior.n_heads=2"]


def make_image_corpus(root: Path, n: int = 12, classes: int = 3) -> Path:
    from PIL import Image

    from anytime_audio.manifest import write_manifest

    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        entries = []
        for i in range(n):
            path = root / "png" / f"{split}_{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8), "L").save(path)
            entries.append({"id": f"{split}_{i}", "path": f"png/{path.name}", "label": i % classes,
                            "label_name": f"c{i % classes}"})
        write_manifest(root / f"{split}.jsonl", entries)
    (root / "labels.json").write_text(json.dumps([f"c{c}" for c in range(classes)]))
    return root


def make_experiment(root: Path, modality: str = "audio", priors=("transformer", "ardm"), step: int | None = None,
                    finished_priors: bool = True) -> Path:
    """A random-init experiment folder under ``root``; ``step`` below 50 makes it half-trained."""
    from anytime_audio.builders import build_autoencoder, build_prior
    from anytime_audio.core.checkpoint import save_checkpoint
    from anytime_audio.options import compose

    torch.manual_seed(0)
    exp = root / f"exp_{modality}"
    if modality == "audio":
        from tests.conftest import make_tone_corpus

        data, model = make_tone_corpus(root / "tones"), TINY_MEL
    else:
        data, model = make_image_corpus(root / "images"), TINY_IMAGE
    common = [f"exp_dir={exp}", f"data.manifest_dir={data}", "data.num_classes=3", "device=cpu", *model]
    cfg = compose(common)
    ae = build_autoencoder(cfg.model, cfg.data)
    exp.mkdir(parents=True)
    (exp / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    save_checkpoint(exp / "checkpoint.pt", {"model": ae.state_dict(), "step": int(step or cfg.train.steps)})
    for name in priors:
        pcfg = compose([*common, f"prior={name}", *TINY_PRIOR]).prior
        prior = build_prior(pcfg, ae.num_codes, ae.code_length, 3)
        folder = exp / f"prior_{name}"
        folder.mkdir()
        container = OmegaConf.to_container(pcfg, resolve=True)
        container.pop("train")
        save_checkpoint(folder / "checkpoint.pt", {"model": prior.state_dict(), "prior_config": container, "step": 1,
                                                   "num_codes": ae.num_codes, "length": ae.code_length,
                                                   "num_classes": 3})
        if finished_priors:
            (folder / "bits.json").write_text(json.dumps({"prior": name, "steps": 1}))
    return exp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def audio_exp(tmp_path_factory) -> Path:
    return make_experiment(tmp_path_factory.mktemp("explorer_audio"))


@pytest.fixture(scope="session")
def audio_session(audio_exp):
    from anytime_audio.app.session import open_session

    return open_session(audio_exp)


@pytest.fixture(scope="session")
def served(audio_session):
    """The page on a free localhost port, and its local URL; closed after the tests."""
    from anytime_audio.app.explorer import build_app, launch

    demo = build_app(audio_session)
    _, url, _ = launch(demo, port=free_port(), block=False, quiet=True)
    yield url
    demo.close()
