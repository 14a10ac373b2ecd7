#!/usr/bin/env bash
# tts_digits: the offline speech recipe (runs anywhere, no download).
# The words "zero".."nine" synthesized with espeak-ng; voice variants, pitch
# and speed make many speakers. 16 kHz, 1 s clips, like SC09.
#
#   ./run.sh                          # generate, train, sample, evaluate
#   ./run.sh --config fast            # the quick CPU preset
#   ./run.sh --stage 6 --stop-stage 7 --budgets "[0.25,1.0]"
#
# Stage 0: synthesize the corpus and its manifests (local/make_digits.py)
# Stage 1: check the manifests data/tts_digits/{train,valid,test}.jsonl + labels.json
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
num_clips=2400                     # stage 0: clips to synthesize
nj=2                               # stage 0: worker processes
seed=0                             # stage 0: seed for speakers, split and prosody
make_digits_args=""                # extra arguments for local/make_digits.py (see its --help)

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/tts_digits           # where stage 0 writes the clips and manifests
data_config=tts_digits             # configs/data/tts_digits.yaml
model=mel                          # mel (default, CPU friendly) or wave

help_message="Usage: $0 [options]
tts_digits recipe (offline). Stage 0: synthesize, 1: check manifests, 2-7: shared stages.
Recipe options:
  --num-clips N           clips to synthesize in stage 0 (default: $num_clips)
  --nj N                  worker processes for stage 0 (default: $nj)
  --seed N                seed for speakers, split and prosody (default: $seed)
  --make-digits-args \"...\"  extra arguments for local/make_digits.py (default: \"$make_digits_args\")
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: synthesize spoken digits with espeak-ng -> $data_dir"
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
  for f in train.jsonl valid.jsonl test.jsonl labels.json; do
    if [ ! -s "$data_dir/$f" ]; then
      log "Error: $data_dir/$f is missing or empty; run stage 0"
      exit 1
    fi
  done
  log "Stage 1: train/valid/test = $(wc -l <"$data_dir/train.jsonl")/$(wc -l <"$data_dir/valid.jsonl")/$(wc -l <"$data_dir/test.jsonl") clips"
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
