#!/usr/bin/env python3
"""List Rust functions over MAX_FN lines and files over MAX_FILE lines.

usage: python3 bench/sizes.py [DIR...]   (default: src hook/src)
A function's length runs from its `fn` line to its closing brace. Braces
in strings, chars and comments are skipped well enough for this code base;
test modules are counted like any code. Exit status 1 when something is over.
"""
import os
import re
import sys

MAX_FN = 80
MAX_FILE = 600
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+\"C\"\s+)?fn\s+(\w+)")


def strip(line, state):
    """The line without string/char contents and comments; state carries
    an open string or block comment across lines."""
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if state["block"]:
            if line.startswith("*/", i):
                state["block"] = False
                i += 2
                continue
            i += 1
            continue
        if state["str"]:
            if c == "\\":
                i += 2
                continue
            if c == '"' and line[i + 1 : i + 1 + state["hashes"]] == "#" * state["hashes"]:
                state["str"] = False
                i += 1 + state["hashes"]
                continue
            i += 1
            continue
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            state["block"] = True
            i += 2
            continue
        m = re.match(r'r(#*)"', line[i:])
        if m and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == "_")):
            state["str"], state["hashes"] = True, len(m.group(1))
            i += len(m.group(0))
            continue
        if c == '"':
            state["str"], state["hashes"] = True, 0
            i += 1
            continue
        if c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", line[i:])
            if m:
                i += len(m.group(0))
                continue
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    state = {"block": False, "str": False, "hashes": 0}
    clean = [strip(l, state) for l in lines]
    found = []
    for n, l in enumerate(clean):
        m = FN.match(l)
        if not m:
            continue
        depth, opened = 0, False
        for k in range(n, len(clean)):
            seg = clean[k]
            if not opened and ";" in seg and "{" not in seg:
                break  # a declaration without a body (trait item)
            for ch in seg:
                if ch == "{":
                    depth, opened = depth + 1, True
                elif ch == "}":
                    depth -= 1
            if opened and depth == 0:
                found.append((k - n + 1, n + 1, m.group(7)))
                break
    return found, len(lines)


def main():
    roots = sys.argv[1:] or ["src", "hook/src"]
    over = False
    for root in roots:
        for dirpath, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                if not f.endswith(".rs"):
                    continue
                p = os.path.join(dirpath, f)
                fns, total = functions(p)
                if total > MAX_FILE:
                    print(f"file {p}: {total} lines")
                    over = True
                for length, line, name in fns:
                    if length > MAX_FN:
                        print(f"fn   {p}:{line} {name}: {length} lines")
                        over = True
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
