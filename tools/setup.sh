#!/usr/bin/env bash
# Set up everything anytime_audio needs on a fresh Debian/Ubuntu machine with Python >= 3.10:
#   - system tools: espeak-ng (offline speech corpus), sox (checks WAVs), fluidsynth + GM
#     soundfont (gm_notes recipe); installed with apt-get when missing and run as root,
#     otherwise a message says what to install;
#   - a virtual environment in .venv with the package (editable) and its test extras.
# Idempotent: a second run only checks. Usage: bash tools/setup.sh [--no-apt]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "$(date '+%F %T') (setup) $*"; }
python=${PYTHON:-python3}
apt=true
[ "${1:-}" = "--no-apt" ] && apt=false

need=()
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v sox >/dev/null 2>&1 || need+=(sox)
command -v fluidsynth >/dev/null 2>&1 || need+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
if [ ${#need[@]} -gt 0 ]; then
  if $apt && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing system packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    log "missing system packages: ${need[*]}"
    log "install them with: sudo apt-get install ${need[*]}   (espeak-ng is required for the default recipe)"
  fi
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($python --version)"
  $python -m venv .venv
fi
stamp=.venv/.anytime_audio-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ tools/constraints.txt -nt "$stamp" ]; then
  log "installing anytime_audio and its dependencies into .venv, versions from tools/constraints.txt (torch is large: first run takes minutes)"
  .venv/bin/python -m pip install -q -e ".[dev]" -c tools/constraints.txt
  touch "$stamp"
fi
# Import everything the package needs and compare torch/torchaudio with the lock, so a
# mismatched pair fails here with the fix rather than later with an undefined symbol.
if ! .venv/bin/python tools/check_env.py tools/constraints.txt; then
  rm -f "$stamp"
  exit 1
fi
log "ready: $(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'); activate with: . .venv/bin/activate"
