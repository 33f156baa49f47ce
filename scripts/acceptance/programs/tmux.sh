# tmux 3.x: its configure finds libevent through pkg-config (libevent_core,
# then libevent), so PKG_CONFIG_PATH points it at the prefix (evasio's .pc
# files carry the rpath). Its tests: a server on a private socket answers
# commands (the checks below), then the regress/*.sh scripts of the source
# tree, each run as regress/Makefile runs them, on a private TMUX_TMPDIR.
# Sourced by dropin.sh.

prog_configure() {
  if [ $oracle = 1 ]; then ./configure $extra_configure
  else PKG_CONFIG_PATH=$le_prefix/lib/pkgconfig ./configure $extra_configure; fi
}
prog_binaries() { echo ./tmux; }

tmux_passed=0 tmux_failed=0
tmux_check() {  # tmux_check NAME CMD...: one check, PASS or FAIL
  if "${@:2}"; then echo "PASS $1"; tmux_passed=$((tmux_passed + 1))
  else echo "FAIL $1"; tmux_failed=$((tmux_failed + 1)); fi
}
tmux_wait_for() {  # tmux_wait_for PATTERN CMD...: poll CMD's output for PATTERN, 10 s at most
  local i
  for i in $(seq 50); do "${@:2}" 2>/dev/null | grep -q -- "$1" && return 0; sleep 0.2; done
  return 1
}
tmux_server_checks() {
  local T=("$PWD/tmux" -S "$work/tmux-server.sock" -f /dev/null) pid
  export TERM=screen
  tmux_check "new-session starts a detached server" "${T[@]}" new-session -d -s accept -x 80 -y 24 /bin/sh
  pid=$("${T[@]}" display-message -p -t accept '#{pid}')
  tmux_check "display-message answers with the server's pid" test -n "$pid"
  tmux_check "the server process loads the library it was built for" \
    grep -q "$([ $oracle = 1 ] && echo libevent || echo libevasio)" "/proc/$pid/maps"
  tmux_check "list-sessions lists the session" tmux_wait_for '^accept: 1 windows' "${T[@]}" list-sessions
  tmux_check "send-keys types into the pane" "${T[@]}" send-keys -t accept 'echo dropin-$((6*7))' Enter
  tmux_check "capture-pane shows the shell's answer" tmux_wait_for '^dropin-42' "${T[@]}" capture-pane -p -t accept
  tmux_check "split-window makes a second pane" "${T[@]}" split-window -t accept /bin/sh
  tmux_check "list-panes lists two panes" tmux_wait_for '^1:' "${T[@]}" list-panes -t accept
  tmux_check "new-window makes a second window" "${T[@]}" new-window -t accept -n second /bin/sh
  tmux_check "list-windows lists it" tmux_wait_for 'second' "${T[@]}" list-windows -t accept
  tmux_check "run-shell returns a job's output" tmux_wait_for '^job-ok$' "${T[@]}" run-shell 'echo job-ok'
  tmux_check "a pane's exit is seen (kill-pane, respawn)" "${T[@]}" kill-pane -t accept:second
  tmux_check "the window of the killed pane is gone" \
    sh -c "! \"\$@\" list-windows -t accept | grep -q second" sh "${T[@]}"
  tmux_check "set-buffer/show-buffer round trip" tmux_wait_for '^kept$' \
    sh -c '"$@" set-buffer kept && "$@" show-buffer' sh "${T[@]}"
  tmux_check "kill-server answers" "${T[@]}" kill-server
  tmux_check "the server has exited" tmux_wait_for gone sh -c "kill -0 $pid 2>/dev/null || echo gone"
  tmux_check "the socket no longer answers" sh -c "! \"\$@\" list-sessions 2>/dev/null" sh "${T[@]}"
}
# The source tree's regress/*.sh, one at a time as its Makefile does. Several
# race the server (they read a pane without waiting for it), so a failed
# script is run again, up to DROPIN_TMUX_TRIES times in all (default 2), the
# same with either library; a pass on a later try is reported as such.
tmux_regress() {
  local t name try tries=${DROPIN_TMUX_TRIES:-2} rc
  export TMUX_TMPDIR=$work/tmux-tmpdir TEST_TMUX=$PWD/tmux
  mkdir -p "$TMUX_TMPDIR"
  for t in regress/*.sh; do
    name=$(basename "$t" .sh)
    for try in $(seq "$tries"); do
      (cd regress && timeout -k 10 120 sh "$name.sh" >"$logs/regress-$name.$try.log" 2>&1)
      rc=$?
      tmux_kill_servers
      sleep 1
      [ $rc = 0 ] && break
    done
    [ $rc = 0 ] && [ "$try" -gt 1 ] && echo "(regress/$name.sh passed on try $try)"
    tmux_check "regress/$name.sh" test $rc = 0
  done
}
tmux_kill_servers() {  # every server a script left on the private TMUX_TMPDIR (-Ltest, -Ltest2, ...)
  local s
  for s in "$TMUX_TMPDIR"/tmux-*/*; do [ -S "$s" ] && "$TEST_TMUX" -S "$s" kill-server 2>/dev/null; done
  return 0
}
prog_test() {
  tmux_server_checks
  [ -d regress ] && tmux_regress
  echo "tmux: $tmux_passed passed, $tmux_failed failed"
  [ $tmux_failed = 0 ]
}
prog_test_summary() { grep -E '^(FAIL |tmux: |\(regress/.* passed on try)' "$1"; }
prog_test_results() { sed -n 's/^\(PASS\|FAIL\) \(.*\)/\2 \1/p' "$1" | tr ' ' '_' | sed 's/_\(PASS\|FAIL\)$/ \1/'; }
