# shellcheck shell=bash
# Helpers shared by recipes/TEMPLATE/anytime.sh and every recipes/<set>/local/data.sh.
# Source it; it defines no options (its names are upper case or functions, which
# tools/parse_options.sh never accepts as options).
#
#   log MSG...                      "2025-01-31 12:00:00 (data.sh:42) MSG" (caller's file:line)
#   require_int NAME...             fail unless each named variable is an integer
#   run_once STAGE STEP MARKER CMD...  run CMD unless MARKER exists; on success write
#                                   MARKER (holding CMD) so a rerun skips the step
#   check_manifests DIR             fail unless DIR holds <split>.jsonl + labels.json
#   require_no_args "$@"            fail on an argument left after tools/parse_options.sh
#   SPLITS                          the manifest splits, as anytime_audio.manifest.SPLITS
#   REPO_PYTHON                     default interpreter: the repository's .venv (made by
#                                   tools/setup.sh) when no environment is active, else python3

SPLITS=(train valid test)

log() { echo "$(date '+%F %T') ($(basename "${BASH_SOURCE[1]:-$0}"):${BASH_LINENO[0]}) $*"; }

REPO_PYTHON=python3
_COMMON_VENV="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv"
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x "$_COMMON_VENV/bin/python" ]; then
  # The recipes run without activating the environment (and find `anytime-audio`).
  REPO_PYTHON="$_COMMON_VENV/bin/python"
  export PATH="$_COMMON_VENV/bin:$PATH"
fi

require_int() {
  local _name
  for _name in "$@"; do
    if ! [[ "${!_name}" =~ ^-?[0-9]+$ ]]; then
      log "Error: --${_name//_/-} must be an integer, got '${!_name}'"
      exit 1
    fi
  done
}

# With dry_run=true (the template's --dry-run) the command is logged, not run.
run_once() {
  local _stage=$1 _step=$2 _marker=$3
  shift 3
  if [ -f "$_marker" ]; then
    log "Stage $_stage: already done, skipping $_step (remove $_marker to redo)"
    return 0
  fi
  log "Stage $_stage: $_step: $*"
  if [ "${dry_run:-false}" = true ]; then
    return 0
  fi
  mkdir -p "$(dirname "$_marker")"
  if ! "$@"; then
    log "Stage $_stage: $_step failed (see the messages above); fix and re-run from --stage $_stage"
    exit 1
  fi
  printf '%s\n' "$*" >"$_marker.tmp-$$"
  mv "$_marker.tmp-$$" "$_marker"
}

check_manifests() {
  local _f
  for _f in "${SPLITS[@]/%/.jsonl}" labels.json; do
    if [ ! -f "$1/$_f" ]; then
      log "Error: $1/$_f not found; run the recipe's stages 0-1 (data preparation) first"
      exit 1
    fi
  done
}

# require_no_args "$@": after tools/parse_options.sh, fail on a leftover argument.
require_no_args() {
  if [ $# -gt 0 ]; then
    echo "${PARSE_OPTIONS_PROG:-$0}: unexpected argument '$1'; see ${PARSE_OPTIONS_PROG:-$0} --help" >&2
    exit 1
  fi
}
