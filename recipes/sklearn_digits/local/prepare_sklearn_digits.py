#!/usr/bin/env python3
"""scikit-learn's 8x8 digits (1,797 images, shipped inside scikit-learn): offline image set.

``sklearn.datasets.load_digits()`` gives 8x8 images with values 0..16; they
are scaled to 0..255 and written as grey PNGs (optionally enlarged with
nearest-neighbour to ``image_size``) under ``<output_dir>/png/<split>/``.
The split is per class 80/10/10 with a fixed seed, so it is the same on
every machine. label = digit, labels.json = ["0", ..., "9"].

    python local/prepare_sklearn_digits.py prepare --output-dir data/sklearn_digits
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.sklearn_digits")

LABELS = tuple(str(d) for d in range(10))


def download_sklearn_digits(target_dir: str | Path | None = None) -> None:
    """Nothing to download: the data ships inside scikit-learn."""
    return None


def prepare_sklearn_digits(output_dir: str | Path, image_size: int = 8,
                           fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                           seed: int = 0) -> dict[str, int]:
    """Write PNGs and ``{train,valid,test}.jsonl`` + ``labels.json``. Returns the split sizes."""
    from sklearn.datasets import load_digits

    if image_size < 8 or image_size % 8:
        raise ValueError(f"image_size must be a multiple of 8, got {image_size}")
    digits = load_digits()
    images = np.clip(np.rint(digits.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    scale = image_size // 8
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    labels = digits.target.astype(int)
    out = Path(output_dir)
    assign = rc.stratified_split(labels.tolist(), fractions, seed)
    splits: dict[str, list[dict]] = {s: [] for s in rc.SPLITS}
    for i, (img, lab, split) in enumerate(zip(images, labels, assign)):
        rid = f"digit_{i:04d}"
        path = rc.save_png(img, out / "png" / split / f"{rid}.png")
        splits[split].append({"id": rid, "path": rc.manifest_path(path, out), "label": int(lab),
                              "label_name": LABELS[int(lab)]})
    return rc.write_manifests(out, splits, LABELS)


def main(argv: list[str] | None = None) -> None:
    ap, _, p = rc.corpus_parser(__doc__, "write PNGs and manifests")
    p.add_argument("--image-size", type=int, default=8, help="8 (native) or a multiple of 8")
    p.add_argument("--seed", type=int, default=0)
    rc.run_cli(ap, argv, prepare=lambda a: prepare_sklearn_digits(
        a.output_dir, image_size=a.image_size, seed=a.seed))


if __name__ == "__main__":
    main()
