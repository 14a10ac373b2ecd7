#!/usr/bin/env bash
# LJSpeech 1.1 (one speaker), resampled to 16 kHz and cut into 2 s clips.
#
#   ./run.sh --corpus-dir /data/LJSpeech-1.1            # use a local copy
#   ./run.sh --stage 2 --config fast
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/ljspeech \
  --data-config ljspeech \
  --model mel \
  "$@"
