#!/usr/bin/env bash
# sklearn_digits: the offline image recipe (runs anywhere, no download):
# scikit-learn's 1,797 8x8 digits as PNG manifests; image model.
#
#   ./run.sh                          # prepare, train, sample, evaluate
#   ./run.sh --config fast
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/sklearn_digits \
  --data-config sklearn_digits \
  --model image \
  "$@"
