#!/usr/bin/env bash
# Shared recipe template (ESPnet style): the stages of every anytime_audio recipe.
#
#   0-1  the corpus' own data script (--data-script, normally local/data.sh):
#        download or generate the corpus, write data/<set>/{train,valid,test}.jsonl
#        + labels.json
#   2    train the ordered autoencoder           -> $exp/ordered
#   3    train the unordered baseline (optional) -> $exp/unordered
#   4    dump code sequences                     -> $exp/ordered/codes/{train,valid,test}.npy
#   5    fit the code prior(s)                   -> $exp/ordered (one per --priors entry)
#        (--vocoder true: also train our fast vocoder -> $exp/ordered/vocoder; 6-7 render with it)
#   6    sample at every budget                  -> $exp/ordered/samples/...
#   7    train the evaluation classifier, evaluate -> $exp/ordered/report.md, budget_curve.png
#
# A recipe's run.sh sets its corpus defaults and passes everything else on:
#   ../TEMPLATE/anytime.sh --data-script local/data.sh --data-dir data/sc09 \
#       --data-config sc09 --model mel "$@"
# Options of this template are listed below. Any other --name value pair is an
# option of the data script: it is passed on to it, and the data script rejects
# the ones it does not know (even when stages 0-1 are not run). --help prints the
# data script's options, then these.
#
# Data script contract: `DATA_SCRIPT --stage N --stop-stage M --data-dir DIR
# --python PATH [corpus options]` runs its stages N..M within 0-1, is idempotent,
# and with an empty range (N > M) only checks its options.
#
# Every stage is idempotent: when it finishes it writes a marker
# $exp/.done.<step> (holding the command it ran) and later runs skip it with
# "Stage N: already done, skipping ...". Delete the marker (or choose another
# --exp) to redo a step.
set -euo pipefail
_template_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$_template_dir/common.sh"

# ------------------------------ options --------------------------------------
# Each variable is an option: --stop-stage 5 sets stop_stage=5.
stage=0                 # First stage to run (0-1: data script, 2-7: this template).
stop_stage=100          # Last stage to run.
data_script=            # Stages 0-1: the corpus' data script (local/data.sh in a recipe).
                        # Empty: skip stages 0-1 (the manifests must exist).
data_dir=               # Manifest folder: {train,valid,test}.jsonl + labels.json (required).
data_config=            # Hydra data group, configs/data/<name>.yaml (required).
exp=                    # Experiment folder (default: exp/<model>_<config>). Ordered model in
                        # $exp/ordered, unordered baseline in $exp/unordered.
model=mel               # Hydra model group: mel | wave (audio sets), image (image sets).
config=default          # Experiment preset configs/experiment/<name>.yaml: fast | default | large.
baseline=true           # Stage 3: also train the unordered twin (model.truncation=none).
side_lane=auto          # true: steps that the next stages do not read run in a second process on a
                        # core of its own (num_threads=1, output in $exp/log/<step>.log): stage 3 beside
                        # stage 2 (stage 7 waits for it) and, with --vocoder true, the vocoder beside
                        # the priors (stage 6 waits for it). auto: true on a machine with 2 or more cores
                        # (the CLI leaves one core free; on 2 cores this halves stages 2-3). false: in turn.
priors=transformer      # Priors for stages 5-6, space separated: "transformer", "ardm",
                        # or "transformer ardm".
budgets="[0.125,0.25,0.5,1.0]"  # Stage 6 code budgets: fractions (0.25), percentages
                        # (25%), code counts (64) or deadlines (150ms), as a Hydra list.
num_samples=16          # Stage 6: samples drawn per prior (each decoded at every budget).
vocoder=false           # Stage 5: also train our fast mel vocoder (train-vocoder -> $exp/ordered/vocoder);
                        # stages 6-7 then render with it (model.vocoder=...). Mel models only.
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
python="$REPO_PYTHON"   # Python interpreter for --cli python and the data script's local/*.py
                        # (default: the repository's .venv when no environment is active).
dry_run=false           # true: log the commands (data script included) without running them.
# ---------------------------- end of options ---------------------------------

_options=(stage stop_stage data_script data_dir data_config exp model config baseline side_lane priors
  budgets num_samples vocoder extra_overrides ae_overrides prior_overrides sample_overrides
  eval_overrides cli python dry_run)

_help() {
  cat <<HELP
Shared options (recipes/TEMPLATE/anytime.sh):
  --stage N               first stage to run (default: $stage)
  --stop-stage N          last stage to run (default: $stop_stage)
  --data-script FILE      stages 0-1: the corpus' data script (default: ${data_script:-none})
  --data-dir DIR          manifests {train,valid,test}.jsonl + labels.json (default: ${data_dir:-required})
  --data-config NAME      Hydra data group configs/data/NAME.yaml (default: ${data_config:-required})
  --exp DIR               experiment folder (default: ${exp:-exp/<model>_<config>})
  --model NAME            Hydra model group: mel | wave | image (default: $model)
  --config NAME           experiment preset configs/experiment/NAME.yaml: fast | default | large (default: $config)
  --baseline true|false   stage 3: train the unordered baseline too (default: $baseline)
  --side-lane auto|true|false  stage 3 beside stage 2, the vocoder beside the priors (default: $side_lane)
  --priors "LIST"         priors for stages 5-6: transformer, ardm (default: "$priors")
  --budgets LIST          stage 6 budgets as a Hydra list (default: $budgets)
  --num-samples N         stage 6 samples per prior (default: $num_samples)
  --vocoder true|false    stage 5: also train our fast mel vocoder; 6-7 render with it (default: $vocoder)
  --extra-overrides "..." Hydra overrides added to every CLI call (default: "$extra_overrides")
  --ae-overrides "..."    Hydra overrides for stages 2-3 (default: "$ae_overrides")
  --prior-overrides "..." Hydra overrides for stage 5 (default: "$prior_overrides")
  --sample-overrides "..." Hydra overrides for stage 6 (default: "$sample_overrides")
  --eval-overrides "..."  Hydra overrides for stage 7 (default: "$eval_overrides")
  --cli CMD               "" = anytime-audio, "python" = \$python -m anytime_audio.cli,
                          else the command to run (default: "$cli")
  --python PATH           Python interpreter (default: $python)
  --dry-run true|false    log the commands, run nothing (default: $dry_run)
Stages: 0-1 data script (download or generate, manifests), 2 train ordered autoencoder,
        3 train unordered baseline, 4 dump codes, 5 train priors, 6 sample at budgets,
        7 train classifier + evaluate.
Finished steps leave a marker (\$exp/.done.<step>); delete it to redo that step.
HELP
}

# ------------------------------ arguments ------------------------------------
# Errors name the script the user ran: the recipe's run.sh when it passed a data script.
_prog="$0"
for _a in "$@"; do
  case "$_a" in --data-script | --data-script=*) _prog="recipes/$(basename "$PWD")/run.sh" ;; esac
done
export PARSE_OPTIONS_PROG="$_prog"
_fail() { echo "$_prog: $*; see $_prog --help" >&2; exit 1; }

# Split the arguments: this template's options, and the rest (the data script's).
_own=()
_data_args=()
_want_help=false
while [ $# -gt 0 ]; do
  case "$1" in
    --help | -h) _want_help=true; shift; continue ;;
    --*=*) _name="${1%%=*}"; _pair=("$_name" "${1#*=}"); shift ;;
    --*) [ $# -ge 2 ] || _fail "option $1 needs a value"; _name=$1; _pair=("$1" "$2"); shift 2 ;;
    *) _fail "unexpected argument '$1'" ;;
  esac
  _var="${_name#--}"
  _var="${_var//-/_}"
  if [[ " ${_options[*]} " == *" $_var "* ]]; then
    _own+=("${_pair[@]}")
  else
    _data_args+=("${_pair[@]}")
  fi
done
set -- ${_own[@]+"${_own[@]}"}
. "$_template_dir/../../tools/parse_options.sh"

if [ -n "$data_script" ] && [ ! -x "$data_script" ]; then
  _fail "--data-script $data_script is not an executable file"
fi
if $_want_help; then
  if [ -n "$data_script" ]; then
    echo "Usage: $_prog [options]"
    "$data_script" ${_data_args[@]+"${_data_args[@]}"} --help | sed 1d
  else
    echo "Usage: $0 --data-dir DIR --data-config NAME [options]"
  fi
  _help
  exit 0
fi

if [ -n "$data_script" ]; then
  # Check the data script's options now, whichever stages run.
  "$data_script" ${_data_args[@]+"${_data_args[@]}"} --stage 1 --stop-stage 0
elif [ ${#_data_args[@]} -gt 0 ]; then
  _fail "unknown option '${_data_args[0]}'"
fi

# ------------------------------ checks ---------------------------------------
require_int stage stop_stage num_samples
if [ "$stage" -gt "$stop_stage" ]; then
  log "Nothing to do (--stage $stage is after --stop-stage $stop_stage)."
  exit 0
fi
for _opt in data_dir data_config; do
  [ -n "${!_opt}" ] || { log "Error: --${_opt//_/-} is required (see --help)"; exit 1; }
done
for _prior in $priors; do
  case "$_prior" in
    transformer | ardm) ;;
    *) log "Error: unknown prior '$_prior' in --priors (transformer, ardm)"; exit 1 ;;
  esac
done
case "$side_lane" in
  auto) if [ "$(nproc 2>/dev/null || echo 1)" -ge 2 ]; then side_lane=true; else side_lane=false; fi ;;
  true | false) ;;
  *) log "Error: --side-lane must be auto, true or false, got '$side_lane'"; exit 1 ;;
esac
[ -n "$exp" ] || exp="exp/${model}_${config}"

_abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/${1#./}" ;; esac; }
data_dir="$(_abspath "$data_dir")"
exp="$(_abspath "$exp")"

# ------------------------------ stages 0-1 -----------------------------------
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 0 ]; then
  if [ -z "$data_script" ]; then
    log "Stages 0-1: no --data-script; using the manifests in $data_dir"
  else
    _data_cmd=("$data_script" --stage "$stage" --stop-stage "$((stop_stage < 1 ? stop_stage : 1))"
      --data-dir "$data_dir" --python "$python" ${_data_args[@]+"${_data_args[@]}"})
    if $dry_run; then
      log "Stages 0-1: ${_data_cmd[*]}"
    elif ! "${_data_cmd[@]}"; then
      log "Stages 0-1: $data_script failed (see the messages above); fix and re-run from --stage $stage"
      exit 1
    fi
  fi
fi
[ "$stop_stage" -ge 2 ] || { log "Done (stages $stage..$stop_stage)."; exit 0; }

# ------------------------------ stages 2-7 -----------------------------------
# Runs that read the manifests need them to exist.
for _n in 2 3 7; do
  if [ "$stage" -le "$_n" ] && [ "$stop_stage" -ge "$_n" ] && ! $dry_run; then
    check_manifests "$data_dir"
  fi
done

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

# run_step STAGE STEP CLI-ARGS...: the CLI call, once (marker $exp/.done.STEP).
run_step() { run_once "$1" "$2" "$exp/.done.$2" "${cli_cmd[@]}" "${@:3}"; }

_data=("data=$data_config" "data.manifest_dir=$data_dir")
_preset=("+experiment=$config")

log "Experiment folder: $exp (data: $data_dir, model: $model, config: $config)"

_baseline_step() {
  run_step 3 train_ae_baseline train-ae "exp_dir=$exp/unordered" "${_data[@]}" "model=$model" \
    model.truncation=none "${_preset[@]}" ${_ae[@]+"${_ae[@]}"} ${_extra[@]+"${_extra[@]}"} "$@"
}

# The side lane: one step at a time in a background process, for steps whose output the
# next stages do not read (stage 3 until stage 7, the vocoder until stage 6). A failure of
# the main lane stops it; a rerun resumes its step from its checkpoint.
_side_pid=
_side_stage=
_side_step=
_side_log=
_stop_side_lane() {
  if [ -n "$_side_pid" ] && kill -0 "$_side_pid" 2>/dev/null; then
    log "Stopping stage $_side_stage ($_side_step, side lane, pid $_side_pid); a rerun resumes it from its checkpoint"
    kill -- -"$_side_pid" 2>/dev/null || kill "$_side_pid" 2>/dev/null || true
  fi
}
_wait_side_lane() {
  [ -n "$_side_pid" ] || return 0
  log "Waiting for stage $_side_stage ($_side_step, side lane, pid $_side_pid; log: $_side_log)"
  if ! wait "$_side_pid"; then
    _side_pid=
    log "Stage $_side_stage: $_side_step failed (see $_side_log); fix and re-run from --stage $_side_stage"
    exit 1
  fi
  _side_pid=
  log "Stage $_side_stage: $_side_step done (side lane)"
}
# _side_start STAGE STEP COMMAND...: run COMMAND in the side lane (after its current step).
_side_start() {
  _wait_side_lane
  _side_stage=$1
  _side_step=$2
  _side_log="$exp/log/$2.log"
  shift 2
  mkdir -p "$exp/log"
  set -m  # a process group of its own, so that stopping the lane stops its CLI call
  "$@" >"$_side_log" 2>&1 </dev/null &
  _side_pid=$!
  set +m
}
trap _stop_side_lane EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if $side_lane && $baseline && ! $dry_run && [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ] \
    && [ ! -f "$exp/.done.train_ae_baseline" ]; then
  log "Stage 3: train the unordered baseline (model.truncation=none) -> $exp/unordered," \
    "beside the next stages (side lane, one thread; log: $exp/log/train_ae_baseline.log)"
  _side_start 3 train_ae_baseline _baseline_step num_threads=1
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: train the ordered autoencoder -> $exp/ordered"
  run_step 2 train_ae train-ae "exp_dir=$exp/ordered" "${_data[@]}" "model=$model" \
    "${_preset[@]}" ${_ae[@]+"${_ae[@]}"} ${_extra[@]+"${_extra[@]}"}
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  if [ "$_side_step" = train_ae_baseline ]; then
    :  # running in the side lane
  elif $baseline; then
    log "Stage 3: train the unordered baseline (model.truncation=none) -> $exp/unordered"
    _baseline_step
  else
    log "Stage 3: --baseline false, skipping the unordered baseline"
  fi
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: dump code sequences -> $exp/ordered/codes/{$(IFS=,; echo "${SPLITS[*]}")}.npy"
  run_step 4 dump_codes dump-codes "exp_dir=$exp/ordered" ${_extra[@]+"${_extra[@]}"}
  if ! $dry_run; then
    for _split in "${SPLITS[@]}"; do
      if [ ! -f "$exp/ordered/codes/$_split.npy" ]; then
        log "Error: stage 4 did not write $exp/ordered/codes/$_split.npy"
        exit 1
      fi
    done
  fi
fi

_voc_ov=()
$vocoder && _voc_ov=("model.vocoder=$exp/ordered/vocoder")
if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  _vocoder_beside=false
  if $vocoder && $side_lane && ! $dry_run && [ ! -f "$exp/.done.train_vocoder" ]; then
    _vocoder_beside=true
    log "Stage 5: train our fast vocoder -> $exp/ordered/vocoder, beside the priors" \
      "(side lane, one thread; log: $exp/log/train_vocoder.log)"
    _side_start 5 train_vocoder run_step 5 train_vocoder train-vocoder "exp_dir=$exp/ordered" num_threads=1 \
      ${_extra[@]+"${_extra[@]}"}
  fi
  for _prior in $priors; do
    log "Stage 5: train the $_prior prior on the codes"
    run_step 5 "train_prior.$_prior" train-prior "exp_dir=$exp/ordered" "prior=$_prior" \
      "${_preset[@]}" ${_prior_ov[@]+"${_prior_ov[@]}"} ${_extra[@]+"${_extra[@]}"}
  done
  if $vocoder && ! $_vocoder_beside; then
    log "Stage 5: train our fast vocoder -> $exp/ordered/vocoder"
    run_step 5 train_vocoder train-vocoder "exp_dir=$exp/ordered" ${_extra[@]+"${_extra[@]}"}
  fi
fi

if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ] && [ "$_side_step" = train_vocoder ]; then
  _wait_side_lane  # stage 6 renders with the vocoder
fi
if [ "$stage" -le 6 ] && [ "$stop_stage" -ge 6 ]; then
  for _prior in $priors; do
    log "Stage 6: sample $num_samples clips from the $_prior prior at budgets $budgets"
    run_step 6 "sample.$_prior" sample "exp_dir=$exp/ordered" "prior=$_prior" \
      "budgets=$budgets" "n=$num_samples" ${_voc_ov[@]+"${_voc_ov[@]}"} ${_sample_ov[@]+"${_sample_ov[@]}"} \
      ${_extra[@]+"${_extra[@]}"}
  done
fi

if [ "$stage" -le 7 ] && [ "$stop_stage" -ge 7 ]; then
  _wait_side_lane
  log "Stage 7: train the evaluation classifier, then evaluate"
  run_step 7 train_classifier train-classifier "exp_dir=$exp/ordered" "${_data[@]}" "${_preset[@]}" \
    ${_eval_ov[@]+"${_eval_ov[@]}"} ${_extra[@]+"${_extra[@]}"}
  _baseline_ov=()
  $baseline && _baseline_ov=("eval.baseline_dir=$exp/unordered")
  run_step 7 evaluate evaluate "exp_dir=$exp/ordered" "${_preset[@]}" ${_baseline_ov[@]+"${_baseline_ov[@]}"} \
    ${_voc_ov[@]+"${_voc_ov[@]}"} \
    ${_eval_ov[@]+"${_eval_ov[@]}"} ${_extra[@]+"${_extra[@]}"}
  log "Stage 7: samples (WAVs or PNG grids per budget, one folder per prior): $exp/ordered/samples*"
  log "Stage 7: report: $exp/ordered/report.md, plots: $exp/ordered/budget_curve.png," \
    "metrics: $exp/ordered/metrics.json"
fi

_wait_side_lane
log "Done (stages $stage..$stop_stage)."
