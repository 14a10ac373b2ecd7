#!/usr/bin/env bash
# tts_digits: the offline speech recipe (runs anywhere, no download). The words
# "zero".."nine" from several offline engines and many voices; 16 kHz, 1 s clips, like SC09.
#
#   ./run.sh                          # generate, train, sample, evaluate
#   ./run.sh --config fast            # the quick CPU preset
#   ./run.sh --stage 6 --stop-stage 7 --budgets "[0.25,1.0]"
#   ./run.sh --help                   # every option, with this recipe's defaults
#
# Stages 0-1: local/data.sh (corpus options); 2-7: ../TEMPLATE/anytime.sh (shared options).
set -euo pipefail
cd "$(dirname "$0")"

../TEMPLATE/anytime.sh \
  --data-script local/data.sh \
  --data-dir data/tts_digits \
  --data-config tts_digits \
  --model mel \
  "$@"
