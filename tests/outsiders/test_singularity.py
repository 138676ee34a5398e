"""One live record per document, issued by the carrier it names: tried as a second carrier would.

Found from a second carrier's side: it could issue a byte-identical copy of a document the demo
carrier had issued (``201``), and a bank verifying the genuine document was then shown the copy's eBL
(MLETR art. 10: one authoritative record). Every request here is plain HTTP against the served
gateway, the ``ebl`` CLI in a subprocess, or web3 with the registry's ABI straight to the served chain,
the gateway bypassed altogether.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError

from registry.chain.anvil_dev import fund_dev_accounts
from registry.chain.build import load_artifact
from tests.fixtures.dcsa import issued_example
from tests.outsiders.conftest import Party, Served

PROBLEM_JSON = "application/problem+json"
ZERO = "0x" + "00" * 20


@dataclass(frozen=True)
class Carrier:
    """A carrier onboarded through governance with its own SMDG carrierCode."""

    party: Party
    code: str


def _reference(prefix: str) -> str:
    return (prefix + uuid.uuid4().hex.upper())[:20]


def _document(prefix: str = "SG") -> dict[str, Any]:
    """A fresh DCSA document of the demo carrier: it names MSC on the SMDG list, as the examples do."""
    document = issued_example(transportDocumentReference=_reference(prefix))
    assert (document["carrierCode"], document["carrierCodeListProvider"]) == ("MSC", "SMDG")
    return document


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document)


def _issue(client: httpx.Client, document: dict[str, Any] | str, to: str) -> httpx.Response:
    """POST an issuance whose ``document`` is exactly ``document`` (a dict, or JSON text as it stands)."""
    text = document if isinstance(document, str) else _text(document)
    body = '{"document": ' + text + ', "issueTo": "' + to + '"}'
    return client.post("/v1/carriers/ebls", content=body, headers={"Content-Type": "application/json"})


def _verify_document(client: httpx.Client, document: dict[str, Any] | str) -> dict[str, Any]:
    """What a bank presented with ``document`` learns: the eBL issued for it."""
    text = document if isinstance(document, str) else _text(document)
    r = client.post("/v1/banks/verifications", content=text, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    verdict: dict[str, Any] = r.json()
    return verdict


def _problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def _ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201, 202), r.text
    return r.json()


def _ebl_id(carrier_org: str, reference: str) -> str:
    """The eBL id a carrier's reference would have: keccak256(abi.encode(carrier, keccak256(TDR)))."""
    tdr_hash = keccak(text=reference)
    return str(int.from_bytes(keccak(encode(["address", "bytes32"], [carrier_org, tdr_hash])), "big"))


@pytest.fixture(scope="module")
def second_carrier(served: Served) -> Carrier:
    """Copycat Lines: onboarded through the governance API with an SMDG code of its own."""
    code = "Q" + uuid.uuid4().hex[:3].upper()
    party = served.onboard("carrier", "Copycat Lines", carrierCode=code, carrierCodeListProvider="SMDG")
    return Carrier(party, code)


def _issued_by_demo_carrier(served: Served, document: dict[str, Any]) -> str:
    with served.client("carrier") as carrier:
        return str(_ok(_issue(carrier, document, served.party("shipper").org))["eblId"])


# ---------------------------------------------------------------------------------- over HTTP


def test_a_second_carrier_cannot_issue_a_byte_identical_copy_of_another_carriers_document(
    served: Served, second_carrier: Carrier
) -> None:
    """The copy is refused (422 carrier_mismatch naming $.carrierCode), alone or in a batch; no record
    is made under the copycat; the bank presented with the genuine document sees the genuine eBL."""
    document = _document()
    text = _text(document)
    genuine = _issued_by_demo_carrier(served, document)

    with served.client(second_carrier.party) as copycat:
        refused = _problem(_issue(copycat, text, served.party("bank").org), 422, "carrier_mismatch")
        batch = copycat.post(
            "/v1/carriers/ebls/batch",
            json={"items": [{"document": document, "issueTo": served.party("bank").org}]},
        )
    assert [v["path"] for v in refused["violations"]] == ["$.carrierCode"]
    assert "SMDG:MSC" in refused["detail"] and f"SMDG:{second_carrier.code}" in refused["detail"]
    (item,) = _ok(batch)
    assert (item["status"], item["errorCode"], item["operationId"]) == ("failed", "carrier_mismatch", "")

    with served.client("bank") as bank:
        verdict = _verify_document(bank, document)
        copy_id = _ebl_id(second_carrier.party.org, document["transportDocumentReference"])
        never_issued = bank.get(f"/v1/banks/ebls/{copy_id}/verification")
    assert verdict["eblId"] == genuine and verdict["documentMatches"] is True
    assert verdict["carrier"]["address"] == served.party("carrier").org
    assert verdict["holder"]["address"] == served.party("shipper").org
    _problem(never_issued, 404, "not_found")


def test_a_copy_rewritten_to_name_the_second_carrier_is_its_own_document_and_the_bank_sees_who_issued_it(
    served: Served, second_carrier: Carrier
) -> None:
    """With carrierCode rewritten the copy is another document (another hash): the second carrier may
    issue it, but only as its own bill. The bank presented with the genuine document still gets the
    demo carrier's eBL; presented with the copy, it gets the copycat's, naming the copycat as carrier:
    a document can only ever be verified as the bill of the carrier it names."""
    document = _document()
    genuine = _issued_by_demo_carrier(served, document)
    rewritten = document | {"carrierCode": second_carrier.code}
    with served.client(second_carrier.party) as copycat:
        copy = str(_ok(_issue(copycat, rewritten, served.party("bank").org))["eblId"])
    assert copy != genuine

    with served.client("bank") as bank:
        of_genuine = _verify_document(bank, document)
        of_copy = _verify_document(bank, rewritten)
    assert of_genuine["eblId"] == genuine
    assert of_genuine["carrier"]["address"] == served.party("carrier").org
    assert of_copy["eblId"] == copy
    assert of_copy["carrier"]["address"] == second_carrier.party.org
    assert of_copy["carrier"]["name"] == "Copycat Lines"
    assert of_copy["documentHash"] != of_genuine["documentHash"]
    assert of_genuine["holder"]["address"] == served.party("shipper").org
    assert of_copy["holder"]["address"] == served.party("bank").org


def test_the_same_carrier_issues_a_document_once_however_it_is_serialised_keyed_or_addressed(
    served: Served,
) -> None:
    """A re-posted document, keys reordered and re-indented, under a fresh Idempotency-Key, to another
    holder: 409 duplicate (one record per document). The same content under another
    transportDocumentReference is another document and another eBL, and each verifies as itself."""
    document = _document()
    genuine = _issued_by_demo_carrier(served, document)
    reordered = json.dumps(dict(reversed(list(document.items()))), indent=4)
    with served.client("carrier") as carrier:
        again = carrier.post(
            "/v1/carriers/ebls",
            content='{"issueTo": "' + served.party("bank").org + '", "document": ' + reordered + "}",
            headers={"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
        )
        renumbered = document | {"transportDocumentReference": _reference("SR")}
        other = str(_ok(_issue(carrier, renumbered, served.party("shipper").org))["eblId"])
    _problem(again, 409, "duplicate")
    assert other != genuine
    with served.client("bank") as bank:
        assert _verify_document(bank, reordered)["eblId"] == genuine
        assert _verify_document(bank, renumbered)["eblId"] == other


def test_an_amendment_is_a_new_document_never_one_another_ebl_or_the_amended_one_carries(
    served: Served,
) -> None:
    """Amending to the document of another live eBL, or to the amended eBL's own unchanged document:
    409 duplicate naming the eBL that carries it; the eBL stays surrendered for amendment and the
    other eBL is untouched. A changed document is amended."""
    first, second = _document("A1"), _document("A2")
    with served.client("carrier") as carrier, served.client("shipper") as shipper:
        to = served.party("shipper").org
        ebl = str(_ok(_issue(carrier, first, to))["eblId"])
        other = str(_ok(_issue(carrier, second, to))["eblId"])
        surrender = {"reason": "AMENDMENT", "reasonCode": "COD"}
        _ok(shipper.post(f"/v1/holders/ebls/{ebl}/surrender", json=surrender))
        _ok(carrier.post(f"/v1/carriers/ebls/{ebl}/accept-surrender"))

        to_other = _problem(
            carrier.post(f"/v1/carriers/ebls/{ebl}/amend", json={"document": second}), 409, "duplicate"
        )
        unchanged = _problem(
            carrier.post(f"/v1/carriers/ebls/{ebl}/amend", json={"document": first}), 409, "duplicate"
        )
        assert to_other["args"]["existingEblId"] == other and other in to_other["detail"]
        assert unchanged["args"]["existingEblId"] == ebl and ebl in unchanged["detail"]
        assert _ok(carrier.get(f"/v1/banks/ebls/{ebl}/verification"))["status"] == "SURRENDERED_FOR_AMENDMENT"

        amended = first | {"issueDate": "2024-03-01"}
        answer = _ok(carrier.post(f"/v1/carriers/ebls/{ebl}/amend", json={"document": amended}))
    assert answer["status"] == "final"
    with served.client("bank") as bank:
        assert _verify_document(bank, second)["eblId"] == other
        assert _verify_document(bank, amended)["eblId"] == answer["successorEblId"]
        ended = _verify_document(bank, first)
    assert (ended["eblId"], ended["status"]) == (ebl, "VOIDED")


def test_governance_onboards_a_carrier_only_with_codes_of_its_own(served: Served) -> None:
    """A carrier needs its carrierCode and carrierCodeListProvider (422), no other role has one (422),
    a code names one carrier (409 duplicate, and nothing is left behind: the same identifier then
    onboards with a free code), and the codes are on the organisation's record."""
    identifier = f"LEI:{uuid.uuid4().hex[:20].upper()}"
    carrier = {"identifier": identifier, "name": "Late Lines", "role": "carrier"}
    free, scac = "W" + uuid.uuid4().hex[:3].upper(), "N" + uuid.uuid4().hex[:3].upper()
    with served.client("governance") as gov:
        onboard = "/v1/governance/organisations"
        _problem(gov.post(onboard, json=carrier), 422, "invalid_request")
        bank = {"identifier": f"LEI:{uuid.uuid4().hex[:20].upper()}", "name": "Coded Bank", "role": "bank"}
        _problem(
            gov.post(onboard, json=bank | {"carrierCode": "BNK", "carrierCodeListProvider": "SMDG"}),
            422,
            "invalid_request",
        )
        _problem(
            gov.post(onboard, json=carrier | {"carrierCode": "MSC", "carrierCodeListProvider": "IATA"}),
            422,
            "invalid_request",
        )
        taken = _problem(
            gov.post(onboard, json=carrier | {"carrierCode": "MSC", "carrierCodeListProvider": "SMDG"}),
            409,
            "duplicate",
        )
        assert "SMDG:MSC" in taken["detail"] and served.party("carrier").org in taken["detail"]
        several = [{"carrierCode": scac, "carrierCodeListProvider": "NMFTA"}]
        made = _ok(
            gov.post(
                onboard,
                json=carrier
                | {"carrierCode": free, "carrierCodeListProvider": "SMDG", "carrierCodes": several},
            )
        )
        record = _ok(gov.get(f"/v1/governance/organisations/{made['organisation']['address']}"))
    expected = [
        {"carrierCode": scac, "carrierCodeListProvider": "NMFTA"},
        {"carrierCode": free, "carrierCodeListProvider": "SMDG"},
    ]
    assert made["carrierCodes"] == record["carrierCodes"] == expected


# ---------------------------------------------------------------------------------- the ebl CLI


def _ebl(served: Served, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("ebl")), "--gateway", served.url, "--token", token, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_cli_onboards_a_carrier_with_its_code_whose_copy_of_another_carriers_document_is_refused(
    served: Served, tmp_path: Path
) -> None:
    """``ebl org add --role carrier --carrier-code SMDG:CODE``, then ``ebl issue`` of the demo carrier's
    document by the new carrier: a failed issuance naming carrier_mismatch, and nothing issued."""
    governance = served.party("governance").token
    code = "C" + uuid.uuid4().hex[:3].upper()
    identifier = f"LEI:{uuid.uuid4().hex[:20].upper()}"
    added = _ebl(
        served,
        governance,
        "org",
        "add",
        identifier,
        "--role",
        "carrier",
        "--carrier-code",
        f"SMDG:{code}",
        "--json",
    )
    assert added.returncode == 0, added.stdout + added.stderr
    onboarded = json.loads(added.stdout)
    assert onboarded["carrierCodes"] == [{"carrierCode": code, "carrierCodeListProvider": "SMDG"}]
    again = _ebl(
        served,
        governance,
        "org",
        "add",
        f"LEI:{uuid.uuid4().hex[:20].upper()}",
        "--role",
        "carrier",
        "--carrier-code",
        f"SMDG:{code}",
    )
    assert again.returncode != 0 and "duplicate" in again.stdout + again.stderr

    document = _document("CL")
    _issued_by_demo_carrier(served, document)
    path = tmp_path / "copy.json"
    path.write_text(_text(document))
    copy = _ebl(
        served,
        onboarded["credential"]["token"],
        "issue",
        str(path),
        "--to",
        served.party("bank").org,
        "--json",
    )
    assert copy.returncode != 0
    assert "carrier_mismatch" in copy.stdout + copy.stderr


# ---------------------------------------------------------------------------------- on chain, no gateway


@pytest.fixture(scope="module")
def copycat_wallet(served: Served, second_carrier: Carrier) -> Iterator[Any]:
    """A key the second carrier holds itself, registered over HTTP (challenge signed with eth_account),
    funded on the served development chain."""
    wallet = Account.create()
    with served.client(second_carrier.party) as copycat:
        challenge = _ok(copycat.post("/v1/members/keys/challenge", json={"key": wallet.address}))
        signed = Account.sign_typed_data(wallet.key, full_message=_wallet_form(challenge))
        proof = {"typedData": challenge, "signature": "0x" + bytes(signed.signature).hex()}
        _ok(copycat.post("/v1/members/keys", json=proof))
    w3 = Web3(Web3.HTTPProvider(served.process.chain_url))
    assert fund_dev_accounts(w3, [wallet.address], 10**21)
    yield wallet, w3, to_checksum_address(challenge["domain"]["verifyingContract"])


def _wallet_form(typed: dict[str, Any]) -> dict[str, Any]:
    """The typed data with its uint256 strings as integers, the form eth_account's encoder takes."""
    types = typed["types"][typed["primaryType"]]
    message = {
        f["name"]: int(typed["message"][f["name"]])
        if f["type"].startswith("uint")
        else typed["message"][f["name"]]
        for f in types
    }
    domain = dict(typed["domain"])
    if "chainId" in domain:
        domain["chainId"] = int(domain["chainId"])
    return {**typed, "domain": domain, "message": message}


def test_a_second_carrier_acting_on_chain_with_its_own_key_cannot_record_a_copy_either(
    served: Served, second_carrier: Carrier, copycat_wallet: Any
) -> None:
    """The carrier check is the gateway's; one record per document is the chain's. The second carrier,
    sending ``issue`` with its own key straight to the registry contract, gets
    TitleDuplicateDocument(docHash, the genuine eBL) for the genuine document's hash (learnt by
    presenting the document), under any reference, while a fresh hash would be issued."""
    wallet, w3, address = copycat_wallet
    registry = w3.eth.contract(address=address, abi=load_artifact().abi)
    document = _document("OC")
    genuine = _issued_by_demo_carrier(served, document)
    with served.client(second_carrier.party) as copycat:
        doc_hash = bytes.fromhex(_verify_document(copycat, document)["documentHash"].removeprefix("0x"))
    to = served.party("bank").org

    fresh = registry.functions.issue(
        keccak(text=_reference("OF")), keccak(text=uuid.uuid4().hex), to, ZERO, 1
    )
    assert fresh.call({"from": wallet.address}) > 0  # the key acts for a carrier on chain

    expected = (
        "0x"
        + (
            keccak(text="TitleDuplicateDocument(bytes32,uint256)")[:4]
            + encode(["bytes32", "uint256"], [doc_hash, int(genuine)])
        ).hex()
    )
    for reference in (document["transportDocumentReference"], _reference("OX")):
        copy = registry.functions.issue(keccak(text=reference), doc_hash, to, ZERO, 1)
        with pytest.raises(ContractCustomError) as refused:
            copy.call({"from": wallet.address})
        assert refused.value.data == expected
    tx = copy.build_transaction(
        {"from": wallet.address, "gas": 500_000, "nonce": w3.eth.get_transaction_count(wallet.address)}
    )
    mined = w3.eth.send_raw_transaction(wallet.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(mined)["status"] == 0  # sent anyway: mined, reverted
    assert registry.functions.eblIdOfDocument(doc_hash).call() == int(genuine)
    with served.client("bank") as bank:
        assert _verify_document(bank, document)["eblId"] == genuine
