#!/usr/bin/env bash
# Lint the Solidity sources in contracts/ with solhint (config: .solhint.json,
# ignores: .solhintignore), offline.
#
# Usage: scripts/lint-solidity.sh [--strict]
#
# Policy:
#   * Every file must pin the compiler exactly: `pragma solidity <version>;`
#     with the version of contracts/compiler.json (checked here; solhint's
#     compiler-version rule only checks the lowest version a pragma allows).
#   * Errors fail. The rules set to "error" in .solhint.json are the ones
#     that matter (OpenZeppelin style, custom errors, named mapping
#     parameters, no global imports, visibility, security).
#   * Warnings are printed but do not fail, unless --strict is given (then
#     solhint runs with --max-warnings 0). Only a small set of advisory rules
#     is at "warn": use-natspec (missing/mismatched NatSpec), no-inline-assembly,
#     avoid-low-level-calls, reentrancy, no-complex-fallback,
#     gas-calldata-parameters. Silence a reviewed case in the source with
#     `// solhint-disable-next-line RULE`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

node_bin="node_modules/node/bin/node"
solhint_js="node_modules/solhint/solhint.js"

max_warnings=()
case "${1:-}" in
    "") ;;
    --strict) max_warnings=(--max-warnings 0) ;;
    *)
        echo "usage: $0 [--strict]" >&2
        exit 2
        ;;
esac

if [[ ! -x "$node_bin" || ! -f "$solhint_js" ]]; then
    echo "lint-solidity: $node_bin or $solhint_js is missing; run 'npm ci' first" >&2
    exit 2
fi

# The version every pragma and .solhint.json's compiler-version rule must name.
version="$("$node_bin" -p 'JSON.parse(require("fs").readFileSync("contracts/compiler.json", "utf8")).version')"
solhint_version="$("$node_bin" -p '
    const rule = JSON.parse(require("fs").readFileSync(".solhint.json", "utf8")).rules["compiler-version"];
    Array.isArray(rule) ? String(rule[1]) : ""')"
if [[ "$solhint_version" != "$version" ]]; then
    echo "lint-solidity: .solhint.json compiler-version is \"$solhint_version\"" \
        "but contracts/compiler.json pins $version; make them equal" >&2
    exit 1
fi

mapfile -t sources < <(find contracts -name '*.sol' -type f | LC_ALL=C sort)
if ((${#sources[@]} == 0)); then
    echo "lint-solidity: no .sol files under contracts/, nothing to lint"
    exit 0
fi

pragma_re="^[[:space:]]*pragma[[:space:]]+solidity[[:space:]]+${version//./\\.}[[:space:]]*;"
unpinned=()
for file in "${sources[@]}"; do
    if ! grep -Eq "$pragma_re" "$file"; then
        unpinned+=("$file")
    fi
done
if ((${#unpinned[@]} > 0)); then
    echo "lint-solidity: these files do not say exactly 'pragma solidity $version;':" >&2
    printf '  %s\n' "${unpinned[@]}" >&2
    exit 1
fi

# --disc: no update check (it would query the npm registry); --noPoster: no ads.
"$node_bin" "$solhint_js" --disc --noPoster "${max_warnings[@]}" 'contracts/**/*.sol'
echo "lint-solidity: OK (${#sources[@]} files, solc $version pinned)"
