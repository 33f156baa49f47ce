#!/usr/bin/env bash
# The benchmark of issue 6: builds the four echo servers and the load
# generator in build-bench/, runs them side by side and prints medians and
# the medians of pairwise ratios.
#
#   bash bench/run.sh                  full run (5 rounds)
#   bash bench/run.sh --smoke          ~1 s per workload, 1 round: correctness only
#   bash bench/run.sh --write-results  full run, then writes bench/RESULTS.md
#
# Options: --rounds N (>= 1; 5 by default), --duration S (measured seconds
# per run, 3), --warmup S (0.5), --no-syscalls (no strace and no perf
# counts), --no-memory, --no-build, --bin DIR (use the bench binaries already
# built in DIR: no build, no package installation; the ctest bench_smoke runs
# `run.sh --smoke --bin DIR --out DIR2 --no-pin`), --out DIR (results and
# logs there instead of build-bench/results),
# --no-pin (by default, for stream and ping-pong, the server runs on CPU
# $SERVER_CPU (1) and bench-load on CPU $CLIENT_CPU (0), so that the scheduler
# does not put both on one core; churn runs unpinned, see pins() below).
# Workload shapes from the environment: STREAM_CONNS (16), STREAM_SIZE
# (16384), PP_CONNS (64), PP_SIZE (64), CHURN_CONNS (8 connections in
# flight), IDLE_CONNS (10000), SC_PP_COUNT (20000 round trips),
# SC_STREAM_MIB (256), SC_CHURN_COUNT (10000): the fixed workloads counted
# under strace. BENCH_PORT_BASE (23000): first port tried. SERVER_CPU (1),
# CLIENT_CPU (0).
#
# System calls are counted twice: under `strace -c -f` over fixed workloads
# (the method of issue 6), and at full speed with `perf stat` on the syscall
# tracepoints during one timed run per server and workload (strace slows the
# server, which changes how often its reads find nothing; see README.md).
#
# Order: for each round, for each workload, the servers one after the other
# (libevent evasio asio epoll libevent evasio ...), each in a fresh process.
# Every run is bounded in time (bench-load's own alarm, and `timeout`).
# Everything goes to build-bench/ (logs and raw results in
# build-bench/results/); bench/RESULTS.md only with --write-results.
set -euo pipefail

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.."
ROOT=$(pwd)

rounds=5 duration=3 warmup=0.5 smoke=0 write_results=0 do_syscalls=1 do_perf=1 do_memory=1 do_build=1 pin=1
bin_dir= out_dir=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --smoke) smoke=1 ;;
    --write-results) write_results=1 ;;
    --no-syscalls) do_syscalls=0 do_perf=0 ;;
    --no-memory) do_memory=0 ;;
    --no-build) do_build=0 ;;
    --bin) bin_dir=$(cd "$2" && pwd); do_build=0; shift ;;
    --out) out_dir=$2; shift ;;
    --no-pin) pin=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$rounds" in ''|*[!0-9]*|0) echo "run.sh: --rounds must be a positive integer" >&2; exit 2 ;; esac

STREAM_CONNS=${STREAM_CONNS:-16} STREAM_SIZE=${STREAM_SIZE:-16384}
PP_CONNS=${PP_CONNS:-64} PP_SIZE=${PP_SIZE:-64}
CHURN_CONNS=${CHURN_CONNS:-8} IDLE_CONNS=${IDLE_CONNS:-10000}
SC_PP_COUNT=${SC_PP_COUNT:-20000} SC_STREAM_MIB=${SC_STREAM_MIB:-256} SC_CHURN_COUNT=${SC_CHURN_COUNT:-10000}
port=${BENCH_PORT_BASE:-23000}
SERVER_CPU=${SERVER_CPU:-1} CLIENT_CPU=${CLIENT_CPU:-0}

if [ "$smoke" = 1 ]; then
  [ "$write_results" = 1 ] && { echo "run.sh: --smoke measures nothing; not with --write-results" >&2; exit 2; }
  rounds=1 duration=1 warmup=0.2 do_syscalls=0 do_perf=0
  IDLE_CONNS=200
fi
if [ "$write_results" = 1 ] && [ "$rounds" -lt 5 ]; then
  echo "run.sh: --write-results needs at least 5 rounds" >&2; exit 2
fi

SERVERS=(libevent evasio asio epoll)
BUILD=$ROOT/build-bench
OUT=${out_dir:-$BUILD/results}
LOGS=$OUT/logs
mkdir -p "$LOGS"
OUT=$(cd "$OUT" && pwd) LOGS=$(cd "$LOGS" && pwd)
RUNS=$OUT/runs.txt        # one RESULT line per timed run, prefixed with round= server=
SYSC=$OUT/syscalls.txt    # one line per server and workload: strace -c
PERFC=$OUT/syscalls-perf.txt  # the same from perf's tracepoint counts, at full speed
: >"$RUNS"
: >"$SYSC"
: >"$PERFC"
rm -f "$LOGS"/*.log "$OUT"/strace-*.txt "$OUT"/perf-*.txt

log() { printf '%s\n' "$*" >&2; }

# ---- packages --------------------------------------------------------------
install_missing() {
  local pkgs=(cmake make g++ pkg-config libboost1.81-dev libevent-dev strace linux-perf) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "run.sh: missing packages: ${missing[*]} (run as root, or install them)"; exit 1
  fi
  log "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
if [ -z "$bin_dir" ] && command -v dpkg-query >/dev/null; then install_missing; fi

# ---- build -----------------------------------------------------------------
# With the top-level option present: build-bench/ is configured from the
# repository itself. Without it (not added yet): a wrapper project in
# build-bench/fallback/ adds the repository and bench/ as subdirectories.
if [ -n "$bin_dir" ]; then
  SRC= BIN_DIR=$(dirname "$bin_dir")
elif grep -q 'EVASIO_BUILD_BENCH' CMakeLists.txt; then
  SRC=$ROOT BIN_DIR=$BUILD
else
  log "note: CMakeLists.txt has no EVASIO_BUILD_BENCH yet; building through build-bench/fallback/"
  mkdir -p "$BUILD/fallback/src"
  cat >"$BUILD/fallback/src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(evasio_bench_fallback C CXX)
add_subdirectory("$ROOT" evasio)
add_subdirectory("$ROOT/bench" bench)
EOF
  SRC=$BUILD/fallback/src BIN_DIR=$BUILD/fallback/build
fi
BIN=${bin_dir:-$BIN_DIR/bench}
if [ "$do_build" = 1 ]; then
  log "=== build ($BIN_DIR)"
  cmake -S "$SRC" -B "$BIN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVASIO_BUILD_BENCH=ON \
    -DEVASIO_BUILD_TESTS=OFF -DEVASIO_BUILD_SAMPLES=OFF >"$LOGS/configure.log" 2>&1 \
    || { cat "$LOGS/configure.log"; exit 1; }
  cmake --build "$BIN_DIR" -j"$(nproc)" --target evasio-bench >"$LOGS/build.log" 2>&1 \
    || { cat "$LOGS/build.log"; exit 1; }
  if grep -q 'warning:' "$LOGS/build.log"; then grep -A3 'warning:' "$LOGS/build.log" >&2; fi
fi
for b in bench-echo-libevent bench-echo-evasio bench-echo-asio bench-echo-epoll bench-load; do
  [ -x "$BIN/$b" ] || { log "run.sh: $BIN/$b is missing (build first)"; exit 1; }
done
# Each echo build must link what its name says.
# (ldd's output is read whole first: `ldd | grep -q` under pipefail fails
# whenever grep exits before ldd has written everything.)
if command -v ldd >/dev/null; then
  libs_libevent=$(ldd "$BIN/bench-echo-libevent") libs_evasio=$(ldd "$BIN/bench-echo-evasio")
  grep -q 'libevent' <<<"$libs_libevent" && ! grep -q libevasio <<<"$libs_libevent" \
    || { log "run.sh: bench-echo-libevent does not link real libevent"; exit 1; }
  grep -q 'libevasio' <<<"$libs_evasio" && ! grep -q 'libevent' <<<"$libs_evasio" \
    || { log "run.sh: bench-echo-evasio does not link evasio alone"; exit 1; }
fi

# ---- limits ----------------------------------------------------------------
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
if [ "$nofile" != unlimited ] && [ "$IDLE_CONNS" -gt $((nofile - 100)) ]; then
  log "note: open-file limit $nofile: idle test with $((nofile - 100)) connections instead of $IDLE_CONNS"
  IDLE_CONNS=$((nofile - 100))
fi

# ---- one run ---------------------------------------------------------------
PIN_SERVER=() PIN_CLIENT=()
if [ "$pin" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SERVER=(taskset -c "$SERVER_CPU") PIN_CLIENT=(taskset -c "$CLIENT_CPU")
fi

next_port() {
  port=$("$BIN/bench-load" --free-port $((port + 1))) || { port=${BENCH_PORT_BASE:-23000}; port=$("$BIN/bench-load" --free-port "$port"); }
}

server_pid= perf_pid=
stop_server() {  # the server (and, under strace, strace's child: the server)
  if [ -n "$server_pid" ]; then
    local kids
    kids=$(cat "/proc/$server_pid/task/$server_pid/children" 2>/dev/null || true)
    [ -z "$kids" ] || kill -TERM $kids 2>/dev/null || true
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
cleanup() {
  [ -z "$perf_pid" ] || kill -INT "$perf_pid" 2>/dev/null || true
  stop_server
}
trap cleanup EXIT

# Churn runs unpinned: with 8 connections in flight it is latency-bound,
# and pinned to two CPUs each connection crosses them several times; the
# rates then jump between 15,000 and 39,000/s from run to run and every
# server measured 20-23 us of CPU per connection (the cost of waking an idle
# CPU dominates). Unpinned: ~30,000/s steadily, 13-17 us, ordered as the
# servers' system calls.
pin_server=() pin_client=()
pins() {
  if [ "$1" = churn ]; then pin_server=() pin_client=()
  else pin_server=("${PIN_SERVER[@]}") pin_client=("${PIN_CLIENT[@]}"); fi
}

# run_load SERVER LABEL ARGS...: a fresh server, one bench-load run; the
# RESULT line is left in $result. The servers print only errors (a
# bufferevent or accept error, libevent's [warn] lines): a server that
# writes anything during a run fails it, as one that dies does.
result=
run_load() {
  local s=$1 label=$2; shift 2
  local rc log_size
  next_port
  pins "$label"
  touch "$LOGS/server-$s.log"
  log_size=$(wc -c <"$LOGS/server-$s.log")
  "${pin_server[@]}" "$BIN/bench-echo-$s" "$port" >>"$LOGS/server-$s.log" 2>&1 &
  server_pid=$!   # taskset execs the server: same process
  set +e
  result=$(timeout -k 5 "$(awk -v d="$duration" -v w="$warmup" 'BEGIN{print int(d+w+90)}')" \
           "${pin_client[@]}" "$BIN/bench-load" --port "$port" --server-pid "$server_pid" "$@" 2>>"$LOGS/load.log")
  rc=$?
  set -e
  if ! kill -0 "$server_pid" 2>/dev/null; then
    log "FAILED: bench-echo-$s died during $label"; tail -5 "$LOGS/server-$s.log" >&2; exit 1
  fi
  stop_server
  if [ $rc -ne 0 ] || [ -z "$result" ]; then
    log "FAILED: $label against bench-echo-$s (exit $rc):"; tail -5 "$LOGS/load.log" >&2; exit 1
  fi
  if [ "$(wc -c <"$LOGS/server-$s.log")" != "$log_size" ]; then
    log "FAILED: bench-echo-$s reported errors during $label:"; tail -c +$((log_size + 1)) "$LOGS/server-$s.log" | tail -5 >&2
    exit 1
  fi
}

load_args() {  # workload name -> bench-load arguments
  case "$1" in
    stream) echo "--workload stream --conns $STREAM_CONNS --size $STREAM_SIZE --duration $duration --warmup $warmup" ;;
    pingpong) echo "--workload pingpong --conns $PP_CONNS --size $PP_SIZE --duration $duration --warmup $warmup" ;;
    churn) echo "--workload churn --conns $CHURN_CONNS --duration $duration --warmup $warmup" ;;
    idle) echo "--workload idle --conns $IDLE_CONNS" ;;
  esac
}

WORKLOADS=(stream pingpong churn)
[ "$do_memory" = 1 ] && WORKLOADS+=(idle)

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
log "=== $rounds round(s) x ${#WORKLOADS[@]} workloads x ${#SERVERS[@]} servers; load average $load_before${PIN_SERVER[*]:+; stream/ping-pong: server on CPU $SERVER_CPU, load on CPU $CLIENT_CPU}"

# ---- the checker checks ----------------------------------------------------
if [ "$smoke" = 1 ]; then
  log "=== self-test: a corrupted echo must fail loudly"
  for w in pingpong stream churn; do
    next_port
    "$BIN/bench-echo-epoll" "$port" >>"$LOGS/server-epoll.log" 2>&1 &
    server_pid=$!
    set +e
    # shellcheck disable=SC2046
    timeout -k 5 60 "$BIN/bench-load" --port "$port" $(load_args "$w") --corrupt-test >/dev/null 2>"$LOGS/selftest.log"
    rc=$?
    set -e
    stop_server
    if [ $rc -ne 1 ] || ! grep -q MISMATCH "$LOGS/selftest.log"; then
      log "FAILED: bench-load did not catch a corrupted byte in $w (exit $rc)"; cat "$LOGS/selftest.log" >&2; exit 1
    fi
    log "  $w: caught ($(head -1 "$LOGS/selftest.log"))"
  done
fi

# ---- timed runs --------------------------------------------------------------
for r in $(seq 1 "$rounds"); do
  log "=== round $r/$rounds (load average $(cut -d' ' -f1 /proc/loadavg))"
  for w in "${WORKLOADS[@]}"; do
    for s in "${SERVERS[@]}"; do
      # shellcheck disable=SC2046
      run_load "$s" "$w" $(load_args "$w")
      printf 'round=%s server=%s %s\n' "$r" "$s" "$result" >>"$RUNS"
      log "  $(printf '%-9s %-8s' "$s" "$w") ${result#RESULT }"
    done
  done
done

# ---- system calls per operation at full speed ---------------------------------
# strace stops the server at every call, which changes what it finds when it
# reads (more data waiting, fewer EAGAINs, fewer re-arms). So the calls are
# also counted without slowing anything: perf's syscall tracepoints, attached
# to the server during one timed run of each workload (not the timed rounds
# above, so that counting costs them nothing).
if [ "$do_perf" = 1 ]; then
  events=raw_syscalls:sys_enter
  for c in read readv recvfrom recvmsg write writev sendto sendmsg epoll_wait epoll_pwait epoll_ctl ioctl \
           accept accept4 close getsockopt setsockopt fcntl shutdown; do
    [ -e "/sys/kernel/tracing/events/syscalls/sys_enter_$c" ] && events="$events,syscalls:sys_enter_$c"
  done
  if ! command -v perf >/dev/null || ! perf stat -x, -e raw_syscalls:sys_enter -o /dev/null -- true 2>/dev/null; then
    log "note: perf cannot count syscall tracepoints here: full-speed counts skipped"
    do_perf=0
  fi
fi
if [ "$do_perf" = 1 ]; then
  log "=== system calls per operation at full speed (perf stat, syscall tracepoints)"
  for w in pingpong stream churn; do
    for s in "${SERVERS[@]}"; do
      f=$OUT/perf-$s-$w.txt
      next_port
      pins "$w"
      "${pin_server[@]}" "$BIN/bench-echo-$s" "$port" >>"$LOGS/server-$s.log" 2>&1 &
      server_pid=$!
      perf stat -x, -o "$f" -e "$events" -p "$server_pid" 2>>"$LOGS/perf.log" &
      perf_pid=$!
      sleep 0.2   # perf attached before the load starts
      set +e
      # shellcheck disable=SC2046
      res=$(timeout -k 5 "$(awk -v d="$duration" -v w="$warmup" 'BEGIN{print int(d+w+90)}')" \
            "${pin_client[@]}" "$BIN/bench-load" --port "$port" --server-pid "$server_pid" $(load_args "$w") 2>>"$LOGS/load.log")
      rc=$?
      set -e
      kill -INT "$perf_pid" 2>/dev/null || true
      wait "$perf_pid" 2>/dev/null || true
      perf_pid=
      stop_server
      if [ $rc -ne 0 ]; then log "FAILED: $w (perf count) against bench-echo-$s"; tail -5 "$LOGS/load.log" >&2; exit 1; fi
      all=$(printf '%s\n' "$res" | tr ' ' '\n' | sed -n 's/^all_ops=//p')
      [ "$w" = stream ] && all=$(awk -v b="$all" 'BEGIN{printf "%.3f", b/1048576}')
      calls=$(awk -F, '$3 == "raw_syscalls:sys_enter" {print $1}' "$f")
      case "$calls" in ''|*[!0-9]*) log "note: no perf count for $s $w (see $LOGS/perf.log)"; continue ;; esac
      detail=$(awk -F, -v n="$all" -v c="$calls" '$3 ~ /^syscalls:sys_enter_/ && $1 ~ /^[0-9]+$/ && $1 >= 0.005 * c {
                 name = $3; sub(/^syscalls:sys_enter_/, "", name); printf "%s %.2f, ", name, $1 / n }' "$f" | sed 's/, $//')
      per_op=$(awk -v c="$calls" -v n="$all" 'BEGIN{printf "%.2f", c/n}')
      printf 'server=%s workload=%s ops=%s calls=%s per_op=%s detail=%s\n' "$s" "$w" "$all" "$calls" "$per_op" "$detail" >>"$PERFC"
      log "  $(printf '%-9s %-8s' "$s" "$w") $per_op per op: $detail"
    done
  done
fi

# ---- system calls per operation --------------------------------------------
# Each server under `strace -c -f` over a fixed workload; total calls divided
# by everything the run completed (round trips, MiB, connections). The count
# itself is bench/strace-count.sh, which the ctest bench_syscalls_pingpong
# (bench/check-syscalls.sh) uses too.
if [ "$do_syscalls" = 1 ]; then
  log "=== system calls per operation (strace -c -f, fixed workloads)"
  for w in pingpong stream churn; do
    case $w in
      pingpong) args="--workload pingpong --conns $PP_CONNS --size $PP_SIZE --count $SC_PP_COUNT" ;;
      stream) args="--workload stream --conns $STREAM_CONNS --size $STREAM_SIZE --count $SC_STREAM_MIB" ;;
      churn) args="--workload churn --conns $CHURN_CONNS --count $SC_CHURN_COUNT" ;;
    esac
    for s in "${SERVERS[@]}"; do
      next_port
      set +e
      # shellcheck disable=SC2086
      line=$(bash "$ROOT/bench/strace-count.sh" --bin "$BIN" --server "$s" --port "$port" \
               --out "$OUT/strace-$s-$w.txt" --log "$LOGS/strace-$s.log" --timeout 280 -- $args)
      rc=$?
      set -e
      if [ $rc -ne 0 ]; then log "FAILED: $w under strace against bench-echo-$s (exit $rc; $LOGS/strace-$s.log)"; exit 1; fi
      printf '%s\n' "$line" >>"$SYSC"
      log "  $(printf '%-9s %-8s' "$s" "$w") $(printf '%s\n' "$line" | sed 's/.* per_op=\([^ ]*\) .* detail=/\1 per op: /')"
    done
  done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table -----------------------------------------------------------------
TABLE=$OUT/table.md
awk -v servers="${SERVERS[*]}" -v sysc="$SYSC" -v perfc="$PERFC" \
    -v stream_shape="${STREAM_CONNS} conns x $((STREAM_SIZE / 1024)) KiB" \
    -v pp_shape="${PP_CONNS} conns x ${PP_SIZE} B" -v churn_shape="${CHURN_CONNS} in flight" \
    -v idle_shape="${IDLE_CONNS} idle conns" '
function median(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  if (n == 0) return ""
  for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v) {
  if (v == "") return "-"
  if (v >= 1000) return sprintf("%.0f", v)
  if (v >= 100) return sprintf("%.1f", v)
  return sprintf("%.2f", v)
}
function ratio(m, a, b,   r, list) {
  list = ""
  for (r = 1; r <= maxround; r++)
    if ((m, a, r) in val && (m, b, r) in val && val[m, b, r] + 0 != 0)
      list = list " " val[m, a, r] / val[m, b, r]
  return median(list)
}
function check(v, op, target) {
  if (v == "") return ""
  return ((op == ">=" && v >= target) || (op == "<=" && v <= target)) ? " met" : " **missed**"
}
# row(metric, label, target text, which ratio/value the target is on, op, bound)
function row(m, label, tsub, top, tbound,   s, line, med, i, rel, sub_, r1, r2, r3, t) {
  line = "| " label
  for (i = 1; i <= ns; i++) {
    s = sv[i]; list = ""
    for (r = 1; r <= maxround; r++) if ((m, s, r) in val) list = list " " val[m, s, r]
    med[s] = median(list)
    line = line " | " fmt(med[s])
  }
  r1 = ratio(m, "evasio", "libevent"); r2 = ratio(m, "asio", "libevent"); r3 = ratio(m, "evasio", "epoll")
  line = line " | " fmt(r1) " | " fmt(r2) " | " fmt(r3)
  t = ""
  if (tsub == "e/l") t = "evasio/libevent " top " " tbound check(r1, top, tbound)
  else if (tsub == "e/l,e/e") t = "evasio/libevent " top " 0.85" check(r1, "<=", 0.85) "; evasio/epoll <= 1.25" check(r3, "<=", 1.25)
  else if (tsub == "abs") t = "evasio " top " " tbound check(med["evasio"], top, tbound)
  print line " | " t " |"
}
BEGIN { ns = split(servers, sv, " "); maxround = 0 }
FILENAME != sysc && FILENAME != perfc {
  delete kv
  for (i = 1; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
  r = kv["round"] + 0; s = kv["server"]; w = kv["workload"]
  if (r > maxround) maxround = r
  if (w == "stream") val["stream_mbps", s, r] = kv["mbps"]
  if (w == "pingpong") { val["pp_rate", s, r] = kv["rate"]; val["pp_p50", s, r] = kv["p50_us"]; val["pp_p99", s, r] = kv["p99_us"] }
  if (w == "churn") { val["churn_rate", s, r] = kv["rate"]; val["churn_cpu", s, r] = kv["server_cpu_us_per_op"] }
  if (w == "idle") { val["idle_b", s, r] = kv["per_conn_b"]; val["idle_hwm", s, r] = kv["hwm_kb"] / 1024 }
  next
}
FILENAME == sysc || FILENAME == perfc {
  delete kv
  for (i = 1; i <= 5; i++) { split($i, p, "="); kv[p[1]] = p[2] }
  m = (FILENAME == sysc ? "sys_" : "perf_") kv["workload"]; val[m, kv["server"], 1] = kv["per_op"]
}
END {
  if (maxround == 0) maxround = 1
  h = "| metric (median of " maxround " round" (maxround > 1 ? "s" : "") ")"
  for (i = 1; i <= ns; i++) h = h " | " sv[i]
  print h " | evasio/libevent | asio/libevent | evasio/epoll | target |"
  h = "|---"; for (i = 1; i <= ns + 4; i++) h = h "|---"; print h "|"
  row("stream_mbps", "stream " stream_shape ": echoed MB/s (higher is better)", "e/l", ">=", 2.0)
  row("pp_rate", "ping-pong " pp_shape ": round trips/s (higher is better)", "e/l", ">=", 1.15)
  row("pp_p50", "ping-pong: p50 latency, us", "", "", "")
  row("pp_p99", "ping-pong: p99 latency, us", "", "", "")
  row("churn_rate", "churn " churn_shape ": connections/s (client-bound)", "", "", "")
  row("churn_cpu", "churn: server CPU us per connection (lower is better)", "e/l,e/e", "<=", "")
  if (("idle_b", "libevent", 1) in val || ("idle_b", "evasio", 1) in val) {
    row("idle_b", "memory: peak RSS per idle connection, bytes (" idle_shape ")", "e/l", "<=", 1.0)
    row("idle_hwm", "memory: peak RSS with " idle_shape ", MiB", "", "", "")
  }
  if (("sys_pingpong", "evasio", 1) in val) {
    row("sys_pingpong", "syscalls per ping-pong round trip (strace -c, fixed workload)", "abs", "<=", 2.2)
    row("sys_stream", "syscalls per MiB streamed (strace -c, fixed workload)", "abs", "<=", 170)
    row("sys_churn", "syscalls per churned connection (strace -c, fixed workload)", "abs", "<=", 8.5)
  }
  if (("perf_pingpong", "evasio", 1) in val) {
    row("perf_pingpong", "syscalls per ping-pong round trip (perf count, full speed)", "abs", "<=", 2.2)
    row("perf_stream", "syscalls per MiB streamed (perf count, full speed)", "abs", "<=", 170)
    row("perf_churn", "syscalls per churned connection (perf count, full speed)", "abs", "<=", 8.5)
  }
}' "$RUNS" "$SYSC" "$PERFC" >"$TABLE"

{
  echo
  [ "$smoke" = 1 ] && echo "(smoke run: every byte checked; the numbers below mean nothing)"
  cat "$TABLE"
  echo
  echo "load average: $load_before before, $load_after after ($(nproc) CPUs)"
  for f in "$SYSC" "$PERFC"; do
    [ -s "$f" ] || continue
    echo
    if [ "$f" = "$SYSC" ]; then echo "system calls per operation, by call (strace -c -f, fixed workloads):"
    else echo "system calls per operation, by call (perf tracepoint counts, full speed):"; fi
    awk '{ s = $1; w = $2; sub(/^server=/, "", s); sub(/^workload=/, "", w); d = $0; sub(/.*detail=/, "", d);
           printf "  %-9s %-9s %s\n", s, w, d }' "$f"
  done
  echo
  echo "raw results: $RUNS"
} | tee "$OUT/summary.txt"

# ---- RESULTS.md ------------------------------------------------------------------
if [ "$write_results" = 1 ]; then
  cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git -C "$ROOT" status --porcelain -- asio_backend compat CMakeLists.txt 2>/dev/null | head -1)
  {
    echo "# Benchmark results"
    echo
    echo "Produced by \`bash bench/run.sh --write-results$( [ "$rounds" != 5 ] && echo " --rounds $rounds")$( [ "$duration" != 3 ] && echo " --duration $duration")\`"
    echo "on $started (finished $(date -u '+%H:%M UTC')), evasio at commit $commit${dirty:+ with uncommitted changes in the library}."
    echo
    echo "Machine: $(nproc) CPUs ($cpu), $mem, Linux $(uname -r), $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown OS}")."
    echo "Load average (1, 5, 15 min): $load_before before, $load_after after. The machine is shared:"
    echo "ratios (medians of per-round ratios) and system-call counts are the headline, not absolute numbers."
    echo
    echo "Each cell is the median of $rounds rounds; in each round every server ran each workload in a fresh"
    echo "process, one after the other (libevent, evasio, asio, epoll), for ${warmup} s of warm-up and ${duration} s"
    echo "measured${PIN_SERVER[*]:+ (stream and ping-pong with the server pinned to CPU $SERVER_CPU and bench-load to CPU $CLIENT_CPU; churn unpinned)}. Ratios are medians of the"
    echo "per-round ratios. bench/README.md says what each number means."
    echo
    cat "$TABLE"
    for f in "$SYSC" "$PERFC"; do
      [ -s "$f" ] || continue
      echo
      if [ "$f" = "$SYSC" ]; then
        echo "System calls per operation, by call (strace -c -f over $SC_PP_COUNT round trips, $SC_STREAM_MIB MiB, $SC_CHURN_COUNT connections):"
      else
        echo "System calls per operation, by call, at full speed (perf stat on the syscall tracepoints during one timed run of each"
        echo "workload, divided by everything that run completed, warm-up included):"
      fi
      echo
      echo '```'
      awk '{ s = $1; w = $2; sub(/^server=/, "", s); sub(/^workload=/, "", w); d = $0; sub(/.*detail=/, "", d);
             printf "%-9s %-9s %s\n", s, w, d }' "$f"
      echo '```'
    done
    echo
    echo "Every run (RESULT lines of bench-load):"
    echo
    echo '```'
    sed 's/ all_ops=[0-9]* all_bytes=[0-9]*//' "$RUNS"
    echo '```'
  } >"$ROOT/bench/RESULTS.md"
  log "wrote bench/RESULTS.md"
fi
