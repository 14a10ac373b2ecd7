#!/usr/bin/env bash
# NSynth (4 s notes, 16 kHz) stages 0-1; run.sh calls it through ../TEMPLATE/anytime.sh.
# Label = instrument family, pitch in the manifest.
#   0  download nsynth-{train,valid,test}.jsonwav.tar.gz (train ~22 GB; skipped
#      when --corpus-dir holds them)
#   1  manifests <data-dir>/{train,valid,test}.jsonl (official splits; WAVs used in place)
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/nsynth               # where stage 1 writes the manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
corpus_dir=downloads/nsynth        # folder holding nsynth-{train,valid,test}/
download=true                      # stage 0: download into corpus_dir when it lacks the data
min_pitch=0                        # stage 1: keep notes with min_pitch <= pitch <= max_pitch
max_pitch=127
sources=acoustic,electronic,synthetic  # stage 1: instrument sources to keep
max_per_split=0                    # stage 1: seeded subset per split (0 = all)
nj=2                               # stage 1: worker processes

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
NSynth. Stage 0: download, 1: manifests.
Corpus options (recipes/nsynth/local/data.sh):
  --corpus-dir DIR          folder with nsynth-{train,valid,test}/ (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --min-pitch N             lowest MIDI pitch kept (default: $min_pitch)
  --max-pitch N             highest MIDI pitch kept (default: $max_pitch)
  --sources LIST            instrument sources kept (default: $sources)
  --max-per-split N         seeded subset per split, 0 = all (default: $max_per_split)
  --nj N                    worker processes for stage 1 (default: $nj)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

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
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_nsynth.py prepare --corpus-dir "$corpus_dir" --output-dir "$data_dir" \
    --min-pitch "$min_pitch" --max-pitch "$max_pitch" --sources "$sources" \
    --max-per-split "$max_per_split" --nj "$nj"
fi
