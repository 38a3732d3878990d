#!/usr/bin/env python3
"""Fails when an #include in schemas/, shared/, agent/ or collector/ crosses a layer that
layers.txt does not allow.

usage: layer_check.py SOURCE_DIR [LAYERS_FILE]

Prints one line per forbidden include (file:line: layer A may not include B: #include "...") and
exits 1; exits 0 when every include is allowed. An include that names a path of no known layer
(neither a layer folder nor an alias) is reported too, so the table grows with the tree.
"""
import os
import re
import sys

CHECKED_ROOTS = ("schemas", "shared", "agent", "collector")
SOURCE_SUFFIXES = (".h", ".hpp", ".cpp", ".cc", ".capnp")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
CAPNP_IMPORT = re.compile(r'^\s*using\s+.*import\s+"([^"]+)"|^\s*import\s+"([^"]+)"')


def read_table(path):
    allowed, aliases = {}, []
    for number, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head, sep, tail = line.partition(":")
        if not sep:
            sys.exit(f"{path}:{number}: expected 'LAYER: LAYERS...', got {raw.strip()!r}")
        if head.startswith("alias "):
            aliases.append((head[len("alias "):].strip(), tail.strip()))
        else:
            allowed[head.strip()] = set(tail.split())
    for layer, targets in allowed.items():
        for target in targets:
            if target not in allowed:
                sys.exit(f"{path}: {layer} may include {target}, which is not a layer")
    return allowed, aliases


def layer_of(path, layers):
    """The longest layer folder that contains path, or None."""
    best = None
    for layer in layers:
        if path == layer or path.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    return best


def target_layer(included, layers, aliases):
    for prefix, layer in aliases:
        if included == prefix or (prefix.endswith("/") and included.startswith(prefix)):
            return layer
    if included.split("/", 1)[0] in CHECKED_ROOTS:
        return layer_of(os.path.dirname(included), layers)
    return "third-party"  # <boost/asio.hpp>, "httplib.h": not ours


def source_files(root):
    for top in CHECKED_ROOTS:
        for folder, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if name.endswith(SOURCE_SUFFIXES):
                    yield os.path.relpath(os.path.join(folder, name), root)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    root = argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    table = argv[2] if len(argv) > 2 else os.path.join(here, "layers.txt")
    allowed, aliases = read_table(table)

    problems, checked = [], 0
    for rel in source_files(root):
        own = layer_of(os.path.dirname(rel), allowed)
        if own is None:
            problems.append(f"{rel}: in no layer of {table}; add its folder there")
            continue
        checked += 1
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for number, text in enumerate(f, 1):
                match = INCLUDE.match(text)
                if match:
                    included = match.group(1)
                elif rel.endswith(".capnp") and (m := CAPNP_IMPORT.match(text)):
                    included = (m.group(1) or m.group(2)).lstrip("/")
                else:
                    continue
                if "/" not in included and os.path.exists(
                        os.path.join(root, os.path.dirname(rel), included)):
                    included = os.path.join(os.path.dirname(rel), included)  # "sibling.h"
                target = target_layer(included, allowed, aliases)
                if target == "third-party" or target == own or target in allowed[own]:
                    continue
                if target is None:
                    problems.append(f"{rel}:{number}: #include \"{included}\" names no layer of "
                                    f"{os.path.basename(table)}")
                else:
                    problems.append(f"{rel}:{number}: {own} may not include {target}: "
                                    f"#include \"{included}\"")
    if problems:
        print("Includes that cross the layering in tests/checks/layers.txt:")
        for p in problems:
            print("  " + p)
        print(f"{len(problems)} problem(s). Move the code to the layer that owns it, or change "
              "layers.txt if the architecture itself changed.")
        return 1
    print(f"layer check: {checked} files, every include allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
