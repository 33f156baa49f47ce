#!/usr/bin/env bash
# run.sh: build libevent 2.1.12's own regression suite (LIBEVENT_SRC/test, unmodified)
# against evasio, with our shim for libevent's internal headers, and run every case.
# See scripts/acceptance/libevent-regress/README.md.
#
# Usage: scripts/acceptance/libevent-regress/run.sh LIBEVENT_SRC [options]
#   LIBEVENT_SRC     libevent 2.1.12's source tree (git archive release-2.1.12-stable,
#                    apt-get source libevent); only its test/ is read, and copied
# Options:
#   --oracle         build the same sources and shim against the system's real libevent
#   --prefix DIR     use the evasio already installed in DIR (do not build this checkout)
#   --work DIR       scratch directory (default /tmp/evasio-regress[-oracle]); emptied first
#   --jobs N         build jobs (default 2)
#   --timeout SEC    per case: tinytest's own --timeout (alarm), and a hard kill SEC+30 s
#                    later (default 30, tinytest's own default)
#   --only CASE      run only CASE (group/case, or a prefix ending in '..' as tinytest
#                    takes it); repeatable; the other cases are left out of results.txt
#   --against DIR    compare with an --oracle run's scratch DIR: print the cases that
#                    pass with libevent and not here (and fail if there is one)
# Writes WORK/results.txt: one "group/case PASS|FAIL|SKIP|NOBUILD" line per case, and
# WORK/reasons.txt: the same cases with the reason for each non-PASS verdict (the first
# failed assertion, the refusing shim entry, the file not built).
# Environment: WITHOUT_LIBEVENT (the hiding tool; default ../shared/tools/without-libevent
#   beside the checkout).
# Exit status: 0 when every step passed (a failing case is not a failed step, except with
#   --against), 1 when one failed, 2 on bad usage.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checkout=$(cd "$here/../../.." && pwd)
usage() { sed -n '2,/^[^#]/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

all_args=("$@")
oracle=0 against="" prefix="" work="" jobs=2 case_timeout=30 src=""
declare -a only=()
while [ $# -gt 0 ]; do
  case $1 in
    --oracle) oracle=1 ;;
    --prefix) prefix=${2:?}; shift ;;
    --work) work=${2:?}; shift ;;
    --jobs) jobs=${2:?}; shift ;;
    --timeout) case_timeout=${2:?}; shift ;;
    --only) only+=("${2:?}"); shift ;;
    --against) against=$(cd "${2:?}" && pwd) || exit 2; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [ -z "$src" ] || usage; src=$1 ;;
  esac
  shift
done
[ -n "$src" ] || usage
src=$(cd "$src" 2>/dev/null && pwd) || { echo "no source tree at $src" >&2; exit 2; }
[ -f "$src/test/regress_main.c" ] && [ -f "$src/test/tinytest.c" ] ||
  { echo "$src has no test/regress_main.c: not a libevent source tree" >&2; exit 2; }
flavour=$([ $oracle = 1 ] && echo oracle || echo evasio)
work=${work:-/tmp/evasio-regress$([ $oracle = 1 ] && echo -oracle)}
hide_tool=${WITHOUT_LIBEVENT:-$checkout/../shared/tools/without-libevent}

# Against evasio, everything runs with the system's libevent hidden (the tool's
# private mount namespace), so that the build finds evasio's headers or nothing.
if [ $oracle = 0 ] && [ -z "${WITHOUT_LIBEVENT_INNER:-}" ]; then
  [ -x "$hide_tool" ] || { echo "FAIL: no without-libevent tool at $hide_tool (set WITHOUT_LIBEVENT)" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "FAIL: without-libevent needs root (a private mount namespace)" >&2; exit 1; }
  exec "$hide_tool" bash "$here/$(basename "${BASH_SOURCE[0]}")" "${all_args[@]}"
fi

# ---- what is built, and what is not (with the reason, printed into the results)
# libevent's test files built as they are, plus our shim's two files.
built_files="regress.c regress_bufferevent.c regress_dns.c regress_et.c regress_finalize.c regress_listener.c
  regress_main.c regress_testutils.c regress_thread.c regress_util.c regress_zlib.c tinytest.c"
# TLS (ssl/, regress_ssl.c) when the library under test has it: the system's
# libevent_openssl, or evasio's libevent_openssl (a link to libevasio_openssl,
# not the refusal a build without OpenSSL installs).
has_ssl() {
  if [ $oracle = 1 ]; then pkg-config --exists libevent_openssl
  else readlink "$le_prefix/lib/libevent_openssl.so" 2>/dev/null | grep -q evasio_openssl; fi
}
# group file reason: the files left out; their cases are read from the file's table.
not_built() {
  cat <<'EOF'
evbuffer/ regress_buffer.c uses public evbuffer functions evasio does not provide (evbuffer_add_cb and the callback flags, evbuffer_add_file and file segments, evbuffer_add_iovec, evbuffer_copyout_from, evbuffer_prepend_buffer, evbuffer_set_flags, evbuffer_add_buffer_reference), and its evbuffer_validate_() reads libevent's private struct evbuffer and evbuffer_chain in almost every case
heap/ regress_minheap.c tests libevent's internal min-heap (minheap-internal.h), not the API
http/ regress_http.c needs evhttp (event2/http.h), which evasio does not provide
rpc/ regress_rpc.c needs evrpc (event2/rpc.h) and event_rpcgen.py's output, which evasio does not provide
EOF
  has_ssl || echo "ssl/ regress_ssl.c needs bufferevent_openssl (event2/bufferevent_ssl.h), which this build does not have"
}

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
  summary+=("$(printf '%-4s %-10s %5ss  %s' $verdict "$1" "$3" "$4")")
  echo "$verdict $1 ($3 s)"
  if [ $verdict = FAIL ] && [ "$1" != against ]; then  # (against: its log is printed whole)
    echo "---- $4:"
    { grep -E 'error|undefined reference' "$4" | head -n 30; } || tail -n 30 "$4"
    echo "----"
  fi
}
counts() {
  local v out=""
  for v in PASS FAIL SKIP NOBUILD; do out+="$(grep -c " $v\$" "$1") $v, "; done
  echo "$(wc -l <"$1") cases: ${out%, }"
}
finish() {
  echo
  echo "==== libevent-regress ($flavour) from $src"
  printf '%s\n' "${summary[@]}"
  [ -s "$work/results.txt" ] && echo "---- results: $(counts "$work/results.txt") ($work/results.txt)"
  if [ $failed = 0 ]; then echo "RESULT: PASS"; exit 0; fi
  echo "RESULT: FAIL"; exit 1
}

# ---- evasio, built from this checkout and installed into a private prefix (as dropin.sh)
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

# ---- the copy: libevent's test directory as it is, our shim beside it
#   WORK/src/test/   LIBEVENT_SRC/test/*.c *.h (never modified)
#   WORK/src/        the shim: libevent's internal header names, shim.h, shim.c, groups.c,
#                    and regress.gen.h (a placeholder)
# "../util-internal.h" from test/ and "util-internal.h" through -IWORK/src both find the shim.
copy_sources() {
  mkdir -p "$work/src/test" &&
  cp "$src"/test/*.c "$src"/test/*.h "$work/src/test/" &&
  cp -r "$here/shim/." "$work/src/" &&
  # nothing of libevent's internals may be taken: the shim is all there is
  for h in "$src"/*-internal.h; do
    [ -e "$work/src/$(basename "$h")" ] || echo "(libevent's $(basename "$h") has no shim counterpart: a test including it will not compile)"
  done
  ls -l "$work/src"
}

cflags() {
  echo "-g -O1 -Wall -Wno-unused-function -Wno-unused-variable -Wno-unused-but-set-variable"
  echo "-Werror=implicit-function-declaration -DTINYTEST_LOCAL -DEVENT__HAVE_LIBZ"
  echo "-I$work/src -I$work/src/test"
  has_ssl && echo "-DEVENT__HAVE_OPENSSL"
  [ $oracle = 1 ] && pkg-config --cflags libevent libevent_pthreads
  [ $oracle = 1 ] || echo "-I$le_prefix/include"
}
libs() {
  if [ $oracle = 1 ]; then pkg-config --libs libevent libevent_pthreads
  else echo "-L$le_prefix/lib -Wl,-rpath,$le_prefix/lib -levent -levent_pthreads"; fi
  has_ssl && echo "-levent_openssl -lssl -lcrypto"
  echo "-lz -lpthread"
}
compile_one() {  # compile_one FILE: FILE.o and FILE.d (the headers it read) in WORK/obj
  local f=$1 o
  o=$work/obj/$(basename "${1%.c}")
  # shellcheck disable=SC2046
  cc $(cflags) -MD -MF "$o.d" -c "$f" -o "$o.o" >"$o.log" 2>&1
  local rc=$?
  cat "$o.log"
  [ $rc = 0 ] && echo "built $(basename "$f")" || echo "FAILED $(basename "$f")"
  return $rc
}
build_regress() {
  local f rc=0
  mkdir -p "$work/obj"
  export -f compile_one cflags has_ssl; export work oracle le_prefix
  for f in $built_files; do echo "$work/src/test/$f"; done >"$work/obj/files"
  if has_ssl; then echo "$work/src/test/regress_ssl.c" >>"$work/obj/files"; fi
  printf '%s\n' "$work/src/shim.c" "$work/src/groups.c" >>"$work/obj/files"
  xargs -P "$jobs" -I{} bash -c 'compile_one "$1"' _ {} <"$work/obj/files" || rc=1
  [ $rc = 0 ] || return 1
  # shellcheck disable=SC2046
  cc -o "$work/regress" "$work"/obj/*.o $(libs)
}
check_headers() {  # every libevent header read came from the right place
  local where rc=0 bad
  if [ $oracle = 1 ]; then where=/usr/include; else where=$le_prefix/include; fi
  # the event2/ headers and the 1.x ones (evutil.h, event.h, ...) read by any object
  sed -e 's/\\$//' -e 's/^[^:]*://' "$work"/obj/*.d | tr ' ' '\n' | grep -E '(^|/)(event2/[^/]*\.h|(evutil|evdns|evhttp|evrpc|event)\.h)$' |
    sort -u >"$work/obj/headers"
  bad=$(grep -vE "^($where/|$work/src/)" "$work/obj/headers") || true
  [ -z "$bad" ] || { echo "headers from elsewhere than $where:"; echo "$bad"; rc=1; }
  echo "libevent headers read ($(wc -l <"$work/obj/headers")), all under $where or the shim:"
  cat "$work/obj/headers"
  return $rc
}
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
check_linkage() {
  local libs rc=0
  libs=$(needed "$work/regress")
  echo "NEEDED: ${libs//$'\n'/ }"; ldd "$work/regress" | grep -E 'libevent|libevasio'
  if [ $oracle = 1 ]; then
    echo "$libs" | grep -q '^libevent' || { echo "FAIL does not link a libevent"; rc=1; }
    echo "$libs" | grep -q '^libevasio' && { echo "FAIL links libevasio"; rc=1; }
  else
    echo "$libs" | grep -qx 'libevasio\.so\.0' || { echo "FAIL does not link libevasio.so.0"; rc=1; }
    echo "$libs" | grep -q '^libevent' && { echo "FAIL links a libevent"; rc=1; }
    ldd "$work/regress" | grep -q 'libevent' && { echo "FAIL loads a libevent"; rc=1; }
  fi
  return $rc
}

# ---- the cases
# cases.txt: "group/case" or "group/case off" (TT_OFF_BY_DEFAULT: run as "+group/case")
list_cases() {
  "$work/regress" --list-tests | sed -n 's/^    \([^ ]*\) *(Off by default)$/\1 off/p; t; s/^    \([^ ][^ ]*\)$/\1/p' >"$work/cases.txt"
  echo "$(wc -l <"$work/cases.txt") cases, $(grep -c ' off$' "$work/cases.txt") of them off by default"
}
selected() {  # selected CASE: --only's names and prefixes ("group/..") pick it
  local o
  [ ${#only[@]} -eq 0 ] && return 0
  for o in "${only[@]}"; do
    case $o in
      *..) [[ $1 == "${o%..}"* ]] && return 0 ;;
      *) [ "$1" = "$o" ] && return 0 ;;
    esac
  done
  return 1
}
# The cases built here whose code reads a placeholder of the shim (a private struct
# member); they are not run: "case reason"
unsupported() { grep -v '^#' "$here/unsupported.txt" | sed '/^$/d'; }
run_case() {  # run_case CASE [off]: one verdict line into results, the reason into reasons
  local name=$1 log=$logs/cases/${1//\//_}.log rc verdict reason arg=$1 note=""
  [ "${2:-}" = off ] && { arg=+$1; note="off by default, run as $arg"; }
  reason=$(unsupported | awk -v n="$name" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }')
  if [ -n "$reason" ]; then
    echo "$name NOBUILD" >>"$work/results.txt"; echo "$name NOBUILD $reason" >>"$work/reasons.txt"; return
  fi
  local t0=$SECONDS
  (cd "$work/run" && timeout -k 5 $((case_timeout + 30)) "$work/regress" --timeout "$case_timeout" "$arg") >"$log" 2>&1 </dev/null
  rc=$?
  if grep -q '^SHIM-UNSUPPORTED: ' "$log"; then
    verdict=NOBUILD reason="uses $(sed -n 's/^SHIM-UNSUPPORTED: //p' "$log" | head -n 1)"
  elif [ $rc = 0 ] && grep -q '^0 tests ok.  (1 skipped)' "$log"; then
    verdict=SKIP reason="skipped by the test: $(grep -m1 -iE 'skip' "$log" | sed 's/^ *//')"
  elif [ $rc = 0 ] && grep -q '^1 tests ok' "$log"; then
    verdict=PASS reason=""
  else
    verdict=FAIL
    reason=$(grep -m1 -E '^ *(\[?FAIL|.*: (Assertion|assertion) )' "$log" | sed 's/^ *//; s/ *\[Lost connection!\] *$//')
    [ $rc -ge 124 ] && [ $rc -le 137 ] && reason="killed after $((case_timeout + 30)) s (rc $rc)${reason:+; $reason}"
    grep -q 'Lost connection!' "$log" &&
      reason="its child died (a signal, or tinytest's ${case_timeout} s alarm): [Lost connection!]${reason:+; first failure: $reason}"
    [ -n "$reason" ] || reason="rc $rc: $(grep -v '^ *$' "$log" | tail -n 1)"
  fi
  echo "$name $verdict" >>"$work/results.txt"
  [ -z "$note" ] || reason="$note${reason:+; $reason}"
  note=$(grep -v '^#' "$here/shim-only.txt" | awk -v n="$name" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }')
  [ -z "$note" ] || reason="${reason:+$reason; }exercises the shim's own helper only: $note"
  echo "$name $verdict${reason:+ $reason}" >>"$work/reasons.txt"
  printf '%-7s %s (%s s)%s\n' "$verdict" "$name" $((SECONDS - t0)) "${reason:+  ($reason)}"
}
names_in_table() {  # names_in_table FILE: the case names of FILE's testcase table
  awk '/^struct testcase_t [a-z_]*testcases\[\] = \{/ { p = 1; next } p && /END_OF_TESTCASES/ { p = 0 } p' "$1" |
    sed -nE 's/^[[:space:]]*\{ *"([^"]+)".*/\1/p; s/^[[:space:]]*[A-Z][A-Z_]*\(([a-z0-9_]+)[,)].*/\1/p; s/^[[:space:]]*[A-Z][A-Z_]*\("([^"]+)".*/\1/p' |
    sort -u  # (read from the table's text: a macro making several cases counts once)
}
run_cases() {
  local name group file reason
  : >"$work/results.txt"; : >"$work/reasons.txt"
  mkdir -p "$logs/cases" "$work/run"
  local off
  while read -r name off; do
    selected "$name" && run_case "$name" $off
  done <"$work/cases.txt"
  while read -r group file reason; do
    for name in $(names_in_table "$work/src/test/$file"); do
      selected "$group$name" || continue
      echo "$group$name NOBUILD" >>"$work/results.txt"
      echo "$group$name NOBUILD $file not built: $reason" >>"$work/reasons.txt"
    done
  done < <(not_built)
  echo "$(counts "$work/results.txt")"
  return 0
}

# compare_results ORACLE_WORK: the cases that pass with libevent and not here
compare_results() {
  local name verdict theirs rc=0
  [ -s "$1/results.txt" ] || { echo "no results in $1/results.txt"; return 1; }
  while read -r name verdict; do
    theirs=$(awk -v n="$name" '$1 == n { print $2 }' "$1/results.txt")
    [ "$theirs" = PASS ] && [ "$verdict" != PASS ] || continue
    echo "EVASIO-ONLY $name: $verdict here, PASS with libevent: $(awk -v n="$name" '$1 == n { $1 = $2 = ""; sub(/^  /, ""); print }' "$work/reasons.txt")"
    rc=1
  done <"$work/results.txt"
  # a case the shim stops with libevent (NOBUILD there) that fails here before reaching it
  while read -r name verdict; do
    theirs=$(awk -v n="$name" '$1 == n { print $2 }' "$1/results.txt")
    [ "$theirs" = NOBUILD ] && [ "$verdict" = FAIL ] || continue
    echo "EVASIO-ONLY-BEFORE-SHIM $name: FAIL here before the shim's refusal that ends it with libevent: $(awk -v n="$name" '$1 == n { $1 = $2 = ""; sub(/^  /, ""); print }' "$work/reasons.txt")"
    rc=1
  done <"$work/results.txt"
  awk '$2 == "PASS" { print $1 }' "$work/results.txt" | sort >"$work/pass.here"
  awk '$2 == "PASS" { print $1 }' "$1/results.txt" | sort >"$work/pass.oracle"
  comm -13 "$work/pass.oracle" "$work/pass.here" | sed 's/^/EVASIO-BETTER /; s/$/: PASS here, not with libevent/'
  echo "here: $(counts "$work/results.txt")"
  echo "with libevent: $(counts "$1/results.txt")"
  return $rc
}

# ---- run (one function, read whole before it starts: the script may be edited while it runs)
main() {
  rm -rf "$work" && mkdir -p "$logs" || exit 1
  echo "libevent-regress: $flavour, sources $src/test, scratch $work"
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
  step copy copy_sources || finish
  step build build_regress || finish
  step headers check_headers || finish
  step linkage check_linkage || finish
  step list list_cases || finish
  step cases run_cases
  cat "$logs/cases.log"
  [ -z "$against" ] || { step against compare_results "$against"; cat "$logs/against.log"; }
  finish
}
main
