#!/usr/bin/env bash
# tts_digits stages 0-1 (offline); run.sh calls it through ../TEMPLATE/anytime.sh.
# The words "zero".."nine" from several offline engines (espeak-ng, flite,
# festival; see README.md), voices curated by intelligibility, each voice with
# pitch and speed variants; 16 kHz, 1 s clips, like SC09. Splits hold out whole
# voices; test_unseen_engine holds out one whole engine.
#   0  synthesize the clips and their manifests (local/make_digits.py; skipped
#      when <data-dir>/meta.json exists)
#   1  check the manifests <data-dir>/{train,valid,test}.jsonl + labels.json
#      (and test_unseen_engine.jsonl when an engine is held out)
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/tts_digits           # where stage 0 writes the clips and manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
num_clips=2400                     # stage 0: clips to synthesize
nj=2                               # stage 0: worker processes
seed=0                             # stage 0: seed for speakers, split and prosody
make_digits_args=""                # extra arguments for local/make_digits.py (see its --help)

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
tts_digits (offline). Stage 0: synthesize, 1: check manifests.
Corpus options (recipes/tts_digits/local/data.sh):
  --num-clips N             clips to synthesize in stage 0 (default: $num_clips)
  --nj N                    worker processes for stage 0 (default: $nj)
  --seed N                  seed for speakers, split and prosody (default: $seed)
  --make-digits-args \"...\" extra arguments for local/make_digits.py (default: \"$make_digits_args\")"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: synthesize spoken digits with the installed engines -> $data_dir"
  if [ -f "$data_dir/meta.json" ]; then
    log "Stage 0: already done, skipping ($data_dir/meta.json exists; remove it to redo)"
  else
    read -r -a _md_args <<<"$make_digits_args"
    "$python" local/make_digits.py --out-dir "$data_dir" --num-clips "$num_clips" \
      --jobs "$nj" --seed "$seed" ${_md_args[@]+"${_md_args[@]}"}
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: check the manifests in $data_dir"
  check_manifests "$data_dir"
  _counts=()
  for _split in "${SPLITS[@]}"; do _counts+=("$(wc -l <"$data_dir/$_split.jsonl")"); done
  log "Stage 1: $(IFS=/; echo "${SPLITS[*]}") = $(IFS=/; echo "${_counts[*]}") clips"
  if [ -s "$data_dir/test_unseen_engine.jsonl" ]; then
    log "Stage 1: test_unseen_engine = $(wc -l <"$data_dir/test_unseen_engine.jsonl") clips (an engine never trained on)"
  fi
fi
