#!/usr/bin/env bash
# Fails listing every C++ file of the repository that clang-format 14 would change.
#   format_check.sh SOURCE_DIR
# The version is pinned: other clang-format versions lay the same .clang-format out differently.
# Exit 0: all formatted; 1: files listed need `clang-format-14 -i`; 77: clang-format-14 missing
# (ctest reports a skip; with CI=true it is a failure instead).
set -euo pipefail
root=${1:?usage: format_check.sh SOURCE_DIR}
cd "$root"

tool=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$tool" >/dev/null; then
  echo "format check: $tool not found; scripts/install-deps.sh installs it" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
if ! "$tool" --version | grep -q 'version 14\.'; then
  echo "format check: $tool is not clang-format 14: $("$tool" --version)" >&2
  exit 1
fi

# Tracked and new (not ignored) files in a git checkout; every file below the tree otherwise.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
    '*.h' '*.hpp' '*.cpp' '*.cc' | sort -u)
else
  mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \
    -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' \) -print |
    sed 's|^\./||' | sort)
fi

# One clang-format run over every file; it names each file it would change in its diagnostics.
existing=()
for f in "${files[@]}"; do [ -f "$f" ] && existing+=("$f"); done  # skip deleted-but-indexed
status=0
report=$("$tool" --dry-run --Werror "${existing[@]}" 2>&1 >/dev/null) || status=$?
mapfile -t unformatted < <(printf '%s\n' "$report" |
  sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
if [ "$status" -ne 0 ] && [ ${#unformatted[@]} -eq 0 ]; then
  echo "format check: $tool failed:" >&2
  printf '%s\n' "$report" | head -20 >&2
  exit 1
fi
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "${#unformatted[@]} file(s) need formatting (run: $tool -i FILE):"
  printf '  %s\n' "${unformatted[@]}"
  exit 1
fi
echo "format check: ${#existing[@]} files formatted as clang-format 14 does"
