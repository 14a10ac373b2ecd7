#!/usr/bin/env python3
"""CIFAR-10: 60,000 32x32 colour images in 10 classes, as PNG manifests.

Corpus layout (cifar-10-python.tar.gz unpacked)::

    cifar-10-batches-py/
      data_batch_1 .. data_batch_5   (pickled dict: b"data" uint8 [10000, 3072] (R, G, B
      test_batch                      planes of 32x32), b"labels" list[int], b"filenames")
      batches.meta                   (b"label_names")

test = test_batch; valid = the last ``valid_size`` training images (end of
data_batch_5); train = the rest. PNGs go to ``<output_dir>/png/<split>/``.

Security: the batches are Python pickles, and unpickling can run arbitrary
code. They are read with a restricted unpickler that only resolves the few
numpy names an array needs (anything else raises UnpicklingError); still,
only point it at an archive you downloaded yourself from the official site
(``download_cifar10`` checks its md5). A batch that fails to load is reported
and skipped, not fatal.

    python local/prepare_cifar10.py download --target-dir downloads
    python local/prepare_cifar10.py prepare --corpus-dir downloads/cifar-10-batches-py --output-dir data/cifar10
"""

from __future__ import annotations

import logging
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.cifar10")

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))

# The only globals a CIFAR batch (a dict of lists, bytes and numpy arrays) needs.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D102
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a CIFAR batch")


def load_batch(path: str | Path) -> dict:
    """Unpickle one CIFAR batch with the restricted unpickler (bytes keys, as
    the original Python-2 pickles have with ``encoding='bytes'``)."""
    with open(path, "rb") as f:
        obj = _RestrictedUnpickler(f, encoding="bytes").load()
    if not isinstance(obj, dict):
        raise pickle.UnpicklingError(f"{path}: expected a dict, got {type(obj).__name__}")
    return obj


def download_cifar10(target_dir: str | Path) -> Path:
    """Download (md5-checked) and unpack the python version into ``target_dir``."""
    target = Path(target_dir)
    corpus = target / "cifar-10-batches-py"
    if (corpus / "test_batch").is_file():
        log.info("%s already present", corpus)
        return corpus
    archive = rc.download_url(URL, target / "cifar-10-python.tar.gz", md5=MD5)
    rc.extract_archive(archive, target)
    return corpus


def _batch_arrays(batch: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise ValueError(f"{name}: data {data.shape} / labels {labels.shape} are not CIFAR-shaped")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{name}: labels outside 0..9")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def prepare_cifar10(corpus_dir: str | Path, output_dir: str | Path, valid_size: int = 5000,
                    max_per_split: int = 0) -> dict[str, int]:
    """Write PNGs and ``{train,valid,test}.jsonl`` + ``labels.json``. Returns the split sizes."""
    corpus, out = Path(corpus_dir), Path(output_dir)
    if not corpus.is_dir():
        raise FileNotFoundError(f"{corpus} not found: expected cifar-10-batches-py/")
    label_names = list(LABELS)
    meta = corpus / "batches.meta"
    if meta.is_file():
        try:
            names = load_batch(meta).get(b"label_names")
            if names:
                label_names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
        except (pickle.UnpicklingError, OSError, EOFError, ValueError) as e:
            log.warning("ignoring %s (%s); using the standard class names", meta, e)

    report = rc.SkipReport("batches")
    loaded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in (*TRAIN_BATCHES, "test_batch"):
        path = corpus / name
        try:
            loaded[name] = _batch_arrays(load_batch(path), name)
            report.ok()
        except (pickle.UnpicklingError, OSError, EOFError, ValueError, KeyError,
                AttributeError, TypeError) as e:
            report.skip(name, f"{type(e).__name__}: {e}")

    train_parts = [(n, *loaded[n]) for n in TRAIN_BATCHES if n in loaded]
    items = [(f"{n}_{i:05d}", img, lab) for n, x, y in train_parts
             for i, (img, lab) in enumerate(zip(x, y))]
    cut = max(0, len(items) - valid_size)
    groups = {"train": items[:cut], "valid": items[cut:], "test": []}
    if "test_batch" in loaded:
        x, y = loaded["test_batch"]
        groups["test"] = [(f"test_batch_{i:05d}", img, lab) for i, (img, lab) in enumerate(zip(x, y))]

    splits = {}
    for split, group in groups.items():
        if max_per_split > 0:
            group = group[:max_per_split]
        recs = []
        for rid, img, lab in group:
            path = rc.save_png(np.ascontiguousarray(img), out / "png" / split / f"{rid}.png")
            recs.append({"id": rid, "path": rc.manifest_path(path, out), "label": int(lab),
                         "label_name": label_names[int(lab)]})
        splits[split] = recs
    return rc.write_manifests(out, splits, label_names, report)


def main(argv: list[str] | None = None) -> None:
    ap, _, p = rc.corpus_parser(__doc__, "write PNGs and manifests",
                                fetch_help="download CIFAR-10 (python version)",
                                corpus_dir_help="the cifar-10-batches-py folder")
    p.add_argument("--valid-size", type=int, default=5000)
    p.add_argument("--max-per-split", type=int, default=0)
    rc.run_cli(ap, argv, download=lambda a: print(download_cifar10(a.target_dir)),
               prepare=lambda a: prepare_cifar10(a.corpus_dir, a.output_dir, valid_size=a.valid_size,
                                                 max_per_split=a.max_per_split))


if __name__ == "__main__":
    main()
