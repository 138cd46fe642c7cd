#!/usr/bin/env bash
# scripts/test.sh: set up, build and run the whole test suite: a normal
# build, then address+undefined sanitizers, then thread sanitizer; the
# examples build in each; the benchmarks run once in --quick mode as a
# smoke test (their figures are not judged here: machines are noisy);
# then the format and docs checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
status=0
total_pass=0
total_fail=0

run_suite() { # name, build dir, meson setup args...
  local name=$1 dir=$2
  shift 2
  echo "== $name =="
  if [[ ! -d $dir ]]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  meson compile -C "$dir" >/dev/null
  local log="$dir/test-summary.txt"
  if meson test -C "$dir" --num-processes "$jobs" --print-errorlogs \
      ${MESON_TEST_WRAP:+--wrapper "$MESON_TEST_WRAP"} >"$log" 2>&1; then
    :
  else
    status=1
    cat "$log"
  fi
  local ok fail
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
  echo "$name: ${ok:-0} ok, ${fail:-0} failed"
  # Wake-ups a parked select had to rescue itself (see mailbox/select.c):
  # reported so that a lost wake-up shows up in CI logs, not judged.
  grep -h "spry-rescues:" "$dir"/meson-logs/testlog*.txt 2>/dev/null |
    sed "s/^/  $name: /" || true
  total_pass=$((total_pass + ${ok:-0}))
  total_fail=$((total_fail + ${fail:-0}))
}

run_suite "normal build" build-test
# Benchmarks are sanitizer-free; the sanitizer builds skip them.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_suite "address+undefined sanitizers" build-asan \
  -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false
# TSan needs the address space layout it was built for: turn off ASLR
# for the test processes (setarch -R), which newer kernels' mmap
# randomization would otherwise break.
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
MESON_TEST_WRAP="setarch $(uname -m) -R" \
  run_suite "thread sanitizer" build-tsan \
  -Db_sanitize=thread -Db_lundef=false -Dbench=false

echo "== benchmark smoke (--quick) =="
if ! bench/run.sh --quick --build build-test; then
  echo "benchmark smoke run failed"
  status=1
fi

echo "== format =="
unformatted=$(git ls-files '*.c' '*.h' | while read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [[ -n $unformatted ]]; then
  echo "not clang-formatted (run clang-format -i): $unformatted"
  status=1
fi

echo "== docs =="
if ! scripts/check-docs.sh; then
  status=1
fi

echo
echo "${total_pass} passed, ${total_fail} failed"
exit $status
