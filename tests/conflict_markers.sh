#!/bin/sh
# Fails when a merge left its conflict markers in a file of the project (it
# happened once, in docs/DESIGN.md, and nothing else would have noticed).
# Usage: tests/conflict_markers.sh SOURCE_DIR
set -u
root=${1:?usage: conflict_markers.sh SOURCE_DIR}
found=$(grep -rnE '^(<{7}|>{7})( |$)' "$root" \
  --exclude-dir=build --exclude-dir=.git --exclude-dir=corpus -I 2>/dev/null)
if [ -n "$found" ]; then
  echo "conflict markers left by a merge:"
  echo "$found"
  exit 1
fi
echo "conflict_markers: none"
