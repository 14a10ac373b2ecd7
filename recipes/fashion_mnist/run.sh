#!/usr/bin/env bash
# Fashion-MNIST (70,000 28x28 clothing photos, MIT) as PNG manifests; image model sized for 28x28.
#
#   ./run.sh --config fast            # offline: IDX files from Debian's dataset-fashion-mnist
#   ./run.sh --source-dir DIR         # or from a local copy of the four IDX files
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
# Budgets add 60% and 80% of the codes (the "almost no loss at 60-80%" claim); a
# --budgets or --eval-overrides of your own replaces the lists below.
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh --data-script local/data.sh --data-dir data/fashion_mnist \
  --data-config fashion_mnist --model image28 --budgets "[0.125,0.25,0.5,0.6,0.8,1.0]" \
  --eval-overrides "eval.fractions=[0.125,0.25,0.5,0.6,0.8,1.0] eval.num_test=2000 eval.num_generated=1000" \
  "$@"
