#!/usr/bin/env bash
# The C sources must be as clang-format 14 (Debian 12's, pinned: other versions lay out some
# constructs differently) formats them with .clang-format. Prints the files that differ and
# fails; `scripts/check-format.sh --fix` rewrites them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=clang-format-14
command -v "$fmt" >/dev/null || { echo "check-format: $fmt not found (apt-get install clang-format-14)"; exit 1; }
mapfile -t files < <(git ls-files 'src/*.c' 'src/*.h' 'src/*.cc' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h' 'tests/fuzz/*.c')
if [ "${1:-}" = "--fix" ]; then
  "$fmt" -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$fmt" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf '%s\n' "${bad[@]}"
  echo "check-format: ${#bad[@]} files are not as $fmt formats them (scripts/check-format.sh --fix)"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
