"""Hypothesis mutates a sound three-platform envelope: any field (replaced, removed, added), any
character of any JWS, any checksum (re-signed with the platforms' real keys), the order of the chain.
No mutant is ever accepted, and each is refused with the code its mutation calls for."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from registry.errors import EnvelopeRefused
from registry.pint.codes import ResponseCode
from registry.pint.verify import check_envelope
from tests.registry.pint.support import (
    BANK,
    CARRIER,
    CONSIGNEE,
    OURS,
    SHIPPER,
    Members,
    Platforms,
    forge,
    make_platforms,
    payload,
    send,
    tx,
)

JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

PLATFORMS: Platforms = make_platforms()
ENVELOPE: dict[str, Any] = send(
    PLATFORMS,
    [
        ("WAVE", [tx("ISSUE", CARRIER, SHIPPER), tx("TRANSFER", SHIPPER, BANK)]),
        ("BOLE", [tx("TRANSFER", BANK, SHIPPER)]),
        ("WAVE", [tx("TRANSFER", SHIPPER, CONSIGNEE)]),
    ],
).envelope
TRUST = PLATFORMS.trust()


def verdict(body: Any) -> ResponseCode | None:
    try:
        check_envelope(body, TRUST, Members(), own_platform=OURS)
    except EnvelopeRefused as refusal:
        return refusal.response_code
    return None


def test_the_envelope_mutated_below_is_accepted_as_it_is() -> None:
    assert verdict(copy.deepcopy(ENVELOPE)) is None


# --- any field -----------------------------------------------------------------------------------


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


PATHS = _paths(ENVELOPE)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.from_regex(r"[A-Za-z0-9_-]{1,16}\.[A-Za-z0-9_-]{1,16}\.[A-Za-z0-9_-]{1,16}", fullmatch=True),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _jws_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and JWS.match(v) for v in value)


def _expected_for_replacement(path: tuple[Any, ...], new: Any) -> ResponseCode:
    head = path[0]
    if head == "transportDocument":
        return ResponseCode.BENV  # the checksum changes (or the document is no object)
    if head == "envelopeManifestSignedContent" or (head == "envelopeTransferChain" and len(path) == 2):
        return ResponseCode.BSIG if isinstance(new, str) and JWS.match(new) else ResponseCode.BENV
    return ResponseCode.BSIG if _jws_list(new) else ResponseCode.BENV  # the whole chain


@given(st.sampled_from(PATHS), json_values)
def test_any_field_replaced_is_refused_with_its_code(path: tuple[Any, ...], new: Any) -> None:
    old = _at(ENVELOPE, path)
    try:
        same = rfc8785.dumps(new) == rfc8785.dumps(old)
    except rfc8785.CanonicalizationError:
        same = False
    if same:
        return  # the same JSON value: no mutation
    body = copy.deepcopy(ENVELOPE)
    _at(body, path[:-1])[path[-1]] = new
    assert verdict(body) is _expected_for_replacement(path, new)


@given(st.sampled_from(PATHS))
def test_any_field_removed_is_refused_with_its_code(path: tuple[Any, ...]) -> None:
    body = copy.deepcopy(ENVELOPE)
    del _at(body, path[:-1])[path[-1]]
    last_entry = ("envelopeTransferChain", len(ENVELOPE["envelopeTransferChain"]) - 1)
    expected = ResponseCode.BSIG if path == last_entry else ResponseCode.BENV
    assert verdict(body) is expected


DICTS = [()] + [p for p in PATHS if p[0] == "transportDocument" and isinstance(_at(ENVELOPE, p), dict)]


@given(st.sampled_from(DICTS), st.text(min_size=1, max_size=8), json_values)
def test_any_field_added_is_refused_as_benv(path: tuple[Any, ...], key: str, value: Any) -> None:
    body = copy.deepcopy(ENVELOPE)
    target = _at(body, path)
    if key in target:
        return
    target[key] = value
    assert verdict(body) is ResponseCode.BENV


# --- any character of any JWS --------------------------------------------------------------------

JWS_PATHS = [("envelopeManifestSignedContent",)] + [
    ("envelopeTransferChain", i) for i in range(len(ENVELOPE["envelopeTransferChain"]))
]


@given(st.sampled_from(JWS_PATHS), st.sampled_from([0, 1, 2]), st.data())
def test_any_character_of_any_jws_changed_is_bsig(
    path: tuple[Any, ...], segment: int, data: st.DataObject
) -> None:
    parts = _at(ENVELOPE, path).split(".")
    position = data.draw(st.integers(0, len(parts[segment]) - 1))
    char = data.draw(st.sampled_from(B64URL.replace(parts[segment][position], "")))
    parts[segment] = parts[segment][:position] + char + parts[segment][position + 1 :]
    body = copy.deepcopy(ENVELOPE)
    _at(body, path[:-1])[path[-1]] = ".".join(parts)
    assert verdict(body) is ResponseCode.BSIG


# --- any checksum, re-signed with the real keys --------------------------------------------------

checksums = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def _manifest_with(field: str, value: str) -> dict[str, Any]:
    manifest = payload(ENVELOPE["envelopeManifestSignedContent"])
    if field == "eBLVisualisationByCarrier":
        manifest[field] = {**manifest[field], "documentChecksum": value}
    else:
        manifest[field] = value
    return {**ENVELOPE, "envelopeManifestSignedContent": PLATFORMS.signers["WAVE"].sign(manifest)}


def _entries_with(index: int, field: str, value: str, *, relink: bool = True) -> dict[str, Any]:
    entries = [payload(e) for e in ENVELOPE["envelopeTransferChain"]]
    entries[index][field] = value
    return forge(PLATFORMS, ENVELOPE, entries=entries, relink=relink)


def _issuance_with(field: str, value: str) -> dict[str, Any]:
    entries = [payload(e) for e in ENVELOPE["envelopeTransferChain"]]
    issuance = payload(entries[0]["issuanceManifestSignedContent"])
    issuance[field] = value
    entries[0]["issuanceManifestSignedContent"] = PLATFORMS.signers["WAVE"].sign(issuance)
    return forge(PLATFORMS, ENVELOPE, entries=entries)


MUTANTS: dict[str, tuple[Any, ResponseCode]] = {
    "manifest.transportDocumentChecksum": (
        lambda v: _manifest_with("transportDocumentChecksum", v),
        ResponseCode.BENV,
    ),
    "manifest.lastEnvelopeTransferChainEntrySignedContentChecksum": (
        lambda v: _manifest_with("lastEnvelopeTransferChainEntrySignedContentChecksum", v),
        ResponseCode.BSIG,
    ),
    "manifest.eBLVisualisationByCarrier.documentChecksum": (
        lambda v: _manifest_with("eBLVisualisationByCarrier", v),
        ResponseCode.BENV,
    ),
    "entry[1].previous": (
        lambda v: _entries_with(
            1, "previousEnvelopeTransferChainEntrySignedContentChecksum", v, relink=False
        ),
        ResponseCode.BENV,
    ),
    "entry[2].previous": (
        lambda v: _entries_with(
            2, "previousEnvelopeTransferChainEntrySignedContentChecksum", v, relink=False
        ),
        ResponseCode.BENV,
    ),
    "entry[0].previous": (
        lambda v: _entries_with(0, "previousEnvelopeTransferChainEntrySignedContentChecksum", v),
        ResponseCode.BENV,
    ),
    "entry[0].transportDocumentChecksum": (
        lambda v: _entries_with(0, "transportDocumentChecksum", v),
        ResponseCode.BENV,
    ),
    "entry[2].transportDocumentChecksum": (
        lambda v: _entries_with(2, "transportDocumentChecksum", v),
        ResponseCode.BENV,
    ),
    "issuance.documentChecksum": (lambda v: _issuance_with("documentChecksum", v), ResponseCode.BENV),
    "issuance.eBLVisualisationByCarrierChecksum": (
        lambda v: _issuance_with("eBLVisualisationByCarrierChecksum", v),
        ResponseCode.BENV,
    ),
}


@given(st.sampled_from(sorted(MUTANTS)), checksums)
def test_any_checksum_changed_and_re_signed_is_refused_with_its_code(which: str, value: str) -> None:
    make, expected = MUTANTS[which]
    assert verdict(make(value)) is expected


# --- the order of the chain ----------------------------------------------------------------------


@given(st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=5).filter(lambda order: order != [0, 1, 2]))
def test_the_chain_reordered_dropped_or_repeated_is_refused_with_its_code(order: list[int]) -> None:
    chain = ENVELOPE["envelopeTransferChain"]
    body = {**ENVELOPE, "envelopeTransferChain": [chain[i] for i in order]}
    assert verdict(body) is (ResponseCode.BENV if order[-1] == 2 else ResponseCode.BSIG)


@pytest.mark.parametrize("order", [[1, 0, 2], [0, 2], [2], [0, 1, 1, 2], [0, 0, 1, 2]])
def test_chain_orders_that_keep_the_last_entry_are_benv(order: list[int]) -> None:
    chain = ENVELOPE["envelopeTransferChain"]
    assert verdict({**ENVELOPE, "envelopeTransferChain": [chain[i] for i in order]}) is ResponseCode.BENV
