#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer + ASan + UBSan) and runs each
# for a while through tests/fuzz/run_target.sh (committed seeds in
# tests/fuzz/corpus/, a scratch corpus in the build dir kept between runs).
# Exits non-zero if any target crashes, leaks, times out or breaks a
# round-trip property; the input that did it is left in $BUILD/artifacts/.
# --keep merges what the runs found into tests/fuzz/corpus/ (to commit).
# The same runs are ctest tests of the fuzz build (label `fuzz`, 10 s each
# unless configured with -DFOSTER_FUZZ_SECONDS=N): ctest --test-dir build/fuzz -L fuzz
# Usage: tests/fuzz/smoke.sh [SECONDS_PER_TARGET] [--keep]   (default 30)
# A crash or hang the config fuzzer finds becomes a regression case in
# tests/data/ (bad/ with its expected message, or good/).
# Environment: FUZZ_BUILD_DIR (default build/fuzz).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
keep=${2:-}
build=${FUZZ_BUILD_DIR:-build/fuzz}
targets=(parse_request parse_response parse_status_row parse_notify parse_config parse_syslog parse_log_line parse_args)

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOSTER_FUZZ=ON -DFOSTER_TESTS=OFF -DFOSTER_STATIC=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

failed=()
for target in "${targets[@]}"; do
  tests/fuzz/run_target.sh "$build" "$target" "$seconds" $keep || failed+=("$target")
done

if ((${#failed[@]})); then
  echo "fuzzing failed: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no crash in ${targets[*]}"
