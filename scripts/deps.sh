#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need, only when missing.
# Usage: scripts/deps.sh [run|test]
set -euo pipefail
mode=${1:-test}
norec=() # installed without their recommended packages
pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjson-c-dev libjwt-dev
      libcurl4-openssl-dev libssl-dev libsqlite3-dev uuid-dev libpq-dev)
if [ "$mode" = test ]; then
    pkgs+=(libcmocka-dev python3 python3-jsonschema curl jq valgrind)
    # Throw-away keys and certificates: JWT tests, the FHIR client's and JWKS TLS tests.
    pkgs+=(openssl)
    # Feedback store tests (a throw-away PostgreSQL cluster) and the benchmark client.
    pkgs+=(postgresql wrk)
    # deploy/nginx.conf tried in front of the service (/metrics by any spelling).
    pkgs+=(nginx)
    # The cluster test signs its JWTs in-process (tests/run_cluster.py).
    pkgs+=(python3-cryptography)
    # The report's HTML page drawn by a headless browser (tests/report_page.py).
    pkgs+=(chromium)
    # Fuzzing: clang with its libFuzzer, ASan and UBSan runtimes.
    pkgs+=(clang libclang-rt-14-dev)
    # Every C file as clang-format writes it (ctest format).
    pkgs+=(clang-format)
    # The compose file check needs the compose client only, not a Docker engine.
    norec+=(docker-compose)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
missing_norec=()
for p in "${norec[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing_norec+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ] || [ ${#missing_norec[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]} ${missing_norec[*]}" >&2
    $SUDO apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ${#missing_norec[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${missing_norec[@]}" >/dev/null
fi
