"""The compiled contracts, shipped as package data: what an installed registry deploys and talks to.

``TitleRegistry.json`` beside this module holds the ABI, the creation and runtime bytecode and the
immutable ranges, as :meth:`Artifact.to_json` writes them. It is generated from ``contracts/`` by
``make compile`` (``python -m registry.chain.build``, a development step that needs Node) and committed;
a test compiles ``contracts/`` afresh and fails while the committed file differs. Reading it needs
neither a compiler nor Node, so nothing at run time ever compiles Solidity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from registry.errors import ToolchainError

__all__ = ["MAIN_CONTRACTS", "Artifact", "load_artifact", "package_dir", "write_artifacts"]

MAIN_CONTRACTS = ("TitleRegistry",)
"""The contracts whose artifacts are shipped (one file each, ``<name>.json``)."""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: what deployment, bindings and the code check need."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    immutable_ranges: tuple[tuple[int, int], ...]
    """(start, length) of immutables in the deployed code, masked when comparing on-chain code."""
    source_hash: str
    compiler_version: str

    def to_json(self) -> dict[str, Any]:
        """Serialisable form, as shipped and as cached on disk."""
        return {
            "name": self.name,
            "abi": self.abi,
            "bytecode": "0x" + self.bytecode.hex(),
            "deployedBytecode": "0x" + self.deployed_bytecode.hex(),
            "immutableRanges": [list(r) for r in self.immutable_ranges],
            "sourceHash": self.source_hash,
            "compilerVersion": self.compiler_version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        """Inverse of :meth:`to_json`."""
        return cls(
            name=data["name"],
            abi=data["abi"],
            bytecode=bytes.fromhex(data["bytecode"][2:]),
            deployed_bytecode=bytes.fromhex(data["deployedBytecode"][2:]),
            immutable_ranges=tuple((int(a), int(b)) for a, b in data["immutableRanges"]),
            source_hash=data["sourceHash"],
            compiler_version=data["compilerVersion"],
        )


def package_dir() -> Path:
    """The directory the shipped artifacts live in (in a checkout: ``registry/chain/artifacts``)."""
    return Path(__file__).resolve().parent


@cache
def load_artifact(name: str = "TitleRegistry") -> Artifact:
    """One shipped artifact, read from the package once.

    Raises:
        ToolchainError: the package lacks it (a checkout that never ran ``make compile``).
    """
    if name not in MAIN_CONTRACTS:
        raise KeyError(f"no shipped artifact named {name!r}; there are {list(MAIN_CONTRACTS)}")
    source = resources.files(__name__).joinpath(f"{name}.json")
    try:
        data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ToolchainError(f"the compiled contract {name} is missing from the package: {exc}") from exc
    return Artifact.from_json(data)


def write_artifacts(artifacts: dict[str, Artifact], directory: Path | None = None) -> list[Path]:
    """Write ``artifacts`` as the shipped JSON files (sorted keys, one trailing newline, atomic replace);
    returns the paths written."""
    directory = directory or package_dir()
    written = []
    for name, artifact in sorted(artifacts.items()):
        path = directory / f"{name}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(artifact.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    load_artifact.cache_clear()
    return written
