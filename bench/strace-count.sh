#!/usr/bin/env bash
# One echo server under `strace -f -c` over one fixed bench-load workload:
# the system-call count of issue 6. bench/run.sh (its strace rows) and the
# ctest bench_syscalls_pingpong (bench/check-syscalls.sh) both count this way.
#
#   bench/strace-count.sh --bin DIR --server NAME --port P [--out FILE]
#                         [--log FILE] [--timeout S] -- LOAD-ARGS...
#
# Starts DIR/bench-echo-NAME on 127.0.0.1:P under `strace -f -c -o FILE`
# (FILE: strace's summary; a temporary file by default), runs
# `DIR/bench-load --port P LOAD-ARGS --timeout S` (LOAD-ARGS must give a fixed
# --count), then ends the server with SIGTERM (strace writes its summary when
# the server ends) and prints one line on stdout:
#
#   server=NAME workload=W ops=N calls=C per_op=X measured=M detail=CALL x, CALL y, ...
#
#   ops       everything bench-load completed: round trips or connections
#             (its all_ops: the fixed count, plus what was in flight when it
#             was reached and then drained), or MiB echoed for stream
#   calls     every system call of the server's process (all its threads):
#             start-up, accepts, connection set-up and teardown included,
#             amortised over the fixed workload
#   per_op    calls / ops
#   measured  bench-load's own count of the fixed workload (its ops field;
#             bytes for stream), for sanity checks
#   detail    calls per op of each call that makes >= 0.5% of the total
#
# Server and strace output go to LOG (default: stderr). Exit status: 0; 1 if
# the run failed (bench-load error, server died or wrote an error, no summary);
# 2 on bad usage; 3 if strace is missing or cannot trace here (ptrace not
# permitted): the caller must not mistake that for a count.
set -euo pipefail

bin= server= port= out= log=/dev/stderr timeout=280
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift ;;
    --server) server=$2; shift ;;
    --port) port=$2; shift ;;
    --out) out=$2; shift ;;
    --log) log=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    --) shift; break ;;
    *) echo "strace-count.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$bin" ] || [ -z "$server" ] || [ -z "$port" ] || [ $# -eq 0 ]; then
  echo "usage: strace-count.sh --bin DIR --server NAME --port P [--out FILE] [--log FILE] [--timeout S] -- LOAD-ARGS..." >&2
  exit 2
fi
case " $* " in *" --count "*) ;; *) echo "strace-count.sh: LOAD-ARGS need a fixed --count" >&2; exit 2 ;; esac
for b in "bench-echo-$server" bench-load; do
  [ -x "$bin/$b" ] || { echo "strace-count.sh: $bin/$b is missing (build the bench first)" >&2; exit 2; }
done

# Can strace trace here at all? (In a container, ptrace may be forbidden.)
if ! command -v strace >/dev/null; then
  echo "strace-count.sh: strace is not installed (Debian: apt-get install strace)" >&2; exit 3
fi
if ! err=$(strace -f -c -o /dev/null true 2>&1 >/dev/null); then
  echo "strace-count.sh: strace cannot trace processes here (ptrace not permitted?): $err" >&2
  echo "strace-count.sh: in a container, allow ptrace (e.g. docker run --cap-add SYS_PTRACE)" >&2
  exit 3
fi

tmp=
if [ -z "$out" ]; then tmp=$(mktemp); out=$tmp; fi
rm -f "$out"
errs=$(mktemp) load_errs=$(mktemp)
strace_pid=
stop_server() {  # SIGTERM to strace's child, the server: strace then writes its summary and exits
  local child
  child=$(cat "/proc/$strace_pid/task/$strace_pid/children" 2>/dev/null || true)
  if [ -n "$child" ]; then
    # shellcheck disable=SC2086
    kill -TERM $child 2>/dev/null || true
  else
    kill -TERM "$strace_pid" 2>/dev/null || true
  fi
  wait "$strace_pid" 2>/dev/null || true
  strace_pid=
}
cleanup() {
  [ -z "$strace_pid" ] || stop_server
  rm -f "$errs" "$load_errs" ${tmp:+"$tmp"}
}
trap cleanup EXIT

# The server writes nothing unless something goes wrong (perror on a
# bufferevent or accept error, libevent's [warn] lines): its output, and
# strace's own messages, are collected apart and must stay empty.
strace -f -c -o "$out" "$bin/bench-echo-$server" "$port" 2>"$errs" >&2 &
strace_pid=$!   # strace; the server is its child
set +e
res=$(timeout -k 5 $((${timeout%.*} + 20)) "$bin/bench-load" --port "$port" "$@" --timeout "$timeout" 2>"$load_errs")
rc=$?
set -e
cat "$load_errs" >>"$log"
if ! kill -0 "$strace_pid" 2>/dev/null; then
  wait "$strace_pid" 2>/dev/null || true
  strace_pid=
  echo "strace-count.sh: bench-echo-$server (under strace) ended during the load:" >&2
  cat "$errs" >&2
  exit 1
fi
if [ $rc -ne 0 ] || [ -z "$res" ]; then
  stop_server
  cat "$errs" >>"$log"
  echo "strace-count.sh: bench-load failed (exit $rc) against bench-echo-$server under strace:" >&2
  tail -5 "$load_errs" >&2
  exit 1
fi
# bench-load has closed its connections; let the server see every end of
# file and close its side, so that the count holds the whole teardown (not
# however much of it happened to run before SIGTERM): wait until no socket
# with local port P is ESTABLISHED (01) or CLOSE_WAIT (08) any more.
hexport=$(printf '%04X' "$port")
for _ in $(seq 1 200); do
  open=$(awk -v p=":$hexport" 'substr($2, length($2) - 4) == p && ($4 == "01" || $4 == "08")' /proc/net/tcp | wc -l)
  [ "$open" -eq 0 ] && break
  sleep 0.05
done
if [ "$open" -ne 0 ]; then
  echo "strace-count.sh: bench-echo-$server still holds $open connection(s) 10 s after bench-load closed them" >&2
  exit 1
fi
stop_server
cat "$errs" >>"$log"
if [ -s "$errs" ]; then
  echo "strace-count.sh: bench-echo-$server wrote errors during the run:" >&2
  cat "$errs" >&2
  exit 1
fi
calls=$(awk '$NF == "total" {print $4}' "$out" 2>/dev/null || true)
case "$calls" in ''|*[!0-9]*) echo "strace-count.sh: no strace summary in $out" >&2; exit 1 ;; esac

field() { printf '%s\n' "$res" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
workload=$(field workload) all=$(field all_ops) measured=$(field ops)
[ "$workload" = stream ] && all=$(awk -v b="$all" 'BEGIN{printf "%.3f", b/1048576}')
case "$all" in ''|0|0.000) echo "strace-count.sh: bench-load completed nothing: $res" >&2; exit 1 ;; esac
detail=$(awk -v n="$all" -v c="$calls" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" && $4 >= 0.005 * c {
           printf "%s %.2f, ", $NF, $4 / n }' "$out" | sed 's/, $//')
printf 'server=%s workload=%s ops=%s calls=%s per_op=%s measured=%s detail=%s\n' "$server" "$workload" "$all" \
  "$calls" "$(awk -v c="$calls" -v n="$all" 'BEGIN{printf "%.2f", c/n}')" "$measured" "$detail"
