#!/usr/bin/env bash
# Fashion-MNIST (28x28 clothing photos, 10 classes) stages 0-1; run.sh calls it through
# ../TEMPLATE/anytime.sh.
#   0  put the four IDX files in --corpus-dir: copied from Debian's dataset-fashion-mnist
#      package (apt-get install dataset-fashion-mnist) or from --source-dir; downloaded from
#      Zalando's mirror only when neither is there and --download is true
#   1  PNGs <data-dir>/png/ + manifests <data-dir>/{train,valid,test}.jsonl
#      (test = the official 10,000; valid = --valid-size of the 60,000, the same count per class)
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/fashion_mnist        # where stage 1 writes PNGs and manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
corpus_dir=downloads/fashion_mnist # folder with the *-idx?-ubyte(.gz) files
source_dir=                        # stage 0: local copy to take the IDX files from
                                   # (empty: /usr/share/datasets/fashion-mnist when installed)
download=true                      # stage 0: download from the mirror when no local copy exists
valid_size=5000                    # stage 1: training images held out for valid
nj=2                               # stage 1: parallel PNG writers

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
Fashion-MNIST. Stage 0: get the IDX files, 1: PNGs + manifests.
Corpus options (recipes/fashion_mnist/local/data.sh):
  --corpus-dir DIR          folder with the IDX files (default: $corpus_dir)
  --source-dir DIR          local copy of the IDX files (default: the Debian package's
                            /usr/share/datasets/fashion-mnist when installed)
  --download true|false     download when no local copy exists (default: $download)
  --valid-size N            training images held out for valid (default: $valid_size)
  --nj N                    parallel PNG writers in stage 1 (default: $nj)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage valid_size nj

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get the Fashion-MNIST IDX files -> $corpus_dir"
  if ls "$corpus_dir"/t10k-labels-idx1-ubyte* >/dev/null 2>&1 \
    && ls "$corpus_dir"/train-images-idx3-ubyte* >/dev/null 2>&1; then
    log "Stage 0: already done, skipping ($corpus_dir has the IDX files)"
  else
    _src=()
    [ -z "$source_dir" ] || _src=(--source-dir "$source_dir")
    "$python" local/prepare_fashion_mnist.py download --target-dir "$corpus_dir" \
      --download "$download" ${_src[@]+"${_src[@]}"}
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: PNGs and manifests -> $data_dir"
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_fashion_mnist.py prepare --corpus-dir "$corpus_dir" --output-dir "$data_dir" \
    --valid-size "$valid_size" --nj "$nj"
fi
