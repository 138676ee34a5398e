"""Headers, account and storage proofs, and the title's storage layout, against the session anvil."""

from __future__ import annotations

import json
from typing import Any

import pytest
import solcx
from web3 import Web3

from registry.chain import build
from registry.proofs import Header, HeaderError, TrieProofError, prove_title, read_snapshot, record_slots
from registry.proofs.layout import DECLARATION_SLOTS, RECORD_MEMBERS, ProvenTitle, RecordWord, title_slots
from registry.types import DocumentKind, Status
from tests.fixtures.dcsa import issued_example


def _block(w3: Web3, tag: str = "latest") -> dict[str, Any]:
    return dict(w3.provider.make_request("eth_getBlockByNumber", [tag, False])["result"])  # type: ignore[arg-type]


def test_every_header_anvil_serves_hashes_to_its_block_hash(w3, service, carrier, shipper):
    """The genesis block and a block with a transaction both re-encode to the hash the node gave."""
    service.issue(carrier.org, issued_example("regular", transportDocumentReference="PROOF-H1"), shipper.org)
    for tag in ("earliest", "latest"):
        block = _block(w3, tag)
        header = Header.from_rpc(block)
        assert header.hash == block["hash"]
        assert Header.from_json(json.loads(json.dumps(header.to_json()))) == header


def test_a_changed_header_field_or_a_missing_fork_field_is_refused(w3):
    block = _block(w3)
    changed = {**block, "gasUsed": hex(int(block["gasUsed"], 16) + 1)}
    with pytest.raises(HeaderError, match="hashes to"):
        Header.from_rpc(changed)
    gap = {k: v for k, v in block.items() if k != "withdrawalsRoot"}
    with pytest.raises(HeaderError, match="without the ones before"):
        Header.from_rpc(gap)
    with pytest.raises(HeaderError, match="leading zeros"):
        Header.from_rpc({**block, "number": "0x0" + block["number"][2:]})


def test_the_storage_layout_is_the_compilers():
    """solc's storageLayout of TitleRegistry puts the mappings and TitleRecord members where layout.py
    says."""
    root = build.project_root()
    settings = build.compiler_settings(root)
    standard = build._standard_input(build._sources(root), settings)
    standard["settings"]["outputSelection"] = {"*": {"TitleRegistry": ["storageLayout"]}}
    out = solcx.compile_standard(
        standard,
        base_path=str(root),
        allow_paths=[str(root), str(root / "node_modules")],
        solc_binary=build._native_solc(settings["version"]) or build._shim_binary(root),
    )
    (layout,) = [
        c["storageLayout"] for f in out["contracts"].values() for n, c in f.items() if n == "TitleRegistry"
    ]
    slots = {e["label"]: int(e["slot"]) for e in layout["storage"]}
    assert {k: slots[k] for k in DECLARATION_SLOTS} == dict(DECLARATION_SLOTS)
    record_type = next(t for k, t in layout["types"].items() if "struct(TitleRecord)" in k and "members" in t)
    members = [(m["label"], int(m["offset"]), int(m["slot"])) for m in record_type["members"]]
    assert members == [(name, offset, 0) for name, offset, _ in RECORD_MEMBERS]


def test_slots_read_with_get_storage_at_decode_to_what_title_of_says(
    w3, service, registry, carrier, shipper, bank
):
    """The carrier issues to order, the shipper endorses the bank and hands it over: the record decoded from
    raw storage names the same parties, status and hash as the contract's own view."""
    doc = issued_example("regular", transportDocumentReference="PROOF-L1")
    ebl = int(service.issue(carrier.org, doc, shipper.org).ebl_id)
    service.endorse(shipper.org, ebl, bank.org)
    service.transfer(shipper.org, ebl, bank.org)
    word = int.from_bytes(w3.eth.get_storage_at(registry.address, record_slots(ebl)["record"]), "big")
    slots = title_slots(ebl, RecordWord.decode(word))
    values = {s: int.from_bytes(w3.eth.get_storage_at(registry.address, s), "big") for s in slots.values()}
    proven = ProvenTitle.from_slots(ebl, values)
    view = registry.functions.titleOf(ebl).call()
    assert proven.status == Status(view[0]) == Status.ACTIVE
    assert proven.kind == DocumentKind(view[1]) == DocumentKind.TO_ORDER
    assert (proven.holder, proven.endorsee, proven.carrier) == (view[3], view[4], view[5])
    assert (proven.holder, proven.endorsee, proven.carrier) == (bank.org, bank.org, carrier.org)
    assert proven.seq == view[12] and proven.document_hash == view[13].hex()
    assert (proven.endorsable, proven.blank_endorsed, proven.amended) == (view[8], view[9], view[10])


def test_a_snapshot_proves_the_title_and_any_changed_proof_is_refused(
    w3, service, registry, carrier, shipper
):
    doc = issued_example("regular", transportDocumentReference="PROOF-S1")
    ebl = int(service.issue(carrier.org, doc, shipper.org).ebl_id)
    head = _block(w3)
    snap = read_snapshot(w3, registry.address, ebl, head["hash"])
    assert snap is not None and snap.title.holder == shipper.org and snap.title.status is Status.ACTIVE
    assert snap.header.number == int(head["number"], 16)
    assert read_snapshot(w3, registry.address, 424242, head["hash"]) is None

    bad_value = json.loads(json.dumps(snap.proof))
    bad_value["storageProof"][0]["value"] = hex(int(bad_value["storageProof"][0]["value"], 16) ^ 1)
    with pytest.raises(TrieProofError) as caught:
        prove_title(snap.header, registry.address, ebl, bad_value)
    assert caught.value.reason == "storage_proof"

    bad_node = json.loads(json.dumps(snap.proof))
    node = bad_node["accountProof"][-1]
    bad_node["accountProof"][-1] = node[:-2] + ("00" if node[-2:] != "00" else "01")
    with pytest.raises(TrieProofError) as caught:
        prove_title(snap.header, registry.address, ebl, bad_node)
    assert caught.value.reason == "account_proof"

    dropped = json.loads(json.dumps(snap.proof))
    dropped["storageProof"].pop()
    with pytest.raises(TrieProofError, match="missing"):
        prove_title(snap.header, registry.address, ebl, dropped)
