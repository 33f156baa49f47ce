#!/bin/sh
# dropin.sh MODE PREFIX SEED PROBE WORKDIR [HIDE]
#
# The drop-in install, tried as a libevent program's own build would try it:
# the manual's chapter 8 echo server (from SEED, as tests/headers does) is
# built with the project in tests/consume/dropin/ by MODE
#   autotools  autoconf + ./configure CPPFLAGS=-I... LDFLAGS=-L... PKG_CONFIG_PATH=...
#              (AC_CHECK_LIB(event, ...), AC_SEARCH_LIBS, PKG_CHECK_MODULES(libevent >= 2.0.10))
#   cmake      find_package(Libevent 2.1 CONFIG) with CMAKE_PREFIX_PATH
#   make       a plain Makefile with -I$PREFIX/include -L$PREFIX/lib -levent
# against evasio installed in PREFIX; then every libevent header the compiler
# read must be PREFIX's, the program must load libevasio and no libevent, and
# PROBE (echo_probe) must see it echo over loopback.
# HIDE, when given and usable (root, unshare), is the without-libevent tool:
# the build then runs with the system's libevent headers, libraries and .pc
# files hidden, so that it can only have found evasio.
set -u
[ $# -ge 5 ] || { echo "usage: $0 MODE PREFIX SEED PROBE WORKDIR [HIDE]" >&2; exit 2; }
mode=$1 prefix=$2 seed=$3 probe=$4 work=$5 hide=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
[ -z "$hide" ] || hide=$(cd "$(dirname "$hide")" 2>/dev/null && pwd)/$(basename "$hide")

# Without the seed (a clone with no shared/ beside it), the project's own
# rendering of the same server, samples/echo.c, is built instead.
if [ -f "$seed" ]; then
	extract() { sed -n '/^#include <event2\/listener\.h>/,$p' "$seed"; }
else
	echo "the manual's chapter 8 is not at $seed: building samples/echo.c instead"
	extract() { cat "$here/../../samples/echo.c"; }
fi
run() { "$@"; }
if [ -n "$hide" ] && [ -x "$hide" ] && [ "$(id -u)" = 0 ] && "$hide" true 2>/dev/null; then
	run() { "$hide" "$@"; }
	echo "building with the system's libevent hidden ($hide)"
fi

rm -rf "$work" && mkdir -p "$work" || exit 1
cp "$here"/dropin/* "$work"/ || exit 1
extract >"$work/echo.c"
[ -s "$work/echo.c" ] || { echo "FAILED: no example in $seed"; exit 1; }
cd "$work" || exit 1

log=$work/build.log
case $mode in
autotools)
	run sh -c "aclocal && autoconf && ./configure CPPFLAGS='-I$prefix/include' \
		LDFLAGS='-L$prefix/lib -Wl,-rpath,$prefix/lib' PKG_CONFIG_PATH='$prefix/lib/pkgconfig' && make" \
		>"$log" 2>&1 ;;
cmake)
	run sh -c "cmake -S . -B b -DCMAKE_PREFIX_PATH='$prefix' && cmake --build b --verbose && cp b/echo b/dnscheck ." \
		>"$log" 2>&1 ;;
make)
	run make -f Makefile.plain PREFIX="$prefix" >"$log" 2>&1 ;;
*)
	echo "unknown mode $mode" >&2; exit 2 ;;
esac
rc=$?
if [ $rc -ne 0 ] || [ ! -x echo ]; then
	cat "$log"
	[ -f config.log ] && tail -40 config.log
	echo "FAILED: the $mode build does not find evasio as libevent"
	exit 1
fi

# -H lists each header read as ". path", ".. path", ...
headers=$(grep -E '^\.+ ' "$log" | sed 's/^\.* //' | grep -E '/event2/|/(event|evutil|evdns|evhttp|evrpc)\.h$' | sort -u)
[ -n "$headers" ] || { cat "$log"; echo "FAILED: no libevent header was read"; exit 1; }
real_prefix=$(cd "$prefix" && pwd -P)
foreign=$(for h in $headers; do
	d=$(cd "$(dirname "$h")" && pwd -P)
	case $d in "$real_prefix"/include|"$real_prefix"/include/*) ;; *) echo "$h" ;; esac
done)
if [ -n "$foreign" ]; then
	echo "FAILED: headers from outside $prefix were used:"; echo "$foreign"; exit 1
fi
echo "headers read:" $(for h in $headers; do echo "$h" | sed 's|.*/include/||'; done)

libs=$(ldd ./echo)
if echo "$libs" | grep -Eq '^[[:space:]]*libevent[^ ]* =>'; then
	echo "FAILED: the program loads a libevent:"; echo "$libs"; exit 1
fi
echo "$libs" | grep -E '^[[:space:]]*libevasio\.so' || { echo "FAILED: the program does not load libevasio"; echo "$libs"; exit 1; }

"$probe" ./echo "the manual's echo server, built by $mode against the drop-in install" || {
	echo "FAILED: it does not echo"; exit 1; }
# evdns through libevent_extra (dnscheck.c): built the same way, run.
ldd ./dnscheck | grep -Eq '^[[:space:]]*libevent[^ ]* =>' && {
	echo "FAILED: dnscheck loads a libevent"; ldd ./dnscheck; exit 1; }
[ "$(./dnscheck)" = "dnscheck: ok" ] || { echo "FAILED: evdns through libevent_extra"; exit 1; }
echo "dnscheck (evdns through libevent_extra): ok"
echo "dropin_$mode: passed"
