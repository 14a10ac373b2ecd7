"""The one atomic writer: all-or-nothing writes, and clean-up of what killed writes left."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from anytime_audio.core.atomic import (
    atomic_save_numpy,
    atomic_write,
    atomic_write_json,
    atomic_write_text,
    remove_stale_temporaries,
    temporary_path,
)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_writes_land_whole_and_leave_no_temporaries(tmp_path):
    atomic_write_text(tmp_path / "a" / "t.txt", "héllo")
    atomic_write_json(tmp_path / "j.json", {"k": [1, 2]})
    atomic_save_numpy(tmp_path / "x.npy", np.arange(5))
    assert (tmp_path / "a" / "t.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "j.json").read_text().startswith("{")
    assert np.load(tmp_path / "x.npy", allow_pickle=False).tolist() == [0, 1, 2, 3, 4]
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


def test_an_error_mid_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "old")
    with pytest.raises(RuntimeError):
        with atomic_write(path, "w") as f:
            f.write("half of the new")
            raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_remove_stale_temporaries_removes_only_those_of_dead_writers(tmp_path):
    dead = _dead_pid()
    stale = [tmp_path / f".checkpoint.pt.tmp-{dead}", tmp_path / f".codes.npy.tmp-{dead}.npy"]
    live = temporary_path(tmp_path / "checkpoint.pt")  # this process: a write in progress
    unrelated = [tmp_path / ".gitignore", tmp_path / ".notes.tmp-draft", tmp_path / f"visible.tmp-{dead}"]
    for p in [*stale, live, *unrelated]:
        p.write_text("x")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted(stale)
    assert live.exists() and all(p.exists() for p in unrelated)
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_recipe_download_goes_through_the_atomic_writer(tmp_path):
    """recipes' download_url: a checksum mismatch leaves neither the target nor a temporary (file:// URL, no network)."""
    import hashlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "recipes" / "TEMPLATE" / "pyscripts"))
    import recipe_common

    source = tmp_path / "src.bin"
    source.write_bytes(b"corpus" * 1000)
    good = hashlib.md5(source.read_bytes()).hexdigest()
    out = tmp_path / "out"
    with pytest.raises(OSError, match="checksum mismatch"):
        recipe_common.download_url(source.as_uri(), out / "a.bin", md5="0" * 32)
    assert not out.exists() or list(out.iterdir()) == []
    path = recipe_common.download_url(source.as_uri(), out / "a.bin", md5=good)
    assert path.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["a.bin"]
