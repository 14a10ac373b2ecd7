#!/usr/bin/env bash
# CIFAR-10 stages 0-1; run.sh calls it through ../TEMPLATE/anytime.sh.
#   0  download cifar-10-python.tar.gz (md5-checked; skipped when --corpus-dir holds it)
#   1  PNGs <data-dir>/png/ + manifests <data-dir>/{train,valid,test}.jsonl
#      (the batches are pickles: read with a restricted unpickler, see local/)
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/cifar10              # where stage 1 writes PNGs and manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
corpus_dir=downloads/cifar-10-batches-py  # folder with data_batch_1..5 and test_batch
download=true                      # stage 0: download into downloads/ when corpus_dir lacks it
valid_size=5000                    # stage 1: last N training images form valid
max_per_split=0                    # stage 1: first N images per split (0 = all)

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
CIFAR-10. Stage 0: download, 1: PNGs + manifests.
Corpus options (recipes/cifar10/local/data.sh):
  --corpus-dir DIR          cifar-10-batches-py folder (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --valid-size N            training images held out for valid (default: $valid_size)
  --max-per-split N         first N images per split, 0 = all (default: $max_per_split)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

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
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_cifar10.py prepare --corpus-dir "$corpus_dir" \
    --output-dir "$data_dir" --valid-size "$valid_size" --max-per-split "$max_per_split"
fi
