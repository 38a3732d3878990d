#!/usr/bin/env bash
# The test command: installs what the tests need (apt-get), builds with warnings as errors, and
# runs every test with ctest. Tests that need root, cgroups, podman or a systemd container run
# here; with CI=true a test that cannot run fails instead of skipping.
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

echo "== building"
BUILD_DIR=${BUILD_DIR:-$here/build-test} bash scripts/build.sh -DOCTOLAUNCH_WERROR=ON
build_dir=${BUILD_DIR:-$here/build-test}

echo "== running tests"
cd "$build_dir"
# Every scenario run (quiet and noisy twin) adds a row here; the table is printed at the end.
export OCTOLAUNCH_SCENARIO_REPORT="$build_dir/scenario-report.tsv"
rm -f "$OCTOLAUNCH_SCENARIO_REPORT"
rc=0
ctest --output-on-failure --timeout 900 -j "${TEST_JOBS:-2}" || rc=$?
if [ -s "$OCTOLAUNCH_SCENARIO_REPORT" ]; then
  echo "== diagnosis report (tests/scenarios/README.md explains it)"
  python3 "$here/tests/scenarios/diagnosis_report.py" "$OCTOLAUNCH_SCENARIO_REPORT"
fi
exit "$rc"
