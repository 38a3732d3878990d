#!/bin/sh
# make-manpage.sh BIN_DIR PROGRAM OUT.1.gz
#
# Writes PROGRAM's man page, gzipped, from the program's own --help and --version (help2man),
# with one SUBCOMMANDS entry per subcommand (and per nested subcommand) from that subcommand's
# --help, and the sections in packaging/man/PROGRAM.h2m. Output is reproducible: no timestamps
# (SOURCE_DATE_EPOCH sets the page's date; default 0 is replaced by the mtime of the .h2m file).
set -eu

bin_dir=$1 program=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
extra=$here/$program.h2m
# help2man runs the program by name, so the page shows "octolaunch", not a build path.
PATH=$bin_dir:$PATH
export PATH
: "${SOURCE_DATE_EPOCH:=$(stat -c %Y "$extra")}"
export SOURCE_DATE_EPOCH

# The names listed under "Subcommands:" in a CLI11 help text.
subcommands() {
  "$@" --help | sed -n '/^Subcommands:/,/^$/p' | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p'
}

# One .SS entry with the help text of the command line "$@" (program first).
entry() {
  shift
  printf '.SS "%s"\n.nf\n' "$*"
  "$program" "$@" --help | sed -e 's/\\/\\e/g' -e 's/^[.'"'"']/\\\&&/'
  printf '.fi\n'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  cat "$extra"
  if [ -n "$(subcommands "$program")" ]; then
    echo '[SUBCOMMANDS]'
    for sub in $(subcommands "$program"); do
      entry "$program" "$sub"
      for nested in $(subcommands "$program" "$sub"); do
        entry "$program" "$sub" "$nested"
      done
    done
  fi
} >"$tmp/include.h2m"

help2man --no-info --include="$tmp/include.h2m" --output="$tmp/$program.1" "$program"
gzip -9n <"$tmp/$program.1" >"$out"
