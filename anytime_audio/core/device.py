"""Device selection, CPU threads and timing synchronisation: the project's one device module.

Everything that picks a device, sets the CPU thread policy or waits for an
accelerator before reading a clock goes through here, never through a private
copy. ``torch`` is imported inside the functions, not at the top, so that
:func:`configure_threads` can set ``OMP_WAIT_POLICY`` before torch loads
OpenMP when it is the first thing a program calls (OpenMP reads its
environment once, when the library is loaded by ``import torch``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: OpenMP wait policy set (unless the environment already names one) before torch loads.
OMP_WAIT_POLICY = "PASSIVE"

_torch_default_threads: int | None = None


def pick_device(name: str = "auto") -> "torch.device":
    """Resolve ``auto`` to cuda, then mps, then cpu; pass explicit names through.

    An explicit device that is not available raises, rather than silently
    running somewhere slower.
    """
    import torch

    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available: use device=cpu or device=auto")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"device {name!r} requested but MPS is not available: use device=cpu or device=auto")
    return device


def synchronize(device: "torch.device | str") -> None:
    """Wait for the kernels queued on ``device`` so a wall-clock reading includes them (no-op on CPU)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_num_threads() -> int:
    """The thread count used for ``num_threads: 0``: torch's own default, but one core left free.

    On a shared machine another CPU-bound process takes a core; if torch uses
    every core, one of its OpenMP threads shares a core with that process and
    every parallel region waits for it (measured on 2 cores: 20x slower per
    training step, ``tools/bench_threads.py``). Leaving one core free keeps the
    team on cores of its own; on 2 cores or fewer this is 1 thread, which is
    also the fastest setting for the project's small models there. The count
    depends only on the machine, never on its momentary load, so a resumed
    run uses the same threads (and the same float reductions) as the original.
    """
    import torch

    global _torch_default_threads
    if _torch_default_threads is None:
        _torch_default_threads = torch.get_num_threads()
    return max(1, min(_torch_default_threads, usable_cores() - 1))


def configure_threads(num_threads: int | str | None = 0) -> int:
    """Set torch's CPU threads for this process and return the count.

    ``num_threads`` 0, None or ``auto`` picks :func:`default_num_threads`; a
    positive number is used as given. Before importing torch it also sets
    ``OMP_WAIT_POLICY=PASSIVE`` unless the environment names a policy: OpenMP
    threads that wait sleep instead of spinning, so an oversubscribed machine
    does not spend its cores on threads waiting for each other. That part only
    takes effect if torch was not imported yet (call this first, as the CLI
    does); child processes inherit it either way.
    """
    if num_threads in (None, "", "auto"):
        num_threads = 0
    try:
        count = int(num_threads)
    except (TypeError, ValueError):
        raise ValueError(f"num_threads must be 0 (auto) or a positive integer, got {num_threads!r}") from None
    if count < 0 or count != float(num_threads):
        raise ValueError(f"num_threads must be 0 (auto) or a positive integer, got {num_threads!r}")
    os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)
    import torch

    if count == 0:
        count = default_num_threads()
    torch.set_num_threads(count)
    return count


def autocast_dtype(device: "torch.device", amp: str | bool) -> "torch.dtype | None":
    """The mixed-precision dtype to use, or None for full precision.

    ``amp`` may be ``auto`` (bf16 on CUDA devices that support it, else fp16 on
    CUDA, off elsewhere: CPU autocast rarely helps small convnets), ``bf16``,
    ``fp16``, or false.
    """
    import torch

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
