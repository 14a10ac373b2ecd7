#!/usr/bin/env bash
# CIFAR-10 (32x32 colour, 10 classes) as PNG manifests; image model.
#
#   ./run.sh --corpus-dir /data/cifar-10-batches-py     # use a local copy
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/cifar10 \
  --data-config cifar10 \
  --model image \
  "$@"
