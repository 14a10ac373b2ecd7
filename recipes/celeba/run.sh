#!/usr/bin/env bash
# CelebA (aligned faces), centre-cropped and resized to 64x64 PNGs; image model.
#
#   ./run.sh --corpus-dir /data/celeba --max-per-split 20000
#
# Stage 0: download img_align_celeba.zip + list_eval_partition.txt from Google Drive
#          (skipped when --corpus-dir holds them; Drive may refuse: then fetch by hand)
# Stage 1: PNGs data/celeba/png/ + manifests data/celeba/{train,valid,test}.jsonl
#          (official partition)
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
corpus_dir=downloads/celeba        # folder with img_align_celeba/ and list_eval_partition.txt
download=true                      # stage 0: download into corpus_dir when it lacks the data
crop_size=140                      # stage 1: centre crop (pixels) before resizing
image_size=64                      # stage 1: output size (pixels)
max_per_split=0                    # stage 1: first N images per split (0 = all)
nj=2                               # stage 1: worker processes

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/celeba               # where stage 1 writes PNGs and manifests
data_config=celeba                 # configs/data/celeba.yaml
model=image                        # the image model family

help_message="Usage: $0 [options]
CelebA recipe. Stage 0: download, 1: PNGs + manifests, 2-7: shared stages.
Recipe options:
  --corpus-dir DIR          folder with img_align_celeba/ + list_eval_partition.txt (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --crop-size N             centre crop before resizing (default: $crop_size)
  --image-size N            output image size (default: $image_size)
  --max-per-split N         first N images per split, 0 = all (default: $max_per_split)
  --nj N                    worker processes for stage 1 (default: $nj)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

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
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_celeba.py prepare --corpus-dir "$corpus_dir" --output-dir "$data_dir" \
      --crop-size "$crop_size" --image-size "$image_size" --max-per-split "$max_per_split" \
      --nj "$nj"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
