"""The JSON shape guard: a value made of JSON values only, neither too deep nor too large."""

from __future__ import annotations

import json
import math

from registry.documents.limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, SAFE_INTEGER
from registry.documents.schema import json_path
from registry.errors import Violation

__all__ = ["shape_violations"]

_PathNode = tuple["_PathNode | None", str | int] | None


def _node_path(node: _PathNode, root: str) -> str:
    parts: list[str | int] = []
    while node is not None:
        node, key = node
        parts.append(key)
    return json_path(reversed(parts), root)


def _utf8_ok(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shape_violations(value: object, root: str = "$") -> list[Violation]:
    """Check that ``value`` consists of JSON values only, and is neither too deep nor too large.

    Walks iteratively (no recursion limit involved) and stops at the first container nested deeper than
    :data:`MAX_DEPTH` or as soon as the serialised size provably exceeds :data:`MAX_DOCUMENT_BYTES`; those two
    are then the only violation returned. Other problems (NaN, infinities, integers outside the I-JSON range,
    non-string keys, lone surrogates, Python-only types) are all collected under rule ``json.invalid``.
    """
    found: list[Violation] = []
    low = high = 0  # bounds on the compact UTF-8 serialisation size
    stack: list[tuple[object, int, _PathNode]] = [(value, 1, None)]
    while stack:
        item, depth, node = stack.pop()
        if isinstance(item, str):
            low += len(item) + 2
            high += 6 * len(item) + 2
            if not _utf8_ok(item):
                found.append(Violation(_node_path(node, root), "json.invalid", "string is not valid Unicode"))
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return [Violation(root, "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels")]
            size = 2 + max(len(item) - 1, 0)
            low += size
            high += size
            if isinstance(item, list):
                stack.extend((sub, depth + 1, (node, index)) for index, sub in enumerate(item))
            else:
                for key, sub in item.items():
                    if not isinstance(key, str):
                        found.append(
                            Violation(
                                _node_path(node, root), "json.invalid", f"object key {key!r} is not a string"
                            )
                        )
                        continue
                    low += len(key) + 3
                    high += 6 * len(key) + 3
                    if not _utf8_ok(key):
                        found.append(
                            Violation(_node_path(node, root), "json.invalid", "key is not valid Unicode")
                        )
                    stack.append((sub, depth + 1, (node, key)))
        elif item is None or isinstance(item, bool):
            low += 4
            high += 5
        elif isinstance(item, int):
            low += 1
            high += 17
            if not -SAFE_INTEGER <= item <= SAFE_INTEGER:
                found.append(
                    Violation(
                        _node_path(node, root),
                        "json.invalid",
                        "integer outside the I-JSON range ±(2**53 - 1) cannot be canonicalised (RFC 8785)",
                    )
                )
        elif isinstance(item, float):
            low += 1
            high += 25
            if not math.isfinite(item):
                found.append(
                    Violation(_node_path(node, root), "json.invalid", "NaN and Infinity are not JSON")
                )
        else:
            found.append(
                Violation(
                    _node_path(node, root), "json.invalid", f"{type(item).__name__} is not a JSON value"
                )
            )
        if low > MAX_DOCUMENT_BYTES:
            return [_too_large(root)]
    if high > MAX_DOCUMENT_BYTES and not found:
        exact = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if exact > MAX_DOCUMENT_BYTES:
            return [_too_large(root)]
    return found


def _too_large(root: str) -> Violation:
    return Violation(root, "document.too-large", f"larger than {MAX_DOCUMENT_BYTES} bytes as compact JSON")
