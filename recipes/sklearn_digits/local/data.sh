#!/usr/bin/env bash
# sklearn_digits stages 0-1 (offline); run.sh calls it through ../TEMPLATE/anytime.sh.
# scikit-learn's 1,797 8x8 digits as PNG manifests.
#   0  nothing to download (the data ships inside scikit-learn)
#   1  PNGs <data-dir>/png/ + manifests <data-dir>/{train,valid,test}.jsonl
#      (per-class 80/10/10 split, fixed seed)
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/sklearn_digits       # where stage 1 writes PNGs and manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
image_size=8                       # stage 1: 8 (native) or a multiple of 8 (nearest upscaling)
seed=0                             # stage 1: split seed

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
sklearn_digits (offline). Stage 1: PNGs + manifests.
Corpus options (recipes/sklearn_digits/local/data.sh):
  --image-size N            8 or a multiple of 8 (default: $image_size)
  --seed N                  split seed (default: $seed)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: nothing to download (sklearn.datasets.load_digits ships with scikit-learn)"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: PNGs and manifests -> $data_dir"
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_sklearn_digits.py prepare --output-dir "$data_dir" \
    --image-size "$image_size" --seed "$seed"
fi
