#!/usr/bin/env bash
# gm_notes stages 0-1 (offline); run.sh calls it through ../TEMPLATE/anytime.sh.
# Single 4 s notes (16 kHz) rendered with fluidsynth and the General MIDI soundfont
# across GM programs and pitches; label = GM instrument family (program // 8).
# Needs: apt-get install fluidsynth fluid-soundfont-gm
#   0  render the notes -> <corpus-dir>/{wav/,notes.jsonl} (resumable)
#   1  manifests <data-dir>/{train,valid,test}.jsonl, whole programs held out
set -euo pipefail
cd "$(dirname "$0")/.."
. ../TEMPLATE/common.sh

stage=0                            # first stage (0 or 1)
stop_stage=1                       # last stage
data_dir=data/gm_notes             # where stage 1 writes the manifests
python="$REPO_PYTHON"              # interpreter for local/*.py
corpus_dir=downloads/gm_notes      # where stage 0 renders the notes
soundfont=/usr/share/sounds/sf2/FluidR3_GM.sf2  # General MIDI soundfont
programs=0-111                     # GM programs (0-based), e.g. "0-111" or "0,24,40"
pitches=48,55,62,69                # MIDI pitches rendered for every program
velocity=100                       # MIDI velocity
split_by=program                   # stage 1: program (hold out programs) | note
nj=2                               # parallel fluidsynth processes / workers

help_message="Usage: $0 [--stage N] [--stop-stage N] [--data-dir DIR] [--python PATH] [options]
GM notes (offline). Stage 0: render with fluidsynth, 1: manifests.
Corpus options (recipes/gm_notes/local/data.sh):
  --corpus-dir DIR          where the notes are rendered (default: $corpus_dir)
  --soundfont FILE          General MIDI .sf2 (default: $soundfont)
  --programs LIST           GM programs, e.g. 0-111 or 0,24,40 (default: $programs)
  --pitches LIST            MIDI pitches (default: $pitches)
  --velocity N              MIDI velocity (default: $velocity)
  --split-by program|note   hold out whole programs, or split notes (default: $split_by)
  --nj N                    parallel workers (default: $nj)"
. ../../tools/parse_options.sh
require_no_args "$@"
require_int stage stop_stage

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: render GM notes with fluidsynth -> $corpus_dir"
  run_once 0 render "$corpus_dir/.done.render" \
    "$python" local/prepare_gm_notes.py render --target-dir "$corpus_dir" --programs "$programs" \
    --pitches "$pitches" --velocity "$velocity" --soundfont "$soundfont" --nj "$nj"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: manifests -> $data_dir"
  run_once 1 prepare "$data_dir/.done.prepare" \
    "$python" local/prepare_gm_notes.py prepare --corpus-dir "$corpus_dir" \
    --output-dir "$data_dir" --split-by "$split_by" --nj "$nj"
fi
