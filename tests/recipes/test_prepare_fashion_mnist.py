"""Fashion-MNIST recipe on a small fake corpus in the distribution's own layout
(four gzipped IDX files, as Zalando and Debian's dataset-fashion-mnist ship
them); nothing is downloaded."""

from __future__ import annotations

import gzip
import importlib.util
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(scope="module")
def mod():
    path = REPO / "recipes" / "fashion_mnist" / "local" / "prepare_fashion_mnist.py"
    spec = importlib.util.spec_from_file_location("prepare_fashion_mnist", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def write_idx(path: Path, arr: np.ndarray) -> None:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + arr.tobytes())


def make_corpus(root: Path, n_train: int = 40, n_test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = dict(zip(NAMES, (rng.integers(0, 256, (n_train, 28, 28)), np.arange(n_train) % 10,
                              rng.integers(0, 256, (n_test, 28, 28)), (np.arange(n_test) * 7) % 10)))
    root.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        write_idx(root / f"{name}.gz", arr)
    return arrays


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_prepare_splits_pixels_and_labels(mod, tmp_path: Path) -> None:
    arrays = make_corpus(tmp_path / "corpus")
    out = tmp_path / "data"
    sizes = mod.prepare_fashion_mnist(tmp_path / "corpus", out, valid_size=10)
    assert sizes == {"train": 30, "valid": 10, "test": 10}
    names = json.loads((out / "labels.json").read_text())
    assert names[0] == "T-shirt/top" and names[9] == "Ankle boot" and len(names) == 10
    train, valid, test = (read(out / f"{s}.jsonl") for s in ("train", "valid", "test"))
    # valid is held out per class: one of each of the 10 classes (4 per class in train)
    assert sorted(r["label"] for r in valid) == list(range(10))
    assert not {r["id"] for r in train} & {r["id"] for r in valid}
    # test is the official t10k set, in order, with its labels and untouched pixels
    assert [r["id"] for r in test] == [f"test_{i:05d}" for i in range(10)]
    for rec in (test[3], valid[0], train[-1]):
        index = int(rec["id"].split("_")[1])
        prefix = "t10k" if rec["id"].startswith("test") else "train"
        img = np.asarray(Image.open(out / rec["path"]))
        assert np.array_equal(img, arrays[f"{prefix}-images-idx3-ubyte"][index])
        assert rec["label"] == arrays[f"{prefix}-labels-idx1-ubyte"][index]
        assert rec["label_name"] == names[rec["label"]]
        assert not Path(rec["path"]).is_absolute()  # the data folder can move


def test_prepare_is_deterministic_and_parallel_writes_agree(mod, tmp_path: Path) -> None:
    make_corpus(tmp_path / "corpus", n_train=20, n_test=2)
    a = mod.prepare_fashion_mnist(tmp_path / "corpus", tmp_path / "a", valid_size=10, nj=1)
    b = mod.prepare_fashion_mnist(tmp_path / "corpus", tmp_path / "b", valid_size=10, nj=2)
    assert a == b
    for split in ("train", "valid", "test"):
        assert (tmp_path / "a" / f"{split}.jsonl").read_text() == (tmp_path / "b" / f"{split}.jsonl").read_text()
    other = mod.prepare_fashion_mnist(tmp_path / "corpus", tmp_path / "c", valid_size=10, seed=1)
    assert other == a and read(tmp_path / "c" / "valid.jsonl") != read(tmp_path / "a" / "valid.jsonl")


@pytest.mark.parametrize("damage,msg", [
    ("truncate", "truncated or corrupt"),
    ("labels", "expected 0..9"),
    ("count", "labels of shape"),
])
def test_prepare_refuses_a_damaged_corpus(mod, tmp_path: Path, damage: str, msg: str) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus)
    if damage == "truncate":
        raw = gzip.decompress((corpus / "t10k-images-idx3-ubyte.gz").read_bytes())
        (corpus / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:-5]))
    elif damage == "labels":
        write_idx(corpus / "train-labels-idx1-ubyte.gz", np.full(40, 12))
    else:
        write_idx(corpus / "t10k-labels-idx1-ubyte.gz", np.zeros(9))
    with pytest.raises(ValueError, match=msg):
        mod.prepare_fashion_mnist(corpus, tmp_path / "data", valid_size=10)
    assert not (tmp_path / "data" / "train.jsonl").exists()


def test_download_copies_a_local_copy_and_never_fetches_offline(mod, tmp_path: Path, monkeypatch) -> None:
    make_corpus(tmp_path / "copy")
    monkeypatch.setattr(mod, "DEBIAN_DIR", tmp_path / "not-installed")
    target = mod.download_fashion_mnist(tmp_path / "dl", tmp_path / "copy", allow_download=False)
    for name in NAMES:
        assert (target / f"{name}.gz").read_bytes() == (tmp_path / "copy" / f"{name}.gz").read_bytes()
    assert mod.has_idx(target)

    def no_network(*a, **k):
        raise AssertionError("must not download")

    monkeypatch.setattr(mod.rc, "download_url", no_network)
    with pytest.raises(OSError, match="no local copy"):
        mod.download_fashion_mnist(tmp_path / "empty", allow_download=False)
    with pytest.raises(FileNotFoundError):
        mod.download_fashion_mnist(tmp_path / "empty", tmp_path / "nowhere")
    # the Debian package's folder is the default local copy
    monkeypatch.setattr(mod, "DEBIAN_DIR", tmp_path / "copy")
    assert mod.has_idx(mod.download_fashion_mnist(tmp_path / "deb", allow_download=False))


def test_data_sh_stages_call_download_then_prepare_once(tmp_path: Path) -> None:
    """local/data.sh with a fake interpreter: the commands of stages 0-1, and a rerun skips both."""
    import subprocess

    log = tmp_path / "python.log"
    fake = tmp_path / "python"
    fake.write_text(f'#!/usr/bin/env bash\necho "$*" >> "{log}"\n')
    fake.chmod(0o755)
    script = REPO / "recipes" / "fashion_mnist" / "local" / "data.sh"
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    args = ["--python", str(fake), "--corpus-dir", str(corpus), "--data-dir", str(data),
            "--source-dir", "/copy", "--download", "false", "--valid-size", "7", "--nj", "1"]

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=30)

    r = run()
    assert r.returncode == 0, r.stderr
    assert log.read_text().splitlines() == [
        f"local/prepare_fashion_mnist.py download --target-dir {corpus} --download false --source-dir /copy",
        f"local/prepare_fashion_mnist.py prepare --corpus-dir {corpus} --output-dir {data} --valid-size 7 --nj 1",
    ]
    make_corpus(corpus, n_train=10, n_test=2)  # what the real download would have left
    r = run()
    assert r.returncode == 0, r.stderr
    assert "Stage 0: already done" in r.stdout and "Stage 1: already done" in r.stdout
    assert len(log.read_text().splitlines()) == 2
