#!/usr/bin/env bash
# SC09 (the ten digit words of Speech Commands v0.02, 16 kHz, 1 s) stages 0-1;
# run.sh calls it through ../TEMPLATE/anytime.sh.
#   0  download Speech Commands v0.02 (skipped when --corpus-dir holds it)
#   1  manifests <data-dir>/{train,valid,test}.jsonl + labels.json, splits from the
#      corpus' validation_list.txt / testing_list.txt
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/sc09                 # where stage 1 writes the manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
corpus_dir=downloads/SpeechCommands/speech_commands_v0.02  # speech_commands_v0.02 folder
                                   # (zero/ .. nine/, validation_list.txt, testing_list.txt)
download=true                      # stage 0: download into downloads/ when corpus_dir lacks it
nj=2                               # stage 1: worker processes

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
SC09. Stage 0: download, 1: manifests.
Corpus options (recipes/sc09/local/data.sh):
  --corpus-dir DIR          Speech Commands v0.02 folder (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --nj N                    worker processes for stage 1 (default: $nj)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get Speech Commands v0.02"
  if [ -f "$corpus_dir/testing_list.txt" ]; then
    log "Stage 0: already done, skipping ($corpus_dir exists)"
  elif $download; then
    "$python" local/prepare_sc09.py download --target-dir downloads
    corpus_dir=downloads/SpeechCommands/speech_commands_v0.02
  else
    log "Error: $corpus_dir does not hold Speech Commands v0.02 and --download is false"
    exit 1
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: prepare SC09 manifests -> $data_dir"
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_sc09.py prepare --corpus-dir "$corpus_dir" \
    --output-dir "$data_dir" --nj "$nj"
fi
