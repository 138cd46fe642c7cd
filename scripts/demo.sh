#!/usr/bin/env bash
# scripts/demo.sh: set up, build and run the demo (a supervised actor
# pipeline: one stage crashes and is restarted, then a deadline cancels
# the whole tree).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ ! -d build ]]; then
  meson setup build >/dev/null
fi
meson compile -C build >/dev/null
exec build/examples/pipeline/pipeline
