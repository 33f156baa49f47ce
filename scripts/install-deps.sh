#!/usr/bin/env bash
# Installs what evasio needs on Debian 12, from Debian's packages only.
# libevent-dev is the oracle of the differential tests (and the benchmark's
# comparison): never linked into evasio. strace: the ctest bench_syscalls_pingpong.
# netbase: /etc/services, for evutil_getaddrinfo's service-name cases.
# zlib1g-dev: the zlib filter sample (samples/zlib.c) and its ctests.
# libssl-dev: TLS bufferevents (libevasio_openssl, built when OpenSSL is found);
# openssl: the TLS tests' certificates and their s_server/s_client peers.
# libc-ares-dev: evdns (event2/dns.h) runs on c-ares. dnsmasq-base: the DNS
# tests' real server.
# --with-acceptance: what scripts/acceptance/dropin.sh needs to build memcached
# and tmux from their git trees (autogen.sh: autoconf, automake; tmux: bison,
# ncurses; memcached's t/ suite: perl, prove; pgbouncer's autogen.sh: libtool)
# and libevent-dev for its --oracle.
# Usage: scripts/install-deps.sh [--with-tests] [--with-acceptance]
set -euo pipefail
pkgs=(cmake make g++ pkg-config libboost1.81-dev libc-ares-dev)
for arg in "$@"; do
  case $arg in
    --with-tests) pkgs+=(libboost-test1.81-dev libevent-dev clang libclang-rt-14-dev strace autoconf automake netbase zlib1g-dev libssl-dev openssl dnsmasq-base) ;;
    --with-acceptance) pkgs+=(libevent-dev autoconf automake libtool bison libncurses-dev perl util-linux binutils) ;;
    *) echo "usage: $0 [--with-tests] [--with-acceptance]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: run as root (or install these packages first)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
