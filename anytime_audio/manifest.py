"""JSONL manifests: one clip (or image) per line.

Audio lines: ``{"id", "path", "duration", "sample_rate", "label", "label_name",
"speaker"}``; image lines: ``{"id", "path", "label", "label_name"}``. ``path``
is absolute or relative to the manifest's folder. A set folder also holds
``labels.json``, the list of label names indexed by label id.

Labels are checked against ``labels.json`` when a manifest is read (and the
recipes check them when they write one), so a label outside
``0..len(labels)-1`` fails at once with the manifest's file and line instead
of deep inside a later training stage.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from anytime_audio.core.atomic import atomic_write_text

SPLITS = ("train", "valid", "test")


def read_manifest(path: str | os.PathLike, check_labels: bool = True) -> list[dict]:
    """Read a JSONL manifest; relative paths are resolved against its folder.

    With ``check_labels`` and a ``labels.json`` beside the manifest, every
    non-null ``label`` must be an integer in ``0..len(labels)-1``; otherwise
    a ValueError names the manifest file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {path} (run the recipe's prepare stage first)")
    labels_path = path.parent / "labels.json"
    num_labels = len(read_labels(path.parent)) if check_labels and labels_path.is_file() else None
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
            if num_labels is not None:
                problem = label_problem(entry.get("label"), num_labels)
                if problem:
                    raise ValueError(f"{path}:{line_no}: {problem} ({labels_path}); fix the manifest or labels.json")
            p = Path(entry["path"])
            entry["path"] = str(p if p.is_absolute() else path.parent / p)
            entries.append(entry)
    return entries


def label_problem(label: object, num_labels: int) -> str | None:
    """Why ``label`` is not valid for a set with ``num_labels`` names (None if it is).

    Valid: null, or an integer in ``0..num_labels-1``. Shared by
    :func:`read_manifest` and the recipes' manifest writer.
    """
    if label is None:
        return None
    if isinstance(label, bool) or not isinstance(label, int):
        return f"label {label!r} is not an integer or null"
    if not 0 <= label < num_labels:
        if num_labels == 0:
            return f"label {label} given but labels.json lists no labels (use null)"
        return f"label {label} outside 0..{num_labels - 1} of the {num_labels} names in labels.json"
    return None


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
