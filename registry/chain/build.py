"""Offline contract build (development only): py-solc-x fed by a native ``solc`` or by the ``solc`` npm
package (WebAssembly).

Nothing at run time compiles: the registry reads the artifacts shipped in :mod:`registry.chain.artifacts`.
``make compile`` (``python -m registry.chain.build``) regenerates those from ``contracts/``, and a test
fails while the committed ones differ from a fresh compile.

The compiler version and settings live in exactly one place, ``contracts/compiler.json``, which
``hardhat.config.js`` reads too. Compiler output is cached under ``build/artifacts/`` by a hash of the
sources, the settings and the OpenZeppelin version, so a second build of the same sources is instant.

Compiler choice: a native ``solc`` on PATH whose version equals the pinned one is preferred (faster);
otherwise ``registry/chain/solc_shim.cjs`` presents the npm package's WebAssembly compiler to
py-solc-x as if it were a native binary. py-solc-x's own installer is never used (it downloads).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from registry.chain.artifacts import MAIN_CONTRACTS, Artifact, load_artifact, write_artifacts
from registry.errors import ToolchainError

__all__ = [
    "PROJECT_ROOT",
    "Artifact",
    "build",
    "compiler_settings",
    "load_artifact",
    "node_binary",
    "project_root",
    "regenerate",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_SHIM = Path(__file__).with_name("solc_shim.cjs")


def project_root() -> Path:
    """The repository root holding ``contracts/``, ``node_modules/`` and ``build/``.

    ``EBL_PROJECT_ROOT`` overrides it (for an installed package pointed at a checkout).
    """
    return Path(os.environ.get("EBL_PROJECT_ROOT", PROJECT_ROOT))


def compiler_settings(root: Path | None = None) -> dict[str, Any]:
    """The pinned compiler version and settings from ``contracts/compiler.json``."""
    path = (root or project_root()) / "contracts" / "compiler.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ToolchainError(f"cannot read compiler settings {path}: {exc}") from exc
    return data


def node_binary(root: Path | None = None) -> str:
    """Node.js to run the WebAssembly compiler with: the project's Node 22, else the system one."""
    local = (root or project_root()) / "node_modules" / "node" / "bin" / "node"
    if local.exists():
        return str(local)
    system = shutil.which("node")
    if system is None:
        raise ToolchainError("Node.js not found: run `make setup` (installs node_modules)")
    return system


def _sources(root: Path) -> dict[str, str]:
    files = sorted((root / "contracts").rglob("*.sol"))
    if not files:
        raise ToolchainError(f"no Solidity sources under {root / 'contracts'}")
    return {str(p.relative_to(root)): p.read_text() for p in files}


def _source_hash(root: Path, sources: dict[str, str], settings: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    oz = root / "node_modules" / "@openzeppelin" / "contracts" / "package.json"
    digest.update(oz.read_bytes() if oz.exists() else b"no-openzeppelin")
    for name, text in sources.items():
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


@cache
def _native_solc(version: str) -> str | None:
    found = shutil.which("solc")
    if found is None:
        return None
    try:
        out = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return found if f"Version: {version}+" in out else None


def _shim_binary(root: Path) -> Path:
    """A tiny executable wrapper so py-solc-x can run the shim with the project's Node."""
    wrapper = root / "build" / "solc-wasm"
    script = f'#!/bin/sh\nSOLC_SHIM_ROOT="{root}" exec "{node_binary(root)}" "{_SHIM}" "$@"\n'
    if not wrapper.exists() or wrapper.read_text() != script:
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        tmp = wrapper.with_suffix(".tmp")
        tmp.write_text(script)
        tmp.chmod(0o755)
        tmp.replace(wrapper)
    return wrapper


def _standard_input(sources: dict[str, str], settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": settings["optimizer"],
            "viaIR": settings["viaIR"],
            "evmVersion": settings["evmVersion"],
            "remappings": settings["remappings"],
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode"]},
            },
        },
    }


def _compile(root: Path, sources: dict[str, str], settings: dict[str, Any]) -> dict[str, Any]:
    # Imported here: only a development build compiles, so the run time never needs py-solc-x.
    import solcx
    from solcx.exceptions import SolcError

    version = settings["version"]
    binary: str | Path | None = _native_solc(version)
    if binary is None:
        if not (root / "node_modules" / "solc").exists():
            raise ToolchainError("the `solc` npm package is missing: run `make setup`")
        binary = _shim_binary(root)
    try:
        output: dict[str, Any] = solcx.compile_standard(
            _standard_input(sources, settings),
            base_path=str(root),
            allow_paths=[str(root), str(root / "node_modules")],
            solc_binary=binary,
        )
    except SolcError as exc:
        raise ToolchainError(f"Solidity compilation failed:\n{exc}") from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ToolchainError("\n".join(e["formattedMessage"] for e in errors))
    return output


def build(root: Path | None = None, *, force: bool = False) -> dict[str, Artifact]:
    """Compile ``contracts/`` (or load the output from the cache) and return the main artifacts by name.

    This does not touch the shipped artifacts; :func:`regenerate` does.

    Raises:
        ToolchainError: when no compiler can be run or the sources do not compile.
    """
    root = root or project_root()
    settings = compiler_settings(root)
    sources = _sources(root)
    source_hash = _source_hash(root, sources, settings)
    cache_file = root / "build" / "artifacts" / f"{source_hash}.json"
    if cache_file.exists() and not force:
        cached = json.loads(cache_file.read_text())
        return {name: Artifact.from_json(data) for name, data in cached.items()}

    output = _compile(root, sources, settings)
    artifacts: dict[str, Artifact] = {}
    for file_contracts in output["contracts"].values():
        for name, data in file_contracts.items():
            if name not in MAIN_CONTRACTS:
                continue
            deployed = data["evm"]["deployedBytecode"]
            ranges = tuple(
                (int(ref["start"]), int(ref["length"]))
                for refs in deployed.get("immutableReferences", {}).values()
                for ref in refs
            )
            artifacts[name] = Artifact(
                name=name,
                abi=data["abi"],
                bytecode=bytes.fromhex(data["evm"]["bytecode"]["object"]),
                deployed_bytecode=bytes.fromhex(deployed["object"]),
                immutable_ranges=ranges,
                source_hash=source_hash,
                compiler_version=settings["version"],
            )
    missing = set(MAIN_CONTRACTS) - set(artifacts)
    if missing:
        raise ToolchainError(f"compiler output lacks {sorted(missing)}")
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({n: a.to_json() for n, a in artifacts.items()}))
    tmp.replace(cache_file)
    return artifacts


def regenerate(root: Path | None = None, *, force: bool = False) -> dict[str, Artifact]:
    """Compile ``contracts/`` and write the result as the shipped artifacts (``make compile``)."""
    built = build(root, force=force)
    write_artifacts(built)
    return built


if __name__ == "__main__":
    import sys

    for name, artifact in regenerate(force="--force" in sys.argv).items():
        print(  # noqa: T201
            f"{name}: {len(artifact.deployed_bytecode)} bytes, source {artifact.source_hash[:12]}, "
            f"written to registry/chain/artifacts/{name}.json"
        )
