# Any autotools or CMake program: configure is pointed at the prefix the way
# evasio's README's porting guide says (CPPFLAGS, LDFLAGS with an rpath,
# PKG_CONFIG_PATH; CMAKE_PREFIX_PATH for CMake). The binaries to check are the
# executables the build made that depend on a libevent or libevasio
# (DROPIN_BINARIES overrides); the test is `make check` or --test CMD.
# Sourced by dropin.sh.

generic_cmake() { [ ! -f configure ] && [ ! -f configure.ac ] && [ -f CMakeLists.txt ]; }
prog_bootstrap() { generic_cmake && { echo "a CMake project"; return 0; }; default_bootstrap; }
prog_configure() {
  if generic_cmake; then
    if [ $oracle = 1 ]; then cmake -S . -B _build $extra_configure
    else cmake -S . -B _build -DCMAKE_PREFIX_PATH="$le_prefix" $extra_configure; fi
  elif [ $oracle = 1 ]; then ./configure $extra_configure
  else
    ./configure CPPFLAGS="-I$le_prefix/include" LDFLAGS="-L$le_prefix/lib -Wl,-rpath,$le_prefix/lib" \
      PKG_CONFIG_PATH="$le_prefix/lib/pkgconfig" $extra_configure
  fi
}
prog_build() { if generic_cmake; then cmake --build _build -j"$jobs"; else make -j"$jobs"; fi; }
prog_binaries() {
  if [ -n "${DROPIN_BINARIES:-}" ]; then echo "$DROPIN_BINARIES"; return; fi
  find . -type f -perm -u+x ! -name '*.so*' ! -name '*.sh' -newer "$logs/configure.log" 2>/dev/null |
    while read -r f; do readelf -d "$f" 2>/dev/null | grep -qE 'NEEDED.*\[lib(event|evasio)' && echo "$f"; done
}
prog_test() {
  if [ -n "$test_cmd" ]; then (cd "$(generic_cmake && echo _build || echo .)" && sh -c "$test_cmd")
  elif generic_cmake; then (cd _build && ctest --output-on-failure)
  else make check; fi
}
