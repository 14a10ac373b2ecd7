"""CIFAR-10 recipe: a fake cifar-10-batches-py (pickled batches in the original
format), a corrupt batch, and a malicious pickle that must not run."""

from __future__ import annotations

import importlib.util
import json
import logging
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def load(name: str):
    path = REPO / "recipes" / name / "local" / f"prepare_{name}.py"
    spec = importlib.util.spec_from_file_location(f"prepare_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Evil:
    """Unpickling this would call print(): the restricted loader must refuse."""

    def __reduce__(self):
        return (print, ("PWNED",))


def batch(seed: int, n: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"training batch", b"labels": [int(v) for v in rng.integers(0, 10, n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)]}


def make_corpus(root: Path) -> tuple[Path, dict]:
    c = root / "cifar-10-batches-py"
    c.mkdir(parents=True)
    batches = {}
    for i in range(1, 6):
        batches[f"data_batch_{i}"] = batch(i)
    batches["test_batch"] = batch(99)
    for name, b in batches.items():
        (c / name).write_bytes(pickle.dumps(b, protocol=2))
    (c / "batches.meta").write_bytes(pickle.dumps(
        {b"label_names": [n.encode() for n in ("airplane", "automobile", "bird", "cat", "deer",
                                              "dog", "frog", "horse", "ship", "truck")]}, protocol=2))
    # data_batch_3 truncated, data_batch_4 a malicious pickle: both reported and skipped
    (c / "data_batch_3").write_bytes((c / "data_batch_3").read_bytes()[:100])
    (c / "data_batch_4").write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    return c, batches


def test_prepare_cifar10(tmp_path: Path, caplog, capsys) -> None:
    mod = load("cifar10")
    corpus, batches = make_corpus(tmp_path)
    out = tmp_path / "data"
    with caplog.at_level(logging.WARNING):
        sizes = mod.prepare_cifar10(corpus, out, valid_size=2)
    assert "PWNED" not in capsys.readouterr().out
    # train batches 1, 2, 5 (12 images): the last 2 are valid
    assert sizes == {"train": 10, "valid": 2, "test": 4}
    labels = json.loads((out / "labels.json").read_text())
    assert labels[0] == "airplane" and len(labels) == 10
    valid = read(out / "valid.jsonl")
    assert [r["id"] for r in valid] == ["data_batch_5_00002", "data_batch_5_00003"]
    b5 = batches["data_batch_5"]
    img = np.asarray(Image.open(out / valid[0]["path"]))
    want = b5[b"data"][2].reshape(3, 32, 32).transpose(1, 2, 0)
    assert img.shape == (32, 32, 3) and np.array_equal(img, want)
    assert valid[0]["label"] == b5[b"labels"][2] and valid[0]["label_name"] == labels[valid[0]["label"]]
    assert {r["id"].rsplit("_", 1)[0] for r in read(out / "train.jsonl")} == {
        "data_batch_1", "data_batch_2", "data_batch_5"}
    test = read(out / "test.jsonl")
    assert [r["label"] for r in test] == batches["test_batch"][b"labels"]
    skipped = {s["item"]: s["reason"] for s in read(out / "skipped.jsonl")}
    assert set(skipped) == {"data_batch_3", "data_batch_4"}
    assert "refusing to load global" in skipped["data_batch_4"] and ".print" in skipped["data_batch_4"]
    assert "skipped 2 of 6 batches" in caplog.text


def test_restricted_unpickler(tmp_path: Path) -> None:
    mod = load("cifar10")
    p = tmp_path / "evil"
    p.write_bytes(pickle.dumps(Evil(), protocol=5))
    with pytest.raises(pickle.UnpicklingError):
        mod.load_batch(p)
    p.write_bytes(pickle.dumps(batch(3), protocol=5))  # modern protocol also loads
    assert np.array_equal(mod.load_batch(p)[b"data"], batch(3)[b"data"])
