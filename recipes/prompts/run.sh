#!/usr/bin/env bash
# Asterisk prompts (offline): studio speech of professional voices from Debian's
# asterisk-core-sounds-*-g722 packages, 16 kHz, 2 s clips; test = a held-out speaker.
#
#   ./run.sh                          # install (as root), prepare, train, sample, evaluate
#   ./run.sh --sounds-dir /data/asterisk/sounds --held-out-speaker carlo
#   ./run.sh --stage 2 --config fast
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/prompts \
  --data-config prompts \
  --model mel \
  "$@"
