#!/usr/bin/env python3
"""The module include graph of src/ and include/ar/, and its loops.

A module is a .c file of src/ with its header of the same name (src/foo.c + include/ar/foo.h
or src/foo.h); a module uses another when one of its files includes the other's header.
Prints each loop (a strongly connected set of two or more modules: each reaches every other
by includes) with the includes that close it, then the module count, the loop count and
the modules in loops. With --check, exits 1 when a loop exists.

    python3 scripts/include-graph.py [--check] [--rev REV]

--rev reads the tree of a git revision instead of the working tree (for a before/after)."""
import argparse
import os
import re
import subprocess
import sys

INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def files_at(rev):
    """{path: text} of src/ and include/ar/ at rev (None: the working tree)."""
    out = {}
    if rev is None:
        for d in ("src", "src/util", "include/ar"):
            for name in sorted(os.listdir(d)):
                if name.endswith((".c", ".h", ".cc")):
                    with open(os.path.join(d, name), encoding="utf-8", errors="replace") as f:
                        out[os.path.join(d, name)] = f.read()
        return out
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "src", "include/ar"],
                           check=True, stdout=subprocess.PIPE, text=True).stdout.split()
    for p in names:
        if p.endswith((".c", ".h", ".cc")) and p.count("/") <= 2:
            out[p] = subprocess.run(["git", "show", "%s:%s" % (rev, p)], check=True,
                                    stdout=subprocess.PIPE, text=True,
                                    errors="replace").stdout
    return out


def module_of(path):
    base = os.path.basename(path)
    return os.path.splitext(base)[0]


def graph(files):
    mods = {module_of(p) for p in files if p.endswith((".c", ".cc"))}
    edges = {}
    for p, text in files.items():
        m = module_of(p)
        if m not in mods:
            continue
        for inc in INC.findall(text):
            t = module_of(inc)
            if t in mods and t != m:
                edges.setdefault(m, {}).setdefault(t, set()).add(p)
    return mods, edges


def loops(mods, edges):
    """Tarjan's strongly connected components with two or more modules."""
    index, low, on, stack, out, n = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(mods):
        if v not in index:
            visit(v)
    return sorted(out, key=lambda c: (-len(c), c))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--rev")
    a = ap.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    mods, edges = graph(files_at(a.rev))
    found = loops(mods, edges)
    for comp in found:
        print("loop of %d modules: %s" % (len(comp), " ".join(comp)))
        for m in comp:
            for t in sorted(edges.get(m, {})):
                if t in comp:
                    print("    %s -> %s" % (m, t))
    inloops = sum(len(c) for c in found)
    print("%d modules, %d loops, %d modules in loops" % (len(mods), len(found), inloops))
    return 1 if a.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
