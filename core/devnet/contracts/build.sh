#!/bin/sh
# Recompiles the dev-chain fixture contracts with a pinned solc from npm.
# Outputs (build/*.abi, build/*.bin, build/VERSION) are committed; the Go
# code embeds them, so building mm never needs node or solc.
set -e
SOLC_VERSION=0.8.37
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm install --silent --no-audit --no-fund --prefix "$tmp" "solc@$SOLC_VERSION" >/dev/null
NODE_PATH="$tmp/node_modules" node "$here/build.js"
echo "contracts: compiled with $(cat "$here/build/VERSION")"
