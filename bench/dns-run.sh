#!/usr/bin/env bash
# The DNS benchmark: bench/dns.c built against real libevent 2.1.12 and
# against evasio, each resolving against the same local dnsmasq, side by
# side, in alternating fresh processes; prints medians and the median of the
# per-round ratios.
#
#   bash bench/dns-run.sh                         libevent only (no ratio)
#   bash bench/dns-run.sh --evasio PREFIX         evasio from an install prefix
#                                                 (PREFIX/lib*/pkgconfig/evasio.pc)
#   bash bench/dns-run.sh --evasio BUILD_DIR      evasio from a build tree
#                                                 (its libevasio.so, and the
#                                                 headers of this checkout)
#   bash bench/dns-run.sh --bin DIR               bench-dns-libevent and
#                                                 bench-dns-evasio already built
#                                                 in DIR (no build)
#   bash bench/dns-run.sh --smoke                 5000 lookups, 1 round, no strace
#
# Options: --rounds N (3), --count N (200000 measured lookups per run),
# --warmup N (2000), --inflight K (100), --names M (1000: n0..n<M-1>.bench.test),
# --mode a|aaaa|gai|gai6 (a: evdns_base_resolve_ipv4; aaaa: _ipv6; gai, gai6:
# evdns_getaddrinfo AF_INET / AF_INET6), --sc-count N (20000: lookups counted
# under strace), --no-syscalls, --no-pin (by default dnsmasq runs on CPU
# $SERVER_CPU (1) and the client on CPU $CLIENT_CPU (0)), --out DIR (results
# and logs; build-bench/dns by default), --help.
#
# dnsmasq (/usr/sbin/dnsmasq, or $DNSMASQ) answers every name under
# bench.test with 10.1.2.3 and fd00::1:2:3 (--address: configured answers,
# no forwarding; every other name is NXDOMAIN), ttl 60. Every answer is
# checked by the client (one address, the right one); any wrong or failed
# answer fails the run. The dnsmasq is the same for both builds: with it on
# the other CPU, resolutions/s is often the server's ceiling, and the
# client's CPU time per resolution (getrusage) is the comparison that says
# most about the library. System calls per resolution: the client alone
# under `strace -f -c` over --sc-count lookups (no warm-up), every call
# of the process (start-up included) divided by the lookups, as
# bench/strace-count.sh counts for the echo servers.
#
# Writes only under build-bench/dns/ (or --out). Exit status: 0; 1 if a run
# failed, dnsmasq died, or a build failed; 2 on bad usage.
set -euo pipefail

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.."
ROOT=$(pwd)

rounds=3 count=200000 warmup=2000 inflight=100 names=1000 mode=a sc_count=20000
do_syscalls=1 pin=1 evasio= bin_dir= out_dir= smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --evasio) evasio=$(cd "$2" && pwd); shift ;;
    --bin) bin_dir=$(cd "$2" && pwd); shift ;;
    --rounds) rounds=$2; shift ;;
    --count) count=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --inflight) inflight=$2; shift ;;
    --names) names=$2; shift ;;
    --mode) mode=$2; shift ;;
    --sc-count) sc_count=$2; shift ;;
    --no-syscalls) do_syscalls=0 ;;
    --no-pin) pin=0 ;;
    --out) out_dir=$2; shift ;;
    --smoke) smoke=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    *) echo "dns-run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
for v in rounds count inflight names sc_count; do
  case "${!v}" in ''|*[!0-9]*|0) echo "dns-run.sh: --${v/_/-} must be a positive integer" >&2; exit 2 ;; esac
done
case "$warmup" in ''|*[!0-9]*) echo "dns-run.sh: --warmup must be an integer" >&2; exit 2 ;; esac
case "$mode" in
  a) mode_args=() ;;
  aaaa) mode_args=(--aaaa) ;;
  gai) mode_args=(--getaddrinfo) ;;
  gai6) mode_args=(--getaddrinfo --aaaa) ;;
  *) echo "dns-run.sh: --mode is a, aaaa, gai or gai6" >&2; exit 2 ;;
esac
if [ "$smoke" = 1 ]; then
  rounds=1 count=5000 warmup=500 do_syscalls=0
fi
[ -n "$evasio" ] && [ -n "$bin_dir" ] && { echo "dns-run.sh: --evasio or --bin, not both" >&2; exit 2; }

OUT=${out_dir:-$ROOT/build-bench/dns}
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
LOGS=$OUT/logs
RUNS=$OUT/runs.txt
: >"$RUNS"
log() { printf '%s\n' "$*" >&2; }

DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
[ -x "$DNSMASQ" ] || { log "dns-run.sh: $DNSMASQ is missing (Debian: apt-get install dnsmasq-base)"; exit 1; }

# ---- build -----------------------------------------------------------------
IMPLS=(libevent)
CFLAGS_COMMON=(-std=gnu99 -O2 -g -Wall -Wextra)
if [ -n "$bin_dir" ]; then
  BIN=$bin_dir
  [ -x "$BIN/bench-dns-libevent" ] || { log "dns-run.sh: $BIN/bench-dns-libevent is missing"; exit 1; }
  [ -x "$BIN/bench-dns-evasio" ] && IMPLS+=(evasio)
else
  BIN=$OUT/bin
  mkdir -p "$BIN"
  CC=${CC:-cc}
  command -v pkg-config >/dev/null && pkg-config --exists libevent \
    || { log "dns-run.sh: pkg-config does not find libevent (Debian: apt-get install pkg-config libevent-dev)"; exit 1; }
  # shellcheck disable=SC2046
  "$CC" "${CFLAGS_COMMON[@]}" -DBENCH_DNS_EXPECT_EVASIO=0 bench/dns.c $(pkg-config --cflags --libs libevent) \
    -o "$BIN/bench-dns-libevent" 2>"$LOGS/build-libevent.log" \
    || { cat "$LOGS/build-libevent.log" >&2; exit 1; }
  if [ -n "$evasio" ]; then
    pc=$(find "$evasio" -maxdepth 4 -path '*/pkgconfig/evasio.pc' 2>/dev/null | head -1)
    so=$(find "$evasio" -maxdepth 3 -name 'libevasio.so' 2>/dev/null | head -1)
    if [ -n "$pc" ]; then
      # an install prefix: its pkg-config file (headers and library)
      pcdir=$(dirname "$pc")
      libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir evasio)
      read -r -a ev_flags <<<"$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs evasio)"
      ev_flags+=("-Wl,-rpath,$libdir")
    elif [ -n "$so" ]; then
      # a build tree: its shared library, this checkout's headers
      libdir=$(dirname "$so")
      ev_flags=(-I"$ROOT/compat/include" -L"$libdir" -levasio "-Wl,-rpath,$libdir")
    else
      log "dns-run.sh: $evasio has neither lib*/pkgconfig/evasio.pc (an install prefix) nor libevasio.so (a build tree)"
      exit 1
    fi
    "$CC" "${CFLAGS_COMMON[@]}" -DBENCH_DNS_EXPECT_EVASIO=1 bench/dns.c "${ev_flags[@]}" \
      -o "$BIN/bench-dns-evasio" 2>"$LOGS/build-evasio.log" \
      || { cat "$LOGS/build-evasio.log" >&2; exit 1; }
    IMPLS+=(evasio)
  fi
  for f in "$LOGS"/build-*.log; do
    if grep -q 'warning:' "$f"; then grep -A3 'warning:' "$f" >&2; fi
  done
fi
# Each build must link what its name says. (ldd's output is read whole
# first: `ldd | grep -q` under pipefail fails when grep exits early.)
if command -v ldd >/dev/null; then
  libs=$(ldd "$BIN/bench-dns-libevent" 2>&1 || true)
  grep -q 'libevent' <<<"$libs" && ! grep -q libevasio <<<"$libs" \
    || { log "dns-run.sh: bench-dns-libevent does not link real libevent"; exit 1; }
  if [ -x "$BIN/bench-dns-evasio" ] && [[ " ${IMPLS[*]} " == *" evasio "* ]]; then
    libs=$(ldd "$BIN/bench-dns-evasio" 2>&1 || true)
    grep -q 'libevasio' <<<"$libs" && ! grep -q 'libevent' <<<"$libs" \
      || { log "dns-run.sh: bench-dns-evasio does not link evasio alone"; exit 1; }
  fi
fi

# ---- dnsmasq -----------------------------------------------------------------
PIN_SERVER=() PIN_CLIENT=()
if [ "$pin" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SERVER=(taskset -c "${SERVER_CPU:-1}") PIN_CLIENT=(taskset -c "${CLIENT_CPU:-0}")
fi
port=$("$BIN/bench-dns-libevent" --free-port "${BENCH_DNS_PORT:-0}")
server=127.0.0.1:$port
dnsmasq_pid=
cleanup() {
  if [ -n "$dnsmasq_pid" ]; then
    kill -TERM "$dnsmasq_pid" 2>/dev/null || true
    wait "$dnsmasq_pid" 2>/dev/null || true
    dnsmasq_pid=
  fi
}
trap cleanup EXIT
"${PIN_SERVER[@]}" "$DNSMASQ" --no-resolv --no-hosts --conf-file=/dev/null --listen-address=127.0.0.1 \
  --bind-interfaces --port="$port" --keep-in-foreground --pid-file= --user="$(id -un)" \
  --local=/#/ --local-ttl=60 --address=/bench.test/10.1.2.3 --address=/bench.test/fd00::1:2:3 \
  >"$LOGS/dnsmasq.log" 2>&1 &
dnsmasq_pid=$!
ready=0
for _ in $(seq 1 50); do
  if "$BIN/bench-dns-libevent" --server "$server" --count 1 --warmup 0 --timeout 2 >/dev/null 2>&1; then
    ready=1; break
  fi
  kill -0 "$dnsmasq_pid" 2>/dev/null || break
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  log "dns-run.sh: dnsmasq does not answer on $server:"; cat "$LOGS/dnsmasq.log" >&2; exit 1
fi
dnsmasq_version=$("$DNSMASQ" --version | awk 'NR == 1 { print $3 }')

# ---- timed runs ----------------------------------------------------------------
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
failed=0
run_one() {  # run_one IMPL ROUND: one fresh process; its RESULT line into $RUNS
  local impl=$1 r=$2 res rc
  set +e
  res=$("${PIN_CLIENT[@]}" "$BIN/bench-dns-$impl" --server "$server" --count "$count" --warmup "$warmup" \
        --inflight "$inflight" --names "$names" "${mode_args[@]}" 2>>"$LOGS/client-$impl.log")
  rc=$?
  set -e
  if [ $rc -ne 0 ] || [ -z "$res" ]; then
    log "dns-run.sh: bench-dns-$impl failed (exit $rc), round $r:"; tail -5 "$LOGS/client-$impl.log" >&2
    failed=1
    return
  fi
  if ! kill -0 "$dnsmasq_pid" 2>/dev/null; then
    log "dns-run.sh: dnsmasq died during round $r"; failed=1; return
  fi
  echo "round=$r $res" >>"$RUNS"
  log "  round $r $impl: $(field rate "$res") resolutions/s, $(field cpu_us_per_op "$res") us CPU each"
}
log "=== $count lookups per run ($mode, $inflight in flight, $names names), $rounds round(s): ${IMPLS[*]}"
for r in $(seq 1 "$rounds"); do
  for impl in "${IMPLS[@]}"; do run_one "$impl" "$r"; done
done
[ "$failed" = 0 ] || exit 1

# ---- system calls (strace -f -c, the client alone) -------------------------------
declare -A SC_PER SC_DETAIL
if [ "$do_syscalls" = 1 ]; then
  if ! command -v strace >/dev/null; then
    log "note: strace is not installed: no system-call counts (Debian: apt-get install strace)"; do_syscalls=0
  elif ! err=$(strace -f -c -o /dev/null true 2>&1 >/dev/null); then
    log "note: strace cannot trace here (ptrace not permitted?): $err"; do_syscalls=0
  fi
fi
if [ "$do_syscalls" = 1 ]; then
  for impl in "${IMPLS[@]}"; do
    st=$OUT/strace-$impl.txt
    rm -f "$st"
    set +e
    strace -f -c -o "$st" "$BIN/bench-dns-$impl" --server "$server" --count "$sc_count" --warmup 0 \
      --inflight "$inflight" --names "$names" "${mode_args[@]}" --timeout 600 \
      >>"$LOGS/strace-run-$impl.log" 2>&1
    rc=$?
    set -e
    calls=$(awk '$NF == "total" { print $4 }' "$st" 2>/dev/null || true)
    case "$calls" in ''|*[!0-9]*) rc=1 ;; esac
    if [ $rc -ne 0 ]; then
      log "dns-run.sh: bench-dns-$impl under strace failed (exit $rc):"; tail -5 "$LOGS/strace-run-$impl.log" >&2
      exit 1
    fi
    SC_PER[$impl]=$(awk -v c="$calls" -v n="$sc_count" 'BEGIN { printf "%.2f", c / n }')
    SC_DETAIL[$impl]=$(awk -v n="$sc_count" -v c="$calls" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" && $4 >= 0.005 * c {
                         printf "%s %.2f, ", $NF, $4 / n }' "$st" | sed 's/, $//')
  done
fi

# ---- table -------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() {  # col IMPL KEY: the values of KEY of IMPL's runs, one a line
  awk -v i="impl=$1" -v k="$2" '$0 ~ (" " i " ") { for (f = 1; f <= NF; ++f) if (index($f, k "=") == 1) print substr($f, length(k) + 2) }' "$RUNS"
}
ratios() {  # ratios KEY: per round, evasio's KEY over libevent's
  awk -v k="$1" '{ r = $1; sub(/^round=/, "", r); im = ""; v = "";
                   for (f = 2; f <= NF; ++f) { if ($f ~ /^impl=/) im = substr($f, 6); if (index($f, k "=") == 1) v = substr($f, length(k) + 2) }
                   val[r, im] = v; rounds[r] = 1 }
                 END { for (r in rounds) if (val[r, "libevent"] > 0 && val[r, "evasio"] != "") print val[r, "evasio"] / val[r, "libevent"] }' "$RUNS"
}
declare -A RATE CPU
for impl in "${IMPLS[@]}"; do
  RATE[$impl]=$(col "$impl" rate | median)
  CPU[$impl]=$(col "$impl" cpu_us_per_op | median)
done
have_evasio=0
[[ " ${IMPLS[*]} " == *" evasio "* ]] && have_evasio=1
fmt_ratio() { [ "$have_evasio" = 1 ] && [ -n "$1" ] && [ "$1" != - ] && awk -v v="$1" 'BEGIN { printf "%.2f", v }' || echo -; }
r_rate=$( [ "$have_evasio" = 1 ] && ratios rate | median || echo -)
r_cpu=$( [ "$have_evasio" = 1 ] && ratios cpu_us_per_op | median || echo -)
r_sc=-
if [ "$have_evasio" = 1 ] && [ -n "${SC_PER[libevent]:-}" ] && [ -n "${SC_PER[evasio]:-}" ]; then
  r_sc=$(awk -v a="${SC_PER[evasio]}" -v b="${SC_PER[libevent]}" 'BEGIN { if (b > 0) print a / b; else print "-" }')
fi

echo
echo "DNS benchmark: $count lookups per run (mode $mode: n0..n$((names - 1)).bench.test), $inflight in flight,"
echo "median of $rounds round(s); dnsmasq $dnsmasq_version on $server${PIN_SERVER[*]:+ (dnsmasq on CPU ${SERVER_CPU:-1}, client on CPU ${CLIENT_CPU:-0})}."
echo
printf '%-34s %12s %12s %16s\n' "" libevent evasio evasio/libevent
printf '%-34s %12s %12s %16s\n' "resolutions/s" "${RATE[libevent]}" "${RATE[evasio]:--}" "$(fmt_ratio "$r_rate")"
printf '%-34s %12s %12s %16s\n' "client CPU us per resolution" "${CPU[libevent]}" "${CPU[evasio]:--}" "$(fmt_ratio "$r_cpu")"
if [ "$do_syscalls" = 1 ]; then
  printf '%-34s %12s %12s %16s\n' "syscalls per resolution (strace)" "${SC_PER[libevent]:--}" "${SC_PER[evasio]:--}" "$(fmt_ratio "$r_sc")"
  echo
  for impl in "${IMPLS[@]}"; do
    echo "  $impl, calls per resolution over $sc_count lookups: ${SC_DETAIL[$impl]:-}"
  done
fi
echo
if [ "$have_evasio" = 1 ]; then
  echo "ratio evasio/libevent: resolutions/s $(fmt_ratio "$r_rate"), CPU per resolution $(fmt_ratio "$r_cpu"), syscalls per resolution $(fmt_ratio "$r_sc")"
else
  echo "ratio evasio/libevent: n/a (no evasio build: give --evasio PREFIX_OR_BUILD_DIR or --bin DIR)"
fi
echo "(every RESULT line: $RUNS)"
