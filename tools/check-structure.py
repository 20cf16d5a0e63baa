#!/usr/bin/env python3
"""Checks the shape of src/: no source file is longer than MAX_LINES (a longer
one holds two concepts), and the include graph follows the layers
docs/ARCHITECTURE.md draws: no file of a directory includes a header of a directory it may not
use, and no module calls back into a module that calls it, directly or
through others. A module is a .c file with the .h of the same path; it calls
what its .c includes (a header including a header only borrows types, so
interfaces such as db/driver.h and blob/backend.h are not calls). Prints each
violation; exit 1 if any."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# What each directory may include besides itself. Top-level files (main.c,
# config.c, secret.c) wire everything together and may include anything.
ALLOWED = {
    "util": set(),
    "db": {"util"},
    "telegram": {"util"},
    "blob": {"telegram", "util"},
    "fetch": {"util"},
    "drive": {"db", "blob", "fetch", "util"},
    "http": {"util"},
    "api": {"http", "drive", "util"},
    "dav": {"http", "drive", "util", "api"},
}

MAX_LINES = 600

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules(root):
    """({module: included modules}, {module: modules its .c includes})."""
    graph, calls = {}, {}
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root)
            mod = os.path.splitext(rel)[0]
            text = open(path, encoding="utf-8", errors="replace").read()
            deps = graph.setdefault(mod, set())
            called = calls.setdefault(mod, set())
            for inc in INCLUDE.findall(text):
                dep = os.path.splitext(inc)[0]
                if dep != mod:
                    deps.add(dep)
                    if f.endswith(".c"):
                        called.add(dep)
    return graph, calls


def layer(mod):
    return mod.split("/")[0] if "/" in mod else None


def check(root=ROOT):
    graph, calls = modules(root)
    errors = []
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                path = os.path.join(d, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    n = sum(1 for _ in fh)
                if n > MAX_LINES:
                    errors.append(f"{os.path.relpath(path, root)}: {n} lines (over {MAX_LINES})")
    for mod, deps in sorted(graph.items()):
        top = layer(mod)
        if top is None:
            continue
        for dep in sorted(deps):
            dl = layer(dep)
            if dl is None:
                errors.append(f"{mod} includes top-level {dep}")
            elif dl != top and dl not in ALLOWED.get(top, set()):
                errors.append(f"{mod} ({top}/) may not include {dep} ({dl}/)")
    # Cycles: depth-first search over modules that exist in the tree.
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(calls.get(m, ())):
            if d not in calls:
                continue
            if state.get(d) == 1:
                cyc = stack[stack.index(d):] + [d]
                errors.append("circular: " + " -> ".join(cyc))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(calls):
        if m not in state:
            visit(m)
    return errors


if __name__ == "__main__":
    errs = check()
    for e in errs:
        print(e)
    print(f"structure: {len(errs)} violation(s)")
    sys.exit(1 if errs else 0)
