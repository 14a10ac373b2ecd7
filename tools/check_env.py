"""Check that the virtual environment can run anytime_audio: every required module
imports, and torch / torchaudio are exactly the versions in the constraints file.

Usage: python tools/check_env.py tools/constraints.txt   (exit 1 with the fix on failure)
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

REQUIRED = ("torch", "torchaudio", "soundfile", "librosa", "numpy", "hydra", "omegaconf", "tqdm",
            "matplotlib", "safetensors", "torchmetrics", "pesq", "pystoi", "sklearn", "tensorboard",
            "anytime_audio")
EXACT = ("torch", "torchaudio")


def pinned_versions(constraints: Path) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of a constraints file."""
    pins = {}
    for line in constraints.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def main(argv: list[str]) -> int:
    constraints = Path(argv[1] if len(argv) > 1 else "tools/constraints.txt")
    pins = pinned_versions(constraints)
    fix = f"fix: .venv/bin/pip install -e '.[dev]' -c {constraints}  (or delete .venv and rerun tools/setup.sh)"
    for name in REQUIRED:
        try:
            module = importlib.import_module(name)
        except Exception as e:  # an ABI mismatch raises OSError/ImportError deep inside
            print(f"check_env: cannot import {name}: {str(e).splitlines()[0]}\n{fix}", file=sys.stderr)
            return 1
        if name in EXACT:
            have = module.__version__.split("+")[0]
            want = pins.get(name)
            if want is None:
                print(f"check_env: {constraints} does not pin {name}", file=sys.stderr)
                return 1
            if have != want:
                print(f"check_env: {name} {have} is installed but {constraints} pins {want}\n{fix}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
