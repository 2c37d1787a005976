#!/usr/bin/env bash
# Functions the style avoids, in the server's sources (src/, include/):
# unbounded copies (strcpy, strcat, sprintf, vsprintf, gets), conversions that cannot report
# an error (atoi, atol, atoll, atof), and calls with hidden shared state (strtok, asctime,
# ctime, gmtime, localtime without _r, rand, tmpnam). Prints each use and fails if any.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|asctime|ctime|gmtime|localtime|rand|tmpnam'
# a banned name followed by "(", not preceded by an identifier character ("snprintf",
# "gmtime_r" and "my_atoi" are fine); comments and strings are not told apart, so none of
# these names may appear as a call in either
found=$(git ls-files 'src/*.c' 'src/*.h' 'src/*.cc' 'include/*.h' |
        xargs grep -nE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" || true)
if [ -n "$found" ]; then
  printf '%s\n' "$found"
  echo "check-style: functions the style avoids (use snprintf/memcpy, strtol with an end check, the _r variants)"
  exit 1
fi
echo "check-style: no avoided functions"
