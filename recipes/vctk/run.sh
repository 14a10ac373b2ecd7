#!/usr/bin/env bash
# VCTK 0.92 (110 speakers), resampled to 16 kHz and cut into 2 s clips.
#
#   ./run.sh --corpus-dir /data/VCTK-Corpus-0.92        # use a local copy
#   ./run.sh --stage 2 --config fast
#
# Stage 0: download VCTK-Corpus-0.92.zip (~11 GB; skipped when --corpus-dir holds it)
# Stage 1: clips data/vctk/wav/ + manifests data/vctk/{train,valid,test}.jsonl, split by speaker
# Stages 2-7: ../TEMPLATE/anytime.sh (train, dump codes, priors, sample, evaluate)
set -euo pipefail
cd "$(dirname "$0")"

# ---- recipe options (stages 0-1) ----
corpus_dir=downloads/VCTK-Corpus-0.92  # folder with wav48_silence_trimmed/ and txt/
download=true                      # stage 0: download into downloads/ when corpus_dir lacks it
segment_seconds=2.0                # stage 1: clip length in seconds
max_segments=2                     # stage 1: clips per utterance at most (0 = all)
mic=mic1                           # stage 1: mic1 | mic2
speaker_labels=false               # stage 1: label = speaker (then split by utterance)
nj=2                               # stage 1: worker processes

# ---- options of the shared stages 2-7, with this recipe's defaults ----
. ../TEMPLATE/anytime.sh --options-only
stage=0
data_dir=data/vctk                 # where stage 1 writes clips and manifests
data_config=vctk                   # configs/data/vctk.yaml
model=mel                          # mel (default) or wave

help_message="Usage: $0 [options]
VCTK recipe. Stage 0: download, 1: clips + manifests, 2-7: shared stages.
Recipe options:
  --corpus-dir DIR          VCTK-Corpus-0.92 folder (default: $corpus_dir)
  --download true|false     download it in stage 0 when missing (default: $download)
  --segment-seconds S       clip length (default: $segment_seconds)
  --max-segments N          clips per utterance at most, 0 = all (default: $max_segments)
  --mic mic1|mic2           microphone (default: $mic)
  --speaker-labels true|false  label clips by speaker, split by utterance (default: $speaker_labels)
  --nj N                    worker processes for stage 1 (default: $nj)
$(anytime_help)"

. ../../tools/parse_options.sh
[ -n "$exp" ] || exp="exp/${model}_${config}"

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: get VCTK 0.92"
  if [ -d "$corpus_dir/wav48_silence_trimmed" ]; then
    log "Stage 0: already done, skipping ($corpus_dir exists)"
  elif $download; then
    "$python" local/prepare_vctk.py download --target-dir downloads
    corpus_dir=downloads/VCTK-Corpus-0.92
  else
    log "Error: $corpus_dir does not hold VCTK 0.92 and --download is false"
    exit 1
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: 16 kHz clips and manifests -> $data_dir"
  if [ -f "$data_dir/.done.prepare" ]; then
    log "Stage 1: already done, skipping (remove $data_dir/.done.prepare to redo)"
  else
    "$python" local/prepare_vctk.py prepare --corpus-dir "$corpus_dir" --output-dir "$data_dir" \
      --segment-seconds "$segment_seconds" --max-segments "$max_segments" --mic "$mic" \
      --speaker-labels "$speaker_labels" --nj "$nj"
    touch "$data_dir/.done.prepare"
  fi
fi

if [ "$stop_stage" -ge 2 ]; then
  anytime_template_args
  ../TEMPLATE/anytime.sh "${template_args[@]}"
fi
