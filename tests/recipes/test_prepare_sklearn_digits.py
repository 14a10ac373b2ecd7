"""sklearn_digits recipe: the 1,797 8x8 digits written as PNG manifests."""

from __future__ import annotations

import importlib.util
import json
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


def test_prepare_sklearn_digits(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    mod = load("sklearn_digits")
    out = tmp_path / "data"
    sizes = mod.prepare_sklearn_digits(out)
    assert sum(sizes.values()) == 1797
    assert 0.75 < sizes["train"] / 1797 < 0.85 and sizes["valid"] > 150 and sizes["test"] > 150
    assert json.loads((out / "labels.json").read_text()) == [str(d) for d in range(10)]
    digits = load_digits()
    ids = set()
    for split in ("train", "valid", "test"):
        recs = read(out / f"{split}.jsonl")
        assert {r["label"] for r in recs} == set(range(10))  # every class in every split
        for r in recs[:20]:
            i = int(r["id"].split("_")[1])
            img = np.asarray(Image.open(out / r["path"]))
            assert img.shape == (8, 8) and img.dtype == np.uint8
            assert np.array_equal(img, np.rint(digits.images[i] * 255 / 16).astype(np.uint8))
            assert r["label"] == digits.target[i] and r["label_name"] == str(r["label"])
        ids |= {r["id"] for r in recs}
    assert len(ids) == 1797  # disjoint splits
    # the split is a pure function of the seed
    sys.path.insert(0, str(REPO / "recipes" / "TEMPLATE" / "pyscripts"))
    import recipe_common as rc

    a = rc.stratified_split(digits.target.tolist(), (0.8, 0.1, 0.1), seed=0)
    assert a == rc.stratified_split(digits.target.tolist(), (0.8, 0.1, 0.1), seed=0)
    by_split = {s: {f"digit_{i:04d}" for i, x in enumerate(a) if x == s} for s in ("valid", "test")}
    assert by_split["valid"] == {r["id"] for r in read(out / "valid.jsonl")}
    assert by_split["test"] == {r["id"] for r in read(out / "test.jsonl")}
