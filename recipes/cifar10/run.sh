#!/usr/bin/env bash
# CIFAR-10 (32x32 colour, 10 classes) as PNG manifests; image model.
#
#   ./run.sh --corpus-dir /data/cifar-10-batches-py     # use a local copy
#
# Stage 0: download cifar-10-python.tar.gz (md5-checked; skipped when --corpus-dir holds it)
# Stage 1: PNGs data/cifar10/png/ + manifests data/cifar10/{train,valid,test}.jsonl
#          (the batches are pickles: read with a restricted unpickler, see local/)
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
corpus_dir=downloads/cifar-10-batches-py  # folder with data_batch_1..5 and test_batch
download=true                      # stage 0: download into downloads/ when corpus_dir lacks it
valid_size=5000                    # stage 1: last N training images form valid
max_per_split=0                    # stage 1: first N images per split (0 = all)

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/cifar10              # where stage 1 writes PNGs and manifests
data_config=cifar10                # configs/data/cifar10.yaml
model=image                        # the image model family

help_message="Usage: $0 [options]
CIFAR-10 recipe. Stage 0: download, 1: PNGs + manifests, 2-7: shared stages.
Recipe options:
  --corpus-dir DIR          cifar-10-batches-py folder (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --valid-size N            training images held out for valid (default: $valid_size)
  --max-per-split N         first N images per split, 0 = all (default: $max_per_split)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get CIFAR-10 (python version)"
  if [ -f "$corpus_dir/test_batch" ]; then
    log "Stage 0: already done, skipping ($corpus_dir exists)"
  elif $download; then
    "$python" local/prepare_cifar10.py download --target-dir downloads
    corpus_dir=downloads/cifar-10-batches-py
  else
    log "Error: $corpus_dir does not hold CIFAR-10 and --download is false"
    exit 1
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: PNGs and manifests -> $data_dir"
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_cifar10.py prepare --corpus-dir "$corpus_dir" \
      --output-dir "$data_dir" --valid-size "$valid_size" --max-per-split "$max_per_split"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
