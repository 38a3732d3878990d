#!/usr/bin/env bash
# Test (ctest bench_quick): scripts/bench.sh --quick completes against the binaries in BIN_DIR and
# writes a JSON file that holds every figure the script names, each with a value or a reason for
# its skip. The figures themselves are not asserted: this keeps the suite from rotting.
#   tests/bench/bench_quick_test.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp /tmp/octolaunch-bench-quick.XXXXXX.json)
trap 'rm -f "$out"' EXIT
bash "$here/scripts/bench.sh" --quick --bin-dir "$1" --out "$out"
bash "$here/scripts/bench.sh" --list-figures | python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
figures = doc["figures"]
bad = []
for name in sys.stdin.read().split():
    f = figures.get(name)
    if f is None:
        bad.append(name + ": missing")
    elif "value" not in f and not f.get("skipped"):
        bad.append(name + ": neither a value nor a reason")
for key in ("nproc", "kernel", "commit"):
    if key not in doc["machine"]:
        bad.append("machine." + key + ": missing")
if bad:
    sys.exit("bench-results.json:\n  " + "\n  ".join(bad))
print("bench_quick: %d figures, %d skipped" % (len(figures), sum("skipped" in f for f in figures.values())))
' "$out"
