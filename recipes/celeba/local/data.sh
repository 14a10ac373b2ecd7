#!/usr/bin/env bash
# CelebA (aligned faces) stages 0-1; run.sh calls it through ../TEMPLATE/anytime.sh.
#   0  download img_align_celeba.zip + list_eval_partition.txt from Google Drive
#      (skipped when --corpus-dir holds them; Drive may refuse: then fetch by hand)
#   1  centre-cropped, resized PNGs <data-dir>/png/ + manifests
#      <data-dir>/{train,valid,test}.jsonl (official partition)
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/celeba               # where stage 1 writes PNGs and manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
corpus_dir=downloads/celeba        # folder with img_align_celeba/ and list_eval_partition.txt
download=true                      # stage 0: download into corpus_dir when it lacks the data
crop_size=140                      # stage 1: centre crop (pixels) before resizing
image_size=64                      # stage 1: output size (pixels)
max_per_split=0                    # stage 1: first N images per split (0 = all)
nj=2                               # stage 1: worker processes

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
CelebA. Stage 0: download, 1: PNGs + manifests.
Corpus options (recipes/celeba/local/data.sh):
  --corpus-dir DIR          folder with img_align_celeba/ + list_eval_partition.txt (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --crop-size N             centre crop before resizing (default: $crop_size)
  --image-size N            output image size (default: $image_size)
  --max-per-split N         first N images per split, 0 = all (default: $max_per_split)
  --nj N                    worker processes for stage 1 (default: $nj)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get CelebA (aligned)"
  if [ -d "$corpus_dir/img_align_celeba" ] && [ -f "$corpus_dir/list_eval_partition.txt" ]; then
    log "Stage 0: already done, skipping ($corpus_dir exists)"
  elif $download; then
    "$python" local/prepare_celeba.py download --target-dir "$corpus_dir"
  else
    log "Error: $corpus_dir does not hold CelebA and --download is false"
    exit 1
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: PNGs and manifests -> $data_dir"
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_celeba.py prepare --corpus-dir "$corpus_dir" --output-dir "$data_dir" \
    --crop-size "$crop_size" --image-size "$image_size" --max-per-split "$max_per_split" --nj "$nj"
fi
