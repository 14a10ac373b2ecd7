#!/usr/bin/env python3
"""CelebA (aligned faces): centre-cropped and resized to 64x64 PNG manifests.

Corpus layout (official files, e.g. from the Google Drive folder of the project page)::

    <corpus_dir>/img_align_celeba/000001.jpg ... 202599.jpg   (178x218)
    <corpus_dir>/list_eval_partition.txt                     "000001.jpg 0" (0 train, 1 valid, 2 test)

Each image is centre-cropped to ``crop_size`` x ``crop_size`` (140 by default,
the face region common in generative-model work) and resized to
``image_size`` (64) with a Lanczos filter, then written to
``<output_dir>/png/<split>/<id>.png``. The official partition is used.
Labels are null (``labels.json`` is empty). Unreadable images, and images
listed but missing, are reported and skipped.

``download_celeba`` fetches the two files from Google Drive (the only
official host); Drive may refuse automated downloads (quota, changed
confirmation pages), in which case it says so and you download them by hand.

    python local/prepare_celeba.py download --target-dir downloads/celeba
    python local/prepare_celeba.py prepare --corpus-dir downloads/celeba --output-dir data/celeba --nj 2
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "TEMPLATE" / "pyscripts"))
import recipe_common as rc  # noqa: E402

log = logging.getLogger("recipes.celeba")

# (Google Drive file id, md5, file name): the official files.
FILES = (
    ("0B7EVK8r0v71pZjFTYXZWM3FlRnM", "00d2c5bc6d35e252742224ab0c1e8fcb", "img_align_celeba.zip"),
    ("0B7EVK8r0v71pY0NSMzRuSXJEVkk", "d32c9cbf5e040fd4025c592c306e6668", "list_eval_partition.txt"),
)
GDRIVE_URL = "https://drive.usercontent.google.com/download?id={id}&export=download&confirm=t"
PARTITIONS = {"0": "train", "1": "valid", "2": "test"}


def download_celeba(target_dir: str | Path) -> Path:
    """Download the aligned images (1.4 GB zip) and the partition list into ``target_dir``."""
    target = Path(target_dir)
    if (target / "img_align_celeba").is_dir() and (target / "list_eval_partition.txt").is_file():
        log.info("%s already present", target)
        return target
    for file_id, md5, name in FILES:
        try:
            path = rc.download_url(GDRIVE_URL.format(id=file_id), target / name, md5=md5)
        except OSError as e:
            raise OSError(
                f"could not download {name} from Google Drive ({e}); download it by hand from "
                "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html into " + str(target)) from e
        if name.endswith(".zip"):
            rc.extract_archive(path, target)
    return target


def read_partition(path: Path) -> list[tuple[str, str]]:
    """(file name, split) per line of list_eval_partition.txt."""
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or parts[1] not in PARTITIONS:
            log.warning("%s:%d: malformed line %r, ignored", path, n, line)
            continue
        rows.append((parts[0], PARTITIONS[parts[1]]))
    return rows


def crop_resize(img, crop_size: int, image_size: int):
    """Centre crop to ``crop_size`` (clamped to the image) then resize to ``image_size``."""
    from PIL import Image

    w, h = img.size
    c = min(crop_size, w, h)
    left, top = (w - c) // 2, (h - c) // 2
    img = img.crop((left, top, left + c, top + c))
    return img.resize((image_size, image_size), Image.Resampling.LANCZOS)


def _convert(job: tuple[str, str, int, int]) -> tuple[str, str | None]:
    """Worker: JPEG -> cropped, resized RGB PNG. Returns (src, error or None)."""
    from PIL import Image, UnidentifiedImageError

    src, dst, crop_size, image_size = job
    try:
        with Image.open(src) as im:
            im = crop_resize(im.convert("RGB"), crop_size, image_size)
            rc.save_png(np.asarray(im, dtype=np.uint8), dst)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as e:
        return src, f"{type(e).__name__}: {e}"
    return src, None


def prepare_celeba(corpus_dir: str | Path, output_dir: str | Path, crop_size: int = 140,
                   image_size: int = 64, max_per_split: int = 0, nj: int = 1) -> dict[str, int]:
    """Write PNGs and ``{train,valid,test}.jsonl`` + ``labels.json``. Returns the split sizes."""
    corpus, out = Path(corpus_dir), Path(output_dir)
    part = corpus / "list_eval_partition.txt"
    img_dir = corpus / "img_align_celeba"
    if not part.is_file() or not img_dir.is_dir():
        raise FileNotFoundError(f"{corpus} needs img_align_celeba/ and list_eval_partition.txt")
    rows = read_partition(part)
    if max_per_split > 0:
        seen: dict[str, int] = {}
        kept = []
        for name, split in rows:
            if seen.get(split, 0) < max_per_split:
                kept.append((name, split))
                seen[split] = seen.get(split, 0) + 1
        rows = kept
    log.info("%d images listed in %s", len(rows), part)

    jobs = [(str(img_dir / name), str(out / "png" / split / f"{Path(name).stem}.png"),
             crop_size, image_size) for name, split in rows]
    report = rc.SkipReport("images")
    splits: dict[str, list[dict]] = {s: [] for s in rc.SPLITS}
    for (name, split), job, (src, err) in zip(rows, jobs,
                                              rc.parallel_map(_convert, jobs, nj, "celeba")):
        if err is not None:
            report.skip(f"img_align_celeba/{name}", err)
            continue
        report.ok()
        splits[split].append({"id": Path(name).stem, "path": rc.manifest_path(job[1], out),
                              "label": None, "label_name": None})
    return rc.write_manifests(out, splits, [], report)


def main(argv: list[str] | None = None) -> None:
    ap, _, p = rc.corpus_parser(__doc__, "write PNGs and manifests",
                                fetch_help="download CelebA (aligned) from Google Drive")
    p.add_argument("--crop-size", type=int, default=140)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--max-per-split", type=int, default=0)
    p.add_argument("--nj", type=int, default=1)
    rc.run_cli(ap, argv, download=lambda a: print(download_celeba(a.target_dir)),
               prepare=lambda a: prepare_celeba(a.corpus_dir, a.output_dir, crop_size=a.crop_size,
                                                image_size=a.image_size,
                                                max_per_split=a.max_per_split, nj=a.nj))


if __name__ == "__main__":
    main()
