"""Tests for registry.documents.jsontext: strict JSON text (I-JSON keys, no NaN, bounded nesting)."""

from __future__ import annotations

import pytest

from registry.documents import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_TEXT_BYTES,
    hash_json_text,
    parse_json_text,
    parse_json_value,
)
from registry.errors import DuplicateKeyError, InvalidDocumentError, Violation


def _json_invalid(text: str | bytes) -> Violation:
    with pytest.raises(InvalidDocumentError) as caught:
        hash_json_text(text)
    (violation,) = caught.value.violations
    return violation


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"a": 1, "a": 1}', "$.a"),
        ('{"x": {"b": 1, "b": 2}}', "$.x.b"),
        ('{"l": [{"c": 0, "c": 0}]}', "$.l[0].c"),
        ('{"odd key": {"c": 0, "c": 1}}', "$['odd key'].c"),
    ],
)
def test_hash_json_text_rejects_duplicate_keys(text: str, path: str) -> None:
    """Duplicate keys, at any depth, make the text ambiguous and are refused at the repeated key's path."""
    with pytest.raises(DuplicateKeyError) as caught:
        hash_json_text(text)
    assert caught.value.paths == (path,)
    (violation,) = caught.value.violations
    assert (violation.path, violation.rule) == (path, "json.duplicate-key")
    assert "duplicate object key" in violation.message


def test_every_duplicate_key_is_named_in_text_order() -> None:
    """All repeats are reported, outer before inner when the outer comes first in the text."""
    text = '{"a": 1, "a": 2, "b": [1, {"c": {"d": 0, "d": 1}}], "a": 3, "e": {"f": 0, "f": 0}}'
    with pytest.raises(DuplicateKeyError) as caught:
        parse_json_text(text)
    assert caught.value.paths == ("$.a", "$.b[1].c.d", "$.e.f")


def test_parse_json_value_refuses_duplicate_keys_in_any_json() -> None:
    """Request bodies and typed data are not documents, but they are refused the same way."""
    assert parse_json_value('[{"a": 1}, 2]') == [{"a": 1}, 2]
    with pytest.raises(DuplicateKeyError) as caught:
        parse_json_value('[{"typedData": {"message": {"nonce": "1", "nonce": "2"}}}]')
    assert caught.value.paths == ("$[0].typedData.message.nonce",)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_hash_json_text_rejects_nan_and_infinity(constant: str) -> None:
    """Python's NaN/Infinity extensions are not JSON."""
    assert _json_invalid('{"n": ' + constant + "}") == Violation(
        "$", "json.invalid", f"{constant} is not JSON"
    )


@pytest.mark.parametrize(
    "text",
    ['{"n": 9007199254740992}', '{"n": -9007199254740992}', '{"n": 1e400}', '{"s": "\\ud800"}'],
)
def test_hash_json_text_rejects_values_without_canonical_form(text: str) -> None:
    """Integers beyond 2**53 - 1, overflowing floats and lone surrogates have no RFC 8785 form."""
    assert _json_invalid(text).rule == "json.invalid"


def test_hash_json_text_rejects_invalid_utf8() -> None:
    """Bytes that are not UTF-8 are refused with the offending offset."""
    assert _json_invalid(b'{"s": "\xff"}') == Violation(
        "$", "json.invalid", "not valid UTF-8 (byte offset 7)"
    )


@pytest.mark.parametrize("text", ['\ufeff{"a": 1}', b'\xef\xbb\xbf{"a": 1}'])
def test_hash_json_text_rejects_byte_order_mark(text: str | bytes) -> None:
    """A byte order mark is not part of JSON text (RFC 8259 section 8.1)."""
    assert _json_invalid(text).rule == "json.invalid"


@pytest.mark.parametrize("text", ["", "{", '{"a": 1,}', "{'a': 1}", '{"a": 1} x', '{"a": 01}'])
def test_hash_json_text_rejects_syntax_errors(text: str) -> None:
    """Malformed JSON is refused with the position of the error."""
    violation = _json_invalid(text)
    assert violation.rule == "json.invalid"
    assert "line 1 column" in violation.message


@pytest.mark.parametrize("text", ["[]", '"doc"', "1", "null"])
def test_hash_json_text_rejects_non_object_top_level(text: str) -> None:
    """A transport document is a JSON object."""
    assert _json_invalid(text).rule == "document.not-object"


@pytest.mark.parametrize("depth", [MAX_DEPTH, 100_000])
def test_hash_json_text_rejects_deep_nesting(depth: int) -> None:
    """Nesting deeper than MAX_DEPTH is refused, however deep (no RecursionError escapes)."""
    text = '{"a": ' + "[" * depth + "]" * depth + "}"
    assert _json_invalid(text) == Violation("$", "document.too-deep", f"nesting exceeds {MAX_DEPTH} levels")


def test_hash_json_text_rejects_oversized_text() -> None:
    """Text over MAX_TEXT_BYTES is refused before parsing; a document over MAX_DOCUMENT_BYTES after."""
    assert _json_invalid(b" " * (MAX_TEXT_BYTES + 1)).rule == "document.too-large"
    assert _json_invalid('{"a": "' + "x" * MAX_DOCUMENT_BYTES + '"}').rule == "document.too-large"


def test_parse_json_text_returns_the_object() -> None:
    """parse_json_text returns the parsed object with exact integers and floats as doubles."""
    assert parse_json_text(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


# --- identity -----------------------------------------------------------------------------------
