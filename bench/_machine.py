"""What a benchmark ran on, recorded in every results JSON."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

import psutil

from registry.chain.anvil import anvil_binary
from registry.chain.build import compiler_settings, node_binary


def _memory_bytes() -> int | None:
    try:
        return int(psutil.virtual_memory().total)
    except (psutil.Error, OSError):
        return None


def _version_of(args: list[str]) -> str | None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def _package(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_description() -> dict[str, Any]:
    """Cores, memory, OS and the versions of every tool that shapes a measurement."""
    try:
        solc: str | None = str(compiler_settings()["version"])
    except Exception:
        solc = None
    try:
        anvil: str | None = _version_of([str(anvil_binary()), "--version"])
    except Exception:
        anvil = None
    try:
        node: str | None = _version_of([node_binary(), "--version"])
    except Exception:
        node = None
    mem = _memory_bytes()
    return {
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "memory_gib": round(mem / 2**30, 1) if mem else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "web3": _package("web3"),
        "solc": solc,
        "anvil": anvil,
        "node": node,
    }
