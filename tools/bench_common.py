"""Shared helpers for the benchmark scripts in ``tools/``.

What they need in common: timing that waits for the accelerator (through
``anytime_audio.core.device.synchronize``), a least-squares
line with its R^2, a description of the machine the numbers came from, and a
writer that rewrites one marked section of ``BENCHMARKS.md`` and leaves every
other section as it was (so several tools can share one file), written through
the project's one atomic writer (``anytime_audio.core.atomic``).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import torch

from anytime_audio.core.atomic import atomic_write_text
from anytime_audio.core.device import synchronize

BENCHMARKS_HEADER = (
    "# Benchmarks\n\n"
    "Measured numbers, one section per tool. Each section lies between its tool's\n"
    "`<!-- NAME:begin -->` / `<!-- NAME:end -->` markers and is rewritten by that tool\n"
    "(`--write BENCHMARKS.md`); edit text outside the markers freely.\n"
)


# --------------------------------------------------------------------- timing
def time_call(fn: Callable[[], object], device: torch.device | str) -> float:
    """Seconds taken by ``fn()``, synchronising the device before and after."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


STATS = ("min", "median")


def summarize(values: Sequence[float], stat: str = "min") -> float:
    """Reduce repeated timings: ``min`` (best of N: background load only ever adds time) or ``median``."""
    if stat == "min":
        return float(min(values))
    if stat == "median":
        return median(values)
    raise ValueError(f"stat must be one of {STATS}, got {stat!r}")


# ------------------------------------------------------------------ statistics
def linear_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float, float]:
    """Ordinary least squares ``y ~ slope * x + intercept``; returns ``(slope, intercept, r2)``.

    With an intercept, R^2 = 1 - SS_res / SS_tot lies in [0, 1]. When ``y`` is
    constant, R^2 is 1 if the line fits exactly and 0 otherwise.
    """
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"need two or more (x, y) pairs of equal length, got {len(x)} and {len(y)}")
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    if sxx == 0:
        raise ValueError("x is constant: no line can be fitted")
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_res = sum((b - (slope * a + intercept)) ** 2 for a, b in zip(x, y))
    ss_tot = sum((b - my) ** 2 for b in y)
    if ss_tot == 0:
        r2 = 1.0 if ss_res == 0 else 0.0
    else:
        r2 = min(1.0, max(0.0, 1.0 - ss_res / ss_tot))
    return slope, intercept, r2


# --------------------------------------------------------------------- machine
def cpu_model() -> str:
    """The ``model name`` line of /proc/cpuinfo (falls back to platform.processor())."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def contention_note(threads: int | None = None) -> str | None:
    """A warning when other processes already keep the cores busy and torch uses several threads.

    On an oversubscribed machine OpenMP worker threads get descheduled and every
    parallel region waits for the slowest one: many small ops (one cached decoding
    step) suffer far more than a few large GEMMs, so such timings say more about
    the load than about the code. ``--threads 1`` avoids most of it.
    """
    threads = torch.get_num_threads() if threads is None else threads
    try:
        load1 = os.getloadavg()[0]
        cores = len(os.sched_getaffinity(0))
    except (OSError, AttributeError):
        return None
    if threads > 1 and load1 >= 1.0 and load1 + threads > cores:
        return (f"machine busy before the run (1-min load {load1:.2f} on {cores} cores) while torch uses "
                f"{threads} threads: multi-threaded small ops stall; compare with --threads 1")
    return None


def machine_info(device: torch.device | str) -> dict[str, str]:
    """Where the numbers were taken: CPU, cores, torch, device, threads, date, load."""
    device = torch.device(device)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    info = {
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
        "threads": f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op",
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load average (1, 5, 15 min) at start": load_average(),
    }
    if device.type == "cuda":
        info["device"] = f"cuda ({torch.cuda.get_device_name(device)})"
    return info


def command_line(script: str, argv: Sequence[str]) -> str:
    """The command that reproduces a run: interpreter and script relative to the
    working directory where they lie below it, then the arguments."""
    def short(path: str) -> str:
        try:
            rel = os.path.relpath(os.path.abspath(path))
        except ValueError:
            return path
        return path if rel.startswith("..") else rel
    return shlex.join([short(sys.executable), short(script), *argv])


# -------------------------------------------------------------------- markdown
def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; numbers are written as given (format them first)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def replace_section(document: str, name: str, body: str) -> str:
    """``document`` with the ``name`` section replaced by ``body`` (appended when absent).

    The section is the text between ``<!-- name:begin -->`` and ``<!-- name:end -->``,
    markers included; nothing outside it changes.
    """
    begin, end = markers(name)
    section = f"{begin}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _: section, document, count=1)
    if document and not document.endswith("\n"):
        document += "\n"
    sep = "\n" if document else ""
    return f"{document}{sep}{section}\n"


def update_markdown_section(path: str | os.PathLike, name: str, body: str, header: str = BENCHMARKS_HEADER) -> None:
    """Rewrite the ``name`` section of the markdown file ``path`` atomically.

    A missing file is created with ``header`` first; other sections are kept.
    """
    path = Path(path)
    document = path.read_text(encoding="utf-8") if path.exists() else header
    atomic_write_text(path, replace_section(document, name, body))
