#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer + ASan + UBSan) and runs each
# for a while, starting from the seeds committed in tests/fuzz/corpus/ (the
# config loader: from the configs of tests/data/ and config/). Exits non-zero if any target crashes, leaks, times out or
# breaks a round-trip property; the input that did it is left in
# $BUILD/artifacts/ and the target's log is printed.
# Usage: tests/fuzz/smoke.sh [SECONDS_PER_TARGET]   (default 30)
# A crash or hang the config fuzzer finds becomes a regression case in
# tests/data/ (bad/ with its expected message, or good/).
# Environment: FUZZ_BUILD_DIR (default build/fuzz).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
build=${FUZZ_BUILD_DIR:-build/fuzz}
targets=(parse_request parse_response parse_status_row parse_notify parse_config parse_args)
# Where each target's seeds are (read only).
declare -A seeds=(
  [parse_request]="tests/fuzz/corpus/parse_request"
  [parse_response]="tests/fuzz/corpus/parse_response"
  [parse_status_row]="tests/fuzz/corpus/parse_status_row"
  [parse_notify]="tests/fuzz/corpus/parse_notify"
  [parse_config]="tests/data/good tests/data/bad config"
  [parse_args]="tests/fuzz/corpus/parse_args"
)

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOSTER_FUZZ=ON -DFOSTER_TESTS=OFF -DFOSTER_STATIC=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

mkdir -p "$build/artifacts"
failed=()
for target in "${targets[@]}"; do
  # New inputs go to a scratch corpus in the build dir; the committed seeds are only read.
  corpus="$build/corpus/$target"
  log="$build/fuzz_$target.log"
  mkdir -p "$corpus"
  echo "== fuzz_$target for ${seconds}s"
  if "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=8192 -dict="tests/fuzz/$target.dict" -artifact_prefix="$build/artifacts/$target-" \
      -print_final_stats=1 "$corpus" ${seeds[$target]} >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  else
    tail -n 60 "$log"
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing failed: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no crash in ${targets[*]}"
