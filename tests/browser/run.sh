#!/usr/bin/env bash
# The web UI browser test (webui.test.mjs), or exit 77 (skipped) with the reason when what it
# needs is missing: node, Chromium (/usr/bin/chromium, or OCTOLAUNCH_CHROMIUM), or playwright-core
# in tests/browser/node_modules (`npm ci --prefix tests/browser`, which scripts/test.sh runs).
# With CI=true a missing piece is a failure instead.
#   run.sh COLLECTOR AGENT CLI ARTIFACT_DIR   (the binaries' paths, from CMake)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
skip() {
  echo "webui_browser_test: cannot run: $*" >&2
  if [ "${CI:-}" = true ]; then
    echo "webui_browser_test: CI=true, so this is a failure, not a skip" >&2
    exit 1
  fi
  exit 77
}
command -v node >/dev/null || skip "node is not installed (OCTOLAUNCH_WITH_TEST_TOOLS=1 scripts/install-deps.sh)"
chromium=${OCTOLAUNCH_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || skip "$chromium is missing (apt-get install chromium)"
[ -f "$here/node_modules/playwright-core/package.json" ] ||
  skip "playwright-core is not installed: npm ci --prefix tests/browser"
exec node "$here/webui.test.mjs" "$@"
