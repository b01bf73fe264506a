#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 (as root) and nothing it already has, so
# running it again takes a second. Then npm ci when node_modules is missing or older than the
# lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  cmake make g++ clang-14 libclang-rt-14-dev   # native build, sanitizers, libFuzzer
  emscripten                                   # the shipped wasm module
  catch2 nlohmann-json3-dev librapidcheck-dev  # tests, JSON, property tests
  postgresql                                   # integration tests against real PostgreSQL
  pgbouncer haproxy                            # the server suite through a pooler, processes behind a balancer
  chromium chromium-driver                     # browser tests (driven by playwright-core)
  nodejs npm
  # Pulled in only as recommendations, which are skipped below: npm ci needs the CA bundle over
  # HTTPS, and headless Chromium needs a font to lay out the demo's text.
  ca-certificates fonts-liberation
)

missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
# A node installed some other way (nvm, nodesource) is fine as long as it is new enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}")
  missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"

# Their Debian packages start a system service on install and enable it at boot (PostgreSQL's
# main cluster on 5432, pgbouncer on 6432, haproxy with its default configuration). The tests run
# throwaway instances of their own (scripts/pg-throwaway.sh, pgbouncer-throwaway.sh, the balancer
# test), so none of these services is wanted on the machine of someone who ran `npm test`.
daemons=(postgresql pgbouncer haproxy)
# Debian's invoke-rc.d asks this file before starting a service; 101 means "not now".
policy_rc_d="${SETUP_POLICY_RC_D:-/usr/sbin/policy-rc.d}"

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages need root: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # A policy already in place (container images ship one) is the machine's own: kept as it is.
  own_policy=false
  if [ ! -e "$policy_rc_d" ]; then
    own_policy=true
    trap 'rm -f "$policy_rc_d"' EXIT
    printf '#!/bin/sh\n# scripts/setup.sh: no service starts while it installs packages\nexit 101\n' >"$policy_rc_d"
    chmod 755 "$policy_rc_d"
  fi
  apt-get install -y --no-install-recommends "${missing[@]}"
  if [ "$own_policy" = true ]; then
    rm -f "$policy_rc_d"
    trap - EXIT
  fi
  # Not started, and not started at the next boot either: only the daemons installed just now,
  # and only where systemd runs (without it there is no boot-time start to undo).
  case "$(systemctl is-system-running 2>/dev/null || true)" in
    running | degraded | starting | initializing | maintenance)
      for daemon in "${daemons[@]}"; do
        if [[ " ${missing[*]} " == *" $daemon "* ]]; then
          systemctl disable --quiet "$daemon.service" || true
        fi
      done
      ;;
  esac
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node $(node --version) is too old; this project needs Node >= 20" >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
