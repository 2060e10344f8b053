#!/usr/bin/env bash
# Installs what building and testing Wisp needs, and nothing when it is already there:
# Debian packages (BPF toolchain, test peers, the browser for plugin tests) and npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool linux-libc-dev pkg-config make g++
  libclang-rt-14-dev  # libFuzzer, AddressSanitizer and UBSan for the native HTTP code (make fuzz)
  nginx-light wrk curl python3 iproute2 chromium
  openssl wget  # TLS tests: self-signed certificates; a GnuTLS client (not decodable: "encrypted, not decoded")
  prometheus  # a real server scraping the engine's RED metrics in test/api/prometheus.test.ts
  docker-compose  # v1: validates docker-compose.yaml offline (test/deploy); no Docker engine needed
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# kubectl renders deploy/ with its built-in kustomize (test/deploy, test/docs). The machine image
# has kubectl 1.32; where there is none, Debian's (kubectl 1.20, whose kustomize predates the
# `labels` field: those checks then fail naming it) rather than no kubectl at all.
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "wisp: missing Debian packages: ${missing[*]}; run as root (or apt-get install them)" >&2
    exit 1
  fi
  echo "wisp: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.wisp-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  # npm ci refuses this lock file: it lists optional platform packages (darwin/win32 builds of
  # @swc/core and @duckdb/node-bindings) that the registry reachable here does not serve, so the
  # lock cannot record them. npm install from the same lock installs the same versions.
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/wisp-npm-ci.log; then
    echo "wisp: npm ci refused the lock file (first line: $(grep -m1 -v '^npm error code' /tmp/wisp-npm-ci.log)); npm install from it"
    npm install --no-audit --no-fund --no-save --loglevel=error
  fi
  cp package-lock.json "$stamp"
fi
