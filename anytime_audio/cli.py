"""``anytime-audio COMMAND key=value ...``: the package's one console script.

Options are Hydra overrides on the ``configs/`` tree shipped with the package
(``data=``, ``model=``, ``prior=``, ``train=``, ``sample=``, ``eval=`` groups,
``+experiment=fast`` for the CPU configuration, and any ``a.b=value`` key).
Every command works inside ``exp_dir``; commands after ``train-ae`` rebuild the
autoencoder from the ``config.yaml`` that ``train-ae`` saved there, so data and
model options need not be repeated.

Options are checked before any command runs (:func:`validate_options`), and
every expected failure (a bad option, a missing or unreadable file, an
unavailable device) ends with one line ``anytime-audio: error: ...`` on stderr
and exit status 2 (bad option) or 1 (the run failed), never a traceback.
"""

from __future__ import annotations

import difflib
import logging
import re
import sys

from omegaconf import OmegaConf

from anytime_audio.options import DEVICE_FORMS, SHORTHAND, compose, config_dir, expand_shorthand, validate_options

log = logging.getLogger("anytime_audio")

COMMANDS = {
    "train-ae": (
        "Train the ordered autoencoder (model.truncation=none: the unordered baseline).",
        "exp_dir=DIR data=tts_digits data.manifest_dir=DIR model=mel|wave|image +experiment=fast "
        "train.steps=N train.resume=true device=auto",
    ),
    "dump-codes": (
        "Encode every manifest split to integer codes exp_dir/codes/<split>.npy [N, L].",
        "exp_dir=DIR",
    ),
    "train-prior": (
        "Fit a prior to the dumped codes; reports held-out bits per code.",
        "exp_dir=DIR prior=transformer|ardm prior.train.steps=N +experiment=fast",
    ),
    "sample": (
        "Sample at budgets from one prior pass; write WAVs (or PNG grids) and a manifest.",
        "exp_dir=DIR prior=transformer|ardm budgets=[0.125,25%,64,150ms] n=16 label=3 "
        "steps=8|auto (ardm) schedule=dp|even",
    ),
    "train-classifier": (
        "Train the small classifier whose feature space the evaluation uses.",
        "exp_dir=DIR eval.classifier.steps=N",
    ),
    "evaluate": (
        "Quality and cost against budget: metrics.json, report.md, budget_curve.png.",
        "exp_dir=DIR eval.num_test=N eval.num_generated=N",
    ),
    "explore": (
        "Serve the budget explorer: a local web page to hear and see what each budget buys.",
        "exp_dir=DIR port=7860 share=false explore.host=127.0.0.1 (needs: pip install -e '.[demo]')",
    ),
    "train-vocoder": (
        "Train the fast mel vocoder (ConvNeXt + inverse STFT); render with model.vocoder=<its folder>.",
        "exp_dir=DIR model=mel_hifigan data=tts_digits vocoder.target=recording|hifigan "
        "vocoder.train.steps=N vocoder.out_dir=DIR",
    ),
    "compress": (
        "Entropy-code WAVs (a file or a folder) to .ata files under a prior, in layers that can be cut.",
        "exp_dir=DIR input=WAV|DIR output=PATH prior=transformer|ardm steps=16|auto schedule=dp|even "
        "layers=N (causal) label=3 codec.batch_size=16",
    ),
    "decompress": (
        "Decode .ata files (a file or a folder) to WAVs through the experiment's renderer.",
        "exp_dir=DIR input=ATA|DIR output=PATH",
    ),
    "truncate": (
        "Cut .ata files to a code budget at a layer boundary, without the model or re-encoding.",
        "input=ATA|DIR budget=25%|0.25|16 output=PATH",
    ),
}

def check_device(name) -> None:
    """Fail early, in one line, on a device string torch does not know or a device that is not there.

    Raises :class:`anytime_audio.options.OptionError` for a malformed name and
    ``RuntimeError`` (from :func:`anytime_audio.core.device.pick_device`) for an
    unavailable one. Imports torch: call it after the thread settings.
    """
    import torch

    from anytime_audio.core.device import pick_device
    from anytime_audio.options import OptionError

    name = "auto" if name is None else str(name)
    if name not in ("", "auto"):
        try:
            torch.device(name)
        except (RuntimeError, ValueError, TypeError):
            raise OptionError(f"device {name!r} is not a device torch knows; use {DEVICE_FORMS}") from None
    pick_device(name)


def _config_keys(cfg, prefix: str = "") -> list[str]:
    """Every dotted key of ``cfg`` (sections and leaves)."""
    keys = []
    for key in cfg:
        dotted = f"{prefix}{key}"
        keys.append(dotted)
        value = cfg.get(key) if OmegaConf.is_dict(cfg) else None
        if OmegaConf.is_dict(value):
            keys += _config_keys(value, dotted + ".")
    return keys


def _group_options(group: str) -> list[str]:
    """The configurations available in group ``group`` (``configs/<group>/*.yaml``)."""
    folder = config_dir() / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def explain_config_error(error: Exception, overrides: list[str], command: str) -> str:
    """One line for a Hydra composition error on the user's ``overrides``: the option and what to do."""
    from hydra.errors import MissingConfigException, OverrideParseException

    expanded = dict(zip(expand_shorthand(overrides), overrides))  # Hydra's override -> what the user typed
    text = str(error)
    if isinstance(error, MissingConfigException) and error.missing_cfg_file and "/" in error.missing_cfg_file:
        group, _, option = error.missing_cfg_file.rpartition("/")
        options = _group_options(group) or list(error.options or [])
        return (f"{group}={option}: no {group} configuration named {option!r}; "
                f"choose one of {', '.join(options)} (configs/{group}/)")
    if isinstance(error, OverrideParseException):
        typed = expanded.get(error.override, error.override)
        reason = text.splitlines()[0] if text else "bad syntax"
        return f"cannot read option {typed!r}: {reason} (check brackets and quotes: key=[a,b] or key='text')"
    ambiguous = re.search(r"Ambiguous value for argument '([^']*)'", text)
    if ambiguous:
        typed = expanded.get(ambiguous.group(1), ambiguous.group(1))
        key, _, value = typed.partition("=")
        return f"{typed}: a value with commas must be a list or quoted: write {key}=[{value}] or {key}='{value}'"
    unknown = re.search(r"Could not override '([^']*)'", text)
    if unknown:
        key = unknown.group(1)
        typed = next((o for e, o in expanded.items() if e.lstrip("~").split("=", 1)[0] == key), f"{key}=...")
        if (config_dir() / key).is_dir():
            return (f"{key} is not in the default configuration: add it with +{typed.lstrip('+~')} "
                    f"(options: {', '.join(_group_options(key))})")
        hint = ""
        try:
            known = _config_keys(compose([])) + list(SHORTHAND)
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else ""
        except Exception:  # noqa: BLE001 - a hint only; the message stands without it
            pass
        return (f"unknown option {key!r}{hint}: list the keys with `anytime-audio {command} --cfg`, "
                f"or add a new key with +{typed.lstrip('+~')}")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


def _fail(message, code: int) -> int:
    """Print ``anytime-audio: error: <message>`` as one line on stderr; return exit status ``code``."""
    line = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    print(f"anytime-audio: error: {line}", file=sys.stderr)
    return code


def usage() -> str:
    lines = [
        "usage: anytime-audio COMMAND [key=value ...]",
        "",
        "Anytime audio synthesis: ordered VQ-VAE codes and priors sampled at any budget.",
        "Options are Hydra overrides on the packaged configs/ tree.",
        "",
        "commands:",
    ]
    for name, (what, opts) in COMMANDS.items():
        lines += [f"  {name:<17} {what}", f"  {'':<17}   {opts}"]
    lines += ["", "Show the composed configuration: anytime-audio COMMAND [overrides] --cfg"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"anytime-audio: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    if "-h" in rest or "--help" in rest:
        what, opts = COMMANDS[command]
        print(f"usage: anytime-audio {command} [key=value ...]\n\n{what}\n\nmain options: {opts}")
        return 0
    show_cfg = "--cfg" in rest
    rest = [r for r in rest if r != "--cfg"]
    bad = [r for r in rest if "=" not in r and not r.startswith("+experiment")]
    if bad:
        return _fail(f"options must be key=value, got {' '.join(bad)}", 2)
    from hydra.errors import HydraException

    from anytime_audio.options import OptionError

    try:
        cfg = compose(rest)
    except HydraException as e:
        return _fail(explain_config_error(e, rest, command), 2)
    try:
        validate_options(cfg)
    except ValueError as e:
        return _fail(e, 2)
    if show_cfg:
        print(OmegaConf.to_yaml(cfg))
        return 0
    logging.basicConfig(level=getattr(logging, str(cfg.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # First import of torch: OMP_WAIT_POLICY=PASSIVE is set before OpenMP reads it, then the thread count.
    from anytime_audio.core.device import configure_threads

    configure_threads(cfg.get("num_threads", 0) or 0)
    try:
        check_device(cfg.device)
    except OptionError as e:
        return _fail(e, 2)
    except RuntimeError as e:
        return _fail(e, 1)
    from anytime_audio import commands

    handler = getattr(commands, command.replace("-", "_"))
    explicit = {r.split("=", 1)[0].lstrip("+~") for r in rest}  # dotted keys given by the user
    try:
        handler(cfg, explicit)
    except (OSError, ValueError) as e:  # missing files, bad audio or checkpoints, bad values
        return _fail(e, 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
