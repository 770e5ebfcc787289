#!/usr/bin/env bash
# Runs one fuzz target for a bounded time, from the committed seeds of
# tests/fuzz/corpus/TARGET (and, for the config loader, the configs of
# tests/data/ and config/), adding what it finds to a scratch corpus in the
# build dir that later runs start from. Exits non-zero if the target crashes,
# leaks, times out or breaks a property; the input that did it is left in
# BUILD/artifacts/ and the end of the target's log is printed.
# With --keep, the scratch corpus is then merged into tests/fuzz/corpus/TARGET
# (libFuzzer's -merge=1: only inputs that reach new code), to be committed.
# Usage: tests/fuzz/run_target.sh BUILD TARGET SECONDS [--keep]
# (tests/fuzz/smoke.sh runs every target; ctest -L fuzz in a fuzz build too.)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$1 target=$2 seconds=$3 keep=${4:-}
committed="tests/fuzz/corpus/$target"
seeds=("$committed")
[[ $target == parse_config ]] && seeds+=(tests/data/good tests/data/bad config)
mkdir -p "$committed" "$build/artifacts"
# New inputs go to the scratch corpus; the committed seeds are only read.
scratch="$build/corpus/$target"
log="$build/fuzz_$target.log"
mkdir -p "$scratch"
echo "== fuzz_$target for ${seconds}s"
if ! "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -dict="tests/fuzz/$target.dict" -artifact_prefix="$build/artifacts/$target-" \
    -print_final_stats=1 "$scratch" "${seeds[@]}" >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "fuzz_$target failed (input in $build/artifacts/)" >&2
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
if [[ $keep == --keep ]]; then
  before=$(find "$committed" -type f | wc -l)
  "$build/tests/fuzz/fuzz_$target" -merge=1 "$committed" "$scratch" >>"$log" 2>&1
  echo "fuzz_$target: corpus $before -> $(find "$committed" -type f | wc -l) inputs in $committed"
fi
