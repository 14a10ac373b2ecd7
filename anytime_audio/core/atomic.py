"""Atomic file writes: the one copy of write-then-rename used by the whole project.

Every writer goes through :func:`atomic_write`: the data go to a hidden
temporary file in the target's folder (``.<name>.tmp-<pid>``), are flushed and
fsynced, and the file is renamed over the target. A run killed mid-write leaves
the previous file intact; the temporary file it may leave behind is removed by
:func:`remove_stale_temporaries` at the next start.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import numpy as np

TMP_MARK = ".tmp-"


def temporary_path(path: Path) -> Path:
    """The hidden temporary file that :func:`atomic_write` uses for ``path``."""
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing; on success fsync it and rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        with open(tmp, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_with(path: str | os.PathLike, writer: Callable[[IO], None]) -> None:
    """Atomically write ``path`` with ``writer(binary_file)`` (e.g. ``torch.save``, ``np.save``)."""
    with atomic_write(path, "wb") as f:
        writer(f)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_write(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_save_numpy(path: str | os.PathLike, array: np.ndarray) -> None:
    """``np.save`` (no pickles) through :func:`atomic_write`."""
    atomic_write_with(path, lambda f: np.save(f, array, allow_pickle=False))


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete temporary files that killed writes left in ``folder`` (not recursive).

    Only files named like :func:`temporary_path` whose writing process no longer
    exists are removed, so a concurrent writer is never disturbed.
    """
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for tmp in folder.glob(f".*{TMP_MARK}*"):
        pid = tmp.name.rsplit(TMP_MARK, 1)[-1].split(".")[0]
        if not pid.isdigit() or _process_alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
