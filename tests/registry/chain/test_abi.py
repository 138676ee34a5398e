"""Selectors, struct layouts and codecs come from the artifact's ABI and match the Solidity signatures."""

from __future__ import annotations

import pytest
from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from registry.chain import abi
from registry.chain.views import TitleState
from registry.types import Status

SIGNED_ACTION = "((uint8,uint256,address,bytes32,uint256,uint256),address,bytes)"
SIGNED_ISSUANCE = "((bytes32,bytes32,address,address,uint8,uint256,uint256),address,bytes)"
PARTY = "0x" + "11" * 20


@pytest.mark.parametrize(
    ("function", "signature"),
    [
        (abi.TITLE_OF, "titleOf(uint256)"),
        (abi.EXECUTE, f"execute({SIGNED_ACTION})"),
        (abi.ISSUE_SIGNED, f"issueSigned({SIGNED_ISSUANCE})"),
        (abi.EXECUTE_BATCH, f"executeBatch({SIGNED_ACTION}[])"),
        (abi.ISSUE_BATCH, f"issueBatch({SIGNED_ISSUANCE}[])"),
    ],
)
def test_functions_have_the_solidity_signature_and_selector(function, signature):
    """Each derived function spells the signature the contract declares, and its selector is its hash."""
    assert function.signature == signature
    assert function.selector == keccak(text=signature)[:4]


def test_batch_entry_failed_has_its_topic_and_decodes_its_data():
    """The skipped-entry event's topic is the hash of its signature; its data decodes to (nonce, reason)."""
    event = abi.BATCH_ENTRY_FAILED
    assert event.topic == keccak(text="BatchEntryFailed(uint256,address,uint256,bytes)")
    assert (event.indexed, event.data_names) == (("index", "signer"), ("nonce", "reason"))
    assert event.decode_data(encode(["uint256", "bytes"], [7, b"\xde\xad"])) == (7, b"\xde\xad")


def test_encode_matches_eth_abi_with_the_written_out_layout():
    """A struct argument encodes exactly as eth_abi does with the layout spelled out by hand."""
    entry = ((3, 42, PARTY, b"\x01" * 32, 9, 2**40), PARTY, b"\x02" * 65)
    assert abi.EXECUTE.encode(entry) == abi.EXECUTE.selector + encode([SIGNED_ACTION], [entry])
    assert abi.EXECUTE_BATCH.encode([entry, entry]) == abi.EXECUTE_BATCH.selector + encode(
        [f"{SIGNED_ACTION}[]"], [[entry, entry]]
    )
    assert abi.EXECUTE.input_struct().type == SIGNED_ACTION
    assert abi.EXECUTE.input_struct().names == ("action", "signer", "signature")


def test_title_view_is_read_by_component_name():
    """TitleState takes each field from the TitleView component of the same name, wherever it sits."""
    names = abi.TITLE_VIEW.names
    zero = {"address": "0x" + "00" * 20, "bytes32": bytes(32), "bool": False}
    components = abi.TITLE_OF.entry["outputs"][0]["components"]
    values = {c["name"]: zero.get(c["type"], 0) for c in components}
    words = {"holder": "0x" + "aa" * 20, "carrier": "0x" + "cc" * 20, "endorsee": "0x" + "ee" * 20}
    values.update(words, status=int(Status.SURRENDERED), seq=5, documentHash=b"\x33" * 32, successor=8)
    types = abi.TITLE_OF.output_types
    data = encode(types, [tuple(values[n] for n in names)])

    state = TitleState.decode(1, "0x" + data.hex())

    assert state.status is Status.SURRENDERED and state.seq == 5 and state.successor == 8
    assert state.holder.lower() == words["holder"] and state.carrier.lower() == words["carrier"]
    assert state.endorsee is not None and state.endorsee.lower() == words["endorsee"]
    assert state.nominee is None and state.predecessor is None and state.paper_document_hash is None
    assert state.document_hash == "0x" + "33" * 32
    assert abi.TITLE_OF.decode_output(data) == decode(types, data)


def test_a_struct_refuses_a_component_it_does_not_have():
    """Asking for a component the contract does not declare fails at once, naming what it has."""
    with pytest.raises(KeyError, match="no component"):
        abi.TITLE_VIEW.fields("status", "owner")
    assert abi.TITLE_VIEW.fields("seq")(tuple(range(len(abi.TITLE_VIEW.names)))) == (
        abi.TITLE_VIEW.names.index("seq"),
    )


def test_an_unknown_function_is_refused():
    """A name the ABI lacks raises KeyError rather than a selector of a function that does not exist."""
    with pytest.raises(KeyError, match="noSuchFunction"):
        abi.function("noSuchFunction")
