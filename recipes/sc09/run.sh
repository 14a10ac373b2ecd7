#!/usr/bin/env bash
# SC09 (the ten digit words of Speech Commands v0.02, 16 kHz, 1 s):
# anytime generation of spoken digits.
#
#   ./run.sh                                # everything: download .. evaluate
#   ./run.sh --corpus-dir /data/speech_commands_v0.02 --stop-stage 1
#   ./run.sh --stage 2 --stop-stage 5 --config fast
#
# Stage 0: download Speech Commands v0.02 (skipped when --corpus-dir holds it)
# Stage 1: manifests data/sc09/{train,valid,test}.jsonl + labels.json, splits
#          from the corpus' validation_list.txt / testing_list.txt
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
corpus_dir=downloads/SpeechCommands/speech_commands_v0.02  # speech_commands_v0.02 folder
                                   # (zero/ .. nine/, validation_list.txt, testing_list.txt)
download=true                      # stage 0: download into downloads/ when corpus_dir lacks it
nj=2                               # stage 1: worker processes

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/sc09                 # where stage 1 writes the manifests
data_config=sc09                   # configs/data/sc09.yaml
model=mel                          # mel (default, CPU friendly) or wave

help_message="Usage: $0 [options]
SC09 recipe. Stage 0: download, 1: manifests, 2-7: shared stages.
Recipe options:
  --corpus-dir DIR        Speech Commands v0.02 folder (default: $corpus_dir)
  --download true|false   download it in stage 0 when missing (default: $download)
  --nj N                  worker processes for stage 1 (default: $nj)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

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
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_sc09.py prepare --corpus-dir "$corpus_dir" \
      --output-dir "$data_dir" --nj "$nj"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
