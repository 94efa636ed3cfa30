#!/usr/bin/env bash
# Installs what bpfcheck's build and tests need on a fresh Debian machine (run as root).
# Idempotent: installs only what is missing.
set -euo pipefail
need=()
[ -f /usr/include/z3.h ] || need+=(libz3-dev)
command -v llvm-objdump >/dev/null 2>&1 || need+=(llvm)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
# clang-16 is only needed to rebuild corpus/ objects (they are committed); install with
#   apt-get install -y clang-16
