#!/usr/bin/env bash
# NSynth (4 s notes, 16 kHz); label = instrument family, pitch in the manifest.
#
#   ./run.sh --corpus-dir /data/nsynth --max-per-split 20000   # local copy, a subset
#   ./run.sh --stage 2 --config fast
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/nsynth \
  --data-config nsynth \
  --model mel \
  "$@"
