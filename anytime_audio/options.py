"""Options: the packaged Hydra configuration, composed and checked.

:func:`compose` turns ``key=value`` overrides (with the documented shorthand
``n=``, ``budgets=``, ...) into a configuration over the ``configs/`` tree;
:func:`validate_options` checks every option a command reads before it runs.

Hydra hands every ``key=value`` over as whatever type the text parses to, so
``n=1.5`` arrives as a float and ``train.steps=abc`` as a string; a bare
``int(...)`` in the code that uses them would truncate the first silently and
fail the second with a traceback. These helpers turn such values into the type
the code needs or raise :class:`OptionError` with one line that names the
option, says what it accepts and shows what it got.
"""

from __future__ import annotations

import math
import numbers
import re
from pathlib import Path

from omegaconf import DictConfig, OmegaConf


class OptionError(ValueError):
    """A configuration option has a value of the wrong type or out of range."""


def require_int(value, name: str, minimum: int | None = None, *, allow_none: bool = False,
                words: tuple[str, ...] = ()) -> int | str | None:
    """``value`` as an ``int``, or raise :class:`OptionError` naming ``name``.

    Accepted: an ``int``, a float with no fractional part (``1e3``, ``2.0``) and
    a string of digits (a quoted ``'16'``), each at least ``minimum``; ``None``
    when ``allow_none``; and the exact strings in ``words`` (``auto``), returned
    unchanged. Booleans are refused, so ``n=true`` is not one sample.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, str) and value in words:
        return value
    number = _whole(value)
    if number is None or (minimum is not None and number < minimum):
        raise OptionError(f"{name} must be {_int_what(minimum, allow_none, words)}, got {value!r}")
    return number


def require_float(value, name: str, low: float | None = None, high: float | None = None, *,
                  low_open: bool = True, allow_none: bool = False) -> float | None:
    """``value`` as a finite ``float`` in the range from ``low`` to ``high`` (inclusive).

    ``low`` is excluded when ``low_open`` (``temperature > 0``). Numeric strings
    are accepted; booleans and anything non-finite are refused.
    """
    if value is None and allow_none:
        return None
    number = None
    if not isinstance(value, bool) and isinstance(value, (numbers.Real, str)):
        try:
            number = float(value)
        except ValueError:
            number = None
    ok = number is not None and math.isfinite(number)
    if ok and low is not None:
        ok = number > low if low_open else number >= low
    if ok and high is not None:
        ok = number <= high
    if not ok:
        if low is not None and high is not None:
            what = f"a number in {'(' if low_open else '['}{low:g}, {high:g}]"
        elif low is not None:
            what = f"a number {'>' if low_open else '>='} {low:g}"
        elif high is not None:
            what = f"a number <= {high:g}"
        else:
            what = "a finite number"
        raise OptionError(f"{name} must be {what}{' or null' if allow_none else ''}, got {value!r}")
    return number


def require_choice(value, name: str, choices: tuple[str, ...], *, ignore_case: bool = False) -> str:
    """``value`` if it is one of ``choices`` (compared case-insensitively when asked)."""
    if isinstance(value, str):
        if value in choices:
            return value
        if ignore_case and value.lower() in {c.lower() for c in choices}:
            return value
    raise OptionError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def require_bool(value, name: str) -> bool:
    """``value`` if it is ``True`` or ``False``: ``yes``, ``1`` or ``'false'`` would be read as truthy."""
    if isinstance(value, bool):
        return value
    raise OptionError(f"{name} must be true or false, got {value!r}")


def _whole(value) -> int | None:
    """The integer ``value`` stands for exactly, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return int(value) if math.isfinite(value) and float(value).is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        return int(value)
    return None


def _int_what(minimum, allow_none, words) -> str:
    """``a whole number >= 1, auto or null``: what :func:`require_int` accepts, in words."""
    alternatives = ["a whole number" + ("" if minimum is None else f" >= {minimum}"), *words]
    if allow_none:
        alternatives.append("null")
    if len(alternatives) == 1:
        return alternatives[0]
    return ", ".join(alternatives[:-1]) + " or " + alternatives[-1]


# shorthand keys accepted at top level and moved into their group
SHORTHAND = {"budgets": "sample.budgets", "n": "sample.n", "label": "sample.label",
              "steps": "sample.steps", "schedule": "sample.schedule", "temperature": "sample.temperature",
              "top_k": "sample.top_k", "top_p": "sample.top_p", "resume": "train.resume",
             "port": "explore.port", "share": "explore.share",
             "input": "codec.input", "output": "codec.output", "budget": "codec.budget", "layers": "codec.layers"}


def config_dir() -> Path:
    """The configs/ tree: inside the installed package, or the source checkout's."""
    packaged = Path(__file__).parent / "configs"
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / "configs"
    if source.is_dir():
        return source
    raise FileNotFoundError("cannot find the configs/ tree (broken install?)")


def expand_shorthand(overrides: list[str]) -> list[str]:
    out = []
    for item in overrides:
        key, sep, value = item.partition("=")
        bare = key.lstrip("+~")
        if sep and bare in SHORTHAND:
            key = key[: len(key) - len(bare)] + SHORTHAND[bare]
        out.append(f"{key}{sep}{value}")
    return out


def compose(overrides: list[str]) -> DictConfig:
    """Compose the configuration for ``overrides`` (Hydra's compose API)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=expand_shorthand(overrides))


# ------------------------------------------------------------ option checks
_NO_KEY = object()
_SAMPLE_NAMES = {v: k for k, v in SHORTHAND.items() if v.startswith("sample.")}  # sample.n -> n

# whole-number options: key -> minimum (keys a model or data family lacks are skipped)
_WHOLE = {
    "seed": 0,
    "sample.n": 1, "sample.batch_size": 1, "sample.top_k": 0,
    "eval.num_test": 1, "eval.num_generated": 1, "eval.classifier.steps": 1, "eval.classifier.batch_size": 1,
    "model.hidden": 1, "model.depth": 0, "model.code_channels": 1, "model.num_codes": 1, "model.n_mels": 1,
    "model.n_fft": 1, "model.hop_length": 1, "model.griffin_lim_iters": 0, "model.pretrain_steps": 0,
    "model.max_channels": 1, "model.downsample": 0, "codec.batch_size": 1,
    "prior.d_model": 1, "prior.n_layers": 1, "prior.n_heads": 1,
    "explore.port": 1,
    "data.sample_rate": 1, "data.num_classes": 0, "data.image_size": 1, "data.channels": 1,
    **{f"{section}.{key}": minimum for section in ("train", "prior.train", "vocoder.train")
       for key, minimum in (("steps", 1), ("batch_size", 1), ("warmup_steps", 0), ("valid_every", 1),
                            ("checkpoint_every", 1), ("log_every", 1), ("valid_batches", 1))},
}
_WHOLE_OR_NULL = {"sample.label": 0, "data.max_items": 1, "codec.layers": 1}
# number options: key -> (low, high, low excluded)
_NUMBER = {
    "sample.temperature": (0.0, None, True), "sample.top_p": (0.0, 1.0, True),
    "train.lr": (0.0, None, True), "prior.train.lr": (0.0, None, True), "eval.classifier.lr": (0.0, None, True),
    "vocoder.train.lr": (0.0, None, True),
    "train.weight_decay": (0.0, None, False), "prior.train.weight_decay": (0.0, None, False),
    "data.clip_seconds": (0.0, None, True),
    "model.freq_warp": (0.0, 0.9, False),
}
_CHOICES = {
    "sample.schedule": ("dp", "even"),
    "train.lr_schedule": ("constant", "cosine"), "prior.train.lr_schedule": ("constant", "cosine"),
    "train.log_backend": ("csv", "tensorboard"),
    "model.truncation": ("uniform", "geometric", "none"), "prior.truncation": ("uniform", "geometric", "none"),
    "model.quantizer_mode": ("channel", "spatial"),
    "vocoder.target": ("recording", "hifigan"),
}
_BOOLS = ("train.resume", "train.progress", "eval.pesq_stoi", "prior.conditional", "explore.share")
DEVICE_FORMS = "auto, cpu, cuda, cuda:N or mps"


def _option_name(key: str) -> str:
    """The name a user writes: ``n`` for ``sample.n`` (the documented shorthand), else the dotted key."""
    return _SAMPLE_NAMES.get(key, key)


def validate_options(cfg: DictConfig) -> None:
    """Check the options every command reads and store them back in their exact types.

    Whole-number options must be whole numbers within range (``n=1.5`` is an
    error, not one sample); ``steps`` is a whole number >= 1, ``auto`` or null;
    choices, booleans and ranged numbers are checked; ``budgets`` goes through
    :func:`anytime_audio.core.budget.parse_budgets` and is stored back as a list
    of budget texts, so code that iterates over it sees whole budgets (a quoted
    ``'16'`` is one budget of 16 codes, not 1 and 6). Raises
    :class:`anytime_audio.options.OptionError` (a ``ValueError``) with one line
    naming the option. Needs no torch, so it runs before the thread settings.
    """
    from anytime_audio.core.budget import parse_budgets

    def check(key, require, *args, **kwargs):
        value = OmegaConf.select(cfg, key, default=_NO_KEY)
        if value is not _NO_KEY:
            OmegaConf.update(cfg, key, require(value, _option_name(key), *args, **kwargs), merge=False)

    for key, minimum in _WHOLE.items():
        check(key, require_int, minimum)
    for key, minimum in _WHOLE_OR_NULL.items():
        check(key, require_int, minimum, allow_none=True)
    check("sample.steps", require_int, 1, allow_none=True, words=("auto",))
    check("num_threads", require_int, 0, allow_none=True, words=("auto",))
    if OmegaConf.select(cfg, "num_threads", default=0) in (None, "auto"):
        cfg.num_threads = 0  # null and auto mean the default thread policy, as 0 does
    for key, (low, high, low_open) in _NUMBER.items():
        check(key, require_float, low, high, low_open=low_open)
    for key, choices in _CHOICES.items():
        check(key, require_choice, choices)
    check("log_level", require_choice, ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), ignore_case=True)
    for key in _BOOLS:
        check(key, require_bool)
    check("sample.budgets", lambda value, name: [b.text for b in parse_budgets(value, name=name)])
    check("eval.fractions", lambda value, name: [require_float(f, name, 0.0, 1.0) for f in
                                                 (value if OmegaConf.is_list(value) else [value])])
