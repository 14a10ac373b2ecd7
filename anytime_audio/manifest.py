"""JSONL manifests: one clip (or image) per line.

Audio lines: ``{"id", "path", "duration", "sample_rate", "label", "label_name",
"speaker"}``; image lines: ``{"id", "path", "label", "label_name"}``. ``path``
is absolute or relative to the manifest's folder. A set folder also holds
``labels.json``, the list of label names indexed by label id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from anytime_audio.core.checkpoint import atomic_write_text

SPLITS = ("train", "valid", "test")


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Read a JSONL manifest; relative paths are resolved against its folder."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {path} (run the recipe's prepare stage first)")
    entries = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{line_no}: not valid JSON ({e})") from e
            if "path" not in entry:
                raise ValueError(f"{path}:{line_no}: entry has no 'path'")
            p = Path(entry["path"])
            entry["path"] = str(p if p.is_absolute() else path.parent / p)
            entries.append(entry)
    return entries


def write_manifest(path: str | os.PathLike, entries: list[dict]) -> None:
    """Atomically write entries as JSONL."""
    atomic_write_text(path, "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries))


def read_labels(manifest_dir: str | os.PathLike) -> list[str]:
    """Label names of a set (empty list when the set has no labels)."""
    path = Path(manifest_dir) / "labels.json"
    if not path.is_file():
        return []
    with open(path) as f:
        return list(json.load(f))
