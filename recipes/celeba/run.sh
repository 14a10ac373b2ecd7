#!/usr/bin/env bash
# CelebA (aligned faces), centre-cropped and resized to 64x64 PNGs; image model.
#
#   ./run.sh --corpus-dir /data/celeba --max-per-split 20000
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/celeba \
  --data-config celeba \
  --model image \
  "$@"
