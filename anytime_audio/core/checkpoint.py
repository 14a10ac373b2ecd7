"""Safe, atomic checkpoints.

A checkpoint is a plain dictionary of tensors, numbers, strings, lists and
dicts, saved with ``torch.save`` and loaded with ``weights_only=True``, so
loading one never executes pickled code. Every write goes through the
project's one atomic writer (:mod:`anytime_audio.core.atomic`): a temporary
file in the same folder, fsynced, then renamed over the target, so a run killed
mid-write keeps the previous checkpoint intact, and the temporary file it may
leave is removed when the next :class:`~anytime_audio.core.trainer.Trainer` starts.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from anytime_audio.core.atomic import atomic_write_with


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Atomically save a checkpoint dictionary (tensors and plain Python values), fsynced before the rename."""
    atomic_write_with(path, lambda f: torch.save(state, f))


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded: empty, truncated, corrupt, or holding code."""


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint without executing code (``weights_only=True``).

    Raises ``FileNotFoundError`` when there is no file and :class:`CheckpointError`
    (one line naming the file) when it is empty, truncated or corrupt, or holds
    pickled Python objects. torch's own message for the last case advises
    retrying with ``weights_only=False``, which would run those objects' code,
    so it is replaced (and not chained) rather than passed on.
    """
    import pickle
    import re

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (an interrupted write?): delete it, or restore a good copy")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if refused:
            raise CheckpointError(
                f"refused to load checkpoint {path}: it holds a pickled Python object ({refused.group(1)}) "
                "that would run code when loaded; use only checkpoints written by anytime-audio"
            ) from None
        reason = "UnpicklingError"
    except (EOFError, RuntimeError, KeyError, ValueError, IndexError, TypeError, AttributeError, OSError) as e:
        reason = type(e).__name__
    raise CheckpointError(
        f"checkpoint {path} is truncated or corrupt, or not a torch checkpoint ({reason}): "
        "delete it, or restore a good copy"
    )


def capture_rng_state() -> dict:
    """RNG states of Python, NumPy and torch as checkpoint-safe values."""
    np_state = np.random.get_state()
    state = {
        "python": list(_flatten_python_state(random.getstate())),
        "numpy": {
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    random.setstate(_unflatten_python_state(state["python"]))
    np_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _flatten_python_state(state) -> list:
    version, internal, gauss = state
    return [version, *internal, -1 if gauss is None else 1, 0.0 if gauss is None else gauss]


def _unflatten_python_state(flat: list):
    version = int(flat[0])
    internal = tuple(int(v) for v in flat[1:-2])
    gauss = None if flat[-2] == -1 else float(flat[-1])
    return (version, internal, gauss)
