#!/usr/bin/env python3
"""Prints, for each test that did not pass in ctest's last run, its assertion messages.

ctest --output-on-failure prints a failed test's output where the test ended, among hundreds of
other lines; a CI page that keeps only the start and the end of the log loses it. This digest goes
at the end: per failed test, its status and the lines around each GoogleTest failure (or, for a
test that printed none, the last lines of its output), a bounded number per test.

Usage: ctest_failure_digest.py BUILD_DIR   (reads BUILD_DIR/Testing/Temporary/LastTest.log)
"""
import re
import sys
from pathlib import Path

LINES_PER_TEST = 30
AFTER_FAILURE = 6  # lines kept after each "Failure" line: expected/actual values
TESTING = re.compile(r"^\d+/\d+ Testing: (.+)$")


def blocks(log):
    """Yields (name, output lines, status) for each test in the log."""
    name, lines = None, []
    for line in log:
        m = TESTING.match(line)
        if m:
            if name is not None:
                yield name, *split(lines)
            name, lines = m.group(1), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        yield name, *split(lines)


def split(lines):
    """The output between "Output:" and "<end of output>", and the status line after it."""
    output, status, inside = [], "", False
    for i, line in enumerate(lines):
        if line.startswith("<end of output>"):
            inside = False
            for after in lines[i + 1:]:
                if after.startswith("Test ") and not after.startswith("Test time"):
                    status = after.strip()
                    break
            break
        if inside:
            output.append(line)
        elif line.startswith("Output:"):
            inside = True
    if output and set(output[0].strip()) == {"-"}:
        output = output[1:]
    return output, status


def digest(output):
    keep = set()
    for i, line in enumerate(output):
        if re.search(r"Failure$|\bFailure\b|\[  FAILED  \]|Sanitizer|runtime error", line):
            keep.update(range(i, min(i + 1 + AFTER_FAILURE, len(output))))
    if not keep:
        keep = set(range(max(0, len(output) - 12), len(output)))
    picked = [output[i] for i in sorted(keep)]
    if len(picked) > LINES_PER_TEST:
        picked = picked[:LINES_PER_TEST] + [f"… ({len(picked) - LINES_PER_TEST} more lines)"]
    return picked


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    log = Path(sys.argv[1]) / "Testing" / "Temporary" / "LastTest.log"
    if not log.exists():
        print(f"no ctest log at {log}")
        return
    text = log.read_text(errors="replace").splitlines()
    failed = [(n, o, s) for n, o, s in blocks(text) if s and s != "Test Passed."]
    for name, output, status in failed:
        print(f"-- {name}: {status}")
        for line in digest(output):
            print(f"   {line[:400]}")


if __name__ == "__main__":
    main()
