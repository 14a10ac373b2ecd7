# shellcheck shell=bash
# Kaldi-style command-line option parser, to be *sourced* by a recipe script.
#
#   stage=0          # every option is a shell variable with a default ...
#   stop_stage=100
#   help_message="Usage: $0 [options]"
#   . tools/parse_options.sh   # ... then "$@" is parsed here
#
# Rules:
#   --stage 3 / --stage=3   sets stage=3; dashes in the name become underscores
#                           (--stop-stage 5 sets stop_stage=5).
#   --help, -h              prints $help_message (or a stub) and exits 0.
#   an option whose variable is not defined before sourcing is an error (exit 1),
#   as is an option without a value. A variable whose default is true/false
#   only accepts true/false. Parsing stops at the first argument that does not
#   start with "--" or at a bare "--" (which is dropped); what is left stays in
#   "$@" for the caller.
#
# An error is one line on stderr, naming the script: $PARSE_OPTIONS_PROG when
# set (recipes/TEMPLATE/anytime.sh sets it to the recipe's run.sh, so the data
# script it calls reports under the name the user typed), else $0.
#
# Unlike Kaldi's parser there is no special --config option: recipes here use
# a variable named `config` (the Hydra experiment preset) like any other.
# Internal names start with _po_ and are unset at the end.

_po_fail() {
  local _po_prog="${PARSE_OPTIONS_PROG:-$0}"
  echo "$_po_prog: $*; see $_po_prog --help" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --help | -h)
      if [ -n "${help_message:-}" ]; then
        printf '%s\n' "$help_message"
      else
        echo "Usage: $0 [options] (this script has no help message)"
      fi
      exit 0
      ;;
    --)
      shift
      break
      ;;
    --*=*)
      _po_name="${1%%=*}"
      _po_value="${1#*=}"
      shift
      ;;
    --*)
      _po_name="$1"
      [ $# -ge 2 ] || _po_fail "option $1 needs a value"
      _po_value="$2"
      shift 2
      ;;
    *)
      break
      ;;
  esac
  _po_var="${_po_name#--}"
  _po_var="${_po_var//-/_}"
  if ! [[ "$_po_var" =~ ^[a-z][a-z0-9_]*$ ]]; then
    _po_fail "invalid option name '$_po_name'"
  fi
  # Only options whose variable the script defined (with a default) exist.
  if ! declare -p "$_po_var" >/dev/null 2>&1; then
    _po_fail "unknown option '$_po_name'"
  fi
  _po_old="${!_po_var-}"
  if [ "$_po_old" = true ] || [ "$_po_old" = false ]; then
    if [ "$_po_value" != true ] && [ "$_po_value" != false ]; then
      _po_fail "option $_po_name takes true or false, got '$_po_value'"
    fi
  fi
  printf -v "$_po_var" '%s' "$_po_value"
done

unset -v _po_name _po_value _po_var _po_old
unset -f _po_fail
true
