#!/usr/bin/env python3
"""Fashion-MNIST: 70,000 28x28 greyscale photos of clothing as PNG manifests.

The corpus is four IDX files (gzipped or not), the layout of Zalando's
distribution and of Debian's ``dataset-fashion-mnist`` package (MIT/Expat)::

    <corpus_dir>/train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   (60,000)
    <corpus_dir>/t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    (10,000)

``download_fashion_mnist`` copies them from the Debian package
(``/usr/share/datasets/fashion-mnist``, ``apt-get install dataset-fashion-mnist``)
or from any local copy given as ``source_dir``; only when neither exists does
it fetch them from Zalando's mirror (md5-checked). Debian recompresses the
``.gz`` files, so local copies are not md5-checked: ``prepare`` checks what it
decodes (IDX headers, lengths, 28x28 uint8 images, labels 0-9).

Splits: test = the official 10,000 t10k images; valid = ``valid_size`` of the
60,000 training images, held out per class (seeded, the same count of each
class); train = the rest. PNGs go to ``<output_dir>/png/<split>/<id>.png``
(ids ``train_<index>`` / ``test_<index>``, the index in the IDX file); label =
class index, ``labels.json`` = the ten class names.

    python local/prepare_fashion_mnist.py download --target-dir downloads/fashion_mnist
    python local/prepare_fashion_mnist.py prepare --corpus-dir downloads/fashion_mnist --output-dir data/fashion_mnist
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import numpy as np

_RECIPES = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_RECIPES / "TEMPLATE" / "pyscripts"))
sys.path.insert(0, str(_RECIPES / "mnist" / "local"))
import recipe_common as rc  # noqa: E402
from prepare_mnist import read_idx  # noqa: E402  (one IDX reader for both recipes)

log = logging.getLogger("recipes.fashion_mnist")

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FILES = {  # name -> md5 of Zalando's .gz (Debian's copies differ: recompressed)
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}
LABELS = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def find_idx(corpus_dir: str | Path, name: str) -> Path:
    """``<name>.gz`` or ``<name>`` in ``corpus_dir``."""
    corpus = Path(corpus_dir)
    for cand in (corpus / f"{name}.gz", corpus / name):
        if cand.is_file():
            return cand
    raise FileNotFoundError(f"{name}(.gz) not found in {corpus}")


def has_idx(corpus_dir: str | Path) -> bool:
    try:
        for name in FILES:
            find_idx(corpus_dir, name)
    except FileNotFoundError:
        return False
    return True


def download_fashion_mnist(target_dir: str | Path, source_dir: str | Path | None = None,
                           allow_download: bool = True, timeout: float = 30.0) -> Path:
    """Put the four IDX files in ``target_dir``.

    From ``source_dir`` when given (a local copy), else from the Debian package
    when it is installed, else (``allow_download``) from Zalando's mirror; raises
    OSError when none of these works. Files already in ``target_dir`` are kept.
    Copies are atomic.
    """
    target = Path(target_dir)
    if has_idx(target):
        log.info("%s already holds the IDX files", target)
        return target
    local = Path(source_dir) if source_dir else (DEBIAN_DIR if has_idx(DEBIAN_DIR) else None)
    if local is not None:
        if not has_idx(local):
            raise FileNotFoundError(f"{local} does not hold the four Fashion-MNIST IDX files")
        for name in FILES:
            src = find_idx(local, name)
            log.info("copying %s -> %s", src, target / src.name)
            with open(src, "rb") as fin, rc.atomic_write(target / src.name) as fout:
                shutil.copyfileobj(fin, fout)
        return target
    if not allow_download:
        raise OSError(f"no Fashion-MNIST IDX files in {target} and no local copy: "
                      "apt-get install dataset-fashion-mnist, or give --source-dir")
    for name, md5 in FILES.items():
        rc.download_url(MIRROR + f"{name}.gz", target / f"{name}.gz", md5=md5, timeout=timeout)
    return target


def _load(corpus: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    x = read_idx(find_idx(corpus, f"{split}-images-idx3-ubyte"))
    y = read_idx(find_idx(corpus, f"{split}-labels-idx1-ubyte"))
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
        raise ValueError(f"{split} images: expected uint8 [N, 28, 28], got {x.dtype} {x.shape}")
    if y.shape != (len(x),):
        raise ValueError(f"{split}: {len(x)} images but labels of shape {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= len(LABELS)):
        raise ValueError(f"{split} labels: expected 0..{len(LABELS) - 1}, found {y.min()}..{y.max()}")
    return x, y.astype(np.int64)


def prepare_fashion_mnist(corpus_dir: str | Path, output_dir: str | Path, valid_size: int = 5000,
                          seed: int = 0, max_per_split: int = 0, nj: int = 1) -> dict[str, int]:
    """PNG manifests from the IDX files (see the module docstring for the splits);
    ``max_per_split`` > 0 keeps the first N of each split (by id); ``nj`` PNG writers."""
    corpus, out = Path(corpus_dir), Path(output_dir)
    x_tr, y_tr = _load(corpus, "train")
    x_te, y_te = _load(corpus, "t10k")
    if not 0 <= valid_size < len(x_tr):
        raise ValueError(f"valid_size {valid_size} must be in [0, {len(x_tr)})")
    assign = rc.stratified_split(y_tr.tolist(), (len(x_tr) - valid_size, valid_size, 0), seed)
    items: dict[str, list[tuple[str, np.ndarray, int]]] = {s: [] for s in rc.SPLITS}
    for i, split in enumerate(assign):
        items[split].append((f"train_{i:05d}", x_tr[i], int(y_tr[i])))
    items["test"] = [(f"test_{i:05d}", x_te[i], int(y_te[i])) for i in range(len(x_te))]
    report = rc.SkipReport("images")
    splits: dict[str, list[dict]] = {}
    for split, rows in items.items():
        if max_per_split > 0:
            rows = rows[:max_per_split]
        jobs = [(img, str(out / "png" / split / f"{rid}.png")) for rid, img, _ in rows]
        recs = []
        for (rid, _, label), path in zip(rows, rc.parallel_map(_save_png, jobs, nj, desc=split)):
            recs.append({"id": rid, "path": rc.manifest_path(path, out), "label": label,
                         "label_name": LABELS[label]})
            report.ok()
        splits[split] = recs
    return rc.write_manifests(out, splits, LABELS, report)


def _save_png(job: tuple[np.ndarray, str]) -> str:
    """Worker: one PNG, written atomically (a pure write: nothing to skip)."""
    image, path = job
    return str(rc.save_png(image, path))


def main(argv: list[str] | None = None) -> None:
    ap, fetch, p = rc.corpus_parser(__doc__, "write PNGs and manifests",
                                    fetch_help="copy the IDX files from the Debian package or a "
                                               "local copy (else download them)",
                                    corpus_dir_help="folder with the four IDX files")
    fetch.add_argument("--source-dir", default="",
                       help=f"local copy of the IDX files (default: {DEBIAN_DIR} when installed)")
    fetch.add_argument("--download", default="true", choices=["true", "false"],
                       help="fetch from the mirror when there is no local copy")
    p.add_argument("--valid-size", type=int, default=5000,
                   help="training images held out for valid, the same count per class")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-per-split", type=int, default=0)
    p.add_argument("--nj", type=int, default=1, help="parallel PNG writers")
    rc.run_cli(ap, argv,
               download=lambda a: print(download_fashion_mnist(a.target_dir, a.source_dir or None,
                                                               a.download == "true")),
               prepare=lambda a: prepare_fashion_mnist(a.corpus_dir, a.output_dir, a.valid_size,
                                                       a.seed, a.max_per_split, a.nj))


if __name__ == "__main__":
    main()
