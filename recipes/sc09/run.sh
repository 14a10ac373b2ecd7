#!/usr/bin/env bash
# SC09 (the ten digit words of Speech Commands v0.02, 16 kHz, 1 s):
# anytime generation of spoken digits.
#
#   ./run.sh                          # everything: download .. evaluate
#   ./run.sh --corpus-dir /data/speech_commands_v0.02 --stop-stage 1
#   ./run.sh --stage 2 --stop-stage 5 --config fast
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/sc09 \
  --data-config sc09 \
  --model mel \
  "$@"
