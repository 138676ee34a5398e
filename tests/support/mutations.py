"""Mutating a parsed JSON file one leaf at a time, for the tests that show a verifier refuses any change
(audit bundles, attestations)."""

from __future__ import annotations

from typing import Any

__all__ = ["changed", "leaves"]


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path (keys and indexes) of every leaf of ``value``."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in leaves(v, (*path, i))]
    return [path]


def changed(value: Any, position: int) -> Any:
    """A different value of the same kind: one character of a string changed (at ``position`` modulo
    its length), a number moved by one, a flag flipped; ``"x"`` for an empty string, ``"0x00"`` for None."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str) and value:
        i = position % len(value)
        new = "1" if value[i] != "1" else "2"
        return value[:i] + new + value[i + 1 :]
    if isinstance(value, str):
        return "x"
    return "0x00"  # None
