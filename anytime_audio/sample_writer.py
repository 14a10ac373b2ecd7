"""Write sampled budgets to disk: WAVs (or PNG grids) and one manifest.

Layout under the output folder (``<exp_dir>/samples`` for the causal prior)::

    <budget>/<index>[_<label>].wav     audio, one file per sample
    <budget>.png                       images, one grid per budget
    manifest.jsonl                     one row per sample: budget, codes used,
                                       steps, cost, infeasible flag, path
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import torch

from anytime_audio.core.atomic import atomic_write_bytes
from anytime_audio.generation import SampleSet
from anytime_audio.manifest import write_manifest


def samples_folder(prior_name: str, steps) -> str:
    """``samples`` for the causal prior; ``samples_<prior>[_steps<S>]`` otherwise."""
    if prior_name == "transformer":
        return "samples"
    return f"samples_{prior_name}" + ("" if steps is None else f"_steps{steps}")


def save_image_grid(images: torch.Tensor, path: Path, columns: int | None = None) -> None:
    """Save ``[n, C, H, W]`` images in [-1, 1] as one PNG grid (atomic)."""
    buffer = io.BytesIO()
    image_grid(images, columns).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())


def image_grid(images: torch.Tensor, columns: int | None = None):
    """``[n, C, H, W]`` images in [-1, 1] as one PIL grid (small images scaled up to 64 px, 1 px gaps)."""
    from PIL import Image

    from anytime_audio.image.datasets import image_to_uint8

    n = images.shape[0]
    columns = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / columns))
    tiles = [image_to_uint8(img) for img in images]
    h, w = tiles[0].shape[:2]
    scale = max(1, 64 // max(h, w))
    mode = "L" if tiles[0].ndim == 2 else "RGB"
    background = 255 if mode == "L" else (255, 255, 255)
    grid = Image.new(mode, (columns * w * scale + (columns - 1), rows * h * scale + (rows - 1)), background)
    for i, tile in enumerate(tiles):
        img = Image.fromarray(tile, mode).resize((w * scale, h * scale), Image.NEAREST)
        grid.paste(img, ((i % columns) * (w * scale + 1), (i // columns) * (h * scale + 1)))
    return grid


def write_samples(sets: list[SampleSet], out_root: Path, modality: str, sample_rate: int,
                  label_names: list[str]) -> list[dict]:
    """Write every sample of ``sets`` under ``out_root`` plus ``manifest.jsonl``; returns its rows."""
    from anytime_audio.audio.io import write_wav

    rows = []
    for sample_set in sets:
        result, labels = sample_set.result, sample_set.labels
        folder_name = result.budget.folder_name
        if modality == "image":
            path = out_root / f"{folder_name}.png"
            save_image_grid(result.output, path)
            paths = [path] * sample_set.n
        else:
            paths = []
            for i, wave in enumerate(result.output):
                suffix = ""
                if labels is not None:
                    lab = int(labels[i])
                    suffix = f"_{label_names[lab] if lab < len(label_names) else lab}"
                path = out_root / folder_name / f"{i:04d}{suffix}.wav"
                write_wav(path, wave, sample_rate)
                paths.append(path)
        for i, path in enumerate(paths):
            rows.append({
                "budget": result.budget.text, "codes_used": int(result.codes_used), "path": str(path),
                "label": None if labels is None else int(labels[i]),
                "steps": result.steps, "schedule": result.schedule, "infeasible": bool(result.infeasible),
                "seconds_per_sample": sample_set.seconds_per_sample,
                "generate_seconds_per_sample": sample_set.generate_seconds_per_sample,
            })
    write_manifest(out_root / "manifest.jsonl", rows)
    return rows
