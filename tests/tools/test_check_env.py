"""tools/check_env.py: the set-up's last check fails with the fix when torch/torchaudio drift."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "check_env.py"


def run(constraints: Path):
    return subprocess.run([sys.executable, str(SCRIPT), str(constraints)], capture_output=True, text=True, timeout=120)


def test_the_shipped_lock_matches_the_environment():
    out = run(REPO / "tools" / "constraints.txt")
    assert out.returncode == 0, out.stderr


def test_pins_are_exact_for_torch_and_torchaudio():
    pins = {}
    for line in (REPO / "tools" / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    assert pins["torch"].count(".") == 2 and pins["torchaudio"].count(".") == 2
    assert pins["torch"] == pins["torchaudio"], "torchaudio must match torch to the patch release"


def test_a_mismatched_pin_fails_with_the_fix(tmp_path):
    lock = tmp_path / "constraints.txt"
    text = (REPO / "tools" / "constraints.txt").read_text()
    lock.write_text("\n".join("torchaudio==0.0.1" if l.startswith("torchaudio==") else l for l in text.splitlines()))
    out = run(lock)
    assert out.returncode == 1
    assert "torchaudio" in out.stderr and "pins 0.0.1" in out.stderr and "fix:" in out.stderr
