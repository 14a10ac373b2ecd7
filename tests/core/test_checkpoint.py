"""save_checkpoint writes through the one atomic writer: fsync before the rename, no torn files."""

from __future__ import annotations

import os

import pytest
import torch

from anytime_audio.core.checkpoint import load_checkpoint, save_checkpoint


def test_checkpoint_is_fsynced_before_it_replaces_the_old_one(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_size))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.path.basename(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save_checkpoint(tmp_path / "checkpoint.pt", {"w": torch.arange(1000.0), "step": 4})
    kinds = [kind for kind, _ in events]
    assert "fsync" in kinds and "replace" in kinds, events
    first_fsync, last_replace = kinds.index("fsync"), len(kinds) - 1 - kinds[::-1].index("replace")
    assert first_fsync < last_replace and events[last_replace] == ("replace", "checkpoint.pt"), events
    assert events[first_fsync][1] > 4000  # the data were written when they were synced
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 4


def test_failed_checkpoint_write_keeps_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"step": 1})
    with pytest.raises(Exception):
        save_checkpoint(path, {"step": 2, "bad": lambda: None})  # torch.save cannot pickle a lambda
    assert load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
