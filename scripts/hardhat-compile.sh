#!/usr/bin/env bash
# Compile contracts/ with Hardhat 3, offline, using Node 22 from node_modules.
#
# Usage: scripts/hardhat-compile.sh [extra `hardhat build` options, e.g. --force --quiet]
#
# Configuration: hardhat.config.js (reads contracts/compiler.json; compiler =
# node_modules/solc/soljson.js). Output: build/hardhat/{artifacts,cache}.
# Exits non-zero when the toolchain is missing or the compilation fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

node_bin="node_modules/node/bin/node"
hardhat_cli="node_modules/hardhat/dist/src/cli.js"

if [[ ! -x "$node_bin" || ! -f "$hardhat_cli" ]]; then
    echo "hardhat-compile: $node_bin or $hardhat_cli is missing; run 'npm ci' first" >&2
    exit 2
fi

node_major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
if ((node_major < 22)); then
    echo "hardhat-compile: Hardhat 3 needs Node >= 22, $node_bin is $("$node_bin" --version)" >&2
    exit 2
fi

# Hardhat loads EDR's native binding at start-up. npm skips that optional
# package (engines: node >= 22) when it runs under an older system node.
if ! "$node_bin" -e 'require("@nomicfoundation/edr")' >/dev/null 2>&1; then
    cat >&2 <<EOF
hardhat-compile: the native binding of @nomicfoundation/edr is not installed.
npm skipped it because it ran under a Node older than 22. Fix (keeps package-lock.json):
    PATH="$root/node_modules/node/bin:\$PATH" npm install --no-audit --no-fund
EOF
    exit 2
fi

# Non-interactive and offline: no telemetry prompt or upload, and no banner
# (Hardhat fetches one from the network on an interactive terminal outside CI).
export HARDHAT_DISABLE_TELEMETRY=true
export CI="${CI:-true}"

start=$SECONDS
"$node_bin" "$hardhat_cli" build "$@"
echo "hardhat-compile: OK in $((SECONDS - start)) s (artifacts in build/hardhat/artifacts)"
