"""metrics.json shape, report.md tables and budget_curve.png."""

import copy
import json
import math

import pytest

from anytime_audio.scoring.report import fraction_key, load_metrics, validate_metrics, write_report

FRACS = [0.125, 0.25, 0.5, 1.0]


def _metrics():
    recon = {
        model: {
            fraction_key(f): {"mse": 0.1 / (f * 8) * k, "si_sdr": 10 * f / k, "pesq": 1 + 3 * f, "stoi": 0.5 + 0.4 * f}
            for f in FRACS
        }
        for model, k in (("ordered", 1.0), ("unordered", 2.0))
    }
    gen = {p: {fraction_key(f): {"frechet_distance": 50 * (1 - f) + 1, "accuracy": f, "inception_score": 1 + 8 * f}
               for f in FRACS} for p in ("transformer", "ardm")}
    cost = {p: {fraction_key(f): {"seconds_per_sample": 0.01 * f * 64, "network_calls": int(64 * f)} for f in FRACS}
            for p in ("transformer", "ardm")}
    return {"reconstruction": recon, "generation": gen, "cost": cost, "ardm_steps": [8, 16, 32]}


def test_fraction_key():
    assert [fraction_key(f) for f in FRACS] == ["0.125", "0.25", "0.5", "1.0"]
    assert fraction_key(1) == "1.0"
    assert fraction_key("0.50") == "0.5"
    assert fraction_key(0.1 + 0.2) == "0.3"
    assert fraction_key(1 / 3) == "0.333333"
    for bad in (0, -0.5, 1.5, "abc", float("nan")):
        with pytest.raises(ValueError):
            fraction_key(bad)


def test_write_report_round_trip(tmp_path):
    m = _metrics()
    paths = write_report(tmp_path / "exp1", m, extra_sections={"Notes": "trained 3 epochs"}, date="2024-01-01")
    files = sorted(p.name for p in (tmp_path / "exp1").iterdir())
    assert files == ["budget_curve.png", "metrics.json", "report.md"]  # no tmp files left behind
    loaded = json.loads(paths["metrics"].read_text())
    assert loaded == m
    assert load_metrics(tmp_path / "exp1") == m
    assert set(loaded["reconstruction"]["ordered"]) == {"0.125", "0.25", "0.5", "1.0"}

    md = paths["report"].read_text()
    assert md.startswith("# Experiment exp1")
    assert "2024-01-01" in md and "## Notes" in md and "trained 3 epochs" in md
    assert "### ordered" in md and "### ardm" in md
    assert "| fraction | mse | si_sdr | pesq | stoi |" in md
    assert "| fraction | seconds_per_sample | network_calls |" in md
    assert "ardm_steps" in md
    # rows sorted by fraction
    rows = [line.split("|")[1].strip() for line in md.splitlines() if line.startswith("| 0.") or line.startswith("| 1.")]
    assert rows[:4] == ["0.125", "0.25", "0.5", "1.0"]

    png = paths["plot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_nan_becomes_null_and_missing_sections_filled(tmp_path):
    m = {"reconstruction": {"ordered": {"1.0": {"pesq": float("nan"), "mse": 0.5}}}}
    write_report(tmp_path, m)
    loaded = json.loads((tmp_path / "metrics.json").read_text())
    assert loaded["reconstruction"]["ordered"]["1.0"]["pesq"] is None
    assert loaded["generation"] == {} and loaded["cost"] == {}
    assert "n/a" in (tmp_path / "report.md").read_text()
    assert math.isnan(m["reconstruction"]["ordered"]["1.0"]["pesq"])  # input not mutated


def test_empty_report(tmp_path):
    write_report(tmp_path, {})
    assert (tmp_path / "budget_curve.png").stat().st_size > 0
    assert "_No results._" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda m: m.pop("generation"), "generation"),
        (lambda m: m.__setitem__("cost", [1, 2]), "cost"),
        (lambda m: m["reconstruction"]["ordered"].__setitem__("0.50", {"mse": 1.0}), "canonical"),
        (lambda m: m["reconstruction"]["ordered"].__setitem__("2.0", {"mse": 1.0}), r"\(0, 1\]"),
        (lambda m: m["reconstruction"]["ordered"]["1.0"].__setitem__("SI-SDR", 1.0), "snake_case"),
        (lambda m: m["reconstruction"]["ordered"]["1.0"].__setitem__("mse", "low"), "number"),
        (lambda m: m["generation"]["ardm"].__setitem__("0.5", 3.0), "dict"),
        (lambda m: m["cost"].__setitem__("", {}), "non-empty"),
    ],
)
def test_validate_rejects_bad_shapes(mutate, match, tmp_path):
    m = copy.deepcopy(_metrics())
    validate_metrics(m)
    mutate(m)
    with pytest.raises(ValueError, match=match):
        validate_metrics(m)
    if match != "generation":  # write_report fills a missing section, everything else must fail
        with pytest.raises(ValueError):
            write_report(tmp_path, m)
        assert not (tmp_path / "metrics.json").exists()


def test_validate_rejects_non_dict():
    with pytest.raises(ValueError):
        validate_metrics([1, 2])


def test_each_series_keeps_one_colour_and_name_in_every_panel():
    from anytime_audio.scoring.report import budget_figure

    curve = {"0.25": {"mse": 2.0, "stoi": 0.3}, "1.0": {"mse": 1.0, "stoi": 0.5}}
    metrics = {
        # "unordered" lacks stoi, so the colour cycle would shift in that panel without fixed colours
        "reconstruction": {"ordered": curve, "unordered": {"0.25": {"mse": 3.0}, "1.0": {"mse": 1.1}},
                           "vocoder_on_input": {"1.0": {"stoi": 0.6}}},
        "generation": {"transformer": {"0.25": {"accuracy": 0.5}, "1.0": {"accuracy": 0.9}}},
    }
    fig = budget_figure(metrics)
    colours: dict[str, set] = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            colours.setdefault(line.get_label(), set()).add(line.get_color())
    assert set(colours) == {"ordered", "unordered", "vocoder_on_input", "transformer"}
    assert all(len(c) == 1 for c in colours.values()), colours
    assert len({next(iter(c)) for c in colours.values()}) == 4


def test_clip_counts_are_tabled_not_plotted(tmp_path):
    import torch

    from anytime_audio.budget_evaluation import _summary
    from anytime_audio.scoring.report import budget_figure, render_markdown

    nan = float("nan")
    bucket = {"stoi": [torch.tensor([0.8, nan]), torch.tensor([0.6])], "pesq": [torch.tensor([2.0, 3.0, 4.0])],
              "si_sdr": [torch.tensor([1.0, 2.0, 3.0])]}
    row = _summary(bucket)  # STOI: mean of the clips it scored, and how many
    assert row["stoi"] == pytest.approx(0.7) and row["stoi_clips"] == 2 and row["pesq_clips"] == 3
    assert row["clips"] == 3 and "si_sdr_clips" not in row
    assert "clips" not in _summary({"mse": [torch.tensor([1.0])]})
    metrics = {"reconstruction": {"ordered": {"0.5": row, "1.0": row}}, "generation": {}, "cost": {}}
    assert "stoi_clips" in render_markdown(metrics, "t", "d")
    titles = [ax.get_title() for ax in budget_figure(metrics).axes]
    assert "reconstruction: stoi" in titles and not any("clips" in t for t in titles), titles
