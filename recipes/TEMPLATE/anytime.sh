#!/usr/bin/env bash
# Shared recipe template (ESPnet style): stages 2..7 of every anytime_audio recipe.
#
# A corpus recipe (recipes/<set>/run.sh) runs its own stage 0 (download or
# generate the corpus) and stage 1 (write data/<set>/{train,valid,test}.jsonl +
# labels.json), then calls this script with --stage/--stop-stage and the
# options below. The stages here are corpus-independent:
#
#   2  train the ordered autoencoder          -> $exp/ordered
#   3  train the unordered baseline (optional) -> $exp/unordered
#   4  dump code sequences                     -> $exp/ordered/codes/{train,valid,test}.npy
#   5  fit the code prior(s)                   -> $exp/ordered (one per --priors entry)
#   6  sample at every budget                  -> $exp/ordered/samples/...
#   7  train the evaluation classifier, evaluate -> $exp/ordered/report.md, budget_curve.png
#
# Every stage is idempotent: when it finishes it writes a marker
# $exp/.done.<step> (holding the command it ran) and later runs skip it with
# "Stage N: already done, skipping ...". Delete the marker (or choose another
# --exp) to redo a step.
#
# Usage (normally through a run.sh):
#   recipes/TEMPLATE/anytime.sh --data-dir data/sc09 --data-config sc09 --exp exp/mel_default \
#       [--stage 2] [--stop-stage 7] [--config fast] [--priors "transformer ardm"] ...
#
# A run.sh may also source this file as `. ../TEMPLATE/anytime.sh --options-only`:
# that defines the option variables below (so run.sh accepts and documents them),
# log(), anytime_help() and anytime_template_args(), and returns without running
# anything.

# ------------------------------ options --------------------------------------
# Each variable is an option: --stop-stage 5 sets stop_stage=5.
stage=2                 # First stage to run (this template has stages 2..7).
stop_stage=100          # Last stage to run.
data_dir=               # Manifest folder: {train,valid,test}.jsonl + labels.json (required).
data_config=            # Hydra data group, configs/data/<name>.yaml (required).
exp=                    # Experiment folder (required). Ordered model in $exp/ordered,
                        # unordered baseline in $exp/unordered, classifier in $exp/ordered/classifier.
model=mel               # Hydra model group: mel | wave (audio sets), image (image sets).
config=default          # Experiment preset configs/experiment/<name>.yaml: default | fast.
baseline=true           # Stage 3: also train the unordered twin (model.truncation=none).
priors=transformer      # Priors for stages 5-6, space separated: "transformer", "ardm",
                        # or "transformer ardm".
budgets="[0.125,0.25,0.5,1.0]"  # Stage 6 code budgets: fractions (0.25), percentages
                        # (25%), code counts (64) or deadlines (150ms), as a Hydra list.
num_samples=16          # Stage 6: samples drawn per prior (each decoded at every budget).
extra_overrides=        # Extra Hydra overrides added to EVERY CLI call (space separated,
                        # e.g. "device=cuda train.steps=2000").
ae_overrides=           # Extra Hydra overrides for the autoencoder stages 2-3 only.
prior_overrides=        # Extra Hydra overrides for stage 5 only.
sample_overrides=       # Extra Hydra overrides for stage 6 only.
eval_overrides=         # Extra Hydra overrides for stage 7 only.
cli=                    # How to call the CLI. Empty: the console script `anytime-audio`
                        # (falls back to `$python -m anytime_audio.cli` when it is not on
                        # PATH). "python": `$python -m anytime_audio.cli`. Anything else
                        # is used as the command itself (split on spaces).
python=python3          # Python interpreter for --cli python and the recipes' local/*.py.
# The repository's virtual environment (made by tools/setup.sh) is used when no
# environment is active, so the recipes also run without activating it.
_repo_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv"
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x "$_repo_venv/bin/python" ]; then
  python="$_repo_venv/bin/python"
  export PATH="$_repo_venv/bin:$PATH"
fi
dry_run=false           # true: log the commands without running them (no markers written).
# ---------------------------- end of options ---------------------------------

# Names of the options above, in order (run.sh forwards all of them).
anytime_options=(stage stop_stage data_dir data_config exp model config baseline priors
  budgets num_samples extra_overrides ae_overrides prior_overrides sample_overrides
  eval_overrides cli python dry_run)

log() { echo "$(date '+%F %T') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }

# Print the option list with the current values as defaults.
anytime_help() {
  cat <<EOF
Options of the shared stages 2-7 (recipes/TEMPLATE/anytime.sh):
  --stage N               first stage to run (default: $stage)
  --stop-stage N          last stage to run (default: $stop_stage)
  --data-dir DIR          manifests {train,valid,test}.jsonl + labels.json (default: ${data_dir:-required})
  --data-config NAME      Hydra data group configs/data/NAME.yaml (default: ${data_config:-required})
  --exp DIR               experiment folder (default: ${exp:-exp/<model>_<config> in a recipe})
  --model NAME            Hydra model group: mel | wave | image (default: $model)
  --config NAME           experiment preset configs/experiment/NAME.yaml: default | fast (default: $config)
  --baseline true|false   stage 3: train the unordered baseline too (default: $baseline)
  --priors "LIST"         priors for stages 5-6: transformer, ardm (default: "$priors")
  --budgets LIST          stage 6 budgets as a Hydra list (default: $budgets)
  --num-samples N         stage 6 samples per prior (default: $num_samples)
  --extra-overrides "..." Hydra overrides added to every CLI call (default: "$extra_overrides")
  --ae-overrides "..."    Hydra overrides for stages 2-3 (default: "$ae_overrides")
  --prior-overrides "..." Hydra overrides for stage 5 (default: "$prior_overrides")
  --sample-overrides "..." Hydra overrides for stage 6 (default: "$sample_overrides")
  --eval-overrides "..."  Hydra overrides for stage 7 (default: "$eval_overrides")
  --cli CMD               "" = anytime-audio, "python" = \$python -m anytime_audio.cli,
                          else the command to run (default: "$cli")
  --python PATH           Python interpreter (default: $python)
  --dry-run true|false    log the commands, run nothing (default: $dry_run)
Stages: 2 train ordered autoencoder, 3 train unordered baseline, 4 dump codes,
        5 train priors, 6 sample at budgets, 7 train classifier + evaluate.
Finished steps leave \$exp/.done.<step>; delete it to redo that step.
EOF
}

# Fill the array `template_args` with "--name value" for every option (run.sh
# passes it to this script after its own stages 0-1).
anytime_template_args() {
  template_args=()
  local _name
  for _name in "${anytime_options[@]}"; do
    template_args+=("--${_name//_/-}" "${!_name}")
  done
}

if [ "${1:-}" = "--options-only" ]; then
  # Sourced by a run.sh for the option variables and helpers only.
  return 0
fi

set -euo pipefail

help_message="Usage: $0 --data-dir DIR --data-config NAME --exp DIR [options]
$(anytime_help)"

_template_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$_template_dir/../../tools/parse_options.sh"

if [ $# -gt 0 ]; then
  log "Error: unexpected arguments: $*"
  exit 1
fi

# ------------------------------ checks ---------------------------------------
for _opt in stage stop_stage num_samples; do
  if ! [[ "${!_opt}" =~ ^[0-9]+$ ]]; then
    log "Error: --${_opt//_/-} must be a non-negative integer, got '${!_opt}'"
    exit 1
  fi
done
for _opt in data_dir data_config exp; do
  if [ -z "${!_opt}" ]; then
    log "Error: --${_opt//_/-} is required (see --help)"
    exit 1
  fi
done
for _prior in $priors; do
  case "$_prior" in
    transformer | ardm) ;;
    *) log "Error: unknown prior '$_prior' in --priors (transformer, ardm)"; exit 1 ;;
  esac
done

_abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/${1#./}" ;; esac; }
data_dir="$(_abspath "$data_dir")"
exp="$(_abspath "$exp")"

# Runs that read the manifests need them to exist.
_needs_data=false
for _n in 2 3 7; do
  if [ "$stage" -le "$_n" ] && [ "$stop_stage" -ge "$_n" ]; then _needs_data=true; fi
done
if $_needs_data; then
  for _f in train.jsonl valid.jsonl test.jsonl labels.json; do
    if [ ! -f "$data_dir/$_f" ]; then
      log "Error: $data_dir/$_f not found; run the recipe's stage 1 (data preparation) first"
      exit 1
    fi
  done
fi

# The CLI command, as an array.
if [ -z "$cli" ]; then
  if command -v anytime-audio >/dev/null 2>&1; then
    cli_cmd=(anytime-audio)
  else
    cli_cmd=("$python" -m anytime_audio.cli)
    $dry_run || log "anytime-audio is not on PATH; using: ${cli_cmd[*]}"
  fi
elif [ "$cli" = python ]; then
  cli_cmd=("$python" -m anytime_audio.cli)
else
  read -r -a cli_cmd <<<"$cli"
fi

# Override strings -> arrays (split on spaces; no glob expansion of [..] lists).
read -r -a _extra <<<"$extra_overrides"
read -r -a _ae <<<"$ae_overrides"
read -r -a _prior_ov <<<"$prior_overrides"
read -r -a _sample_ov <<<"$sample_overrides"
read -r -a _eval_ov <<<"$eval_overrides"

# run_step STAGE STEP CMD...: run the CLI command unless $exp/.done.STEP exists.
run_step() {
  local _stage=$1 _step=$2
  shift 2
  local _marker="$exp/.done.$_step"
  if [ -f "$_marker" ]; then
    log "Stage $_stage: already done, skipping $_step (remove $_marker to redo)"
    return 0
  fi
  log "Stage $_stage: $_step: ${cli_cmd[*]} $*"
  if $dry_run; then
    return 0
  fi
  mkdir -p "$exp"
  if ! "${cli_cmd[@]}" "$@"; then
    log "Stage $_stage: $_step failed (see the messages above); fix and re-run from --stage $_stage"
    exit 1
  fi
  printf '%s %s\n' "${cli_cmd[*]}" "$*" >"$_marker.tmp-$$"
  mv "$_marker.tmp-$$" "$_marker"
}

_data=("data=$data_config" "data.manifest_dir=$data_dir")
_preset=("+experiment=$config")

log "Experiment folder: $exp (data: $data_dir, model: $model, config: $config)"

# ------------------------------ stages ---------------------------------------
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: train the ordered autoencoder -> $exp/ordered"
  run_step 2 train_ae train-ae "exp_dir=$exp/ordered" "${_data[@]}" "model=$model" \
    "${_preset[@]}" ${_ae[@]+"${_ae[@]}"} ${_extra[@]+"${_extra[@]}"}
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  if $baseline; then
    log "Stage 3: train the unordered baseline (model.truncation=none) -> $exp/unordered"
    run_step 3 train_ae_baseline train-ae "exp_dir=$exp/unordered" "${_data[@]}" "model=$model" \
      model.truncation=none "${_preset[@]}" ${_ae[@]+"${_ae[@]}"} ${_extra[@]+"${_extra[@]}"}
  else
    log "Stage 3: --baseline false, skipping the unordered baseline"
  fi
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: dump code sequences -> $exp/ordered/codes/{train,valid,test}.npy"
  run_step 4 dump_codes dump-codes "exp_dir=$exp/ordered" ${_extra[@]+"${_extra[@]}"}
  if ! $dry_run; then
    for _split in train valid test; do
      if [ ! -f "$exp/ordered/codes/$_split.npy" ]; then
        log "Error: stage 4 did not write $exp/ordered/codes/$_split.npy"
        exit 1
      fi
    done
  fi
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  for _prior in $priors; do
    log "Stage 5: train the $_prior prior on the codes"
    run_step 5 "train_prior.$_prior" train-prior "exp_dir=$exp/ordered" "prior=$_prior" \
      "${_preset[@]}" ${_prior_ov[@]+"${_prior_ov[@]}"} ${_extra[@]+"${_extra[@]}"}
  done
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  for _prior in $priors; do
    log "Stage 6: sample $num_samples clips from the $_prior prior at budgets $budgets"
    run_step 6 "sample.$_prior" sample "exp_dir=$exp/ordered" "prior=$_prior" \
      "budgets=$budgets" "n=$num_samples" ${_sample_ov[@]+"${_sample_ov[@]}"} \
      ${_extra[@]+"${_extra[@]}"}
  done
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  log "Stage 7: train the evaluation classifier, then evaluate"
  run_step 7 train_classifier train-classifier "exp_dir=$exp/ordered" "${_data[@]}" "${_preset[@]}" \
    ${_eval_ov[@]+"${_eval_ov[@]}"} ${_extra[@]+"${_extra[@]}"}
  run_step 7 evaluate evaluate "exp_dir=$exp/ordered" "${_preset[@]}" \
    ${_eval_ov[@]+"${_eval_ov[@]}"} ${_extra[@]+"${_extra[@]}"}
  log "Stage 7: samples (WAVs or PNG grids per budget, one folder per prior): $exp/ordered/samples*"
  log "Stage 7: report: $exp/ordered/report.md, plots: $exp/ordered/budget_curve.png," \
    "metrics: $exp/ordered/metrics.json"
fi

log "Done (stages $stage..$stop_stage)."
