#!/usr/bin/env bash
# Set up everything anytime_audio needs on a fresh Debian/Ubuntu machine with Python >= 3.10:
#   - system tools: espeak-ng (offline speech corpus), sox (checks WAVs), fluidsynth + GM
#     soundfont (gm_notes recipe), and optionally flite + festival with its English voices
#     (more engines for the speech corpus); installed with apt-get when missing and run as
#     root (from the sources already configured), otherwise a message says what to install;
#   - chromium + chromium-driver from apt, for the budget explorer's browser test (as root; never
#     a downloaded browser);
#   - a virtual environment in .venv with the package (editable), its test extras and the
#     demo extra (gradio, selenium: the explorer page and its tests).
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
# optional: more speech engines for the tts_digits corpus (it works with espeak-ng alone)
optional=()
command -v flite >/dev/null 2>&1 || optional+=(flite)
command -v festival >/dev/null 2>&1 || optional+=(festival)
for v in kallpc16k kdlpc16k us-slt-hts; do
  dpkg -s "festvox-$v" >/dev/null 2>&1 || optional+=("festvox-$v")
done
# the system Chromium and its driver for tests/app/test_explorer_browser.py (skipped without them)
browser=()
command -v chromium >/dev/null 2>&1 || browser+=(chromium)
command -v chromedriver >/dev/null 2>&1 || browser+=(chromium-driver)
if [ ${#need[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ] || [ ${#browser[@]} -gt 0 ]; then
  if $apt && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    if [ ${#need[@]} -gt 0 ]; then
      log "installing system packages: ${need[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    if [ ${#optional[@]} -gt 0 ]; then
      log "installing optional speech engines: ${optional[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${optional[@]}" >/dev/null ||
        log "optional speech engines not installed (the corpus is made without them): ${optional[*]}"
    fi
    if [ ${#browser[@]} -gt 0 ]; then
      log "installing the browser for the explorer's browser test: ${browser[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser[@]}" >/dev/null ||
        log "browser not installed (the explorer's browser test will be skipped): ${browser[*]}"
    fi
  else
    [ ${#need[@]} -eq 0 ] || log "missing system packages: ${need[*]}"
    [ ${#need[@]} -eq 0 ] || log "install them with: sudo apt-get install ${need[*]}   (espeak-ng is required for the default recipe)"
    [ ${#optional[@]} -eq 0 ] || log "optional speech engines for tts_digits: sudo apt-get install ${optional[*]}"
    [ ${#browser[@]} -eq 0 ] || log "for the explorer's browser test: sudo apt-get install ${browser[*]}"
  fi
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($python --version)"
  $python -m venv .venv
fi
stamp=.venv/.anytime_audio-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ tools/constraints.txt -nt "$stamp" ]; then
  log "installing anytime_audio and its dependencies into .venv, versions from tools/constraints.txt (torch is large: first run takes minutes)"
  .venv/bin/python -m pip install -q -e ".[dev,demo]" -c tools/constraints.txt
  touch "$stamp"
fi
# Import everything the package needs and compare torch/torchaudio with the lock, so a
# mismatched pair fails here with the fix rather than later with an undefined symbol.
if ! .venv/bin/python tools/check_env.py tools/constraints.txt; then
  rm -f "$stamp"
  exit 1
fi
log "ready: $(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'); activate with: . .venv/bin/activate"
