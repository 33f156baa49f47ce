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
  check_linkage ./memcached-debug || rc=1  # the server the t/ suite ran (testapp has no libevent)
  return $rc
}
# prove's own closing lines (its report of the failed files, if any) and the skips by reason
prog_test_summary() {
  sed -n '/^Test Summary Report/,/^Files=/{/^Files=/!p}' "$1"
  grep -E '^(All tests successful|Files=|Result:)' "$1"
  grep -E '^t/[^ ]+ \.+ skipped' "$1" | sed 's/.*skipped: *//' | sort | uniq -c | sed 's/^ */skipped: /'
}
# one "NAME VERDICT" line per t/ file: ok, skipped, or failed (in prove's summary report)
prog_test_results() {
  local failed
  failed=$(sed -n '/^Test Summary Report/,$p' "$1" | sed -n 's/^\(t\/[^ ]*\.t\) .*/\1/p' | sort -u)
  grep -E '^t/[^ ]+\.t \.+' "$1" | while read -r name rest; do
    if echo "$failed" | grep -qx "$name"; then echo "$name FAIL"
    elif echo "$rest" | grep -q 'skipped'; then echo "$name SKIP"
    elif echo "$rest" | grep -qE ' ok$'; then echo "$name PASS"
    else echo "$name FAIL"; fi
  done
}
