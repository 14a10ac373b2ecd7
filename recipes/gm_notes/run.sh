#!/usr/bin/env bash
# gm_notes: an offline NSynth-like corpus. Single 4 s notes (16 kHz) rendered with
# fluidsynth and the General MIDI soundfont across GM programs and pitches;
# label = GM instrument family (program // 8), pitch in the manifest.
# Needs: apt-get install fluidsynth fluid-soundfont-gm
#
#   ./run.sh                                   # 112 programs x 4 pitches = 448 notes
#   ./run.sh --programs 0-39 --pitches 48,60,72 --config fast
#
# Stage 0: render the notes -> downloads/gm_notes/{wav/,notes.jsonl} (resumable)
# Stage 1: manifests data/gm_notes/{train,valid,test}.jsonl, whole programs held out
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
corpus_dir=downloads/gm_notes      # where stage 0 renders the notes
soundfont=/usr/share/sounds/sf2/FluidR3_GM.sf2  # General MIDI soundfont
programs=0-111                     # GM programs (0-based), e.g. "0-111" or "0,24,40"
pitches=48,55,62,69                # MIDI pitches rendered for every program
velocity=100                       # MIDI velocity
split_by=program                   # stage 1: program (hold out programs) | note
nj=2                               # parallel fluidsynth processes / workers

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/gm_notes             # where stage 1 writes the manifests
data_config=gm_notes               # configs/data/gm_notes.yaml
model=mel                          # mel (default) or wave

help_message="Usage: $0 [options]
GM notes recipe (offline). Stage 0: render with fluidsynth, 1: manifests, 2-7: shared stages.
Recipe options:
  --corpus-dir DIR          where the notes are rendered (default: $corpus_dir)
  --soundfont FILE          General MIDI .sf2 (default: $soundfont)
  --programs LIST           GM programs, e.g. 0-111 or 0,24,40 (default: $programs)
  --pitches LIST            MIDI pitches (default: $pitches)
  --velocity N              MIDI velocity (default: $velocity)
  --split-by program|note   hold out whole programs, or split notes (default: $split_by)
  --nj N                    parallel workers (default: $nj)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: render GM notes with fluidsynth -> $corpus_dir"
  if [ -f "$corpus_dir/.done.render" ]; then
    log "Stage 0: already done, skipping (remove $corpus_dir/.done.render to redo)"
  else
    "$python" local/prepare_gm_notes.py render --target-dir "$corpus_dir" --programs "$programs" \
      --pitches "$pitches" --velocity "$velocity" --soundfont "$soundfont" --nj "$nj"
    touch "$corpus_dir/.done.render"
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: manifests -> $data_dir"
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_gm_notes.py prepare --corpus-dir "$corpus_dir" \
      --output-dir "$data_dir" --split-by "$split_by" --nj "$nj"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
