#!/usr/bin/env bash
# gm_notes: an offline NSynth-like corpus: 4 s notes rendered with fluidsynth and
# the General MIDI soundfont (apt-get install fluidsynth fluid-soundfont-gm).
#
#   ./run.sh                          # 112 programs x 4 pitches = 448 notes
#   ./run.sh --programs 0-39 --pitches 48,60,72 --config fast
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/gm_notes \
  --data-config gm_notes \
  --model mel \
  "$@"
