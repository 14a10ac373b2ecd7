#!/usr/bin/env bash
# LJSpeech 1.1 (one speaker), resampled to 16 kHz and cut into 2 s clips.
#
#   ./run.sh --corpus-dir /data/LJSpeech-1.1           # use a local copy
#   ./run.sh --stage 2 --config fast
#
# Stage 0: download LJSpeech-1.1.tar.bz2 (~2.6 GB; skipped when --corpus-dir holds it)
# Stage 1: clips data/ljspeech/wav/ + manifests data/ljspeech/{train,valid,test}.jsonl,
#          split by utterance id
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
corpus_dir=downloads/LJSpeech-1.1  # folder with metadata.csv and wavs/
download=true                      # stage 0: download into downloads/ when corpus_dir lacks it
segment_seconds=2.0                # stage 1: clip length in seconds
max_segments=2                     # stage 1: clips per utterance at most (0 = all)
nj=2                               # stage 1: worker processes

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/ljspeech             # where stage 1 writes clips and manifests
data_config=ljspeech               # configs/data/ljspeech.yaml
model=mel                          # mel (default) or wave

help_message="Usage: $0 [options]
LJSpeech recipe. Stage 0: download, 1: clips + manifests, 2-7: shared stages.
Recipe options:
  --corpus-dir DIR          LJSpeech-1.1 folder (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --segment-seconds S       clip length (default: $segment_seconds)
  --max-segments N          clips per utterance at most, 0 = all (default: $max_segments)
  --nj N                    worker processes for stage 1 (default: $nj)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get LJSpeech 1.1"
  if [ -f "$corpus_dir/metadata.csv" ]; then
    log "Stage 0: already done, skipping ($corpus_dir exists)"
  elif $download; then
    "$python" local/prepare_ljspeech.py download --target-dir downloads
    corpus_dir=downloads/LJSpeech-1.1
  else
    log "Error: $corpus_dir does not hold LJSpeech 1.1 and --download is false"
    exit 1
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: 16 kHz clips and manifests -> $data_dir"
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_ljspeech.py prepare --corpus-dir "$corpus_dir" \
      --output-dir "$data_dir" --segment-seconds "$segment_seconds" \
      --max-segments "$max_segments" --nj "$nj"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
