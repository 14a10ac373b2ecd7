#!/usr/bin/env bash
# sklearn_digits: the offline image recipe (runs anywhere, no download).
# scikit-learn's 1,797 8x8 digits as PNG manifests; image model.
#
#   ./run.sh                  # prepare, train, sample, evaluate
#   ./run.sh --config fast
#
# Stage 0: nothing to download (the data ships inside scikit-learn)
# Stage 1: PNGs data/sklearn_digits/png/ + manifests data/sklearn_digits/{train,valid,test}.jsonl
#          (per-class 80/10/10 split, fixed seed)
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
image_size=8                       # stage 1: 8 (native) or a multiple of 8 (nearest upscaling)
seed=0                             # stage 1: split seed

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/sklearn_digits       # where stage 1 writes PNGs and manifests
data_config=sklearn_digits         # configs/data/sklearn_digits.yaml
model=image                        # the image model family

help_message="Usage: $0 [options]
sklearn_digits recipe (offline). Stage 1: PNGs + manifests, 2-7: shared stages.
Recipe options:
  --image-size N            8 or a multiple of 8 (default: $image_size)
  --seed N                  split seed (default: $seed)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: nothing to download (sklearn.datasets.load_digits ships with scikit-learn)"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: PNGs and manifests -> $data_dir"
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_sklearn_digits.py prepare --output-dir "$data_dir" \
      --image-size "$image_size" --seed "$seed"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
