#!/usr/bin/env bash
# Installs what building and testing foster needs on Debian 12, if missing.
# Usage: packaging/deps.sh [--bench]   (--bench adds the peers compared in bench/)
set -euo pipefail
packages=(g++ cmake make pkg-config libsystemd-dev libtomlplusplus-dev doctest-dev
          python3 python3-pytest util-linux procps bsdutils passwd
          lld                         # links foster with its hot path first (src/hot_path.order)
          systemd                     # systemd-notify: the notify test of a helper process sending READY=1
          clang libclang-rt-14-dev)   # clang + libFuzzer for the fuzz smoke run
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(tini dumb-init catatonit supervisor s6 runit valgrind)  # valgrind: bench/hot_path.py
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
