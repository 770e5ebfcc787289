#!/bin/sh
# Fails when groff (-ww: every warning) or mandoc (-T lint -W warning) has
# anything to say about one of the man pages given.
# mandoc's "skipping paragraph macro" is the one warning let through: scdoc
# opens every paragraph with .P, also right after .SH and before .TP, and
# mandoc points out that it drops those redundant .P; groff, man and lintian
# take them silently. Every other warning fails.
# Usage: tests/man_lint.sh PAGE...
set -u
status=0
[ $# -gt 0 ] || { echo "man_lint: no pages given" >&2; exit 2; }
command -v groff >/dev/null || { echo "man_lint: groff is missing (apt-get install groff-base)" >&2; exit 2; }
for page in "$@"; do
  [ -s "$page" ] || { echo "man_lint: $page is missing or empty" >&2; status=1; continue; }
  out=$(groff -ww -z -man "$page" 2>&1)
  if [ -n "$out" ]; then echo "$out"; status=1; fi
  if command -v mandoc >/dev/null; then
    out=$(mandoc -T lint -W warning "$page" 2>&1 | grep -v 'WARNING: skipping paragraph macro')
    if [ -n "$out" ]; then echo "$out"; status=1; fi
  fi
done
[ $status -eq 0 ] && echo "man_lint: $# pages clean"
exit $status
