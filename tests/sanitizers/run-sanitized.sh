#!/usr/bin/env bash
# Runs one test of a sanitizer build: ctest starts every test command through this script
# (cmake/sanitizers.cmake), so `ctest` in such a build directory needs nothing else.
#
# The test and every process it starts (the real collector, agent and CLI binaries) inherit the
# options below. Each sanitizer writes its reports into a directory of this run; any report there
# fails the test, also one from a child process whose exit status the test never looks at (a
# collector stopped by a destructor, say). Options already in the environment come last, so they
# win (e.g. ASAN_OPTIONS=detect_leaks=0 ctest ...).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
reports=$(mktemp -d "${TMPDIR:-/tmp}/octolaunch-sanitizer.XXXXXX")
trap 'rm -rf "$reports"' EXIT

common="halt_on_error=1:log_path=$reports/report"
export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="$common:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TSAN_OPTIONS="$common:suppressions=$here/tsan.supp:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

"$@"
rc=$?
shopt -s nullglob
found=("$reports"/report*)
if [ ${#found[@]} -gt 0 ]; then
  for f in "${found[@]}"; do
    echo "== sanitizer report ${f##*/} (pid after the dot) from: $*" >&2
    cat "$f" >&2
  done
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
