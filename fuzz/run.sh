#!/usr/bin/env bash
# Runs the libFuzzer targets of a `fuzz` preset build (fuzz/README.md).
#
#   fuzz/run.sh BUILD_DIR SECONDS [JOBS] [TARGET...]
#
# For each target (all of fuzz/targets/ when none is named):
#   1. every shipped input (fuzz/corpus/<target>/ and fuzz/regressions/<target>/)
#      runs once, as a regression test;
#   2. the target fuzzes for SECONDS seconds (with FUZZ_RUNS set: until FUZZ_RUNS
#      executions or SECONDS seconds, whichever comes first) from a working corpus in BUILD_DIR/corpus/<target>, which starts
#      as a copy of the shipped one and keeps what runs discover. FUZZ_SEED=N
#      fixes libFuzzer's random seed and starts from the shipped inputs alone
#      (BUILD_DIR/corpus-seeded/<target>), so with FUZZ_RUNS the run tries the
#      same inputs in the same order on every machine (a slower one stops at
#      SECONDS, a prefix of them); unset, each run differs.
# Inputs in fuzz/known-defects/<target>/ reproduce a defect that is not fixed
# yet: each runs once with WAL_FUZZ_KNOWN_DEFECTS=1 and must still fail (the
# target skips that class of input otherwise); one that passes fails the run, so
# whoever fixes the defect moves it to regressions/ and removes the skip.
# An input gets FUZZ_TIMEOUT seconds of wall time (default 10; raise it for long
# runs on a machine that is also building, fuzz/README.md#timeouts).
# JOBS targets run at once (default 1). A crash, a leak, a timeout or a violated
# property leaves its input in BUILD_DIR/artifacts/<target>/ and makes the script
# exit 1 once every target has run. BUILD_DIR/fuzz-stats.txt gets one line per
# target: executions, seconds, executions per second, artifacts.
set -uo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,16p' "$0" >&2
  exit 2
fi
build_dir="$(cd "$1" && pwd)"
seconds="$2"
jobs="${3:-1}"
shift $(($# < 3 ? $# : 3))
source_dir="$(cd "$(dirname "$0")" && pwd)"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for file in "$source_dir"/targets/*_fuzzer.cc; do targets+=("$(basename "$file" .cc)"); done
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run_one() {
  local target="$1"
  local binary="$build_dir/fuzz/$target"
  local corpus="$build_dir/corpus/$target"
  # A fixed seed reproduces a run only from the same starting corpus, so a
  # seeded run starts from the shipped inputs alone, in a corpus of its own.
  if [ -n "${FUZZ_SEED:-}" ]; then
    corpus="$build_dir/corpus-seeded/$target"
    rm -rf "$corpus"
  fi
  local artifacts="$build_dir/artifacts/$target"
  local log="$build_dir/logs/$target.log"
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  if [ ! -x "$binary" ]; then
    echo "fuzz: $target: $binary is missing (cmake --build --preset fuzz)" >&2
    return 1
  fi
  local shipped=()
  for dir in "$source_dir/corpus/$target" "$source_dir/regressions/$target"; do
    [ -d "$dir" ] && while IFS= read -r -d '' file; do shipped+=("$file"); done < <(find "$dir" -type f -print0 | sort -z)
  done
  local failed=0
  if [ ${#shipped[@]} -gt 0 ]; then
    if ! "$binary" -artifact_prefix="$artifacts/" "${shipped[@]}" >"$log.regression" 2>&1; then
      echo "fuzz: $target: a shipped input fails; see $log.regression" >&2
      tail -n 30 "$log.regression" >&2
      failed=1
    fi
    cp -n "${shipped[@]}" "$corpus"/ 2>/dev/null || true
  fi
  if [ -d "$source_dir/known-defects/$target" ]; then
    local known
    mkdir -p "$build_dir/known-defects/$target"
    while IFS= read -r -d '' known; do
      if WAL_FUZZ_KNOWN_DEFECTS=1 "$binary" -artifact_prefix="$build_dir/known-defects/$target/" "$known" >"$log.known" 2>&1; then
        echo "fuzz: $target: known defect $(basename "$known") no longer reproduces:" \
          "move it to fuzz/regressions/$target/ and remove its skip in the target" >&2
        failed=1
      else
        echo "fuzz: $target: known defect $(basename "$known") still reproduces (not fixed yet)"
      fi
    done < <(find "$source_dir/known-defects/$target" -type f -print0 | sort -z)
  fi
  local budget=(-max_total_time="$seconds")
  # The targets that drive the live engine answer an input from its commit
  # thread, which finishes that batch (and frees it) after the input returns.
  # libFuzzer's per-input leak check then stops the world mid-batch and reports
  # buffers that a live thread still owns (a 72-byte commit batch, freed a
  # moment later; a run with the same seed and only the check at exit reports
  # nothing). For these, leaks are checked once at exit, when LeakSanitizer
  # still reports every block nothing points to (fuzz/README.md#leaks).
  case "$target" in
    grpc_request_fuzzer | http_request_fuzzer) budget+=(-detect_leaks=0) ;;
  esac
  [ -n "${FUZZ_RUNS:-}" ] && budget+=(-runs="$FUZZ_RUNS")
  [ -n "${FUZZ_SEED:-}" ] && budget+=(-seed="$FUZZ_SEED")
  local started=$SECONDS
  "$binary" "${budget[@]}" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
  local status=$?
  local elapsed=$((SECONDS - started))
  local executions
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  local found
  found=$(find "$artifacts" -type f | wc -l)
  local rate="?"
  [ -n "$executions" ] && [ "$elapsed" -gt 0 ] && rate=$((executions / elapsed))
  echo "$(date -u +%FT%TZ) $target executions=${executions:-?} seconds=$elapsed exec_per_s=$rate artifacts=$found" \
    >>"$build_dir/fuzz-stats.txt"
  if [ $status -ne 0 ] || [ "$found" -gt 0 ]; then
    echo "fuzz: $target: found a problem (exit $status); inputs in $artifacts, log $log" >&2
    grep -m 5 -E "ERROR|SUMMARY|fuzz property violated|runtime error" "$log" >&2
    echo "fuzz: reproduce with: $binary $artifacts/<file>" >&2
    failed=1
  else
    echo "fuzz: $target: ${executions:-?} executions in ${elapsed}s ($rate/s), no crash"
  fi
  return $failed
}
export -f run_one
export build_dir seconds source_dir

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} || exit 1
