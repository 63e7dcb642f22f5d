#!/usr/bin/env bash
# Installs the Debian packages shmcached needs to build, test and benchmark.
# Idempotent; needs root (or sudo).
set -euo pipefail
PKGS=(build-essential cmake pkg-config libxxhash-dev libcmocka-dev
      memcached libmemcached-dev libmemcached-tools gnuplot-nox
      libevent-dev libsasl2-dev libsasl2-modules python3-pymemcache python3-pytest clang
      qemu-system-x86 busybox-static cpio)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
