#!/bin/sh
# manual_echo_example.sh SEED CC INCDIR LIBDIR WORKDIR PROBE [CC-FLAG...]
#
# The ctest test manual_echo_example_builds: takes the echo server example
# that ends chapter 8 of the libevent manual (SEED, from its line
# "#include <event2/listener.h>" to the end of the file), compiles it
# unmodified with CC against evasio's headers (INCDIR) and -levasio (from
# LIBDIR, found at run time through an rpath), checks that no header of
# real libevent took part, and has PROBE (echo_probe) start it on a free
# port, send a line over loopback TCP, check the echo and stop it.
# The example is extracted into WORKDIR at test time; nothing of the seed
# is kept in the repository. Exits 77 (ctest: skipped) when SEED is absent.
# The CC-FLAGs come first on the compiler's command line (sanitizer and
# user flags of the build, so that the program links with libevasio).
set -u

if [ $# -lt 6 ]; then
	echo "usage: $0 SEED CC INCDIR LIBDIR WORKDIR PROBE [CC-FLAG...]" >&2
	exit 2
fi
seed=$1 cc=$2 incdir=$3 libdir=$4 workdir=$5 probe=$6
shift 6

if [ ! -f "$seed" ]; then
	echo "SKIPPED: the manual's chapter 8 is not at $seed"
	echo "(it lives in shared/seed beside the repository, as in CI)"
	exit 77
fi

mkdir -p "$workdir" || exit 1
src=$workdir/manual_echo_example.c
exe=$workdir/manual_echo_example
deps=$workdir/manual_echo_example.d
rm -f "$src" "$exe" "$deps"

sed -n '/^#include <event2\/listener\.h>/,$p' "$seed" >"$src" || exit 1
if [ ! -s "$src" ]; then
	echo "FAILED: no line '#include <event2/listener.h>' in $seed"
	exit 1
fi
for needle in 'evconnlistener_new_bind' 'bufferevent_socket_new' \
    'event_base_dispatch' 'main('; do
	if ! grep -q "$needle" "$src"; then
		echo "FAILED: the extracted example has no '$needle'"
		exit 1
	fi
done
echo "extracted $(wc -l <"$src") lines of the example into $src"

echo "compiling: $cc $* -Wall -I$incdir $src -o $exe -L$libdir -levasio -Wl,-rpath,$libdir"
if ! "$cc" "$@" -Wall -I"$incdir" -MD -MF "$deps" "$src" -o "$exe" \
    -L"$libdir" -levasio -Wl,-rpath,"$libdir"; then
	echo "FAILED: the manual's example does not build against evasio"
	exit 1
fi

# Every event2 header the compiler read must be evasio's.
foreign=$(tr ' \\' '\n\n' <"$deps" | grep 'event2/' | grep -v "^$incdir/event2/")
if [ -n "$foreign" ]; then
	echo "FAILED: headers from outside $incdir were used:"
	echo "$foreign"
	exit 1
fi
echo "event2 headers used:" $(tr ' \\' '\n\n' <"$deps" | grep 'event2/' | sed 's|.*/event2/|event2/|')

# Does it link against libevasio (and not libevent)?
if command -v ldd >/dev/null 2>&1; then
	if ldd "$exe" | grep -q 'libevent'; then
		echo "FAILED: the example links with libevent:"
		ldd "$exe"
		exit 1
	fi
	ldd "$exe" | grep 'libevasio' || {
		echo "FAILED: the example does not link with libevasio"
		exit 1
	}
fi

"$probe" "$exe" "the manual's echo server, on evasio"
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAILED: the example does not echo (echo_probe exited $rc)"
	exit 1
fi
echo "manual_echo_example_builds: passed"
exit 0
