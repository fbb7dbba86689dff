#!/usr/bin/env bash
# Installs the real Prometheus tools the tests run (promtool, amtool, the prometheus server) from Debian's
# packages when they are missing, so `npm test` works on a fresh machine with no manual step.
set -euo pipefail

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
# The unprivileged-run test traces the server's file system calls to show it writes nothing.
command -v strace >/dev/null 2>&1 || missing+=(strace)
# `npm run bench` drives its HTTP/2 scenarios with h2load.
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

# shellcheck disable=SC2207
packages=($(printf '%s\n' "${missing[@]}" | sort -u))
echo "install-test-tools: installing ${packages[*]} from Debian's packages" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-test-tools: ${packages[*]} missing and not root; install them with apt-get" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
