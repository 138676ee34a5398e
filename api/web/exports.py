"""Downloads from the web pages: CSV written by Python's :mod:`csv` with every cell guarded against
formula injection, and JSON, each as an attachment with a safe file name."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import Response

__all__ = ["FORMULA_PREFIXES", "attachment", "csv_cell", "csv_response", "json_response", "safe_name"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection")."""


def csv_cell(value: Any) -> str:
    """The cell as text, prefixed with ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def safe_name(text: str, fallback: str) -> str:
    """Letters, digits, ``-`` and ``_`` of ``text`` (at most 80), for a ``Content-Disposition`` name."""
    return "".join(c for c in text if c.isascii() and (c.isalnum() or c in "-_"))[:80] or fallback


def attachment(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_response(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], filename: str) -> Response:
    """``rows`` under a header line of ``columns``, each cell through :func:`csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return attachment(buffer.getvalue(), "text/csv; charset=utf-8", filename)


def json_response(value: Any, filename: str) -> Response:
    return attachment(json.dumps(value, ensure_ascii=False, indent=1), "application/json", filename)
