#!/usr/bin/env bash
# The ctest bench_syscalls_pingpong: keeps the system calls per ping-pong
# round trip of the evasio echo server (bench/echo_server.c linked with
# evasio) at or below the target of issue 6.
#
#   bench/check-syscalls.sh --bin DIR [--server evasio] [--max 2.2] [--conns 64]
#                           [--size 64] [--count 20000] [--out-dir DIR]
#
# Counts as bench/run.sh does (bench/strace-count.sh: the server under
# `strace -f -c` over a fixed ping-pong workload; every call it made divided
# by the round trips completed, so start-up and the per-connection set-up are
# amortised over --count round trips). A second, short run (--count as many
# as connections: about two round trips each, with the drain) has the same
# start-up, set-up and teardown and few round trips; subtracting it gives the
# steady state:
#
#   steady = (calls(long run) - calls(short run)) / (round trips(long) - round trips(short))
#
# Fails if either figure is above --max, and, so that it cannot pass
# vacuously, unless bench-load completed the fixed workload and the server
# made at least one read and one write call per round trip (it must: one
# 64-byte message in flight per connection cannot be batched), in both
# figures. Fails with a clear message if strace cannot run here.
# BENCH_PORT_BASE (27000): first port tried.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

bin= server=evasio max=2.2 conns=64 size=64 count=20000 outdir=
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift ;;
    --server) server=$2; shift ;;
    --max) max=$2; shift ;;
    --conns) conns=$2; shift ;;
    --size) size=$2; shift ;;
    --count) count=$2; shift ;;
    --out-dir) outdir=$2; shift ;;
    *) echo "check-syscalls.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$bin" ] || { echo "usage: check-syscalls.sh --bin DIR [--server NAME] [--max N] [--conns C] [--size B] [--count N] [--out-dir DIR]" >&2; exit 2; }
if [ -z "$outdir" ]; then outdir=$(mktemp -d); trap 'rm -rf "$outdir"' EXIT; fi
mkdir -p "$outdir"
log=$outdir/servers.log
: >"$log"

fail() { echo "FAIL: $*"; exit 1; }

port=${BENCH_PORT_BASE:-27000}
# run NAME COUNT: one counted run; its summary line in $line, strace's table in $outdir/NAME.strace
run() {
  local name=$1 n=$2 rc
  port=$("$bin/bench-load" --free-port $((port + 1))) || fail "no free port"
  set +e
  line=$(bash "$here/strace-count.sh" --bin "$bin" --server "$server" --port "$port" \
           --out "$outdir/$name.strace" --log "$log" --timeout 60 \
           -- --workload pingpong --conns "$conns" --size "$size" --count "$n" 2>"$outdir/$name.err")
  rc=$?
  set -e
  case $rc in
    0) ;;
    3) cat "$outdir/$name.err"
       fail "strace cannot run here, so the system calls cannot be counted; this test needs strace and ptrace" ;;
    *) cat "$outdir/$name.err"; echo "--- server and bench-load output:"; cat "$log"
       fail "the $name run under strace failed (exit $rc)" ;;
  esac
}
val() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo "bench-echo-$server under strace -f -c: ping-pong, $conns connections x $size B, fixed workloads"
run setup "$conns"       # a few round trips: start-up, set-up, teardown
s_ops=$(val ops) s_calls=$(val calls)
run steady "$count"
ops=$(val ops) calls=$(val calls) measured=$(val measured)

# Sanity: the fixed workload was done (bench-load stops starting round trips
# once `count` completed, then drains the <= conns still in flight).
if [ "$measured" -lt "$count" ] || [ "$measured" -ge $((count + conns)) ] ||
   [ "$ops" -lt "$count" ] || [ "$ops" -gt $((count + 2 * conns)) ]; then
  fail "bench-load did not run the fixed workload of $count round trips (it counted $measured, $ops with the drain)"
fi
[ "$ops" -gt "$s_ops" ] || fail "the long run ($ops round trips) is not longer than the set-up run ($s_ops)"

awk -v ops="$ops" -v sops="$s_ops" -v calls="$calls" -v scalls="$s_calls" -v max="$max" \
    -v count="$count" -v measured="$measured" -v conns="$conns" '
# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
FNR == 1 { file++ }
$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { n[file, $NF] = $4; names[$NF] = 1 }
END {
  d = ops - sops
  all = calls / ops; steady = (calls - scalls) / d
  printf "  round trips: %d (bench-load completed the fixed %d: it counted %d, then drained those in flight)\n", ops, count, measured
  printf "  all calls of the server / round trips (bench/run.sh'"'"'s figure, set-up amortised): %d / %d = %.3f\n", calls, ops, all
  printf "  short run (start-up, %d connections set up and closed, only %d round trips): %d calls\n", conns, sops, scalls
  printf "  steady state: (%d - %d) / (%d - %d) = %.3f per round trip\n", calls, scalls, ops, sops, steady
  printf "\n  %-16s %10s %10s %14s %14s\n", "call", "calls", "short run", "per round trip", "steady state"
  # by calls in the long run, most first
  m = 0
  for (k in names) key[++m] = k
  for (i = 2; i <= m; i++) { t = key[i]; for (j = i - 1; j >= 1 && n[2, key[j]] + 0 < n[2, t] + 0; j--) key[j + 1] = key[j]; key[j + 1] = t }
  for (i = 1; i <= m; i++) {
    k = key[i]
    printf "  %-16s %10d %10d %14.3f %14.3f\n", k, n[2, k], n[1, k], n[2, k] / ops, (n[2, k] - n[1, k]) / d
  }
  printf "  %-16s %10d %10d %14.3f %14.3f\n\n", "total", calls, scalls, all, steady
  split("read readv recv recvfrom recvmsg recvmmsg", rs, " "); split("write writev send sendto sendmsg sendmmsg", ws, " ")
  r = rd = w = wd = 0
  for (i in rs) { r += n[2, rs[i]]; rd += n[2, rs[i]] - n[1, rs[i]] }
  for (i in ws) { w += n[2, ws[i]]; wd += n[2, ws[i]] - n[1, ws[i]] }
  printf "  reads per round trip: %.3f (steady %.3f); writes: %.3f (steady %.3f)\n", r / ops, rd / d, w / ops, wd / d
  if (r / ops < 0.98 || rd / d < 0.98 || w / ops < 0.98 || wd / d < 0.98) {
    print "FAIL: fewer than one read and one write per round trip: strace did not see the server'"'"'s calls (the count means nothing)"
    exit 1
  }
  if (all > max || steady > max) {
    printf "FAIL: %.2f system calls per ping-pong round trip (steady state %.2f); the target of issue 6 is <= %s\n", all, steady, max
    exit 1
  }
  printf "ok: %.2f system calls per ping-pong round trip (steady state %.2f) <= %s\n", all, steady, max
}' "$outdir/setup.strace" "$outdir/steady.strace"
