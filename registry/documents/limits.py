"""The size and depth limits every transport document and JSON text must keep."""

from __future__ import annotations

from typing import Final

__all__ = ["FATAL_RULES", "MAX_DEPTH", "MAX_DOCUMENT_BYTES", "MAX_TEXT_BYTES", "SAFE_INTEGER"]

MAX_DOCUMENT_BYTES: Final = 1 << 20
"""Largest accepted document: 1 MiB as compact UTF-8 JSON (its canonical form)."""

MAX_TEXT_BYTES: Final = 4 * MAX_DOCUMENT_BYTES
"""Largest accepted JSON *text* (before parsing; leaves room for indentation)."""

MAX_DEPTH: Final = 64
"""Deepest accepted nesting of objects and arrays (the document object itself is level 1)."""

SAFE_INTEGER: Final = 2**53 - 1
"""Largest integer magnitude I-JSON (and so RFC 8785) can carry exactly."""

FATAL_RULES: Final = frozenset({"document.not-object", "document.too-large", "document.too-deep"})
"""Rules after which a document is not checked any further (it is not a document to check)."""
