#!/usr/bin/env bash
# dropin.sh: build an unmodified libevent program against evasio, as a user
# would, and run the program's own tests. See scripts/acceptance/README.md.
#
# Usage: scripts/acceptance/dropin.sh [options] PROGRAM SOURCE_TREE
#   PROGRAM      memcached | tmux | generic (scripts/acceptance/programs/*.sh)
#   SOURCE_TREE  the program's sources (a release tarball's tree or a git checkout);
#                it is copied, never written to
# Options:
#   --oracle         build against the system's real libevent instead, for comparison
#   --prefix DIR     use the evasio already installed in DIR (do not build this checkout)
#   --work DIR       scratch directory (default /tmp/evasio-dropin/PROGRAM[-oracle]); emptied first
#   --jobs N         make -jN (default 2)
#   --configure ARGS extra arguments for the program's configure
#   --test CMD       (generic) the test command, run in the build tree (default: make check)
#   --no-tests       stop after the build and the linkage check
#   --against DIR    compare the tests' results with those of an --oracle run's scratch
#                    DIR: the run fails only where a test passes there and not here
# Environment: WITHOUT_LIBEVENT (the hiding tool; default ../shared/tools/without-libevent
#   beside the checkout), MEMCACHED_PARALLEL=N (prove -j N), DROPIN_TMUX_TRIES=N (tries of a
#   failing tmux regress script, default 2), DROPIN_BINARIES (generic: what the linkage checks).
# Exit status: 0 when every step passed, 1 when one failed, 2 on bad usage.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checkout=$(cd "$here/../.." && pwd)
usage() { sed -n '2,/^[^#]/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

all_args=("$@")
oracle=0 against="" prefix="" work="" jobs=2 extra_configure="" test_cmd="" run_tests=1
while [ $# -gt 0 ]; do
  case $1 in
    --oracle) oracle=1 ;;
    --prefix) prefix=${2:?}; shift ;;
    --work) work=${2:?}; shift ;;
    --jobs) jobs=${2:?}; shift ;;
    --configure) extra_configure=${2?}; shift ;;
    --test) test_cmd=${2:?}; shift ;;
    --no-tests) run_tests=0 ;;
    --against) against=$(cd "${2:?}" && pwd) || exit 2; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 2 ] || usage
program=$1
source_tree=$(cd "$2" 2>/dev/null && pwd) || { echo "no source tree at $2" >&2; exit 2; }
hooks=$here/programs/$program.sh
[ -f "$hooks" ] || { echo "unknown program '$program' (have: $(ls "$here/programs" | sed 's/\.sh$//' | tr '\n' ' '))" >&2; exit 2; }
flavour=$([ $oracle = 1 ] && echo oracle || echo evasio)
work=${work:-/tmp/evasio-dropin/$program$([ $oracle = 1 ] && echo -oracle)}
hide_tool=${WITHOUT_LIBEVENT:-$checkout/../shared/tools/without-libevent}

# Against evasio, everything from here on runs with the system's libevent
# hidden (headers, link names, .pc files; the tool's private mount namespace),
# so that whatever a build finds is evasio's or nothing.
if [ $oracle = 0 ] && [ -z "${WITHOUT_LIBEVENT_INNER:-}" ]; then
  [ -x "$hide_tool" ] || { echo "FAIL: no without-libevent tool at $hide_tool (set WITHOUT_LIBEVENT)" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "FAIL: without-libevent needs root (a private mount namespace)" >&2; exit 1; }
  exec "$hide_tool" "${BASH_SOURCE[0]}" "${all_args[@]}"
fi

# ---- steps: each prints one PASS/FAIL line with its duration and keeps its log
declare -a summary=()
failed=0
logs=$work/logs
step() {  # step NAME CMD...: run CMD with its output in logs/NAME.log
  local name=$1; shift
  local log=$logs/$name.log t0=$SECONDS rc
  echo "==> $name"
  "$@" >"$log" 2>&1
  rc=$?
  record "$name" $rc $((SECONDS - t0)) "$log"
  return $rc
}
record() {  # record NAME RC SECONDS LOG (RC "skip": the step does not apply)
  local verdict=PASS
  [ "$2" = skip ] && verdict=SKIP
  [ "$2" = skip ] || [ "$2" -eq 0 ] || { verdict=FAIL; failed=1; }
  summary+=("$(printf '%-4s %-12s %5ss  %s' $verdict "$1" "$3" "$4")")
  echo "$verdict $1 ($3 s)"
  [ $verdict != FAIL ] || show_failure "$4"
}
show_failure() {  # the compiler's and configure's errors first, else the log's end
  local errors=""
  case $(basename "$1") in
    bootstrap.log|configure.log|build.log)
      errors=$(grep -E 'error|Error|undefined reference' "$1" | grep -vE '^(gcc|cc|g\+\+) ' | head -n 30) ;;
  esac
  echo "---- $1:"
  if [ -n "$errors" ]; then echo "$errors"; else tail -n 40 "$1"; fi
  if [ -f config.log ] && [ "$(basename "$1")" = configure.log ]; then
    echo "---- the last errors in config.log:"; grep -E 'error|undefined reference' config.log | tail -n 8
  fi
  echo "----"
}
finish() {
  echo
  echo "==== dropin $program ($flavour) from $source_tree"
  printf '%s\n' "${summary[@]}"
  [ -z "${test_summary:-}" ] || { echo "---- the tests' own summary:"; echo "$test_summary"; }
  if [ $failed = 0 ]; then echo "RESULT: PASS"; exit 0; fi
  echo "RESULT: FAIL"; exit 1
}

# ---- evasio, built from this checkout and installed into a private prefix
build_evasio() {
  cmake -S "$checkout" -B "$work/evasio-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DEVASIO_BUILD_TESTS=OFF -DEVASIO_BUILD_SAMPLES=OFF &&
  cmake --build "$work/evasio-build" -j"$jobs" &&
  cmake --install "$work/evasio-build" --prefix "$work/prefix"
}
check_hiding() {  # the system's libevent is out of sight of the build
  local rc=0
  pkg-config --exists libevent && { echo "the system's libevent.pc is visible"; rc=1; }
  grep -qs event_base_new /usr/include/event2/event.h && { echo "/usr/include/event2/event.h is visible"; rc=1; }
  echo 'int main(void){return 0;}' >"$work/hide.c"
  cc "$work/hide.c" -o "$work/hide" -levent 2>/dev/null && { echo "-levent links the system's libevent"; rc=1; }
  [ $rc = 0 ] && echo "system libevent hidden: no libevent.pc, no event2/event.h, -levent does not link"
  return $rc
}

# ---- the linkage check: the program must depend on the library it was built for
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
check_linkage() {  # check_linkage BINARY...
  local bin rc=0 libs
  [ $# -gt 0 ] || { echo "FAIL no binary to check (a generic build: set DROPIN_BINARIES)"; return 1; }
  for bin in "$@"; do
    [ -x "$bin" ] || { echo "FAIL $bin: not built"; rc=1; continue; }
    libs=$(needed "$bin")
    echo "$bin NEEDED: ${libs//$'\n'/ }"
    echo "$bin ldd:"; ldd "$bin" | grep -E 'libevent|libevasio' | sed 's/^/    /'
    if [ $oracle = 1 ]; then
      echo "$libs" | grep -q '^libevent' || { echo "FAIL $bin does not link a libevent"; rc=1; }
      echo "$libs" | grep -q '^libevasio' && { echo "FAIL $bin links libevasio"; rc=1; }
    else
      echo "$libs" | grep -qx 'libevasio\.so\.0' || { echo "FAIL $bin does not link libevasio.so.0"; rc=1; }
      echo "$libs" | grep -q '^libevent' && { echo "FAIL $bin links a libevent"; rc=1; }
      ldd "$bin" | grep -q "libevasio\.so\.0 => $(cd "$le_prefix/lib" && pwd -P)/" ||
        ldd "$bin" | grep -q "libevasio\.so\.0 => $le_prefix/lib/" ||
        { echo "FAIL $bin does not load libevasio from $le_prefix/lib"; rc=1; }
      ldd "$bin" | grep -q 'libevent' && { echo "FAIL $bin loads a libevent"; rc=1; }
    fi
  done
  [ $rc = 0 ] && echo "linkage as expected ($flavour)"
  return $rc
}

# ---- defaults for the hooks; a programs/NAME.sh overrides what it needs
default_bootstrap() {  # a git tree has no configure: generate it as its docs say
  if [ -x configure ] || [ -f configure ]; then echo "configure present"; return 0; fi
  if [ -f autogen.sh ]; then sh ./autogen.sh
  elif [ -f bootstrap ]; then sh ./bootstrap
  elif [ -f configure.ac ] || [ -f configure.in ]; then autoreconf -fi
  else echo "no configure, autogen.sh or configure.ac: nothing to bootstrap"; fi
}
prog_bootstrap() { default_bootstrap; }
prog_configure() { echo "no configure step"; }
prog_build() { make -j"$jobs"; }
prog_binaries() { :; }
prog_test() { echo "no tests defined for $program"; }
prog_test_results() { :; }  # one "NAME PASS|FAIL|SKIP" line per test, for --against
prog_test_summary() {  # the test runner's own closing lines (automake, ctest, prove, plain counts)
  grep -E '^(# (TOTAL|PASS|FAIL|SKIP|XFAIL|ERROR):|[0-9]+% tests passed|Result:|Files=|.*[0-9]+ passed, [0-9]+ failed)' "$1"
}
# shellcheck source=/dev/null
. "$hooks"

# ---- --against: the verdicts beside real libevent's
counts() { echo "$(grep -c ' PASS$' "$1") passed, $(grep -c ' FAIL$' "$1") failed, $(grep -c ' SKIP$' "$1") skipped"; }
# compare_results ORACLE_RESULTS: every test that passes with real libevent passes here
compare_results() {
  local name verdict theirs missing rc=0
  [ -s "$1" ] || { echo "no results in $1"; return 1; }
  while read -r name verdict; do
    theirs=$(awk -v n="$name" '$1 == n { print $2 }' "$1")
    case "$theirs/$verdict" in
      PASS/PASS|SKIP/SKIP) ;;
      PASS/*) echo "REGRESSION $name: $verdict here, PASS with libevent"; rc=1 ;;
      /*) echo "NEW $name: $verdict here, not run with libevent" ;;
      *) echo "AS-ORACLE $name: $verdict here, $theirs with libevent" ;;
    esac
  done <"$work/results.txt"
  missing=$(awk '{ print $1 }' "$work/results.txt" | sort | comm -13 - <(awk '$2 == "PASS" { print $1 }' "$1" | sort))
  if [ -n "$missing" ]; then
    echo "$missing" | sed 's/^/REGRESSION /; s/$/: not run here, PASS with libevent/'; rc=1
  fi
  echo "here: $(counts "$work/results.txt"); with libevent: $(counts "$1")"
  return $rc
}

# ---- run (one function, read whole before it starts: the script may be edited while it runs)
main() {
  rm -rf "$work" && mkdir -p "$logs" || exit 1
  echo "dropin: $program ($flavour), sources $source_tree, scratch $work"
  if [ $oracle = 1 ]; then
    le_prefix=/usr
    record evasio skip 0 "(not used: --oracle builds against the system's libevent $(pkg-config --modversion libevent 2>/dev/null))"
  elif [ -n "$prefix" ]; then
    le_prefix=$(cd "$prefix" && pwd) || exit 2
    record evasio skip 0 "(not built: the install given, $le_prefix)"
  else
    le_prefix=$work/prefix
    step evasio build_evasio || finish
  fi
  [ $oracle = 1 ] || step hiding check_hiding || finish

  step copy cp -a "$source_tree" "$work/src" || finish
  cd "$work/src" || exit 1
  step bootstrap prog_bootstrap || finish
  step configure prog_configure || finish
  step build prog_build || finish
  step linkage check_linkage $(prog_binaries) || finish
  if [ $run_tests = 1 ]; then
    step test prog_test
    test_summary=$(prog_test_summary "$logs/test.log")
    prog_test_results "$logs/test.log" >"$work/results.txt"
    [ -z "$against" ] || step as-oracle compare_results "$against/results.txt"
  fi
  finish
}
main
