#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (as root) and runs it all:
# Debian packages for the interop and fault tests, the npm dependencies, then `npm test`. When the
# shared specs folder (../shared) is present, the checks that read the upstream specs run too.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(grep -v '^#' tools/apt-packages.txt | xargs || true)
if [ -n "$packages" ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $packages >/dev/null
  else
    echo "not root: skipping apt-get install of: $packages" >&2
  fi
fi

npm ci --no-audit --no-fund

if [ -d ../shared/specs ]; then
  npm run --if-present check:specs
fi

npm test
