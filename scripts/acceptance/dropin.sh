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
# Exit status: 0 when every step passed, 1 when one failed, 2 on bad usage.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checkout=$(cd "$here/../.." && pwd)
usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

all_args=("$@")
oracle=0 prefix="" work="" jobs=2 extra_configure="" test_cmd="" run_tests=1
while [ $# -gt 0 ]; do
  case $1 in
    --oracle) oracle=1 ;;
    --prefix) prefix=${2:?}; shift ;;
    --work) work=${2:?}; shift ;;
    --jobs) jobs=${2:?}; shift ;;
    --configure) extra_configure=${2?}; shift ;;
    --test) test_cmd=${2:?}; shift ;;
    --no-tests) run_tests=0 ;;
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
record() {  # record NAME RC SECONDS LOG
  local verdict=PASS
  [ "$2" -eq 0 ] || { verdict=FAIL; failed=1; }
  summary+=("$(printf '%-4s %-12s %5ss  %s' $verdict "$1" "$3" "$4")")
  echo "$verdict $1 ($3 s)"
  [ "$2" -eq 0 ] || show_failure "$4"
}
show_failure() {  # the compiler's and configure's errors first, else the log's end
  local errors
  errors=$(grep -E '(error|Error|undefined reference|configure: error)' "$1" | grep -v '^gcc\|^cc\|^g++' | head -n 30)
  echo "---- $1:"
  if [ -n "$errors" ]; then echo "$errors"; else tail -n 40 "$1"; fi
  [ ! -f config.log ] || [ "$(basename "$1")" != configure.log ] || { echo "---- end of config.log:"; tail -n 25 config.log; }
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
  for bin in "$@"; do
    [ -x "$bin" ] || { echo "FAIL $bin: not built"; rc=1; continue; }
    libs=$(needed "$bin")
    echo "$bin NEEDED: $(echo $libs)"
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
prog_test_summary() {  # the test runner's own closing lines (automake, ctest, prove, plain counts)
  grep -E '^(# (TOTAL|PASS|FAIL|SKIP|XFAIL|ERROR):|[0-9]+% tests passed|Result:|Files=|.*[0-9]+ passed, [0-9]+ failed)' "$1"
}
# shellcheck source=/dev/null
. "$hooks"

# ---- run
rm -rf "$work" && mkdir -p "$logs" || exit 1
echo "dropin: $program ($flavour), sources $source_tree, scratch $work"
if [ $oracle = 1 ]; then
  le_prefix=/usr
  record evasio 0 0 "(not used: --oracle builds against the system's libevent $(pkg-config --modversion libevent 2>/dev/null))"
elif [ -n "$prefix" ]; then
  le_prefix=$(cd "$prefix" && pwd) || exit 2
  record evasio 0 0 "(given install $le_prefix)"
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
fi
finish
