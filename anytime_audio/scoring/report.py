"""Experiment report: ``metrics.json``, ``report.md`` and ``budget_curve.png``.

``metrics.json`` has one stable shape, checked by :func:`validate_metrics`::

    {
      "reconstruction": {MODEL: {FRACTION: {METRIC: value}}},   # MODEL e.g. "ordered", "unordered"
      "generation":     {PRIOR: {FRACTION: {METRIC: value}}},   # PRIOR e.g. "transformer", "ardm"
      "cost":           {PRIOR: {FRACTION: {METRIC: value}}},
      ...extra top-level keys allowed (e.g. "ardm_steps"), any JSON value
    }

* The three sections are always present (possibly ``{}``); :func:`write_report`
  fills in missing ones before validating.
* MODEL / PRIOR: non-empty strings.
* FRACTION: the budget as a fraction of the code length ``L`` in (0, 1],
  written canonically by :func:`fraction_key` (``"0.125"``, ``"0.25"``,
  ``"0.5"``, ``"1.0"``); always build keys with it so lookups match.
* METRIC: snake_case (``^[a-z][a-z0-9_]*$``), e.g. reconstruction ``mse``,
  ``stft_distance``, ``mel_distance``, ``si_sdr``, ``pesq``, ``stoi``;
  generation ``frechet_distance``, ``accuracy``, ``inception_score``; cost
  ``seconds_per_sample``, ``network_calls``.
* Metric names ending in ``_clips`` (and ``clips``) are counts, e.g. how many
  clips a mean such as ``stoi`` is over: in the tables, not plotted.
* value: a number, or ``null`` when it could not be computed.  NaN / inf in
  the dict given to :func:`write_report` are written as ``null`` (strict
  JSON), so a round trip turns them into ``None``.

``report.md`` holds a header (experiment name, date), then per section one
markdown table per model/prior (rows = fractions, columns = metrics), any
extra top-level keys as JSON, and ``extra_sections``.  ``budget_curve.png``
has one panel per (section, metric) with one line per model/prior against
the fraction on a log2 axis.  All three files are written atomically.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "SECTIONS",
    "fraction_key",
    "validate_metrics",
    "load_metrics",
    "render_markdown",
    "plot_budget_curves",
    "write_report",
]

SECTIONS: tuple[str, ...] = ("reconstruction", "generation", "cost")
_METRIC_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SECTION_TITLES = {
    "reconstruction": "Reconstruction vs budget (held-out data)",
    "generation": "Generation vs budget",
    "cost": "Cost vs budget",
}


def fraction_key(f: float | int | str) -> str:
    """Canonical string key for a budget fraction in (0, 1].

    Rounded to 6 significant digits and written as Python's shortest float
    repr: ``0.125 -> "0.125"``, ``1 -> "1.0"``, ``"0.50" -> "0.5"``,
    ``1/3 -> "0.333333"``.  Raises ValueError outside (0, 1].
    """
    try:
        x = float(f)
    except (TypeError, ValueError):
        raise ValueError(f"budget fraction must be a number, got {f!r}") from None
    if not (0.0 < x <= 1.0):
        raise ValueError(f"budget fraction must be in (0, 1], got {f!r}")
    return repr(float(f"{x:.6g}"))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate_metrics(d: Any) -> None:
    """Raise ValueError unless ``d`` has the documented ``metrics.json`` shape."""
    if not isinstance(d, Mapping):
        raise ValueError(f"metrics must be a dict, got {type(d).__name__}")
    for key in d:
        if not isinstance(key, str):
            raise ValueError(f"top-level keys must be strings, got {key!r}")
    for section in SECTIONS:
        if section not in d:
            raise ValueError(f"metrics lacks the {section!r} section")
        models = d[section]
        if not isinstance(models, Mapping):
            raise ValueError(f"metrics[{section!r}] must be a dict of name -> fractions, got {type(models).__name__}")
        for name, fractions in models.items():
            where = f"metrics[{section!r}][{name!r}]"
            if not isinstance(name, str) or not name:
                raise ValueError(f"{where}: model/prior names must be non-empty strings")
            if not isinstance(fractions, Mapping):
                raise ValueError(f"{where} must be a dict of fraction -> metrics, got {type(fractions).__name__}")
            for frac, values in fractions.items():
                fwhere = f"{where}[{frac!r}]"
                if not isinstance(frac, str):
                    raise ValueError(f"{fwhere}: fraction keys must be strings (use fraction_key)")
                canonical = fraction_key(frac)  # raises ValueError when out of range / not numeric
                if canonical != frac:
                    raise ValueError(f"{fwhere}: fraction key must be canonical {canonical!r} (use fraction_key)")
                if not isinstance(values, Mapping):
                    raise ValueError(f"{fwhere} must be a dict of metric -> value, got {type(values).__name__}")
                for metric, value in values.items():
                    if not isinstance(metric, str) or not _METRIC_RE.match(metric):
                        raise ValueError(f"{fwhere}: metric name {metric!r} is not snake_case")
                    if value is not None and not _is_number(value):
                        raise ValueError(f"{fwhere}[{metric!r}]: value must be a number or null, got {value!r}")


def _jsonable(obj: Any) -> Any:
    """Copy with NaN/inf -> None, tuples -> lists, numpy/torch scalars -> Python numbers."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 0) == 0:
        obj = obj.item()  # numpy / torch scalar
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def load_metrics(path: str | os.PathLike) -> dict:
    """Read and validate a ``metrics.json`` (a file or an experiment folder)."""
    p = Path(path)
    if p.is_dir():
        p = p / "metrics.json"
    with open(p, encoding="utf-8") as f:
        d = json.load(f)
    validate_metrics(d)
    return d


from anytime_audio.core.atomic import atomic_write_bytes as _atomic_write_bytes  # noqa: E402


def _sorted_fractions(fractions: Mapping[str, Any]) -> list[str]:
    return sorted(fractions, key=float)


def _metric_names(fractions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for values in fractions.values():
        for m in values:
            if m not in names:
                names.append(m)
    return names


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if isinstance(v, int):
        return str(v)
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.3e}"
    return f"{v:.4g}"


def render_markdown(
    metrics: Mapping[str, Any],
    title: str,
    date: str,
    extra_sections: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
) -> str:
    """The ``report.md`` text for a validated metrics dict."""
    lines = [f"# {title}", "", f"Generated {date}.", "",
             "Fractions are budgets as a fraction of the code length L.", ""]
    for section in SECTIONS:
        lines += [f"## {_SECTION_TITLES[section]}", ""]
        models = metrics.get(section) or {}
        if not models:
            lines += ["_No results._", ""]
            continue
        for name, fractions in models.items():
            lines += [f"### {name}", ""]
            cols = _metric_names(fractions)
            if not fractions or not cols:
                lines += ["_No results._", ""]
                continue
            lines.append("| fraction | " + " | ".join(cols) + " |")
            lines.append("|---:|" + "---:|" * len(cols))
            for frac in _sorted_fractions(fractions):
                row = [_fmt(fractions[frac].get(c)) for c in cols]
                lines.append(f"| {frac} | " + " | ".join(row) + " |")
            lines.append("")
    extra_keys = [k for k in metrics if k not in SECTIONS]
    if extra_keys:
        lines += ["## Other", ""]
        for k in extra_keys:
            lines += [f"**{k}**", "", "```json", json.dumps(_jsonable(metrics[k]), indent=2, sort_keys=True), "```", ""]
    if extra_sections:
        items = extra_sections.items() if isinstance(extra_sections, Mapping) else extra_sections
        for heading, body in items:
            lines += [f"## {heading}", "", str(body).rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


# Series that appear in several panels keep one colour and one name everywhere.
_KNOWN_SERIES = ("ordered", "unordered", "vocoder_on_input", "test_clips", "transformer", "ardm")


def series_colors(metrics: Mapping[str, Any]) -> dict[str, str]:
    """One colour per series name (model or prior), the same in every panel."""
    names = list(_KNOWN_SERIES)
    for section in SECTIONS:
        for name in metrics.get(section) or {}:
            if name not in names:
                names.append(name)
    palette = [f"C{i}" for i in range(10)]
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def _is_count(metric: str) -> bool:
    """``clips`` / ``*_clips``: how many clips a mean is over, not a curve to plot."""
    return metric == "clips" or metric.endswith("_clips")


def budget_figure(metrics: Mapping[str, Any], title: str = ""):
    """Matplotlib figure: one panel per (section, metric), one line per model/prior, log2 x-axis."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels: list[tuple[str, str]] = []
    for section in SECTIONS:
        metric_names: list[str] = []
        for fractions in (metrics.get(section) or {}).values():
            for m in _metric_names(fractions):
                if m not in metric_names and not _is_count(m):
                    metric_names.append(m)
        panels += [(section, m) for m in metric_names]
    colors = series_colors(metrics)

    ncols = min(4, max(1, len(panels)))
    nrows = max(1, math.ceil(len(panels) / ncols))
    fig = Figure(figsize=(4.0 * ncols, 3.2 * nrows), constrained_layout=True)
    FigureCanvasAgg(fig)
    if title:
        fig.suptitle(title)
    if not panels:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no metrics", ha="center", va="center")
        ax.set_axis_off()
    for i, (section, metric) in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ticks: set[float] = set()
        for name, fractions in metrics[section].items():
            pts = [
                (float(f), fractions[f][metric])
                for f in _sorted_fractions(fractions)
                if _is_number(fractions[f].get(metric)) and math.isfinite(fractions[f][metric])
            ]
            if not pts:
                continue
            xs, ys = zip(*pts)
            ticks.update(xs)
            # a single point (e.g. the vocoder ceiling, measured at full codes) is drawn as a level
            style = dict(linestyle="--", marker=None) if len(pts) == 1 else dict(marker="o")
            if len(pts) == 1:
                ax.axhline(ys[0], color=colors[name], label=name, **style)
            else:
                ax.plot(xs, ys, color=colors[name], label=name, **style)
        ax.set_xscale("log", base=2)
        if ticks:
            ax.set_xticks(sorted(ticks))
            ax.set_xticklabels([fraction_key(t) for t in sorted(ticks)], fontsize=7)
            ax.minorticks_off()
            ax.legend(fontsize=7)
        ax.set_xlabel("budget (fraction of L)")
        ax.set_title(f"{section}: {metric}", fontsize=9)
        ax.grid(True, alpha=0.3)
    return fig


def plot_budget_curves(metrics: Mapping[str, Any], title: str = "") -> bytes:
    """PNG bytes of :func:`budget_figure`."""
    buf = io.BytesIO()
    budget_figure(metrics, title).savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def write_report(
    exp_dir: str | os.PathLike,
    metrics: Mapping[str, Any],
    extra_sections: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    *,
    title: str | None = None,
    date: str | None = None,
) -> dict[str, Path]:
    """Write ``metrics.json``, ``report.md`` and ``budget_curve.png`` into ``exp_dir``.

    Missing sections are filled with ``{}``; the result is validated (ValueError
    on a bad shape) before anything is written.  ``extra_sections`` maps
    heading -> markdown body, appended to ``report.md``.  ``title`` defaults
    to the experiment folder's name, ``date`` to now (local time).
    Returns ``{"metrics": path, "report": path, "plot": path}``.
    """
    exp_dir = Path(exp_dir)
    clean = _jsonable(dict(metrics))
    for section in SECTIONS:
        clean.setdefault(section, {})
    validate_metrics(clean)
    exp_dir.mkdir(parents=True, exist_ok=True)
    title = title or f"Experiment {exp_dir.resolve().name}"
    date = date or datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")

    paths = {
        "metrics": exp_dir / "metrics.json",
        "report": exp_dir / "report.md",
        "plot": exp_dir / "budget_curve.png",
    }
    text = json.dumps(clean, indent=2, allow_nan=False) + "\n"
    _atomic_write_bytes(paths["metrics"], text.encode("utf-8"))
    _atomic_write_bytes(paths["report"], render_markdown(clean, title, date, extra_sections).encode("utf-8"))
    _atomic_write_bytes(paths["plot"], plot_budget_curves(clean, title))
    logger.info("wrote %s, %s, %s", *paths.values())
    return paths
