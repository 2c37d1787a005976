#!/usr/bin/env bash
# Functions the style avoids, in the server's sources (src/, include/): unbounded copies
# (strcpy, strcat, sprintf, vsprintf, gets), conversions that cannot report an error (atoi,
# atol, atoll, atof), and calls with hidden shared state (strtok, asctime, ctime, gmtime,
# localtime without _r, rand, tmpnam). Comments and string literals are skipped. Prints each
# use and fails if any.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files 'src/*.c' 'src/*.h' 'src/*.cc' 'include/*.h' | python3 -c '
import re, sys
banned = r"strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|asctime|ctime|gmtime|localtime|rand|tmpnam"
call = re.compile(r"(?<![A-Za-z0-9_])(%s)\s*\(" % banned)
# comments and literals, replaced by spaces so that line numbers stay
strip = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|\x27(?:\\.|[^\x27\\\n])*\x27", re.S)
found = 0
for path in sys.stdin.read().split():
    text = open(path, encoding="utf-8", errors="replace").read()
    code = strip.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for no, line in enumerate(code.split("\n"), 1):
        for m in call.finditer(line):
            print("%s:%d: %s" % (path, no, text.split("\n")[no - 1].strip()))
            found += 1
if found:
    print("check-style: functions the style avoids (use snprintf/memcpy, strtol with an end "
          "check, the _r variants)")
    sys.exit(1)
print("check-style: no avoided functions")
'
