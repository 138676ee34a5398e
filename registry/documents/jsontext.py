"""Strict JSON text parsing: I-JSON (no key twice in one object), no NaN or Infinity, bounded nesting.

Python's parser, like JavaScript's, silently keeps the last of two equal keys where other parsers keep the
first or refuse; a text two readers read differently is refused instead. The gateway parses every request
body once with :func:`parse_json_value` and hands the value on (see :func:`parse_json_text`'s ``parsed``).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any, Final

from registry.documents.limits import MAX_DEPTH, MAX_TEXT_BYTES
from registry.documents.schema import json_path, json_type
from registry.documents.shape import shape_violations
from registry.errors import DuplicateKeyError, InvalidDocumentError, Violation

__all__ = ["json_nesting_depth", "parse_json_text", "parse_json_value"]

# A JSON string, or an unterminated one up to the end of the text: every '"' outside a string starts a match
# that succeeds, so substitution is linear even for hostile input.
_JSON_STRING: Final = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]++")
_BRACKET_DELTA: Final = {"[": 1, "{": 1, "]": -1, "}": -1}
_UNPARSED: Final[Any] = object()


class _Rejected(ValueError):
    """Internal: a JSON text feature we refuse (NaN, Infinity)."""


class _DuplicateKey(Exception):
    """Internal: an object of the text repeats a key (its path is found afterwards: _duplicate_paths)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


class _Pairs(list[tuple[str, Any]]):
    """Internal: one JSON object as its key/value pairs in text order, repeats included."""


def _zero(_: str) -> int:
    return 0


def _duplicate_paths(text: str | bytes) -> list[str]:
    """The JSON path of every repeated key in ``text``, in text order.

    A second parse, only once the fast one found a repeat (the object hook runs innermost first and
    cannot know where it is): it keeps every object's pairs and walks them with their paths. Numbers
    and constants are not converted, so nothing but the keys can fail.
    """
    tree = json.loads(
        text, object_pairs_hook=_Pairs, parse_int=_zero, parse_float=_zero, parse_constant=_zero
    )
    found: list[str] = []

    def walk(value: object, parts: tuple[str | int, ...]) -> None:  # depth is bounded by MAX_DEPTH
        if isinstance(value, _Pairs):
            seen: set[str] = set()
            for key, sub in value:
                if key in seen:
                    found.append(json_path((*parts, key)))
                seen.add(key)
                walk(sub, (*parts, key))
        elif isinstance(value, list):
            for index, sub in enumerate(value):
                walk(sub, (*parts, index))

    walk(tree, ())
    return list(dict.fromkeys(found))


def parse_json_value(text: str | bytes, *, constants: bool = True) -> Any:
    """Parse JSON text of any shape (a request body, EIP-712 typed data) as I-JSON requires of objects:
    no key twice in one object (RFC 7493 section 2.3).

    Python's parser, like JavaScript's, silently keeps the last of two equal keys where other parsers
    keep the first or refuse; a text two readers read differently is refused instead. This is the fast
    path: one C parse with a hook comparing each object's size to its number of pairs.

    Args:
        text: the JSON text, as ``str`` or ``bytes`` (UTF-8, -16 or -32, as :func:`json.loads`).
        constants: accept ``NaN``, ``Infinity`` and ``-Infinity`` as Python does (``False`` refuses them
            with a :class:`ValueError`, as :func:`parse_json_text` does).

    Returns:
        The parsed value.

    Raises:
        DuplicateKeyError: naming the JSON path of every repeated key.
        ValueError: the text is not JSON (a :class:`json.JSONDecodeError`; callers report that as they
            already do), or has a constant ``constants`` refuses.
        RecursionError: nested deeper than the interpreter allows (guard with :func:`json_nesting_depth`).
    """
    try:
        if constants:
            return json.loads(text, object_pairs_hook=_unique_keys)
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except _DuplicateKey:
        raise DuplicateKeyError(_duplicate_paths(text)) from None


def _no_constants(name: str) -> Any:
    raise _Rejected(f"{name} is not JSON")


def _nesting(text: str) -> int:
    """Deepest bracket nesting in JSON text, ignoring brackets in strings (linear time, no recursion)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_DELTA.__getitem__, brackets)), default=0)


def json_nesting_depth(text: str) -> int:
    """Deepest bracket nesting of JSON text, without parsing it (for guards in front of a parser)."""
    return _nesting(text)


def parse_json_text(text: str | bytes, *, parsed: Any = _UNPARSED) -> dict[str, Any]:
    """Parse JSON text strictly into a transport document object.

    Refuses duplicate object keys (:class:`~registry.errors.DuplicateKeyError`, rule
    ``json.duplicate-key``, at the path of each repeated key); refuses (rule ``json.invalid``) invalid
    UTF-8, a byte order mark, syntax errors, ``NaN``/``Infinity``, lone surrogates and integers outside
    ``±(2**53 - 1)``; refuses texts over :data:`MAX_TEXT_BYTES` and documents over
    :data:`MAX_DOCUMENT_BYTES` (``document.too-large``), nesting over :data:`MAX_DEPTH`
    (``document.too-deep``) and top-level values other than an object (``document.not-object``).
    Integers are parsed exactly; other numbers as IEEE 754 doubles.

    Args:
        text: the JSON text, as ``str`` or UTF-8 ``bytes``.
        parsed: what ``parse_json_value(text, constants=False)`` returned for this very text, when the
            caller parsed it already (the gateway does, for every body): the text is then not parsed again.

    Returns:
        The parsed object.

    Raises:
        DuplicateKeyError: an object repeats a key (an :class:`InvalidDocumentError`).
        InvalidDocumentError: with the reason.
    """
    size = (
        len(text) if isinstance(text, bytes) or text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    )
    if size > MAX_TEXT_BYTES:
        raise InvalidDocumentError(
            [Violation("$", "document.too-large", f"JSON text over {MAX_TEXT_BYTES} bytes")]
        )
    if parsed is not _UNPARSED:
        return checked_object(parsed)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidDocumentError(
                [Violation("$", "json.invalid", f"not valid UTF-8 (byte offset {exc.start})")]
            ) from exc
    if _nesting(text) > MAX_DEPTH:  # before parsing: the C decoder recurses, and can overflow the C stack
        raise InvalidDocumentError(
            [Violation("$", "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels")]
        )
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except _DuplicateKey:
        raise DuplicateKeyError(_duplicate_paths(text)) from None
    except _Rejected as exc:
        raise InvalidDocumentError([Violation("$", "json.invalid", str(exc))]) from exc
    except json.JSONDecodeError as exc:
        message = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise InvalidDocumentError([Violation("$", "json.invalid", message)]) from exc
    except RecursionError as exc:
        raise InvalidDocumentError(
            [Violation("$", "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels")]
        ) from exc
    except ValueError as exc:  # e.g. an integer literal longer than Python's int parsing limit
        raise InvalidDocumentError([Violation("$", "json.invalid", str(exc)[:200])]) from exc
    return checked_object(value)


def checked_object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object of JSON values within the limits (else InvalidDocumentError)."""
    if not isinstance(value, dict):
        raise InvalidDocumentError(
            [Violation("$", "document.not-object", f"must be a JSON object, not {json_type(value)}")]
        )
    shape = shape_violations(value)
    if shape:
        raise InvalidDocumentError(shape)
    return value
