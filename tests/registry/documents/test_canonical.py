"""Tests for registry.documents.canonical: SHA-256 over RFC 8785, independent of key order and spelling."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.documents import (
    canonical_form,
    canonical_json,
    document_hash,
    document_hash_bytes,
    hash_json_text,
    parse_json_text,
)
from tests.fixtures.dcsa import issued_example, load_example


def test_document_hash_equals_sha256_of_rfc8785_canonical_json() -> None:
    """document_hash is SHA-256 hex over rfc8785.dumps, computed independently here."""
    doc = issued_example("regular")
    expected = hashlib.sha256(rfc8785.dumps(doc)).hexdigest()
    assert document_hash(doc) == expected
    assert canonical_json(doc) == rfc8785.dumps(doc)


def test_document_hash_of_the_pint_example_is_pinned() -> None:
    """The PINT example's document hashes to a pinned value (guards against canonicalisation drift)."""
    doc = load_example("pint-envelope")
    assert document_hash(doc) == "7be082114ba3783e20d92bd305f784b483d66fa6a53130d891e67fcddfd04644"
    assert document_hash(load_example("issuance-request")) == document_hash(doc)


def test_canonical_json_matches_the_rfc_8785_example() -> None:
    """The worked example of RFC 8785 section 3.2.2 canonicalises byte for byte as the RFC shows."""
    text = (
        '{\n  "numbers": [333333333.33333329, 1E30, 4.50,\n'
        "              2e-3, 0.000000000000000000000000001],\n"
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
        '  "literals": [null, true, false]\n}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_json(parse_json_text(text)) == expected
    assert hash_json_text(text) == hashlib.sha256(expected).hexdigest()


def test_document_hash_bytes_is_the_raw_digest() -> None:
    """document_hash_bytes is the 32-byte form of document_hash."""
    doc = issued_example("regular")
    raw = document_hash_bytes(doc)
    assert len(raw) == 32
    assert raw.hex() == document_hash(doc)


def test_canonical_form_is_the_canonical_json_and_its_raw_digest() -> None:
    """What issuance stores (the canonical JSON) and records on chain (its digest), canonicalised once."""
    doc = issued_example("regular")
    canonical, raw = canonical_form(doc)
    assert canonical == canonical_json(doc)
    assert raw == document_hash_bytes(doc)


def test_document_hash_changes_with_content() -> None:
    """Any change to the data changes the hash."""
    doc = issued_example("regular")
    other = issued_example("regular", issueDate="2024-01-03")
    assert document_hash(doc) != document_hash(other)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
)
_layouts = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 1, 2, 4, "\t", " \r\n "]),
        "separators": st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :\t")]),
        "ensure_ascii": st.booleans(),
        "padding": st.sampled_from(["", " ", "\n", "\r\n\t "]),
    }
)


def _render(doc: Any, layout: dict[str, Any]) -> str:
    body = json.dumps(
        doc, indent=layout["indent"], separators=layout["separators"], ensure_ascii=layout["ensure_ascii"]
    )
    padding: str = layout["padding"]
    return padding + body + padding


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(), layout=_layouts)
def test_hash_of_the_example_is_independent_of_key_order_and_whitespace(
    seed: int, layout: dict[str, Any]
) -> None:
    """Re-serialising the example with shuffled keys and random layout does not change its hash."""
    doc = issued_example("regular")
    text = _render(_shuffled(doc, random.Random(seed)), layout)
    assert hash_json_text(text) == document_hash(doc)
    assert hash_json_text(text.encode("utf-8")) == document_hash(doc)


@settings(max_examples=150, deadline=None)
@given(doc=st.dictionaries(st.text(), _json_values, max_size=6), seed=st.integers(), layout=_layouts)
def test_hash_of_any_json_object_is_independent_of_key_order_and_whitespace(
    doc: dict[str, Any], seed: int, layout: dict[str, Any]
) -> None:
    """For arbitrary JSON objects, hashing the presented text equals hashing the data."""
    text = _render(_shuffled(doc, random.Random(seed)), layout)
    assert hash_json_text(text) == document_hash(doc) == hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


@pytest.mark.parametrize(
    ("text_a", "text_b"),
    [
        ('{"n": 1}', '{"n": 1.0}'),
        ('{"n": 1}', '{"n": 1e0}'),
        ('{"n": 4.50}', '{"n": 4.5}'),
        ('{"n": 0.1}', '{"n": 0.1000000000000000055511151231257827}'),
        ('{"n": -0}', '{"n": 0}'),
        ('{"s": "A\\u00e9"}', '{"s": "Aé"}'),
        ('{"s": "\\/"}', '{"s": "/"}'),
    ],
)
def test_hash_json_text_ignores_number_and_string_spelling(text_a: str, text_b: str) -> None:
    """Numbers equal as IEEE doubles, and strings equal after unescaping, hash the same (RFC 8785)."""
    assert hash_json_text(text_a) == hash_json_text(text_b)


def test_hash_json_text_keeps_integers_exact() -> None:
    """Integers up to 2**53 - 1 are parsed and hashed exactly."""
    assert canonical_json(parse_json_text('{"n": 9007199254740991}')) == b'{"n":9007199254740991}'
    assert hash_json_text('{"n": 9007199254740991}') != hash_json_text('{"n": 9007199254740990}')
