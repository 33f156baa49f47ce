#!/bin/sh
# tls_echo_test.sh SERVER: the TLS echo sample, started on a free port with a
# certificate made here, answers openssl s_client (which verifies it) with
# every line sent, then stops on SIGTERM.
set -u
server=$1
work=$(mktemp -d) || exit 1
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
{ openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=sample-ca &&
  openssl req $ec -keyout key.pem -out req.csr -subj /CN=localhost &&
  printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf &&
  openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile ext.cnf
} >openssl.log 2>&1 || { cat openssl.log; echo "FAILED: certificates"; exit 1; }
# A random port; another one if it is taken.
for try in 1 2 3 4 5; do
	port=$(shuf -i 20000-60000 -n 1)
	"$server" cert.pem key.pem "$port" >server.log 2>&1 &
	pid=$!
	for i in $(seq 50); do
		grep -q listening server.log 2>/dev/null && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	grep -q listening server.log && break
done
lines="hello over tls
a second line"
got=$(printf '%s\n' "$lines" | timeout 20 openssl s_client -quiet -verify_return_error -CAfile ca.pem \
	-connect 127.0.0.1:"$port" -ign_eof 2>client.log & cpid=$!; sleep 2; kill $cpid 2>/dev/null; wait $cpid 2>/dev/null)
if [ "$got" != "$lines" ]; then
	echo "FAILED: echoed [$got], expected [$lines]"; cat server.log client.log; exit 1
fi
kill -TERM $pid && wait $pid
rc=$?
[ $rc -eq 0 ] || { echo "FAILED: the server exited with $rc"; cat server.log; exit 1; }
echo "tls echo: OK"
