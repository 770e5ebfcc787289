#!/usr/bin/env bash
# Installs what building and testing foster needs on Debian 12, if missing.
# Usage: packaging/deps.sh [--bench] [--containers]
#   --bench       adds the peers compared in bench/
#   --containers  adds podman and what the container tests (tests/container) use
set -euo pipefail
packages=(g++ cmake make pkg-config libsystemd-dev libtomlplusplus-dev doctest-dev
          python3 python3-pytest util-linux procps bsdutils passwd
          python3-pytest-xdist        # the integration tests in parallel (they mostly wait)
          systemd                     # systemd-journald, systemd-analyze, systemd-notify for the systemd tests
          lld                         # links foster with its hot path first (src/hot_path.order)
          scdoc mandoc groff-base     # the man pages (docs/man) and their lint test
          tzdata                      # time zones for the schedule unit tests (daylight saving time)
          clang libclang-rt-14-dev    # clang + libFuzzer for the fuzz smoke run
          valgrind                    # tests/valgrind/run (memcheck) and bench/hot_path.py
          strace)                     # the entrypoint's system-call count (test_entrypoint_startup_cost.py)
for option in "$@"; do
  case $option in
    --bench) packages+=(tini dumb-init catatonit supervisor s6 runit) ;;
    # runc: crun refuses a hybrid cgroup layout; catatonit: podman builds its pod
    # infra (pause) image from it; busybox-static: the images' userland.
    --containers) packages+=(podman runc catatonit busybox-static python3-yaml) ;;
    *) echo "deps.sh: unknown option '$option'" >&2; exit 2 ;;
  esac
done
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
