#!/usr/bin/env bash
# scripts/setup.sh: install what spry needs on Debian 12, non-interactively.
# Idempotent: installs only missing packages. Runs apt-get as root, or
# through sudo when not root.
set -euo pipefail

PKGS=(
  build-essential pkg-config meson ninja-build
  libck-dev libcmocka-dev
  clang clang-format libclang-rt-14-dev
  golang-go
  libnng-dev nng-utils libzmq3-dev libnanomsg-dev nanomsg-utils
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
