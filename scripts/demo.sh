#!/usr/bin/env bash
# scripts/demo.sh: set up, build and run the demo: an actor-based
# REQ/REP service over tcp loopback (a supervisor owns the REP socket and
# its worker actors; client threads share one REQ socket; a deadline
# shuts the whole tree down). Extra arguments go to the service, e.g. a
# URL to listen on instead of tcp://127.0.0.1:0.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ ! -d build ]]; then
  meson setup build >/dev/null
fi
meson compile -C build >/dev/null
exec build/examples/service/service "$@"
