"""``registry`` is the library, ``api`` its HTTP gateway: no module of registry imports api."""

from __future__ import annotations

import ast
from pathlib import Path

REGISTRY = Path(__file__).resolve().parents[2] / "registry"


def _imports_api(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "api" or name.startswith("api.") for name in names):
            lines.append(node.lineno)
    return lines


def test_registry_never_imports_api() -> None:
    files = sorted(REGISTRY.rglob("*.py"))
    assert files, f"no Python modules under {REGISTRY}"
    offenders = [
        f"{path.relative_to(REGISTRY.parent)}:{line}"
        for path in files
        for line in _imports_api(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert offenders == [], f"registry imports api at {offenders}"
