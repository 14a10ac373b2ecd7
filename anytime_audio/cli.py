"""``anytime-audio COMMAND key=value ...``: the package's one console script.

Options are Hydra overrides on the ``configs/`` tree shipped with the package
(``data=``, ``model=``, ``prior=``, ``train=``, ``sample=``, ``eval=`` groups,
``+experiment=fast`` for the CPU configuration, and any ``a.b=value`` key).
Every command works inside ``exp_dir``; commands after ``train-ae`` rebuild the
autoencoder from the ``config.yaml`` that ``train-ae`` saved there, so data and
model options need not be repeated.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

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
        "exp_dir=DIR prior=transformer|ardm budgets=[0.125,0.25,0.5,1.0] n=16 label=3 "
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
}

# shorthand keys accepted at top level and moved into their group
_SHORTHAND = {"budgets": "sample.budgets", "n": "sample.n", "label": "sample.label",
              "steps": "sample.steps", "schedule": "sample.schedule", "temperature": "sample.temperature",
              "top_k": "sample.top_k", "top_p": "sample.top_p", "resume": "train.resume"}


def config_dir() -> Path:
    """The configs/ tree: inside the installed package, or the source checkout's."""
    packaged = Path(__file__).parent / "configs"
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / "configs"
    if source.is_dir():
        return source
    raise FileNotFoundError("cannot find the configs/ tree (broken install?)")


def _expand_shorthand(overrides: list[str]) -> list[str]:
    out = []
    for item in overrides:
        key, sep, value = item.partition("=")
        bare = key.lstrip("+~")
        if sep and bare in _SHORTHAND:
            key = key[: len(key) - len(bare)] + _SHORTHAND[bare]
        out.append(f"{key}{sep}{value}")
    return out


def compose(overrides: list[str]) -> DictConfig:
    """Compose the configuration for ``overrides`` (Hydra's compose API)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=_expand_shorthand(overrides))


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
        print(f"anytime-audio: options must be key=value, got {bad}", file=sys.stderr)
        return 2
    cfg = compose(rest)
    if show_cfg:
        print(OmegaConf.to_yaml(cfg))
        return 0
    logging.basicConfig(level=getattr(logging, str(cfg.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if int(cfg.get("num_threads", 0) or 0) > 0:
        import torch

        torch.set_num_threads(int(cfg.num_threads))
    from anytime_audio import commands

    handler = getattr(commands, command.replace("-", "_"))
    explicit = {r.split("=", 1)[0].lstrip("+~") for r in rest}  # dotted keys given by the user
    try:
        handler(cfg, explicit)
    except (FileNotFoundError, ValueError) as e:
        log.error("%s", e)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
