#!/usr/bin/env bash
# Installs what is missing, builds evasio, and starts the echo sample (the
# manual's chapter 8 echo server, built against evasio) on port 9876 or $1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVASIO_BUILD_TESTS=OFF
cmake --build build -j"$(nproc)" --target evasio-echo
echo "evasio echo server on port ${1:-9876} (Ctrl-C stops it)"
exec ./build/samples/evasio-echo "$@"
