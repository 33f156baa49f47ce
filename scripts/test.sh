#!/usr/bin/env bash
# Installs what is missing, builds evasio and runs every test three times:
# a g++ build (-Werror, with the benchmark's ctests), an AddressSanitizer+UBSan
# build, and a clang++ ThreadSanitizer build, each in its own folder. Exits
# non-zero on any failure.
# EVASIO_QUICK=1 runs the first build only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-tests
jobs=$(nproc)

suite() {
  local dir=$1; shift
  echo "=== $dir: configure"
  cmake -S . -B "$dir" -DEVASIO_WERROR=ON -DEVASIO_REQUIRE_ORACLE=ON "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; return 1; }
  echo "=== $dir: build"
  cmake --build "$dir" -j"$jobs"
  echo "=== $dir: test"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 300)
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

# The plain build also builds bench/ and runs its two ctests: bench_smoke
# (every bench server and workload for ~1 s, every byte checked) and
# bench_syscalls_pingpong (evasio's system calls per round trip, strace).
suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVASIO_BUILD_BENCH=ON
if [ -z "${EVASIO_QUICK:-}" ]; then
  suite build-asan -DCMAKE_BUILD_TYPE=Debug -DEVASIO_SANITIZE=address
  # clang: ThreadSanitizer, and the libFuzzer targets' short runs (fuzz/).
  CC=clang CXX=clang++ suite build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVASIO_SANITIZE=thread \
    -DEVASIO_BUILD_FUZZ=ON
fi
echo "=== all suites passed"
