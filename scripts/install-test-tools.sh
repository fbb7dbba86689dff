#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing, so `npm test` works on a fresh machine with no
# manual step: kubectl (the client users run; the tests point it at a real kube-apiserver), strace (the
# unprivileged-run test traces the server's file system calls), openssl (test certificates) and h2load (the
# benchmark's HTTP/2 scenarios). The real
# Kubernetes and Prometheus tools are built from Go modules by the next pretest step (scripts/toolchain).
set -euo pipefail

missing=()
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# `npm run bench` drives its HTTP/2 scenarios with h2load.
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-test-tools: installing ${missing[*]} from Debian's packages" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-test-tools: ${missing[*]} missing and not root; install them with apt-get" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
