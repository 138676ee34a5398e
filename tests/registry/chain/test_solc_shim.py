"""The solc shim's ``--combined-json`` mode, which crytic-compile (and so Slither, ``make slither``) runs.

It must answer in native solc's combined-JSON layout and refuse what it does not support, as native
solc does; the ``--standard-json`` mode the build uses is covered by every contract test.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from registry.chain.build import _SHIM, compiler_settings, node_binary, project_root

SOURCES = {
    "A.sol": 'pragma solidity ^0.8.0;\nimport "lib/B.sol";\n'
    "contract A is B { function f() external pure returns (uint256) { return g() + 1; } }\n",
    "vendor/B.sol": "pragma solidity ^0.8.0;\n"
    "contract B { function g() internal pure returns (uint256) { return 41; } }\n",
}


def _shim(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node_binary(), str(_SHIM), *args],
        cwd=cwd,
        env={**os.environ, "SOLC_SHIM_ROOT": str(project_root())},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _write(tmp_path: Path) -> None:
    for name, text in SOURCES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)


def test_combined_json_has_native_solc_layout(tmp_path: Path) -> None:
    _write(tmp_path)
    r = _shim(
        tmp_path,
        "lib/=vendor/",
        "A.sol",
        "--combined-json",
        "abi,ast,bin,bin-runtime,srcmap,hashes",
        "--optimize",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"contracts", "sourceList", "sources", "version"}
    assert out["version"].startswith(str(compiler_settings()["version"]))
    assert set(out["contracts"]) == {"A.sol:A", "vendor/B.sol:B"}  # remapped, as native solc names it
    a = out["contracts"]["A.sol:A"]
    assert set(a) == {"abi", "bin", "bin-runtime", "srcmap", "hashes"}
    assert a["hashes"] == {"f()": "26121ff0"} and a["bin"] and a["bin-runtime"]
    assert out["sourceList"] == ["A.sol", "vendor/B.sol"]
    for i, name in enumerate(out["sourceList"]):
        assert out["sources"][name]["id"] == i
        assert out["sources"][name]["AST"]["nodeType"] == "SourceUnit"


def test_combined_json_refuses_what_it_does_not_support(tmp_path: Path) -> None:
    _write(tmp_path)
    unknown_option = _shim(tmp_path, "A.sol", "--combined-json", "abi", "--model-checker-engine", "all")
    assert (
        unknown_option.returncode == 1
        and "unsupported option --model-checker-engine" in unknown_option.stderr
    )
    unknown_output = _shim(tmp_path, "A.sol", "--combined-json", "abi,nonsense")
    assert (
        unknown_output.returncode == 1
        and "Invalid option to --combined-json: nonsense" in unknown_output.stderr
    )
    missing = _shim(tmp_path, "Missing.sol", "--combined-json", "abi")
    assert missing.returncode == 1 and "not found" in missing.stderr
    broken = _shim(tmp_path, "A.sol", "--combined-json", "abi")  # lib/B.sol unresolved without the remapping
    assert broken.returncode == 1 and "B.sol" in broken.stderr
