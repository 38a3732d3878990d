#!/usr/bin/env bash
# The test command: installs what the tests need (apt-get), builds with warnings as errors, and
# runs every test with ctest. Tests that need root, cgroups, podman or a systemd container run
# here; with CI=true a test that cannot run fails instead of skipping.
#
# Then the same code under the sanitizers (docs/testing.md): the ASan+UBSan suite in build-asan
# and the tests labelled `threaded` under TSan in build-tsan. Every phase runs even after an
# earlier one failed; the script fails if any did, and prints each phase's wall time at the end.
# OCTOLAUNCH_SANITIZERS=0 leaves the sanitizer phases out (a quicker local run); CI runs them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

echo "== installing packages"
OCTOLAUNCH_WITH_TEST_TOOLS=1 bash scripts/install-deps.sh

# Rootful podman serves the Docker Engine API for the container-source tests and runs the systemd
# host of the journal tests. Without root those tests skip (and fail with CI=true).
if [ "$(id -u)" -eq 0 ]; then
  echo "== setting up podman"
  bash tests/containers/podman-setup.sh || echo "podman set-up failed; the container tests will say why" >&2
fi

# playwright-core for the web UI's browser test, as package-lock.json pins it (the one network
# step of the suite; the test itself runs offline).
if command -v npm >/dev/null; then
  echo "== installing the browser test's npm packages"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error ||
    echo "npm ci failed; the browser test will say why" >&2
fi

rc=0
timings=()
# phase NAME COMMAND...: runs the command, records its wall time and whether it failed.
phase() {
  local name=$1 start status=ok
  shift
  start=$(date +%s)
  echo "== $name"
  "$@" || { status=FAILED; rc=1; }
  timings+=("$(printf '%-16s %5ds  %s' "$name" $(($(date +%s) - start)) "$status")")
  [ "$status" = ok ]
}

jobs=${TEST_JOBS:-2}
# The build dirs whose ctest run failed: their failures are digested at the end of the log.
failed_dirs=$(mktemp)
trap 'rm -f "$failed_dirs"' EXIT
build_dir=${BUILD_DIR:-$here/build-test}

normal_tests() (
  cd "$build_dir"
  # Every scenario run (quiet and noisy twin) adds a row here; the table is printed at the end.
  export OCTOLAUNCH_SCENARIO_REPORT="$build_dir/scenario-report.tsv"
  rm -f "$OCTOLAUNCH_SCENARIO_REPORT"
  local status=0
  ctest --output-on-failure --timeout 900 -j "$jobs" || status=$?
  [ "$status" = 0 ] || echo "$build_dir" >>"$failed_dirs"
  if [ -s "$OCTOLAUNCH_SCENARIO_REPORT" ]; then
    echo "== diagnosis report (tests/scenarios/README.md explains it)"
    python3 "$here/tests/scenarios/diagnosis_report.py" "$OCTOLAUNCH_SCENARIO_REPORT"
  fi
  exit "$status"
)

# The labels the ASan+UBSan phase leaves out, and why: docs/testing.md ("In CI").
asan_exclude_labels='^(checks|scenario|sources|packaging|browser)$'
# Tests neither sanitizer phase runs: the OOM test needs the hook binary to be smaller than the
# command it kills in their shared memory cgroup; a sanitized binary's shadow memory makes it the
# kernel's victim instead (docs/testing.md).
sanitizer_exclude_tests='^HookBinary\.ACommandOomKilledInItsCgroupIsRecordedWithTheKernelsCgroupAndPid$'
# The binaries the `threaded` tests run, and the tests themselves.
tsan_targets=(octolaunch-agent octolaunch-collector ingest_test http_test ship_test hook_test
              spool_test pipeline_e2e_test)

sanitizer_build() {  # DIR SANITIZERS [TARGETS...]
  local dir=$1 sanitizers=$2
  shift 2
  # A unity build (several .cpp files per compiler run; most of a file's compile time is the
  # Cap'n Proto, KJ, Asio and GoogleTest headers), -O1 and line tables only: the reports still
  # name file and line, and the builds take less of CI's time.
  cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOCTOLAUNCH_WERROR=ON \
        -DCMAKE_UNITY_BUILD=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
        -DOCTOLAUNCH_SANITIZE="$sanitizers" -DOCTOLAUNCH_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$dir" -j "${JOBS:-$(nproc)}" ${1:+--target "$@"}
}

if phase build env BUILD_DIR="$build_dir" bash scripts/build.sh -DOCTOLAUNCH_WERROR=ON; then
  phase tests normal_tests || true
fi
if [ "${OCTOLAUNCH_SANITIZERS:-1}" = 1 ]; then
  if phase asan-build sanitizer_build "$here/build-asan" address,undefined; then
    phase asan-tests ctest --test-dir "$here/build-asan" --output-on-failure --timeout 900 \
      -j "$jobs" -LE "$asan_exclude_labels" -E "$sanitizer_exclude_tests" ||
      echo "$here/build-asan" >>"$failed_dirs"
  fi
  if phase tsan-build sanitizer_build "$here/build-tsan" thread "${tsan_targets[@]}"; then
    phase tsan-tests ctest --test-dir "$here/build-tsan" --output-on-failure --timeout 900 \
      -j "$jobs" -L threaded -E "$sanitizer_exclude_tests" ||
      echo "$here/build-tsan" >>"$failed_dirs"
  fi
fi

# Each failed test's assertions once more, where a log cut in the middle still shows them.
while read -r dir; do
  echo "== failed tests in $dir"
  python3 "$here/tests/ctest_failure_digest.py" "$dir"
done <"$failed_dirs"
echo "== wall time per phase"
printf '%s\n' "${timings[@]}"
exit "$rc"
