#!/usr/bin/env bash
# Asterisk prompts stages 0-1 (offline); run.sh calls it through ../TEMPLATE/anytime.sh.
# Recorded telephony prompts from Debian's asterisk-core-sounds-{en,es,fr,it,ru}-g722
# (16 kHz G.722, one professional speaker per language; en and es are both Allison
# Smith) and, with --sets all, three 8 kHz sets (see README.md for voices and licences).
#   0  install the Debian packages of --sets and ffmpeg with apt-get (as root, no new
#      package sources; skipped when they are there), or check the copy in --sounds-dir
#   1  16 kHz 2 s clips <data-dir>/wav/ + manifests <data-dir>/{train,valid,test}.jsonl:
#      test = every prompt of --held-out-speaker; the other speakers split by prompt
#      file 80/10/10 into train / valid / test_seen_speakers.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/prompts              # where stage 1 writes clips and manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
sounds_dir=/usr/share/asterisk/sounds  # folder with the sets (Debian's, or a copy)
install=true                       # stage 0: apt-get install what is missing (root only)
sets=core                          # core (5 sets, 16 kHz) | extra (3 sets, 8 kHz) | all | names
held_out_speaker=june              # stage 1: the test speaker (june, carlo, allison, ...; none)
segment_seconds=2.0                # stage 1: clip length in seconds
max_segments=0                     # stage 1: clips per prompt at most (0 = all)
min_seconds=1.0                    # stage 1: shorter prompts (and tails) are dropped
seed=0                             # stage 1: seed of the by-file split
nj=2                               # stage 1: worker processes

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
Asterisk prompts (offline). Stage 0: install the Debian packages, 1: clips + manifests.
Corpus options (recipes/prompts/local/data.sh):
  --sounds-dir DIR          folder holding the sets, Debian's or a copy (default: $sounds_dir)
  --install true|false      stage 0: apt-get install missing packages as root (default: $install)
  --sets LIST               core | extra | all | set folders, comma-separated (default: $sets)
  --held-out-speaker NAME   test speaker: june, carlo, allison, ivrvoiceru, menardi, armelle,
                            july, or none (test = 10% of every speaker's prompts) (default: $held_out_speaker)
  --segment-seconds S       clip length (default: $segment_seconds)
  --max-segments N          clips per prompt at most, 0 = all (default: $max_segments)
  --min-seconds S           shorter prompts and tails are dropped, longer ones padded (default: $min_seconds)
  --seed N                  seed of the by-file split (default: $seed)
  --nj N                    worker processes for stage 1 (default: $nj)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage max_segments seed nj

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get the Asterisk prompt sets ($sets) -> $sounds_dir"
  "$python" local/prepare_prompts.py install --target-dir "$sounds_dir" --sets "$sets" --install "$install"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: 16 kHz clips and manifests -> $data_dir (test = speaker $held_out_speaker)"
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_prompts.py prepare --corpus-dir "$sounds_dir" --output-dir "$data_dir" \
    --sets "$sets" --held-out-speaker "$held_out_speaker" --segment-seconds "$segment_seconds" \
    --max-segments "$max_segments" --min-seconds "$min_seconds" --seed "$seed" --nj "$nj"
  if [ "${dry_run:-false}" != true ]; then
    check_manifests "$data_dir"
    _counts=()
    for _split in "${SPLITS[@]}"; do _counts+=("$(wc -l <"$data_dir/$_split.jsonl")"); done
    log "Stage 1: $(IFS=/; echo "${SPLITS[*]}") = $(IFS=/; echo "${_counts[*]}") clips"
    if [ -s "$data_dir/test_seen_speakers.jsonl" ]; then
      log "Stage 1: test_seen_speakers = $(wc -l <"$data_dir/test_seen_speakers.jsonl") clips (unseen prompts of the training speakers)"
    fi
  fi
fi
