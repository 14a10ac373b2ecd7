"""CelebA recipe: a few fake aligned JPEGs + list_eval_partition.txt."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path

import numpy as np
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


def make_corpus(root: Path) -> Path:
    img_dir = root / "img_align_celeba"
    img_dir.mkdir(parents=True)
    for i in range(1, 7):
        arr = np.zeros((218, 178, 3), np.uint8)  # the aligned size: 178 wide, 218 high
        arr[:, :, 0] = 40 * i
        arr[39:179, 19:159, 1] = 255  # the centre 140x140 square is green
        Image.fromarray(arr).save(img_dir / f"{i:06d}.jpg", quality=95)
    (img_dir / "000006.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken jpeg")
    (root / "list_eval_partition.txt").write_text(
        "000001.jpg 0\n000002.jpg 0\n000003.jpg 0\n000004.jpg 1\n000005.jpg 2\n"
        "000006.jpg 2\n000007.jpg 0\n")  # 000007 is listed but missing
    return root


def test_prepare_celeba(tmp_path: Path, caplog) -> None:
    mod = load("celeba")
    corpus = make_corpus(tmp_path / "celeba")
    out = tmp_path / "data"
    with caplog.at_level(logging.WARNING):
        sizes = mod.prepare_celeba(corpus, out, nj=1)
    assert sizes == {"train": 3, "valid": 1, "test": 1}
    assert json.loads((out / "labels.json").read_text()) == []
    assert [r["id"] for r in read(out / "valid.jsonl")] == ["000004"]
    for split in ("train", "valid", "test"):
        for r in read(out / f"{split}.jsonl"):
            assert r["label"] is None and r["label_name"] is None
            img = np.asarray(Image.open(out / r["path"]))
            assert img.shape == (64, 64, 3)
            # the crop kept the green centre square only
            assert img[2:-2, 2:-2, 1].min() > 200
    skipped = {s["item"] for s in read(out / "skipped.jsonl")}
    assert skipped == {"img_align_celeba/000006.jpg", "img_align_celeba/000007.jpg"}
    assert "skipped 2 of 7 images" in caplog.text


def test_prepare_celeba_options(tmp_path: Path) -> None:
    mod = load("celeba")
    corpus = make_corpus(tmp_path / "celeba")
    out = tmp_path / "small"
    mod.main(["prepare", "--corpus-dir", str(corpus), "--output-dir", str(out), "--image-size", "32",
              "--crop-size", "178", "--max-per-split", "2", "--nj", "2"])
    train = read(out / "train.jsonl")
    assert len(train) == 2
    img = np.asarray(Image.open(out / train[0]["path"]))
    assert img.shape == (32, 32, 3) and img[:, :2, 1].max() < 60  # wider crop shows the border
