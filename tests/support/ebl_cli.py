"""The ``ebl`` command as a user runs it: ``python -m registry.cli`` in a subprocess from the project
root, its output captured (the offline verifiers' tests read what it prints and its exit status)."""

from __future__ import annotations

import os
import subprocess
import sys

from registry.chain.build import project_root

__all__ = ["run_ebl"]


def run_ebl(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    root = project_root()
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=root,
    )
