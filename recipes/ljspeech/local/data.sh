#!/usr/bin/env bash
# LJSpeech 1.1 (one speaker) stages 0-1; run.sh calls it through ../TEMPLATE/anytime.sh.
#   0  download LJSpeech-1.1.tar.bz2 (~2.6 GB; skipped when --corpus-dir holds it)
#   1  16 kHz 2 s clips <data-dir>/wav/ + manifests <data-dir>/{train,valid,test}.jsonl,
#      split by utterance id
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/ljspeech             # where stage 1 writes clips and manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
corpus_dir=downloads/LJSpeech-1.1  # folder with metadata.csv and wavs/
download=true                      # stage 0: download into downloads/ when corpus_dir lacks it
segment_seconds=2.0                # stage 1: clip length in seconds
max_segments=2                     # stage 1: clips per utterance at most (0 = all)
nj=2                               # stage 1: worker processes

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
LJSpeech. Stage 0: download, 1: clips + manifests.
Corpus options (recipes/ljspeech/local/data.sh):
  --corpus-dir DIR          LJSpeech-1.1 folder (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --segment-seconds S       clip length (default: $segment_seconds)
  --max-segments N          clips per utterance at most, 0 = all (default: $max_segments)
  --nj N                    worker processes for stage 1 (default: $nj)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

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
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_ljspeech.py prepare --corpus-dir "$corpus_dir" \
    --output-dir "$data_dir" --segment-seconds "$segment_seconds" \
    --max-segments "$max_segments" --nj "$nj"
fi
