"""Image datasets read from JSONL manifests of PNG files.

Images are loaded once, converted to ``[C, H, W]`` float tensors in [-1, 1]
and resized when a size is given. Items are ``(image, label)``.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from anytime_audio.manifest import read_manifest

log = logging.getLogger(__name__)


def load_image(path: str, channels: int, size: int | None = None) -> np.ndarray:
    """PNG/JPEG -> float32 ``[C, H, W]`` in [-1, 1]; errors name the file."""
    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            if size is not None and img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            array = np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: cannot read image ({e})") from e
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def image_to_uint8(image: torch.Tensor) -> np.ndarray:
    """``[C, H, W]`` in [-1, 1] -> ``[H, W]`` or ``[H, W, 3]`` uint8."""
    array = ((image.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().cpu().numpy()
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


class ImageDataset(Dataset):
    def __init__(self, manifest: str | os.PathLike, channels: int = 1, size: int | None = None,
                 max_items: int | None = None, **_ignored) -> None:
        entries = read_manifest(manifest)
        if max_items is not None:
            entries = entries[:max_items]
        images, kept = [], []
        for entry in entries:
            try:
                images.append(load_image(entry["path"], channels, size))
                kept.append(entry)
            except ValueError as e:
                log.warning("skipping: %s", e)
        if not images:
            raise ValueError(f"no loadable images in {manifest}")
        self.entries = kept
        self.images = torch.from_numpy(np.stack(images))
        self.labels = torch.tensor(
            [(-1 if e.get("label") is None else int(e["label"])) for e in kept], dtype=torch.long
        )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index], self.labels[index]
