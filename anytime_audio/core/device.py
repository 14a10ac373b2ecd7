"""Device selection from configuration, never hard-coded."""

from __future__ import annotations

import torch


def pick_device(name: str = "auto") -> torch.device:
    """Resolve ``auto`` to cuda, then mps, then cpu; pass explicit names through.

    An explicit device that is not available raises, rather than silently
    running somewhere slower.
    """
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"device {name!r} requested but MPS is not available")
    return device


def autocast_dtype(device: torch.device, amp: str | bool) -> torch.dtype | None:
    """The mixed-precision dtype to use, or None for full precision.

    ``amp`` may be ``auto`` (bf16 on CUDA devices that support it, else fp16 on
    CUDA, off elsewhere: CPU autocast rarely helps small convnets), ``bf16``,
    ``fp16``, or false.
    """
    if amp in (False, None, "false", "off", "none", "no"):
        return None
    if device.type != "cuda":
        return None
    if amp in ("auto", True, "true"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp == "bf16":
        return torch.bfloat16
    if amp == "fp16":
        return torch.float16
    raise ValueError(f"amp must be auto, bf16, fp16 or false, got {amp!r}")
