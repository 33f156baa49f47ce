#!/usr/bin/env bash
# The DNS samples against a dnsmasq of the test's own (127.0.0.1, a free
# port, configured names only): evasio-resolve (or libevent-resolve) prints
# the addresses, reverse names, aliases and errors of the names it is given;
# evasio-proxy reaches an upstream given by name through
# bufferevent_socket_connect_hostname, and reports a name that does not
# resolve. Plain bash: /dev/tcp is the client.
#   dns_samples_test.sh RESOLVE PROXY ECHO     (one flavour's three samples)
set -u
rm -f ep.err pp.err np.err
resolve=$1 proxy=$2 echo_srv=$3
dnsmasq=${DNSMASQ:-/usr/sbin/dnsmasq}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$dnsmasq" ] || { echo "SKIP: no dnsmasq at $dnsmasq"; exit 0; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
free_port() { echo $((20000 + (RANDOM * 7 + $$) % 30000)); }
user=(); [ "$(id -u)" = 0 ] && user=(--user=root)

for try in 1 2 3 4 5; do
	dp=$(free_port)
	"$dnsmasq" --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --pid-file= "${user[@]}" \
		--listen-address=127.0.0.1 --bind-interfaces --port="$dp" --local=/test/ \
		--host-record=a.test,10.0.0.1,fd00::1 --cname=alias.test,a.test \
		--ptr-record=1.0.0.10.in-addr.arpa,a.test --address=/up.test/127.0.0.1 2>/dev/null &
	pids+=($!)
	for i in $(seq 50); do "$resolve" -4 -s 127.0.0.1:"$dp" a.test >/dev/null 2>&1 && break 2; sleep 0.1; done
done
"$resolve" -4 -s 127.0.0.1:"$dp" a.test >/dev/null 2>&1 || fail "dnsmasq did not start"
ns=127.0.0.1:$dp

out=$("$resolve" -s "$ns" a.test alias.test) || fail "resolve a.test alias.test: exit $?"
expected='a.test has address 10.0.0.1 (ttl 0)
a.test has IPv6 address fd00::1 (ttl 0)
alias.test has address 10.0.0.1 (ttl 0)
alias.test has IPv6 address fd00::1 (ttl 0)'
[ "$out" = "$expected" ] || fail "resolve: got
$out"
out=$("$resolve" -s "$ns" -x 10.0.0.1) || fail "resolve -x: exit $?"
[ "$out" = "10.0.0.1 domain name pointer a.test (ttl 0)" ] || fail "resolve -x: got $out"
out=$("$resolve" -g -4 -s "$ns" alias.test) || fail "resolve -g: exit $?"
[ "$out" = "alias.test is an alias for a.test
alias.test has address 10.0.0.1" ] || fail "resolve -g: got $out"
out=$("$resolve" -s "$ns" nx.test a.test); rc=$?
[ $rc = 1 ] || fail "resolve nx.test: exit $rc, not 1"
echo "$out" | grep -qx "nx.test: error: name does not exist" || fail "resolve nx.test: got $out"
echo "resolve: addresses, reverse, alias and NXDOMAIN as expected"

# start_listening VAR CMD... : runs CMD with its port (PORT in its arguments) on
# free ports until one listens; sets VAR to that port. The port is chosen at
# random, so a port taken by another test makes the program exit: try again.
start_listening() {
	local var=$1 port pid i try; shift
	for try in 1 2 3 4 5 6; do
		port=$(free_port)
		"${@//PORT/$port}" >/dev/null 2>>"$var.err" & pid=$!
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
				pids+=("$pid"); printf -v "$var" %s "$port"; return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	done
	fail "$* does not listen: $(cat "$var.err")"
}
start_listening ep "$echo_srv" PORT
start_listening pp "$proxy" PORT "up.test:$ep" "$ns"
exec 3<>/dev/tcp/127.0.0.1/"$pp" || fail "proxy does not listen"
printf 'hello through a name\n' >&3
IFS= read -r -t 10 line <&3 || fail "no echo through the proxy"
[ "$line" = "hello through a name" ] || fail "proxy echoed '$line'"
exec 3<&- 3>&-
echo "proxy: up.test resolved through the evdns_base, bytes echoed"

start_listening np "$proxy" PORT "nx.test:$ep" "$ns"
exec 3<>/dev/tcp/127.0.0.1/"$np" || fail "second proxy does not listen"
printf 'x\n' >&3
if IFS= read -r -t 10 line <&3; then fail "got '$line' from a proxy whose upstream does not resolve"; fi
exec 3<&- 3>&-
for i in $(seq 50); do grep -q "cannot resolve nx.test" np.err && break; sleep 0.1; done
grep -q "cannot resolve nx.test: nodename nor servname provided, or not known" np.err ||
	fail "proxy's report: $(cat np.err)"
echo "proxy: nx.test reported, the client's connection closed"
echo "dns samples: passed"
