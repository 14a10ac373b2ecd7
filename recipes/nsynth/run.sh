#!/usr/bin/env bash
# NSynth (4 s notes, 16 kHz); label = instrument family, pitch in the manifest.
#
#   ./run.sh --corpus-dir /data/nsynth --max-per-split 20000   # local copy, a subset
#   ./run.sh --stage 2 --config fast
#
# Stage 0: download nsynth-{train,valid,test}.jsonwav.tar.gz (train ~22 GB; skipped
#          when --corpus-dir holds them)
# Stage 1: manifests data/nsynth/{train,valid,test}.jsonl (official splits; WAVs used in place)
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
corpus_dir=downloads/nsynth        # folder holding nsynth-{train,valid,test}/
download=true                      # stage 0: download into corpus_dir when it lacks the data
min_pitch=0                        # stage 1: keep notes with min_pitch <= pitch <= max_pitch
max_pitch=127
sources=acoustic,electronic,synthetic  # stage 1: instrument sources to keep
max_per_split=0                    # stage 1: seeded subset per split (0 = all)
nj=2                               # stage 1: worker processes

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/nsynth               # where stage 1 writes the manifests
data_config=nsynth                 # configs/data/nsynth.yaml
model=mel                          # mel (default) or wave

help_message="Usage: $0 [options]
NSynth recipe. Stage 0: download, 1: manifests, 2-7: shared stages.
Recipe options:
  --corpus-dir DIR          folder with nsynth-{train,valid,test}/ (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --min-pitch N             lowest MIDI pitch kept (default: $min_pitch)
  --max-pitch N             highest MIDI pitch kept (default: $max_pitch)
  --sources LIST            instrument sources kept (default: $sources)
  --max-per-split N         seeded subset per split, 0 = all (default: $max_per_split)
  --nj N                    worker processes for stage 1 (default: $nj)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get NSynth"
  if [ -f "$corpus_dir/nsynth-test/examples.json" ]; then
    log "Stage 0: already done, skipping ($corpus_dir exists)"
  elif $download; then
    "$python" local/prepare_nsynth.py download --target-dir "$corpus_dir"
  else
    log "Error: $corpus_dir does not hold NSynth and --download is false"
    exit 1
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: manifests -> $data_dir"
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_nsynth.py prepare --corpus-dir "$corpus_dir" --output-dir "$data_dir" \
      --min-pitch "$min_pitch" --max-pitch "$max_pitch" --sources "$sources" \
      --max-per-split "$max_per_split" --nj "$nj"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
