# memcached 1.6.x: its configure finds libevent with --with-libevent=DIR (a
# link test of event_init() against DIR/include and -levent from DIR/lib, with
# an rpath to DIR/lib); `make test` builds memcached-debug, sizes and testapp,
# runs the last two, then `prove t/` (the Perl suite; PARALLEL=N runs
# prove -j N). Sourced by dropin.sh.

prog_configure() {
  if [ $oracle = 1 ]; then ./configure $extra_configure  # finds the system's libevent itself
  else ./configure --with-libevent="$le_prefix" $extra_configure; fi
}
prog_binaries() { echo ./memcached; }
prog_test() {
  local rc
  make test ${MEMCACHED_PARALLEL:+PARALLEL=$MEMCACHED_PARALLEL}
  rc=$?
  check_linkage ./memcached-debug ./testapp || rc=1  # the binaries the tests ran
  return $rc
}
# prove's own closing lines, and the name of every test file that failed or skipped
prog_test_summary() {
  grep -E '^(Files=|Result:|All tests successful|Failed [0-9]+/|t/.*(skipped|Failed|Dubious|Wstat|Parse errors))' "$1"
  grep -E '^t/[^ ]+ \.+ ' "$1" | grep -vE '\.+ ok$' | head -40
}
