#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh: spry side by side with Go, NNG and ZeroMQ, in one run.
#
#   bench/run.sh [--quick] [--build DIR]
#
# Builds spry in release mode in build-bench/ (or uses the existing build
# in DIR with --build), builds the Go peers (bench/go/*.go) into
# <build>/bench-go/, then runs each pair, Go first, and prints one line
# per figure:
#
#   name spry=<v> go=<v> unit=<unit> ratio=<spry/go>
#
# Then the socket benchmarks (inproc_lat, inproc_thr), whose peers NNG and
# ZeroMQ are linked in and measured by the same program; their lines
# (see bench/inproc.h) pass through as printed:
#
#   name spry=<v> zmq=<v> unit=<unit> ratio=<spry/zmq> nng=<v> ratio_nng=<spry/nng>
#
# and tcp_perf (tcp and ipc, NNG's local/remote_lat and _thr; see
# bench/tcp_perf.c), whose lines add nanomsg=<v> ratio_nanomsg=<spry/nanomsg>.
#
# Each value is the median of 5 runs after a warm-up (1 run and small
# sizes with --quick, the CI smoke test). Lines starting with '#' are
# comments: goals (met or missed) and checked results such as the skynet
# sum. Exits non-zero only when a program fails or a result is wrong,
# never for a missed goal. A program that hangs is killed after a
# generous limit (a hang guard, not a measurement) and counts as failed.
set -euo pipefail

scenarios=(mailbox actor_pingpong ctx_cancel skynet idle_actor async)
# Peers linked in (NNG, ZeroMQ; nanomsg too for tcp_perf): no Go side.
linked=(inproc_lat inproc_thr tcp_perf)

usage() {
  sed -n '3,5p' "$0" | sed 's/^# *//'
}

quick=0
build=""
while (($#)); do
  case $1 in
  --quick) quick=1 ;;
  --build)
    (($# >= 2)) || { usage >&2; exit 2; }
    build=$2
    shift
    ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
  esac
  shift
done

repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n $build ]]; then
  [[ -d $build ]] || { echo "run.sh: no build directory $build" >&2; exit 1; }
  build=$(cd "$build" && pwd)
else
  build=$repo/build-bench
  if [[ ! -d $build ]]; then
    meson setup "$build" "$repo" --buildtype=release \
      -Dtests=false -Dexamples=false -Dbench=true >"$repo/.bench-setup.log" 2>&1 || {
      cat "$repo/.bench-setup.log" >&2
      rm -f "$repo/.bench-setup.log"
      echo "run.sh: meson setup failed" >&2
      exit 1
    }
    rm -f "$repo/.bench-setup.log"
  fi
fi

log=$build/bench-build.log
if ! meson compile -C "$build" >"$log" 2>&1; then
  cat "$log" >&2
  echo "run.sh: building spry in $build failed" >&2
  exit 1
fi
for s in "${scenarios[@]}" "${linked[@]}"; do
  if [[ ! -x $build/bench/$s ]]; then
    echo "run.sh: $build/bench/$s is missing (configure with -Dbench=true)" >&2
    exit 1
  fi
done

command -v go >/dev/null || { echo "run.sh: go not found (apt-get install golang-go)" >&2; exit 1; }
gobin=$build/bench-go
mkdir -p "$gobin"
export GOCACHE=${GOCACHE:-$build/go-cache}
for s in "${scenarios[@]}"; do
  if ! GO111MODULE=off go build -o "$gobin/$s" "$repo/bench/go/$s.go" "$repo/bench/go/common.go" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "run.sh: building bench/go/$s.go failed" >&2
    exit 1
  fi
done

flags=()
limit=1800
mode="median of 5 runs"
if ((quick)); then
  flags=(--quick)
  limit=300
  mode="--quick, 1 run"
fi
echo "# spry bench: $mode, $(nproc) CPUs, $(go version | cut -d' ' -f3), build $build"

status=0
for s in "${scenarios[@]}"; do
  peers=()
  rc=0
  goout=$(timeout -k 10 "$limit" "$gobin/$s" "${flags[@]}") || rc=$?
  if ((rc != 0)); then
    echo "run.sh: go peer $s failed (exit $rc)" >&2
    status=1
  fi
  while read -r line; do
    if [[ $line == \#* ]]; then
      echo "$line"
    elif [[ -n $line ]]; then
      read -r name value _ <<<"$line"
      peers+=(--peer "$name=$value")
    fi
  done <<<"$goout"
  rc=0
  timeout -k 10 "$limit" "$build/bench/$s" "${flags[@]}" "${peers[@]}" || rc=$?
  if ((rc != 0)); then
    echo "run.sh: $s failed (exit $rc)" >&2
    status=1
  fi
done
for s in "${linked[@]}"; do
  rc=0
  timeout -k 10 "$limit" "$build/bench/$s" "${flags[@]}" || rc=$?
  if ((rc != 0)); then
    echo "run.sh: $s failed (exit $rc)" >&2
    status=1
  fi
done
exit $status
