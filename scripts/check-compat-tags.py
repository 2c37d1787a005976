#!/usr/bin/env python3
"""Fails when a COMPAT tag in the repository cites a section docs/compat.md does not have.

Tags are written as docs/compat.md ("How the code cites this document") describes:
`COMPAT 5.8`, `COMPAT 7`, lists and ranges such as `COMPAT 1.3, 1.4, 2.2-2.4` or
`COMPAT 9.3/9.8` (a list may continue on the next comment line), and `COMPAT 0.25`, a
version tag that resolves to the version-differences section. Plain `COMPAT:` carries no
number and is not checked.

Usage: python3 scripts/check-compat-tags.py [repo root]   (exit 0: every tag resolves)
"""

import os
import re
import sys

SKIP_DIRS = {".git", "node_modules", "__pycache__"}
# generated inputs, not code: fuzz corpora hold mutated copies of commented sources
SKIP_PATHS = {os.path.join("tests", "fuzz", "corpus"), os.path.join("tests", "fuzz", "regressions")}
DOC = os.path.join("docs", "compat.md")

NUM = r"\d+(?:\.\d+)?(?![\w])"
# a separator inside a list: comma, slash or hyphen (range), possibly across a line break
# followed by a comment leader (" * ", "# ", "// ")
SEP = r"\s*[,/-]\s*(?:(?:\*|#|//)\s*)?"
TAG_RE = re.compile(r"\bCOMPAT\s+(%s(?:%s%s)*)" % (NUM, SEP, NUM))
ITEM_RE = re.compile(r"(%s)(?:\s*-\s*(?:(?:\*|#|//)\s*)?(%s))?" % (NUM, NUM))
HEAD2_RE = re.compile(r"^## (\d+)\. (.*)$", re.M)
HEAD3_RE = re.compile(r"^### (\d+\.\d+) (.*)$", re.M)


def sections(doc_text):
    """{number: title} of every numbered heading, and the title of the version section."""
    found = {}
    for m in HEAD2_RE.finditer(doc_text):
        found[m.group(1)] = m.group(2)
    for m in HEAD3_RE.finditer(doc_text):
        found[m.group(1)] = m.group(2)
    versions = next((t for n, t in found.items() if "." not in n and
                     t.startswith("Version differences")), None)
    return found, versions


def expand(first, last):
    """The sections a range first-last cites: every one in between when both share a
    top-level number, else just the two ends."""
    if last is None:
        return [first]
    a, b = first.split("."), last.split(".")
    if len(a) == 2 and len(b) == 2 and a[0] == b[0] and int(a[1]) <= int(b[1]):
        return ["%s.%d" % (a[0], i) for i in range(int(a[1]), int(b[1]) + 1)]
    return [first, last]


def tags_in(text):
    """(line, cited number) for each number cited by a tag in text."""
    for m in TAG_RE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        for item in ITEM_RE.finditer(m.group(1)):
            for n in expand(item.group(1), item.group(2)):
                yield line, n


def walk(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("build")
                         and os.path.relpath(os.path.join(d, x), root) not in SKIP_PATHS)
        for f in sorted(files):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if rel == DOC or os.path.getsize(p) > 4 << 20:
                continue
            try:
                with open(p, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
            except OSError:
                continue
            if "COMPAT" in text:
                yield rel, text


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    root = os.path.abspath(root)
    try:
        with open(os.path.join(root, DOC), encoding="utf-8") as fh:
            found, versions = sections(fh.read())
    except OSError as e:
        print("check-compat-tags: %s: %s" % (DOC, e))
        return 1
    if not found or versions is None:
        print("check-compat-tags: %s has no numbered sections or no 'Version differences' "
              "section" % DOC)
        return 1
    bad = []
    ntags = 0
    for rel, text in walk(root):
        for line, n in tags_in(text):
            ntags += 1
            if n.startswith("0."):
                if n not in versions:
                    bad.append("%s:%d: COMPAT %s: not a version the version-differences "
                               "section compares (%s)" % (rel, line, n, versions))
            elif n not in found:
                bad.append("%s:%d: COMPAT %s: no section %s in %s" % (rel, line, n, n, DOC))
    if ntags == 0:
        print("check-compat-tags: no COMPAT tags found under %s (wrong root?)" % root)
        return 1
    for b in bad:
        print(b)
    print("check-compat-tags: %d cited sections checked, %d unresolved" % (ntags, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
